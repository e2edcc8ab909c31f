"""People, for administrators: the searchable list, adding someone (the page then shows their
invitation link to copy), and one person's page: their roles and lead scope, deactivating or
reactivating them, and forcing a password reset.

The list's filter form is a plain GET form; with htmx it swaps the `people_results` region
and pushes the address. Everything else is a plain form posted and redirected, except that a
new link is shown on the page that made it (it is never stored, so it cannot be shown again).
The rules and their messages are the service's (preceptor/services/people.py).
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..access import role_required
from ..extensions import db
from ..fields import capped, chosen_id, posted_number, strip
from ..models import Department, LinkPurpose, PreceptorProfile, Role, User
from ..models.people import HCPC_NUMBER
from ..rendering import render_page
from ..services import account_links
from ..services import people as service
from ..services.people import PeopleRefused
from . import bp

TRUST = "trust"  # the lead-scope checkbox for the whole trust; the others are department ids
CONFIRMABLE = ("deactivate", "reset")  # actions that ask "are you sure?" first
RACE = "Someone else added an account with this email or HCPC number at the same time"
ROLE_HINTS = {
    Role.PRECEPTEE: "Follows a preceptorship programme",
    Role.PRECEPTOR: "Supports preceptees and signs off their milestones",
    Role.EDUCATION_LEAD: "Allocates preceptors and sees reports for their departments",
    Role.ADMIN: "Manages people, surveys and the service",
}


def _hcpc(value):
    return "".join(value.split()).upper() if isinstance(value, str) else value


def _roles_field():
    return SelectMultipleField("Roles", validate_choice=False)


def _scope_field():
    return SelectMultipleField("Departments they lead", validate_choice=False)


class DetailsForm(FlaskForm):
    """A person's name, email and HCPC number. Formats are checked here; duplicates by the service."""

    name = StringField("Full name", filters=[strip], validators=[
        DataRequired("Enter their full name"), Length(max=120, message="Full name must be 120 characters or fewer")])
    email = EmailField("Email address", filters=[strip], validators=[
        DataRequired("Enter their email address"),
        Length(max=254, message="Email address must be 254 characters or fewer"),
        Email("Enter an email address in the correct format, like name@nhs.net")])
    hcpc_number = StringField("HCPC registration number (optional)", filters=[_hcpc], validators=[
        Optional(), capped(10, "HCPC registration number")])

    def validate_hcpc_number(self, field):
        if field.data and not HCPC_NUMBER.match(field.data):
            raise ValidationError("Enter an HCPC registration number for a radiographer: RA followed by numbers, "
                                  "like RA123456")


class PersonForm(DetailsForm):
    """A new person: their details, roles and lead scope (roles and scope checked by the service)."""

    roles = _roles_field()
    lead_scope = _scope_field()


class AccessForm(FlaskForm):
    """A person's roles and, for a lead, the departments they look after."""

    roles = _roles_field()
    lead_scope = _scope_field()


def _scope(form) -> tuple[list[int], bool]:
    """The ticked department ids (anything tampered becomes -1, which the service refuses) and
    whether the whole trust was ticked."""
    values = form.lead_scope.data or []
    return [posted_number(v) for v in values if v != TRUST], TRUST in values


def refuse(form, refused: PeopleRefused, problems: list[str]) -> None:
    field = getattr(form, refused.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(refused)]
    else:
        problems.append(str(refused))


def _items(departments: list[Department]) -> dict[str, list[dict]]:
    """Checkbox items for the roles and lead-scope fields (see `access_fields`)."""
    return {
        "roles": [{"value": r.value, "text": r.label, "hint": ROLE_HINTS[r]} for r in Role],
        "scope": [{"value": TRUST, "text": "The whole trust", "hint": "Every department, including any added later",
                   "behaviour": "exclusive", "behaviourGroup": "lead_scope"}, {"divider": "or"},
                  *({"value": str(d.id), "text": d.full_name + (" (archived)" if d.archived_at else "")}
                    for d in departments)],
    }


