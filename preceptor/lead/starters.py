"""New starters: the lead adds one by hand, or uploads the ESR extract, checks the preview
(every bad row with its line number and why), and confirms the import.

The uploaded file is not kept on the server. The preview page carries the decoded text back
in a hidden field (compressed, base64: see `esr_extract.pack`), and the confirm step reads and
checks it again from scratch before importing. That needs no temporary files to clean up,
works whichever server answers the confirm, survives nothing between requests that could go
stale, and a cookie session (4 KB) could not hold a file anyway. A lead who edited the hidden
field gains nothing: it is checked as strictly as an upload, against their own scope.

Every form is a plain POST that redirects or re-renders with the input kept.
"""

from datetime import date

from flask import flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..access import lead_scope, role_required
from ..extensions import db
from ..fields import DATE_PARTS, DateParts, capped, hidden_cap, strip
from ..models import RUNNING_STATUSES, Allocation, Department, Preceptorship, Role, TransitionType, User
from ..rendering import render_page
from ..services import csv_upload, esr_extract, starter_values
from ..services import starters as service
from ..services.scope import in_scope, open_departments
from ..services.starters import Preview, StartersRefused
from ..templating import long_date
from ..transactions import commit
from . import bp

PAGE = "lead/starters.html"
PREVIEW = "lead/starters_preview.html"
RACE = ("Someone else added some of these starters at the same time, so nothing was imported. "
        "Upload the file again to see where things stand.")
UNREADABLE = "The file could not be read back from the preview. Upload it again."


