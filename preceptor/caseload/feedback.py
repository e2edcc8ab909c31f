"""Anonymous feedback from preceptees on the preceptor's own preceptoring (HCPC principle 4)."""

from flask_login import current_user

from ..access import role_required
from ..models import Role
from ..rendering import render_page
from ..services.preceptor_feedback import released_summary
from ..services.survey_library import AGREEMENT_SCALE
from . import bp


@bp.get("/feedback")
@role_required(Role.PRECEPTOR)
def feedback():
    """Averages and answer counts per question, once enough preceptees have answered."""
    released = released_summary(current_user.id)
    return render_page("caseload/feedback.html", summary=released.summary, pending=released.pending,
                       scale=AGREEMENT_SCALE)
