"""The capacity report (the lead's home page and headline screen), a department's drill-down, and the
report as CSV and Excel built from the same figures the page shows.

Filters and sorting are a GET form: without JavaScript it reloads the page; with htmx it
swaps the `capacity_report` region and keeps the address bar in step.
"""

from datetime import date

from flask import abort, request, url_for

from ..access import lead_scope, role_required
from ..exports import Table, csv_response, xlsx_response
from ..extensions import db
from ..fields import chosen_id
from ..models import Department, Profession, Role, Site
from ..rendering import render_page
from ..services import pairing
from ..services.capacity import CapacityReport, DepartmentCapacity, capacity_report
from ..services.register import register_rows
from ..services.scope import open_departments
from ..templating import percent
from . import bp

SORTS = {
    "department": ("Site and department", None),
    "free": ("Fewest free places", lambda row: (row.free, row.site, row.name)),
    "utilisation": ("Highest utilisation", lambda row: (-(row.utilisation or 0), row.site, row.name)),
    "waiting": ("Most waiting", lambda row: (-row.waiting, row.site, row.name)),
    "shortfall": ("Earliest shortfall", lambda row: (_first_short_month(row), row.site, row.name)),
}


def _first_short_month(row: DepartmentCapacity) -> int:
    return next((n for n, month in enumerate(row.forecast) if month.balance < 0), len(row.forecast))


def _filters() -> dict:
    """The filters as chosen: unknown or tampered values fall back to 'all'."""
    site_id = request.args.get("site", "")
    profession = request.args.get("profession", "")
    sort = request.args.get("sort", "department")
    return {"site": chosen_id(site_id),
            "profession": Profession(profession) if profession in Profession._value2member_map_ else None,
            "sort": sort if sort in SORTS else "department"}


def _report(today: date) -> tuple[CapacityReport, dict]:
    chosen = _filters()
    report = capacity_report(lead_scope(), today, site_id=chosen["site"], profession=chosen["profession"])
    if key := SORTS[chosen["sort"]][1]:
        report.departments.sort(key=key)
    return report, chosen


def _sites_in_scope() -> list[Site]:
    return list({department.site_id: department.site for department in open_departments(lead_scope())}.values())


@bp.get("/")
@role_required(Role.EDUCATION_LEAD)
def capacity():
    report, chosen = _report(date.today())
    query = {key: value for key, value in request.args.items() if key in ("site", "profession", "sort") and value}
    return render_page("lead/capacity.html", regions=("capacity_report",), report=report, chosen=chosen,
                       sites=_sites_in_scope(), professions=list(Profession), sorts=SORTS,
                       csv_url=url_for("lead.capacity_csv", **query), xlsx_url=url_for("lead.capacity_xlsx", **query))


def report_tables(report: CapacityReport) -> list[Table]:
    """The report as two sheets: the figures per department (then sites, then the total) and
    the forecast. Same rows, same order as the page."""
    today = report.today
    figures = Table("Capacity", ["Department", "Site", "Profession", "Eligible preceptors", "Capacity", "Load",
                                 "Free places", "Utilisation", "Waiting", "Longest wait (days)", "Over cap",
                                 "With an unavailable preceptor", "Protected hours logged",
                                 "Protected hours allowance"])
    rows = [(row.name, row.site, row.profession.label if row.profession else "", row) for row in report.departments]
    rows += [(f"{site.name} (all departments)", site.name, "", site) for site in report.sites]
    rows += [(report.total.name, "", "", report.total)]
    for name, site, profession, row in rows:
        figures.rows.append([name, site, profession, row.eligible, row.capacity, row.load, row.free,
                             percent(row.utilisation), row.waiting, row.longest_wait(today), row.over_cap,
                             row.with_unavailable, row.protected_hours, row.protected_allowance])
    forecast = Table("Forecast", ["Department", "Site", "Figure"] + [f"{m:%B %Y}" for m in report.months])
    for name, site, _, row in rows:
        for label, attribute in (("Starters", "starters"), ("Finishing", "finishing"), ("Places freed", "freed"),
                                 ("Surplus (shortfall if negative)", "balance")):
            forecast.rows.append([name, site, label] + [getattr(month, attribute) for month in row.forecast])
    return [figures, forecast]


@bp.get("/capacity.csv")
@role_required(Role.EDUCATION_LEAD)
def capacity_csv():
    report, _ = _report(date.today())
    return csv_response(report_tables(report), f"capacity-{report.today.isoformat()}")


@bp.get("/capacity.xlsx")
@role_required(Role.EDUCATION_LEAD)
def capacity_xlsx():
    report, _ = _report(date.today())
    return xlsx_response(report_tables(report), f"capacity-{report.today.isoformat()}")


@bp.get("/capacity/<int:department_id>")
@role_required(Role.EDUCATION_LEAD)
def capacity_department(department_id: int):
    """One department: its figures, its preceptors and who is waiting."""
    scope = lead_scope()
    if scope is not None and department_id not in scope:
        abort(404)
    department = db.get_or_404(Department, department_id)
    today = date.today()
    report = capacity_report([department_id], today)
    if not report.departments:
        abort(404)  # archived
    return render_page("lead/capacity_department.html", department=department, row=report.departments[0],
                       today=today, preceptors=register_rows(scope, today, department_id=department_id),
                       waiting=pairing.unallocated(scope, department_id=department_id),
                       allocated=pairing.allocated(department_id))
