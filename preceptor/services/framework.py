"""The default milestone framework from PRODUCT.md, installed once and then edited in the
portal (each edit a new template version)."""

from sqlalchemy import select

from ..extensions import db
from ..models import MeetingType, MilestoneTemplate, Principle

# (key, week due, title, principles, guidance, meeting that completes it)
DEFAULT_MILESTONES = [
    ("preceptor-allocated", 0, "Named preceptor allocated", (1, 3),
     "Your education lead names one preceptor for the whole programme from your first day.", None),
    ("initial-meeting", 2, "Initial meeting and learning needs analysis", (3, 5),
     "Meet your preceptor within two weeks. Rate your confidence in each area and agree what to focus on.",
     MeetingType.INITIAL),
    ("local-induction", 4, "Local induction completed", (2,),
     "Induction to the department is separate from preceptorship: record when it is complete.", None),
    ("development-plan", 4, "Personal development plan agreed", (3, 5),
     "Turn your learning needs into goals with actions and target dates, agreed with your preceptor.", None),
    ("first-review", 8, "First two-monthly review", (2, 4),
     "Review progress, wellbeing and the development plan together.", MeetingType.TWO_MONTHLY),
    ("two-reflections", 12, "Two reflective accounts", (1, 3),
     "Write two reflections (what happened, so what, now what) and link them as evidence.", None),
    ("wellbeing", 16, "Wellbeing conversation", (1,),
     "A conversation about how you are finding the transition, workload and support.", None),
    ("mid-point-review", 26, "Mid-point review", (2, 5),
     "Revisit your learning needs analysis to see how your confidence has changed.", MeetingType.MID_POINT),
    ("multi-professional", 30, "Multi-professional learning activity", (2, 5),
     "Take part in learning with other professions and reflect on what you took from it.", None),
    ("eight-reflections", 48, "Eight reflective accounts over the year", (3,),
     "By now you should have at least eight reflections linked as evidence.", None),
    ("final-review", 52, "Final review and completion", (2, 5),
     "Review the whole programme with your preceptor and agree next steps.", MeetingType.FINAL),
    ("preceptor-feedback", 52, "Feedback on the preceptor given", (4,),
     "Give anonymous feedback on your preceptorship: it helps your preceptor and the next cohort.", None),
]


def install_default_framework() -> int:
    """Add any default milestone not yet in the framework (by key); returns how many were added."""
    existing = set(db.session.scalars(select(MilestoneTemplate.key)))
    principles = {p.id: p for p in db.session.scalars(select(Principle))}
    added = 0
    for position, (key, week, title, numbers, guidance, meeting) in enumerate(DEFAULT_MILESTONES):
        if key in existing:
            continue
        db.session.add(
            MilestoneTemplate(
                key=key, title=title, guidance=guidance, due_offset_days=week * 7, position=position,
                completed_by_meeting=meeting, principles=[principles[n] for n in numbers],
            )
        )
        added += 1
    return added
