"""The audit log page: administrators see every event, education leads the events of their
departments (the rules are in preceptor/services/audit_search.py). Searched by person, object,
action and dates, newest first, 50 a page, and downloaded as CSV or Excel with the same
filters and the same scope.

The filter form is a plain GET form. With htmx it swaps the `audit_search` region (the form
and the results together, so a date refused shows its message beside its boxes) and pushes
the address; it is sent only by the Search button, never while someone is still typing a date.
"""

from datetime import date

from flask import redirect, request, url_for
from flask_login import current_user
from wtforms import Form, StringField, ValidationError

from ..access import lead_scope, role_required
from ..exports import csv_response, xlsx_response
from ..fields import DateParts, capped, chosen_id, strip
from ..models import AuditEvent, Role
from ..rendering import render_page
from ..services import audit_search as service
from ..services.audit_labels import action_label, object_label
from . import bp


def _digits(form, field):
    if field.data and chosen_id(field.data) is None:
        raise ValidationError("Object number must be a number, like 12")


class AuditFilterForm(Form):
    """The filters as typed (a GET form: nothing is changed, so no CSRF token)."""

    person = StringField("Person", filters=[strip], validators=[capped(254, "Person")], default="")
    object_type = StringField("Object", validators=[capped(40, "Object")], default="")
    object_id = StringField("Object number", filters=[strip], validators=[capped(10, "Object number"), _digits],
                            default="")
    action = StringField("Action", validators=[capped(60, "Action")], default="")
    since = DateParts("From date")
    until = DateParts("To date")

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            field.error_parts = ("day", "month", "year")
            raise ValidationError("To date must be the same as or after the from date")


def _viewer() -> service.Viewer:
    if current_user.has_role(Role.ADMIN):
        return service.Viewer(admin=True)
    return service.Viewer(admin=False, scope=lead_scope())


def _read() -> tuple[AuditFilterForm, service.Filters | None]:
    """The form as typed, and the filters (None while any is wrong)."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        return form, None
    # A choice not offered (a tampered address, or nothing of that kind in the viewer's log) is
    # kept as asked: it simply finds nothing, and says so.
    filters = service.Filters(person=(form.person.data or "")[:100],
                              person_id=chosen_id(request.args.get("person_id")),
                              object_type=(form.object_type.data or "")[:40], object_id=chosen_id(form.object_id.data),
                              action=(form.action.data or "")[:60], since=form.since.data, until=form.until.data)
    return form, filters


@bp.get("/audit")
@role_required(Role.ADMIN, Role.EDUCATION_LEAD)
def audit_log():
    """Search the audit log (page, or the `audit_search` region for htmx)."""
    viewer = _viewer()
    form, filters = _read()
    result = service.search(filters, viewer, request.args.get("page", 1, type=int)) if filters else None
    person_id = chosen_id(request.args.get("person_id"))
    args = filters.as_args() if filters else {}
    return render_page(
        "admin/audit_log.html", regions=("audit_search",), form=form, result=result, args=args,
        anyone={key: value for key, value in args.items() if key != "person_id"}, viewer=viewer, person_id=person_id,
        # A lead learns a name only when the events they may see already show it.
        person_name=service.person_name(person_id) if viewer.admin or (result and result.total) else None,
        action_options=[("", "All actions"),
                        *((a, action_label(a)) for a in service.choices(AuditEvent.action, viewer))],
        object_options=[("", "Any object"),
                        *((t, object_label(t)) for t in service.choices(AuditEvent.object_type, viewer))],
        can_open_milestones=current_user.has_role(Role.EDUCATION_LEAD),
        limit=service.EXPORT_LIMIT)


def _download(kind: str):
    _, filters = _read()
    if filters is None:  # the page shows what is wrong, beside the field
        return redirect(url_for("admin.audit_log", **request.args))
    table = service.export_table(filters, _viewer())
    name = f"audit-log-{date.today().isoformat()}"
    return csv_response([table], name) if kind == "csv" else xlsx_response([table], name)


@bp.get("/audit.csv")
@role_required(Role.ADMIN, Role.EDUCATION_LEAD)
def audit_log_csv():
    """The filtered events as CSV."""
    return _download("csv")


@bp.get("/audit.xlsx")
@role_required(Role.ADMIN, Role.EDUCATION_LEAD)
def audit_log_xlsx():
    """The filtered events as an Excel workbook."""
    return _download("xlsx")
