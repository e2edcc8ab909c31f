"""Sites and departments, for administrators: the overview, adding and renaming sites and
departments, archiving them, and a department's defaults (preceptor cap, preceptee protected
time allowance, modality checklists, learning needs areas). Merging is in department_merge.py.

Every form is a plain POST that redirects, or re-renders with the input kept and the message
by its field; archiving asks "are you sure?" first (`?confirm=archive`), so all of it works
without JavaScript. With htmx, the learning needs areas (add, archive, restore) change in
place: the `learning_need_areas` region of the department page is its own swap target.
The rules and their messages are the services' (services/departments.py, department_defaults.py).
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from ..access import role_required
from ..extensions import db, htmx
from ..fields import capped, chosen_id, posted_number, strip
from ..models import Department, Profession, Role, Site
from ..rendering import render_page
from ..services import department_defaults as defaults
from ..services import departments as service
from ..services.departments import DepartmentsRefused
from ..templating import hours as shown_hours
from ..transactions import commit
from . import bp

AREAS = "learning_need_areas"  # the department page's swappable region
RACE = "Someone else changed this at the same time, so nothing was saved. Check the page and try again."


class NameForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[capped(service.NAME_MAX, "Name")])


class DepartmentForm(FlaskForm):
    site = SelectField("Site", validate_choice=False)
    name = StringField("Name", filters=[strip], validators=[capped(service.NAME_MAX, "Name")])
    profession = RadioField("Profession", validate_choice=False,
                            choices=[SelectChoice(p.value, p.label) for p in Profession])


class DefaultsForm(FlaskForm):
    # Numbers typed as text so the service can word its own range message; the caps only
    # stop a huge post before it is parsed.
    preceptor_cap = StringField("Preceptor cap (optional)", filters=[strip],
                                validators=[capped(10, "Preceptor cap")])
    preceptee_protected_hours = StringField("Preceptee protected time, hours a year (optional)", filters=[strip],
                                            validators=[capped(10, "Protected time allowance")])
    checklists = SelectMultipleField("Modality checklists", validate_choice=False)


class AreaForm(FlaskForm):
    title = StringField("Learning needs area", filters=[strip],
                        validators=[capped(defaults.AREA_TITLE_MAX, "Learning needs area")])


def save(change, form: FlaskForm | None, problems: list[str]) -> bool:
    """Commit `change`; a refusal rolls everything back and goes beside its field (or into
    `problems`), a lost race into `problems`."""
    caught: list[DepartmentsRefused] = []

    def guarded():
        try:
            change()
        except DepartmentsRefused as refused:
            caught.append(refused)
            raise

    messages: list[str] = []
    if commit(guarded, messages, stale=RACE, refusals=(DepartmentsRefused,)):
        return True
    field = getattr(form, caught[0].field or "", None) if caught and form is not None else None
    if field is not None:
        field.errors = [*field.errors, messages[0]]
    else:
        problems.extend(messages)
    return False


def me():
    return current_user._get_current_object()


def in_region() -> bool:
    """An htmx request aimed at the learning needs areas: answer with that region alone."""
    return bool(htmx) and not htmx.boosted and htmx.target == AREAS


def refused_status() -> int:
    # htmx swaps only 2xx answers (layout's htmx-config): a refused change in place answers 200.
    return 200 if in_region() else 400


# --- the overview and sites -------------------------------------------------------------------

@bp.get("/departments")
@role_required(Role.ADMIN)
def departments():
    """Every site with its departments: profession, counts, defaults; archived ones apart."""
    groups = service.overview()
    return render_page("admin/departments.html", groups=groups, trust_cap=defaults.trust_cap(),
                       open_groups=[g for g in groups if g.site.archived_at is None],
                       archived_sites=[g for g in groups if g.site.archived_at is not None])


@bp.route("/sites/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def site_new():
    form, problems = NameForm(), []
    if request.method == "POST":
        created: list[Site] = []
        if save(lambda: created.append(service.create_site(form.name.data, me())), form, problems):
            flash(f"{created[0].name} is added. Add its departments next.", "success")
            return redirect(url_for("admin.departments") + f"#site-{created[0].id}")
    return render_page("admin/site_new.html", form=form, problems=problems,
                       status_code=400 if request.method == "POST" else 200)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def site(site_id: int):
    """One site: rename it, archive it (once its departments are archived) or open it again."""
    place = db.session.get(Site, site_id) or abort(404)
    action = request.form.get("action") if request.method == "POST" else None
    form = NameForm() if action == "rename" else NameForm(formdata=None, name=place.name)
    problems: list[str] = []
    if action is not None:
        done: list[bool] = []
        changes = {"rename": lambda: done.append(service.rename_site(place, form.name.data, me())),
                   "archive": lambda: done.append(service.archive_site(place, me()) or True),
                   "unarchive": lambda: done.append(service.unarchive_site(place, me()) or True)}
        if action not in changes:
            abort(400)
        if save(changes[action], form if action == "rename" else None, problems):
            flash({"rename": f"The site is now called {place.name}.", "archive": f"{place.name} is archived.",
                   "unarchive": f"{place.name} is open again. Its departments stay archived until you open them."}
                  [action] if done[0] else "Nothing was changed.", "success" if done[0] else "info")
            return redirect(url_for("admin.site", site_id=place.id))
    confirm = request.args.get("confirm") == "archive"
    groups = [g for g in service.overview() if g.site.id == place.id]
    return render_page("admin/site.html", place=place, form=form, problems=problems, confirm=confirm,
                       group=groups[0], status_code=400 if problems or form.errors else 200)


# --- departments ----------------------------------------------------------------------------

@bp.route("/departments/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def department_new():
    sites = service.open_sites()
    chosen = request.args.get("site", "")
    form = DepartmentForm() if request.method == "POST" else DepartmentForm(formdata=None, site=chosen)
    form.site.choices = [SelectChoice("", "Choose a site"), *(SelectChoice(str(s.id), s.name) for s in sites)]
    problems: list[str] = []
    if request.method == "POST":
        place = db.session.get(Site, chosen_id(form.site.data)) if chosen_id(form.site.data) is not None else None
        created: list[Department] = []
        if save(lambda: created.append(service.create_department(place, form.name.data, form.profession.data, me())),
                form, problems):
            flash(f"{created[0].full_name} is added. Set its defaults below.", "success")
            return redirect(url_for("admin.department", department_id=created[0].id))
    return render_page("admin/department_new.html", form=form, problems=problems, has_sites=bool(sites),
                       status_code=400 if request.method == "POST" else 200)


def department_or_404(department_id: int) -> Department:
    return db.session.get(Department, department_id) or abort(404)


def _current_defaults(department: Department) -> dict:
    hours = department.preceptee_protected_hours
    return {"preceptor_cap": "" if department.preceptor_cap is None else str(department.preceptor_cap),
            "preceptee_protected_hours": "" if hours is None else shown_hours(hours),
            "checklists": [str(c) for c in defaults.ticked_checklists(department)]}


def parsed_defaults(form: DefaultsForm) -> tuple | None:
    """(cap, hours, checklist ids) as typed, or None with each bad field's message beside it."""
    values = {}
    for name, parse in (("preceptor_cap", defaults.parse_cap), ("preceptee_protected_hours", defaults.parse_hours)):
        try:
            values[name] = parse(form[name].data)
        except DepartmentsRefused as refused:
            form[name].errors = [str(refused)]
    if form.errors:
        return None
    checklist_ids = [posted_number(v) for v in form.checklists.data or []]
    return values["preceptor_cap"], values["preceptee_protected_hours"], checklist_ids


