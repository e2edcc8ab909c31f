"""The survey report for an education lead: response rates, results by department or cohort at
one time point, change from baseline to 12 months, free text, and retention beside them, with
small groups suppressed; and the same figures as CSV and Excel.

The choices are a GET form: without JavaScript it reloads the page; with htmx it swaps the
`survey_report` region and keeps the address bar in step.
"""

from datetime import date

from flask import request, url_for

from ..access import lead_scope, role_required
from ..exports import Table, csv_response, xlsx_response
from ..models import Role, TimePoint
from ..rendering import render_page
from ..services.survey_reports import BREAKDOWNS, COHORT_SPANS, WAVES, Cell, SurveyReport, survey_report
from . import bp

CHOICES = ("breakdown", "cohort", "time_point")
WAVE_COLOURS = ("#aecfe9", "#41b6e6", "#005eb8", "#003087")  # NHS blues, paler for earlier


def _chosen() -> dict:
    """The choices as made: unknown or tampered values fall back to the defaults."""
    breakdown, span, wave = (request.args.get(name, "") for name in CHOICES)
    return {"breakdown": breakdown if breakdown in BREAKDOWNS else "department",
            "cohort": span if span in COHORT_SPANS else "year",
            "time_point": TimePoint(wave) if wave in {w.value for w in WAVES} else TimePoint.BASELINE}


def _report(today: date) -> tuple[SurveyReport, dict]:
    chosen = _chosen()
    return survey_report(lead_scope(), today, breakdown=chosen["breakdown"], cohort_span=chosen["cohort"],
                         time_point=chosen["time_point"]), chosen


@bp.get("/surveys")
@role_required(Role.EDUCATION_LEAD)
def surveys():
    report, chosen = _report(date.today())
    query = {key: value for key, value in request.args.items() if key in CHOICES and value}
    return render_page("lead/surveys.html", regions=("survey_report",), report=report, chosen=chosen,
                       charts=_charts(report), breakdowns=BREAKDOWNS, cohort_spans=COHORT_SPANS, waves=WAVES,
                       wave_options=[(wave.value, wave.label) for wave in WAVES],
                       csv_url=url_for("lead.surveys_csv", **query), xlsx_url=url_for("lead.surveys_xlsx", **query))


def _charts(report: SurveyReport) -> dict:
    """The charts' rows: a suppressed or empty figure is None, drawn as words, not a bar."""
    def shown(cell: Cell):
        return None if cell.hidden or not cell.n else cell.mean

    return {
        "waves": [{"label": q.text, "values": [shown(cell) for cell in q.by_wave.values()]} for q in report.questions],
        "wave_series": list(zip((wave.label for wave in WAVES), WAVE_COLOURS, strict=True)),
        "retention": [{"label": row.group.label,
                       "values": [None if at.hidden or not at.started else at.rate for at in row.at.values()]}
                      for row in report.retention],
    }


@bp.get("/surveys.csv")
@role_required(Role.EDUCATION_LEAD)
def surveys_csv():
    return csv_response(report_tables(_report(date.today())[0]), "survey-report.csv")


@bp.get("/surveys.xlsx")
@role_required(Role.EDUCATION_LEAD)
def surveys_xlsx():
    return xlsx_response(report_tables(_report(date.today())[0]), "survey-report.xlsx")


def report_tables(report: SurveyReport) -> list[Table]:
    """The report as sheets, with the page's suppression: a hidden group's figures are the
    notice, never a number."""
    notice = f"Fewer than {report.minimum} responses"
    group_heading = "Department" if report.breakdown == "department" else "Cohort"
    rates = Table("Response rates", ["Survey", "Invited so far", "Answered", "Still open", "Response rate"])
    for rate in report.rates:
        rates.rows.append([rate.time_point.label, rate.invited, rate.answered, rate.still_open,
                           notice if rate.hidden else _rounded(rate.rate, 3)])
    labels = list(dict.fromkeys(label for question in report.questions
                                for _, label in sorted(question.scale.items(), reverse=True)))
    results = Table(f"Results, {report.time_point.label}"[:31],
                    ["Question", group_heading, "Responses", *labels, "Mean"])
    for question in report.questions:
        shown = {label: value for value, label in question.scale.items()}
        for group, cell in [*question.rows, (None, question.total)]:
            results.rows.append([question.text, group.label if group else "All",
                                 *_cell_row(cell, [shown.get(label) for label in labels], notice)])
    by_wave = Table("By survey", ["Question", "Survey", "Responses", "Mean"])
    change = Table("Baseline to 12 months", ["Question", group_heading, "Mean at start", "Mean at 12 months",
                                             "Change"])
    for question in report.questions:
        for wave, cell in question.by_wave.items():
            by_wave.rows.append([question.text, wave.label, *_cell_row(cell, [], notice)])
        for row in report.changes[question.code]:
            change.rows.append([question.text, row.group.label,
                                _mean(row.baseline, notice), _mean(row.month_12, notice), _rounded(row.change, 2)])
    retention = Table("Retention", [group_heading, "Started 12+ months ago", "Stayed 12 months", "Retention at 12",
                                    "Started 24+ months ago", "Stayed 24 months", "Retention at 24",
                                    "Expect to stay (12-month survey)"])
    people = f"Fewer than {report.minimum} people"
    for row in report.retention:
        figures = []
        for at in row.at.values():
            figures += [people, "", ""] if at.hidden else [at.started, at.stayed, _rounded(at.rate, 3)]
        stay = row.intends_to_stay
        retention.rows.append([row.group.label, *figures,
                               notice if stay.hidden else _rounded(stay.agree, 3)])
    free = Table(f"Free text, {report.time_point.label}"[:31], ["Question", "Answer"])
    if report.free_text_hidden:
        free.rows.append(["", notice])
    for text, answers in report.free_text:
        free.rows += [[text, answer] for answer in answers]
    return [rates, results, by_wave, change, retention, free]


def _cell_row(cell: Cell, values: list[int | None], notice: str) -> list:
    """Responses, the share giving each value (None: not one of this question's answers), mean."""
    if cell.hidden:
        return [notice, *([None] * len(values)), None]
    return [cell.n, *(None if value is None else _rounded(cell.share(value), 3) for value in values),
            _rounded(cell.mean, 2)]


def _mean(cell: Cell, notice: str):
    return notice if cell.hidden else _rounded(cell.mean, 2)


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)
