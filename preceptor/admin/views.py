"""The administrator's home page: what the service holds."""

from sqlalchemy import func, select

from ..access import role_required
from ..extensions import db
from ..models import (
    Department,
    MilestoneTemplate,
    OutboxMessage,
    OutboxStatus,
    Preceptorship,
    Role,
    Site,
    User,
    UserRole,
)
from ..rendering import render_page
from . import bp


@bp.get("/")
@role_required(Role.ADMIN)
def home():
    people = dict(db.session.execute(select(UserRole.role, func.count()).group_by(UserRole.role)).all())
    totals = {
        "People": db.session.scalar(select(func.count()).select_from(User)),
        "Sites": db.session.scalar(select(func.count()).select_from(Site)),
        "Departments": db.session.scalar(select(func.count()).select_from(Department)),
        "Programmes": db.session.scalar(select(func.count()).select_from(Preceptorship)),
        "Milestones in the framework": db.session.scalar(
            select(func.count()).select_from(MilestoneTemplate).where(MilestoneTemplate.current.is_(True))
        ),
    }
    failed_emails = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == OutboxStatus.FAILED))
    return render_page("admin/home.html", people=people, totals=totals, roles=list(Role), failed_emails=failed_emails)
