"""A current preceptee's portfolio, read-only: timeline, shared evidence, learning needs,
development plan and meetings. Only their current preceptor sees it."""

from datetime import date

from flask_login import current_user

from ..access import role_required
from ..models import Role
from ..preceptee.queries import milestone_counts
from ..rendering import render_page
from ..services import meetings
from ..services.portfolio import programme_record
from . import bp, queries


@bp.get("/preceptees/<int:programme_id>")
@role_required(Role.PRECEPTOR)
def portfolio(programme_id: int):
    programme = queries.current_programme_or_404(programme_id, current_user.id)
    record = programme_record(programme, shared_only=True)
    today = date.today()
    return render_page("caseload/portfolio.html", programme=programme, record=record, today=today,
                       counts=milestone_counts(programme.id, today),
                       expected=meetings.schedule(programme, record.meetings))