def department_page(department: Department, *, rename: NameForm | None = None, settings: DefaultsForm | None = None,
                    area_form: AreaForm | None = None, problems: list[str] | None = None,
                    area_problems: list[str] | None = None, notice: str | None = None, status_code: int = 200):
    """The department page, or its learning needs areas alone for htmx."""
    row = service.department_row(department)
    own = defaults.areas(department.id)
    return render_page(
        "admin/department.html", regions=(AREAS,), department=department, row=row,
        rename=rename or NameForm(formdata=None, name=department.name),
        settings=settings or DefaultsForm(formdata=None, **_current_defaults(department)),
        area_form=area_form or AreaForm(formdata=None), problems=problems or [], area_problems=area_problems or [],
        notice=notice, checklist_items=[{"value": str(c.id), "text": c.name + (" (archived)" if c.archived_at else "")}
                                        for c in defaults.offered_checklists(department)],
        own_areas=[a for a in own if a.archived_at is None], archived_areas=[a for a in own if a.archived_at],
        trust_areas=[a for a in defaults.areas(None) if a.archived_at is None], trust_cap=defaults.trust_cap(),
        max_cap=defaults.MAX_CAP, min_cap=defaults.MIN_CAP, max_hours=defaults.MAX_PROTECTED_HOURS,
        archive_problem=None if department.archived_at else service.archive_problem(department),
        confirm=request.args.get("confirm") == "archive", fragment=in_region(), status_code=status_code)


