"""My record: everything a preceptee has written and every sign-off, as one printable page.

Their portfolio travels with them when they change employer: the page prints cleanly (or
saves as PDF from the browser's print dialogue) through the print stylesheet.
"""

from datetime import date

from flask import request
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..extensions import db
from ..models import Preceptorship, Role
from ..rendering import render_page
from ..services.portfolio import programme_record
from . import bp


@bp.get("/record")
@role_required(Role.PRECEPTEE)
def record():
    """Every programme the person has had, newest first, in full."""
    programmes = db.session.scalars(select(Preceptorship).where(Preceptorship.preceptee_id == current_user.id)
                                    .order_by(Preceptorship.start_date.desc())).all()
    response = render_page("preceptee/record.html", records=[programme_record(p) for p in programmes],
                           today=date.today())
    if request.args.get("download"):  # the same page, saved as a file the person keeps
        response.headers["Content-Disposition"] = f'attachment; filename="preceptorship-record-{date.today()}.html"'
    return response
