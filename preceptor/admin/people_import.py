"""Importing people from a CSV file: upload, a preview listing every bad row and why, and the
import, which answers with each new person's invitation link to send them.

As with new starters (preceptor/lead/starters.py), the file is never kept on the server: the
preview carries its text back in a hidden field and the import checks it again from scratch.
The links are shown once, on the page that made them, and never stored.
"""

from datetime import date

from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from ..access import role_required
from ..fields import hidden_cap
from ..models import Role
from ..rendering import render_page
from ..services import account_links, csv_upload
from ..services import people_import as service
from ..services.people_import import ImportRefused, Preview
from ..transactions import commit
from . import bp

RACE = ("Someone else added some of these people at the same time, so nothing was imported. "
        "Upload the file again to see where things stand.")
UNREADABLE = "The file could not be read back from the preview. Upload it again."
LIMITS = {"max_mb": csv_upload.MAX_BYTES // (1024 * 1024), "max_rows": csv_upload.MAX_ROWS}


class UploadForm(FlaskForm):
    file = FileField("Upload a CSV file of people", validators=[FileRequired("Select the CSV file to upload")])


class ConfirmForm(FlaskForm):
    content = HiddenField(validators=[hidden_cap(2 * csv_upload.MAX_BYTES)])  # the packed file, base64


def _upload_page(upload: UploadForm | None = None):
    upload = upload or UploadForm(formdata=None)
    return render_page("admin/people_import.html", upload=upload, **LIMITS,
                       status_code=400 if upload.errors else 200)


def _preview(preview: Preview, problems: list[str] | None = None):
    """The checked file: 200 whatever it holds, as for new starters (the upload worked; what
    is wrong with the file is the page's content)."""
    return render_page("admin/people_import_preview.html", preview=preview, problems=problems or [],
                       content=csv_upload.pack(preview.text), upload=UploadForm(formdata=None), **LIMITS)


@bp.get("/people/import")
@role_required(Role.ADMIN)
def people_import():
    """The upload form, with what the file must hold."""
    return _upload_page()


@bp.post("/people/import")
@role_required(Role.ADMIN)
def people_import_upload():
    """Read the uploaded file and show the preview. Nothing is written."""
    upload = UploadForm()
    if not upload.validate_on_submit():
        return _upload_page(upload)
    data = upload.file.data.stream.read(csv_upload.MAX_BYTES + 1)  # one byte over is enough to say "too big"
    return _preview(service.preview_file(data, date.today()))


@bp.post("/people/import/confirm")
@role_required(Role.ADMIN)
def people_import_confirm():
    """Check the carried file again and import it whole, or show why not; then the links."""
    confirm = ConfirmForm()
    text = csv_upload.unpack(confirm.content.data) if confirm.validate_on_submit() else None
    if text is None:
        upload = UploadForm(formdata=None)
        upload.file.errors = [UNREADABLE]
        return _upload_page(upload)
    preview = service.preview_text(text, date.today())
    if not preview.importable:
        return _preview(preview)
    problems: list[str] = []
    invited: list[service.Invited] = []
    if not commit(lambda: invited.extend(service.import_people(preview.rows, current_user._get_current_object(),
                                                               preview.fingerprint)),
                  problems, stale=RACE, refusals=(ImportRefused,)):
        return _preview(preview, problems)
    response = render_page("admin/people_imported.html", already=len(preview.already_rows),
                           links=[(i.user, account_links.link_url(i.token)) for i in invited])
    response.headers["Cache-Control"] = "no-store"  # the links are shown nowhere else
    return response