DONE = {
    "rename": "The department is now called {}.",
    "defaults": "{}’s defaults are saved. They apply from now on; programmes already running keep their milestones.",
    "archive": "{} is archived. It no longer appears in any list to choose from; its history stays.",
    "unarchive": "{} is open again.",
}


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def department(department_id: int):
    """One department: its name, defaults and learning needs areas; archiving or merging it."""
    place = department_or_404(department_id)
    if request.method == "GET":
        return department_page(place)
    action = request.form.get("action")
    rename = NameForm() if action == "rename" else None
    settings = DefaultsForm() if action == "defaults" else None
    values = parsed_defaults(settings) if settings is not None else None
    done: list[bool] = []
    changes = {
        "rename": lambda: done.append(service.rename_department(place, rename.name.data, me())),
        "defaults": lambda: done.append(defaults.change_defaults(place, *values, me())),
        "archive": lambda: done.append(service.archive_department(place, me()) or True),
        "unarchive": lambda: done.append(service.unarchive_department(place, me()) or True),
    }
    if action not in changes:
        abort(400)
    problems: list[str] = []
    if (settings is not None and values is None) or not save(changes[action], rename or settings, problems):
        return department_page(place, rename=rename, settings=settings, problems=problems, status_code=400)
    message = DONE[action].format(place.name if action == "rename" else place.full_name)
    flash(message if done[0] else "Nothing was changed.", "success" if done[0] else "info")
    return redirect(url_for("admin.department", department_id=place.id))


# --- learning needs areas --------------------------------------------------------------------

def _areas_done(place: Department, notice: str):
    """After a change to the areas: the region with a notice for htmx, else back to the page."""
    if in_region():
        return department_page(place, notice=notice)
    flash(notice, "success")
    return redirect(url_for("admin.department", department_id=place.id) + f"#{AREAS}")


@bp.post("/departments/<int:department_id>/areas")
@role_required(Role.ADMIN)
def department_area_add(department_id: int):
    place = department_or_404(department_id)
    form, problems = AreaForm(), []
    added = []
    if save(lambda: added.append(defaults.add_area(place, form.title.data, me())), form, problems):
        return _areas_done(place, f"“{added[0].title}” is added to {place.name}’s learning needs areas.")
    return department_page(place, area_form=form, area_problems=problems, status_code=refused_status())


@bp.route("/departments/<int:department_id>/areas/<int:area_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def department_area(department_id: int, area_id: int):
    """One of the department's own areas: rename it (its own page), archive or restore it."""
    place = department_or_404(department_id)
    area = defaults.area_of(place, area_id) or abort(404)
    action = request.form.get("action") if request.method == "POST" else None
    form = AreaForm() if action == "rename" else AreaForm(formdata=None, title=area.title)
    problems: list[str] = []
    if action is not None:
        done: list[bool] = []
        changes = {"rename": lambda: done.append(defaults.rename_area(area, place, form.title.data, me())),
                   "archive": lambda: done.append(defaults.archive_area(area, place, me()) or True),
                   "restore": lambda: done.append(defaults.restore_area(area, place, me()) or True)}
        if action not in changes:
            abort(400)
        if save(changes[action], form if action == "rename" else None, problems):
            return _areas_done(place, {"rename": f"The area is now called “{area.title}”.",
                                       "archive": f"“{area.title}” is archived: preceptees no longer rate it.",
                                       "restore": f"“{area.title}” is back: preceptees rate it again."}[action]
                               if done[0] else "Nothing was changed.")
        if action != "rename":
            return department_page(place, area_problems=problems, status_code=refused_status())
    return render_page("admin/department_area.html", department=place, area=area, form=form, problems=problems,
                       status_code=400 if action else 200)


from . import department_merge  # noqa: E402,F401  (the merge pages, on this blueprint)
