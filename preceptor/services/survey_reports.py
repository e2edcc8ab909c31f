"""The newly-qualified survey report for an education lead's scope: response rates per wave,
each question's answers by department or cohort at one time point, the change from baseline
to 12 months, free text, and retention at 12 and 24 months beside them.

Anonymity: answers are read only from `SurveyResponse`, which names no person, and every
figure passes through `suppression.suppress` with its sibling groups, so a group of fewer
than `SURVEY_SUPPRESSION_THRESHOLD` responses (default 5) shows no figures, and neither does
any group that would let one be worked out from the total by subtraction. Each table is one
time point split one way (department or cohort) under one total: the same split always gets
the same suppression, whichever page or export shows it. Answers are grouped by question
`code`, so every version of the survey the waves send counts together (other surveys the trust
has built are not part of this report).

Each part is one set-based query, whatever the size of the trust.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    Department,
    Preceptorship,
    ProgrammeStatus,
    QuestionType,
    Site,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
)
from ..sql import months_after
from .programmes import add_months
from .scope import in_scope
from .suppression import suppress
from .survey_library import AGREEMENT_SCALE, NEWLY_QUALIFIED

WAVES = (TimePoint.BASELINE, TimePoint.MONTH_3, TimePoint.MONTH_6, TimePoint.MONTH_12)
BREAKDOWNS = {"department": "Department", "cohort": "Cohort"}
COHORT_SPANS = {"year": "Start year", "month": "Start month"}
SCALED = (QuestionType.AGREEMENT, QuestionType.YES_NO)
YES_NO_SCALE = {1: "Yes", 0: "No"}
RETENTION_MONTHS = (12, 24)


@dataclass(frozen=True)
class Group:
    key: str  # a department id or a cohort, as text
    label: str


ALL = Group("", "All in your departments")


@dataclass
class Cell:
    """One group's answers to one question: how many gave each value."""

    counts: dict[int, int] = field(default_factory=dict)
    hidden: bool = False

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        return sum(value * count for value, count in self.counts.items()) / self.n if self.n else None

    def share(self, value: int) -> float | None:
        return self.counts.get(value, 0) / self.n if self.n else None

    @property
    def agree(self) -> float | None:
        """The share who agree or strongly agree (4 or 5 on the agreement scale)."""
        return (self.counts.get(4, 0) + self.counts.get(5, 0)) / self.n if self.n else None


@dataclass
class QuestionResult:
    code: str
    text: str
    qtype: QuestionType
    scale: dict[int, str]
    rows: list[tuple[Group, Cell]]
    total: Cell
    by_wave: dict[TimePoint, Cell]  # the whole scope at each wave (the totals of each wave's table)

    @property
    def change(self) -> float | None:
        """Mean at 12 months minus the mean at baseline for the whole scope, when both are shown."""
        return ChangeRow(ALL, self.by_wave[TimePoint.BASELINE], self.by_wave[TimePoint.MONTH_12]).change


@dataclass
class ChangeRow:
    group: Group
    baseline: Cell
    month_12: Cell

    @property
    def change(self) -> float | None:
        """Mean at 12 months minus the mean at baseline, when both are shown."""
        if self.baseline.hidden or self.month_12.hidden or not self.baseline.n or not self.month_12.n:
            return None
        return self.month_12.mean - self.baseline.mean


@dataclass
class RateRow:
    time_point: TimePoint
    invited: int
    answered: int
    still_open: int
    hidden: bool

    @property
    def rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None


@dataclass
class Retention:
    """Of those who started at least `months` ago, how many had not left by then."""

    started: int = 0
    stayed: int = 0
    hidden: bool = False

    @property
    def rate(self) -> float | None:
        return self.stayed / self.started if self.started else None


@dataclass
class RetentionRow:
    group: Group
    at: dict[int, Retention]  # by months
    intends_to_stay: Cell  # agreement with "I expect to still be working here" at 12 months


@dataclass
class SurveyReport:
    today: date
    minimum: int
    breakdown: str
    cohort_span: str
    time_point: TimePoint
    rates: list[RateRow]
    questions: list[QuestionResult]
    changes: dict[str, list[ChangeRow]]  # by question code, the total first
    free_text: list[tuple[str, list[str]]]  # (question, answers) when the wave's total is shown
    free_text_hidden: bool
    retention: list[RetentionRow]  # the groups, then the total


