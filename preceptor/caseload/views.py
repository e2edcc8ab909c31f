"""The preceptor's home page, "My preceptees"."""

from datetime import date

from flask_login import current_user

from ..access import role_required
from ..eligibility import effective_cap, eligibility
from ..extensions import db
from ..models import PreceptorProfile, Role
from ..rendering import render_page
from ..services import protected_time
from . import bp, queries


@bp.get("/")
@role_required(Role.PRECEPTOR)
def home():
    """Current and past preceptees, the preceptor's load against their cap, and protected time."""
    today = date.today()
    profile = db.session.get(PreceptorProfile, current_user.id)
    current = queries.caseload(current_user.id, today)
    return render_page(
        "caseload/home.html",
        today=today,
        profile=profile,
        cap=effective_cap(profile) if profile else None,
        standing=eligibility(profile, today) if profile else None,
        current=current,
        past=queries.caseload(current_user.id, today, current=False),
        hours_logged=queries.protected_hours(current_user.id, today),
        hours_allowance=protected_time.allowance(profile),
    )