@bp.get("/people")
@role_required(Role.ADMIN)
def people():
    """Everyone with an account, 50 a page: searched, filtered, and swapped in place with htmx."""
    search = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    role = Role(role) if role in {r.value for r in Role} else None
    status = request.args.get("status", "")
    status = service.Status(status) if status in {s.value for s in service.Status} else None
    department_id = chosen_id(request.args.get("department"))
    page = service.people(search, role, department_id, status, request.args.get("page", 1, type=int))
    chosen = {"q": search, "role": role.value if role else "", "status": status.value if status else "",
              "department": str(department_id) if department_id is not None else ""}
    return render_page(
        "admin/people.html", regions=("people_results",), result=page, chosen=chosen,
        filters={k: v for k, v in chosen.items() if v},
        role_options=[("", "All roles"), *((r.value, r.label) for r in Role)],
        status_options=[("", "Active and deactivated"), ("active", "Active"), ("deactivated", "Deactivated")],
        department_options=[("", "All departments"),
                            *((str(d.id), d.full_name) for d in service.department_choices())])


def _link_issued(user: User, token: str, purpose: LinkPurpose):
    """The page showing a new link. Never cached: the link is not shown anywhere else."""
    link = service.open_link(user)
    response = render_page("admin/link_issued.html", person=user, purpose=purpose.value,
                           url=account_links.link_url(token), expires_at=link.expires_at if link else None)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/people/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def person_new():
    """Add a person; the answer is their invitation link, for the admin to send them."""
    departments = service.department_choices()
    form = PersonForm()
    problems: list[str] = []
    if form.validate_on_submit():
        department_ids, trust_wide = _scope(form)
        try:
            user, token = service.create_person(form.email.data, form.name.data, form.roles.data, department_ids,
                                                trust_wide, form.hcpc_number.data or None,
                                                current_user._get_current_object())
            db.session.commit()
        except PeopleRefused as refused:
            db.session.rollback()
            refuse(form, refused, problems)
        except IntegrityError:  # the unique email or HCPC index: someone else got there first
            db.session.rollback()
            form.email.errors = [*form.email.errors, RACE]
        else:
            return _link_issued(user, token, LinkPurpose.INVITE)
    return render_page("admin/person_new.html", form=form, problems=problems, items=_items(departments),
                       status_code=400 if request.method == "POST" else 200)


def _person_page(user: User, form: AccessForm, *, problems: list[str] | None = None, confirm: str | None = None,
                 status_code: int = 200):
    return render_page("admin/person.html", person=user, form=form, problems=problems or [], confirm=confirm,
                       items=_items(service.department_choices(user)), link=service.open_link(user),
                       events=service.recent_events(user), myself=user.id == current_user.id,
                       profile=db.session.get(PreceptorProfile, user.id),
                       status_code=status_code)


DONE = {
    "deactivate": "{}'s account is deactivated: they are signed out and cannot sign in. Their records stay.",
    "reactivate": "{}'s account is active again: they can sign in with their password.",
    "access": "{}'s roles and departments are saved. They apply from their next page.",
}


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def person(user_id: int):
    """One person: details, roles and lead scope, status, a forced reset, and recent activity."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    current = {"roles": [r.value for r in user.roles_in_order],
               "lead_scope": [TRUST] if user.trust_wide else [str(d.id) for d in user.lead_departments]}
    if request.method == "GET":
        confirm = request.args.get("confirm")
        return _person_page(user, AccessForm(formdata=None, **current),
                            confirm=confirm if confirm in CONFIRMABLE else None)

    action = request.form.get("action")
    me = current_user._get_current_object()
    form = AccessForm() if action == "access" else AccessForm(formdata=None, **current)
    problems: list[str] = []
    try:
        if action == "access":
            department_ids, trust_wide = _scope(form)
            changed = service.change_access(user, form.roles.data, department_ids, trust_wide, me)
        elif action == "deactivate":
            changed = service.deactivate(user, me)
        elif action == "reactivate":
            changed = service.reactivate(user, me)
        elif action == "reset":
            token = service.force_reset(user, me)
            db.session.commit()
            return _link_issued(user, token, LinkPurpose.RESET)
        else:
            abort(400)
        db.session.commit()
    except PeopleRefused as refused:
        db.session.rollback()
        if action == "access":
            refuse(form, refused, problems)
        else:
            problems.append(str(refused))
        return _person_page(user, form, problems=problems, status_code=400)
    flash(DONE[action].format(user.name) if changed else "Nothing was changed.", "success" if changed else "info")
    if user.id == me.id and Role.ADMIN not in user.roles:  # they gave up their own admin role
        return redirect(url_for("main.index"))
    return redirect(url_for("admin.person", user_id=user.id))
