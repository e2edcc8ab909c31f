"""The lead's oversight report: overdue milestones by principle, programmes without a
preceptor, late meetings and principle coverage, on screen and as CSV or Excel downloads."""

from datetime import date

from flask import abort, request

from ..access import lead_scope, role_required
from ..exports import csv_response, xlsx_response
from ..fields import chosen_id
from ..models import Role
from ..rendering import render_page
from ..services.oversight import OVERDUE_LIST_LIMIT, Oversight, export_tables, oversight
from . import bp


def _report() -> Oversight:
    """The report for the lead's scope and the `department` filter; 404 for a department
    outside the scope (or not a number), as if it did not exist."""
    chosen = request.args.get("department", "").strip()
    department_id = chosen_id(chosen)
    if chosen and department_id is None:
        abort(404)
    try:
        return oversight(lead_scope(), date.today(), department_id)
    except LookupError:
        abort(404)


@bp.get("/oversight", endpoint="oversight")
@role_required(Role.EDUCATION_LEAD)
def oversight_page():
    return render_page("lead/oversight.html", regions=("oversight",), report=_report(),
                       limit=OVERDUE_LIST_LIMIT)


def _filename(report: Oversight) -> str:
    return f"oversight-{report.today.isoformat()}" + (f"-department-{report.department_id}"
                                                       if report.department_id else "")


@bp.get("/oversight.csv")
@role_required(Role.EDUCATION_LEAD)
def oversight_csv():
    report = _report()
    return csv_response(export_tables(report), _filename(report))


@bp.get("/oversight.xlsx")
@role_required(Role.EDUCATION_LEAD)
def oversight_xlsx():
    report = _report()
    return xlsx_response(export_tables(report), _filename(report))