class StarterForm(FlaskForm):
    """One starter by hand. The rules are the import's (services/starters.py), shown by each field."""

    name = StringField("Full name", filters=[strip], validators=[capped(starter_values.NAME_MAX, "Full name")])
    email = StringField("Email address", filters=[strip], validators=[capped(starter_values.EMAIL_MAX, "Email")])
    # Typed with spaces or dashes as often as not; the check runs on the normalised number.
    hcpc_number = StringField("HCPC number (optional)", filters=[strip], validators=[capped(20, "HCPC number")])
    department = SelectField("Department", validate_choice=False)
    start_date = DateParts("Start date", required_message="Enter the start date")
    transition = RadioField("Type of transition", validate_choice=False, default=TransitionType.NEWLY_QUALIFIED.value,
                            choices=[SelectChoice(t.value, t.label) for t in TransitionType])
    months = RadioField("Programme length", validate_choice=False, default="12",
                        choices=[SelectChoice(str(m), f"{m} months") for m in service.PROGRAMME_MONTHS])

    def __init__(self, *args, departments: list[Department], today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_date.flags.required = True
        self.today = today
        self.departments = {str(d.id): d for d in departments}
        self.department.choices = [SelectChoice("", "Choose a department"),
                                   *(SelectChoice(str(d.id), d.full_name) for d in departments)]

    def validate_name(self, field):
        if problem := starter_values.name_problem(" ".join((field.data or "").split())):
            raise ValidationError(problem)

    def validate_email(self, field):
        if problem := starter_values.email_problem(field.data or ""):
            raise ValidationError(problem)

    def validate_hcpc_number(self, field):
        if problem := starter_values.hcpc_problem(starter_values.normalise_hcpc(field.data or "")):
            raise ValidationError(problem)

    def validate_department(self, field):
        if not field.data:
            raise ValidationError("Select the starter's department")
        if field.data not in self.departments:
            raise ValidationError("Select one of your departments")

    def validate_start_date(self, field):
        if problem := starter_values.start_date_problem(field.data, self.today):
            field.error_parts = DATE_PARTS
            raise ValidationError(problem)

    def validate_transition(self, field):
        if field.data not in {t.value for t in TransitionType}:
            raise ValidationError("Select the type of transition")

    def validate_months(self, field):
        if field.data not in {str(m) for m in service.PROGRAMME_MONTHS}:
            raise ValidationError("Select the length of the programme")


class UploadForm(FlaskForm):
    file = FileField("Upload the ESR extract (CSV)", validators=[FileRequired("Select the CSV file to upload")])


class ConfirmForm(FlaskForm):
    content = HiddenField(validators=[hidden_cap(2 * csv_upload.MAX_BYTES)])  # the packed file, base64


def recent_starters(scope: list[int] | None, day: date) -> list[tuple[Preceptorship, str | None]]:
    """Running programmes in scope that start in the future or started in the last 8 weeks,
    each with its current preceptor's name (None: waiting for one). One query."""
    preceptor = aliased(User)
    query = (
        select(Preceptorship, preceptor.name)
        .options(joinedload(Preceptorship.preceptee), joinedload(Preceptorship.department))
        .outerjoin(Allocation, (Allocation.preceptorship_id == Preceptorship.id) & Allocation.ends_on.is_(None))
        .outerjoin(preceptor, preceptor.id == Allocation.preceptor_id)
        .where(Preceptorship.start_date >= day - service.RECENT, Preceptorship.status.in_(RUNNING_STATUSES))
        .where(in_scope(Preceptorship.department_id, scope))
        .order_by(Preceptorship.start_date, Preceptorship.id)
    )
    return [(programme, name) for programme, name in db.session.execute(query)]


def _page(day: date, form: StarterForm | None = None, upload: UploadForm | None = None):
    scope = lead_scope()
    departments = open_departments(scope)
    return render_page(
        PAGE,
        form=form or StarterForm(formdata=None, departments=departments, today=day),
        upload=upload or UploadForm(formdata=None),
        starters=recent_starters(scope, day),
        has_departments=bool(departments),
        today=day,
        max_mb=esr_extract.MAX_BYTES // (1024 * 1024),
        max_rows=esr_extract.MAX_ROWS,
    )


def _preview(preview: Preview, problems: list[str] | None = None):
    return render_page(PREVIEW, preview=preview, problems=problems or [],
                       confirm=ConfirmForm(formdata=None, content=esr_extract.pack(preview.text)),
                       upload=UploadForm(formdata=None), headings=esr_extract.HEADINGS,
                       max_mb=esr_extract.MAX_BYTES // (1024 * 1024), max_rows=esr_extract.MAX_ROWS)


def today() -> date:
    """Today, looked up here so tests can pin the calendar (the sample file has fixed dates)."""
    return date.today()


def _imported_message(imported: int, already: int) -> str:
    return f"{imported} starter{'' if imported == 1 else 's'} imported, {already} already there"


@bp.get("/starters")
@role_required(Role.EDUCATION_LEAD)
def starters():
    """New starters in scope, adding one by hand, and uploading the ESR extract."""
    return _page(today())


@bp.post("/starters")
@role_required(Role.EDUCATION_LEAD)
def add_starter():
    """Add one starter by hand: the same checks as a file row, shown next to each field."""
    day = today()
    form = StarterForm(departments=open_departments(lead_scope()), today=day)
    if form.validate_on_submit():
        row = service.hand_entered(
            name=form.name.data, email=form.email.data, hcpc_number=form.hcpc_number.data or "",
            department=form.departments[form.department.data], start_date=form.start_date.data,
            transition=TransitionType(form.transition.data), months=int(form.months.data))
        if row.already_imported:
            row.refuse("start_date", "This starter already has a programme in this department from this date")
        for problem in row.problems:
            form[problem.column].errors.append(problem.message)
        problems: list[str] = []
        if row.ok and commit(lambda: service.import_starters([row], actor_id=current_user.id, source="hand"),
                             problems, stale=RACE, refusals=(StartersRefused,)):
            flash(f"{row.name} added: {row.department.full_name}, starting {long_date(row.start_date)}.", "success")
            return redirect(url_for("lead.starters"))
        form.email.errors.extend(problems)
    return _page(day, form=form)


@bp.post("/starters/upload")
@role_required(Role.EDUCATION_LEAD)
def upload_starters():
    """Read the uploaded extract and show the preview. Nothing is written."""
    upload = UploadForm()
    if not upload.validate_on_submit():
        return _page(today(), upload=upload)
    data = upload.file.data.stream.read(esr_extract.MAX_BYTES + 1)  # one byte over is enough to say "too big"
    return _preview(service.preview_file(data, lead_scope(), today()))


@bp.post("/starters/import")
@role_required(Role.EDUCATION_LEAD)
def import_starters():
    """Read the carried file again, check it again, and import it whole, or show why not."""
    confirm = ConfirmForm()
    text = esr_extract.unpack(confirm.content.data) if confirm.validate_on_submit() else None
    if text is None:
        upload = UploadForm(formdata=None)
        upload.file.errors = [UNREADABLE]
        return _page(today(), upload=upload)
    preview = service.preview_text(text, lead_scope(), today())
    if not preview.importable:
        return _preview(preview)
    problems: list[str] = []
    results = []
    if commit(lambda: results.append(service.import_starters(
            preview.rows, actor_id=current_user.id, source="esr", fingerprint=preview.fingerprint)),
            problems, stale=RACE, refusals=(StartersRefused,)):
        flash(_imported_message(results[0].imported, results[0].already), "success")
        return redirect(url_for("lead.starters"))
    return _preview(preview, problems)
