"""The data model. Import models from here; each module holds one area of the product."""

from .audit import AuditEvent, AuditLogIsAppendOnly, AuditRedaction
from .framework import (
    Checklist,
    LearningNeedArea,
    MilestoneTemplate,
    Principle,
    department_checklist,
    template_principle,
)
from .meetings import Meeting, MeetingAction, MeetingType
from .milestones import (
    Milestone,
    MilestoneStatus,
    RequestStatus,
    SignOffRequest,
    milestone_evidence,
    request_evidence,
)
from .notifications import (
    Category,
    Delivery,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from .organisation import Department, Profession, Site
from .people import MAIN_ROLE_ORDER, AccountLink, LinkPurpose, Role, User, UserRole, lead_department
from .programmes import (
    RUNNING_STATUSES,
    Allocation,
    AllocationEndReason,
    PreceptorProfile,
    Preceptorship,
    ProgrammeStatus,
    ProtectedTime,
    StatusChange,
    TransitionType,
)
from .progress import (
    AssessmentStage,
    DevelopmentGoal,
    Draft,
    EntryKind,
    GoalStatus,
    LearningNeedRating,
    LearningNeedsAssessment,
    LogEntry,
)
from .surveys import (
    FeedbackRelease,
    QuestionType,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
)

__all__ = [name for name in dir() if not name.startswith("_")]
