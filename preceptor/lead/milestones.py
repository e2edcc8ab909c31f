"""A milestone as an education lead sees it, to reopen a sign-off with a reason."""

from sqlalchemy import select

from ..access import lead_scope, role_required
from ..caseload.milestones import milestone_page, reopen_milestone
from ..extensions import db
from ..models import Milestone, Preceptorship, Role
from . import bp


def milestone_in_scope_or_404(milestone_id: int) -> Milestone:
    """404 for a milestone outside the lead's departments, as if it did not exist."""
    query = select(Milestone).join(Preceptorship).where(Milestone.id == milestone_id)
    scope = lead_scope()
    if scope is not None:
        query = query.where(Preceptorship.department_id.in_(scope))
    return db.first_or_404(query)


@bp.get("/milestones/<int:milestone_id>")
@role_required(Role.EDUCATION_LEAD)
def milestone(milestone_id: int):
    return milestone_page(milestone_in_scope_or_404(milestone_id), viewer="lead")


@bp.post("/milestones/<int:milestone_id>/reopen")
@role_required(Role.EDUCATION_LEAD)
def reopen(milestone_id: int):
    return reopen_milestone(milestone_in_scope_or_404(milestone_id), "lead", "lead.milestone")