def survey_report(scope: list[int] | None, today: date, *, breakdown: str = "department",
                  cohort_span: str = "year", time_point: TimePoint = TimePoint.BASELINE) -> SurveyReport:
    """The whole report: five queries."""
    minimum = current_app.config["SURVEY_SUPPRESSION_THRESHOLD"]
    labels = _department_labels(scope)
    counts = _answer_counts(scope, breakdown, cohort_span)
    questions = _questions()
    results, changes = [], {}
    for code, (text, qtype) in questions.items():
        if qtype not in SCALED:
            continue
        by_wave = {wave: _table(counts.get((code, wave), {}), minimum) for wave in WAVES}
        rows, total = by_wave[time_point]
        rows.sort(key=lambda row: _order(row[0], breakdown, labels))
        results.append(QuestionResult(
            code, text, qtype, AGREEMENT_SCALE if qtype is QuestionType.AGREEMENT else YES_NO_SCALE,
            [(_group(key, breakdown, labels), cell) for key, cell in rows], total,
            {wave: table[1] for wave, table in by_wave.items()}))
        first, last = dict(by_wave[TimePoint.BASELINE][0]), dict(by_wave[TimePoint.MONTH_12][0])
        changes[code] = [ChangeRow(ALL, by_wave[TimePoint.BASELINE][1],
                                   by_wave[TimePoint.MONTH_12][1])] + [
            ChangeRow(_group(key, breakdown, labels), first.get(key, Cell()), last.get(key, Cell()))
            for key in sorted(set(first) | set(last), key=lambda key: _order(key, breakdown, labels))]
    wave_total = max((result.total for result in results), key=lambda cell: cell.n, default=Cell())
    free_hidden = wave_total.hidden or wave_total.n < minimum
    free_text = [] if free_hidden else _free_text(scope, time_point, questions)
    intention = _table(counts.get(("intention_to_stay", TimePoint.MONTH_12), {}), minimum)
    return SurveyReport(today, minimum, breakdown, cohort_span, time_point, _rates(scope, today, minimum),
                        results, changes, free_text, free_hidden,
                        _retention(scope, today, breakdown, cohort_span, minimum, labels, intention))


def _table(counts: dict[str, dict[int, int]], minimum: int) -> tuple[list[tuple[str, Cell]], Cell]:
    """Sibling groups' cells, suppressed together, and their total."""
    cells = {key: Cell(dict(values)) for key, values in counts.items()}
    total = Cell()
    for cell in cells.values():
        for value, count in cell.counts.items():
            total.counts[value] = total.counts.get(value, 0) + count
    suppressed = suppress({key: cell.n for key, cell in cells.items()}, minimum)
    for key in suppressed.hidden:
        cells[key].hidden = True
    total.hidden = suppressed.parent_hidden
    return list(cells.items()), total


def _department_labels(scope: list[int] | None) -> dict[str, tuple[str, str]]:
    """Department id (as text) → (site, department) for every department in scope, archived too."""
    return {str(id_): (site, name) for id_, site, name in db.session.execute(
        sa.select(Department.id, Site.name, Department.name).join(Site, Site.id == Department.site_id)
        .where(in_scope(Department.id, scope)))}


def _group(key: str, breakdown: str, labels: dict[str, tuple[str, str]]) -> Group:
    if breakdown == "department":
        site, name = labels.get(key, ("", "Unknown department"))
        return Group(key, f"{name}, {site}")
    return Group(key, key)


def _order(key: str, breakdown: str, labels: dict[str, tuple[str, str]]):
    return labels.get(key, ("", "")) if breakdown == "department" else key


def _cohort_column(column, cohort_span: str):
    return sa.func.substr(column, 1, 4) if cohort_span == "year" else column


def _cohort_label(year, month=None) -> str:
    """A cohort as responses store it: "2025", or "2025-09" by month (SQL gives numbers)."""
    return f"{int(year):04d}" if month is None else f"{int(year):04d}-{int(month):02d}"


