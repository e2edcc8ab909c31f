"""The preceptee's home page, "My preceptorship"."""

from datetime import date

from flask_login import current_user

from ..access import role_required
from ..models import Role
from ..rendering import render_page
from ..services import meetings, survey_answers
from . import bp, queries


@bp.get("/")
@role_required(Role.PRECEPTEE)
def home():
    """Programme summary, what is due, and progress against the five HCPC principles."""
    today = date.today()
    programme = queries.my_programme(current_user.id)
    context = {"programme": programme, "today": today}
    if programme is not None:
        allocation = programme.current_allocation
        elapsed = (today - programme.start_date).days
        length = max((programme.planned_end_date - programme.start_date).days, 1)
        context.update(
            allocation=allocation,
            percent_elapsed=max(0, min(100, round(100 * elapsed / length))),
            counts=queries.milestone_counts(programme.id, today),
            due_next=queries.due_next(programme.id),
            principles=queries.principle_progress(programme.id),
            leads=[] if allocation else queries.education_leads_for(programme.department_id),
            waiting=queries.waiting_for_preceptor(programme.id),
            decisions=queries.recent_decisions(programme.id),
            recent_entries=queries.entries(programme.id, per_page=5)[0],
            next_meeting=next((m for m in meetings.schedule(programme) if not m.held), None),
            surveys=survey_answers.open_invitations(current_user.id, today),
        )
    return render_page("preceptee/home.html", **context)


@bp.get("/meetings")
@role_required(Role.PRECEPTEE)
def meetings_page():
    """The meetings the programme should have, and the ones recorded with their actions."""
    programme = queries.my_programme(current_user.id)
    recorded = meetings.meetings_of(programme.id) if programme else []
    return render_page("preceptee/meetings.html", programme=programme, today=date.today(), recorded=recorded,
                       expected=meetings.schedule(programme, recorded) if programme else [])
