"""A person's own data: every record about them, as a page to read and as JSON to keep."""

import json
from datetime import date

from flask import Response
from flask_login import current_user, login_required

from ..extensions import db
from ..rendering import render_page
from ..services import audit
from ..services.own_data import own_data
from . import bp


@bp.get("/your-data")
@login_required
def your_data():
    return render_page("main/your_data.html", data=own_data(current_user))


@bp.get("/your-data.json")
@login_required
def your_data_json():
    data = own_data(current_user)
    audit.record("user.download_own_data", current_user._get_current_object())  # who took a copy, and when
    db.session.commit()
    body = json.dumps({"downloaded_on": date.today().isoformat(), "tables": data}, indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="my-data-{date.today():%Y-%m-%d}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