def _answer_counts(scope, breakdown: str, cohort_span: str) -> dict[tuple[str, TimePoint], dict[str, dict[int, int]]]:
    """(question code, wave) → group → value → count, for every scaled answer in scope."""
    group = (sa.cast(SurveyResponse.department_id, sa.String) if breakdown == "department"
             else _cohort_column(SurveyResponse.cohort, cohort_span)).label("group")
    rows = db.session.execute(
        sa.select(SurveyQuestion.code, SurveyResponse.time_point, group, SurveyAnswer.value_int, sa.func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
        .where(SurveyTemplate.key == NEWLY_QUALIFIED.key, SurveyAnswer.value_int.is_not(None),
               in_scope(SurveyResponse.department_id, scope))
        .group_by(SurveyQuestion.code, SurveyResponse.time_point, group, SurveyAnswer.value_int))
    counts: dict = defaultdict(lambda: defaultdict(dict))
    for code, wave, key, value, count in rows:
        counts[(code, wave)][key][value] = count
    return counts


def _questions() -> dict[str, tuple[str, QuestionType]]:
    """Question code → (wording, type) as the newest version of the survey asks it, in its order."""
    rows = db.session.execute(
        sa.select(SurveyQuestion.code, SurveyQuestion.text, SurveyQuestion.qtype)
        .join(SurveyTemplate, SurveyTemplate.id == SurveyQuestion.template_id)
        .where(SurveyTemplate.key == NEWLY_QUALIFIED.key)
        .order_by(SurveyTemplate.current.desc(), SurveyTemplate.version.desc(), SurveyQuestion.position))
    found: dict[str, tuple[str, QuestionType]] = {}
    for code, text, qtype in rows:
        found.setdefault(code, (text, qtype))
    return found


def _free_text(scope, time_point: TimePoint, questions: dict) -> list[tuple[str, list[str]]]:
    """Free-text answers at one wave for the whole scope, unattributed and in alphabetical
    order (never the order they came in, which could be matched to who answered when)."""
    rows = db.session.execute(
        sa.select(SurveyQuestion.code, SurveyAnswer.value_text)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
        .where(SurveyTemplate.key == NEWLY_QUALIFIED.key, SurveyQuestion.qtype == QuestionType.FREE_TEXT,
               SurveyResponse.time_point == time_point, SurveyAnswer.value_text.is_not(None),
               in_scope(SurveyResponse.department_id, scope))
        .order_by(SurveyAnswer.value_text))
    answers: dict[str, list[str]] = defaultdict(list)
    for code, text in rows:
        answers[code].append(text)
    return [(text, answers[code]) for code, (text, qtype) in questions.items()
            if qtype is QuestionType.FREE_TEXT and answers[code]]


def _rates(scope, today: date, minimum: int) -> list[RateRow]:
    """Per wave: invitations opened so far, answered, still open. A rate from fewer than
    `minimum` answers is not shown."""
    rows = {wave: figures for wave, *figures in db.session.execute(
        sa.select(SurveyInvitation.time_point, sa.func.count(), sa.func.count(SurveyInvitation.answered_on),
                  sa.func.count(sa.case((sa.and_(SurveyInvitation.answered_on.is_(None),
                                                 SurveyInvitation.closes_on > today), 1))))
        .join(Preceptorship, Preceptorship.id == SurveyInvitation.preceptorship_id)
        .where(SurveyInvitation.time_point.in_(WAVES), SurveyInvitation.opens_on <= today,
               in_scope(Preceptorship.department_id, scope))
        .group_by(SurveyInvitation.time_point))}
    rates = [RateRow(wave, *rows.get(wave, (0, 0, 0)), hidden=False) for wave in WAVES]
    for rate in rates:
        rate.hidden = 0 < rate.answered < minimum
    return rates


def _retention(scope, today: date, breakdown: str, cohort_span: str, minimum: int,
               labels: dict[str, tuple[str, str]], intention: tuple[list[tuple[str, Cell]], Cell],
               ) -> list[RetentionRow]:
    """Retention at 12 and 24 months by group: of the programmes that started at least that
    long ago, those whose preceptee had not left before that anniversary."""
    if breakdown == "department":
        keys = [sa.cast(Preceptorship.department_id, sa.String)]
    else:
        keys = [sa.extract("year", Preceptorship.start_date)]
        if cohort_span == "month":
            keys.append(sa.extract("month", Preceptorship.start_date))
    measures = []
    for months in RETENTION_MONTHS:
        started = Preceptorship.start_date <= add_months(today, -months)
        left_before = sa.and_(Preceptorship.status == ProgrammeStatus.LEFT,
                              Preceptorship.ended_on < months_after(Preceptorship.start_date, months))
        measures += [sa.func.count(sa.case((started, 1))),
                     sa.func.count(sa.case((sa.and_(started, sa.not_(left_before)), 1)))]
    rows = db.session.execute(sa.select(*keys, *measures).where(in_scope(Preceptorship.department_id, scope))
                              .group_by(*keys))
    by_group: dict[str, dict[int, Retention]] = {}
    for row in rows:
        key_parts, figures = row[:len(keys)], row[len(keys):]
        key = key_parts[0] if breakdown == "department" else _cohort_label(*key_parts)
        at = by_group.setdefault(key, {months: Retention() for months in RETENTION_MONTHS})
        for n, months in enumerate(RETENTION_MONTHS):
            at[months].started += figures[2 * n]
            at[months].stayed += figures[2 * n + 1]
    total = {months: Retention() for months in RETENTION_MONTHS}
    for months in RETENTION_MONTHS:
        suppressed = suppress({key: at[months].started for key, at in by_group.items()}, minimum)
        for key, at in by_group.items():
            at[months].hidden = key in suppressed.hidden
            total[months].started += at[months].started
            total[months].stayed += at[months].stayed
        total[months].hidden = suppressed.parent_hidden
    intends = dict(intention[0])
    ordered = sorted(by_group, key=lambda key: _order(key, breakdown, labels))
    return [RetentionRow(_group(key, breakdown, labels), by_group[key], intends.get(key, Cell()))
            for key in ordered if any(at.started for at in by_group[key].values()) or key in intends] + [
        RetentionRow(ALL, total, intention[1])]
