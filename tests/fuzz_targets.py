"""The world the POST fuzzer runs in, and one fuzz target per POST endpoint.

Two departments on two sites. Department A holds everything the signed-in people own (the
preceptee's programme, log entry, goal, meeting, sign-off requests, survey invitation; the
preceptor's protected time; notifications; a failed email...). Department B holds the same for
other people: no request made by a preceptee, preceptor or lead of department A may change it.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.lead.forms import PairingForm
from preceptor.lead.programmes import FORMS as PROGRAMME_FORMS
from preceptor.models import (
    Category,
    DevelopmentGoal,
    GoalStatus,
    LinkPurpose,
    LogEntry,
    Meeting,
    MeetingType,
    Milestone,
    OutboxMessage,
    OutboxStatus,
    ProtectedTime,
    Role,
    SurveyInvitation,
    TimePoint,
)
from preceptor.services import account_links, decisions, esr_extract, notifications, people_import
from preceptor.services.department_defaults import add_area
from preceptor.services.framework import install_default_framework
from preceptor.services.framework_checklists import create_checklist
from preceptor.services.learning_needs import install_default_areas
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_templates import current_version

from .factories import Make

PRECEPTEE, PRECEPTOR, LEAD, ADMIN, ANON = "preceptee", "preceptor", "education_lead", "admin", "anonymous"


@dataclass
class World:
    """Ids of what each side owns; `ids` fills the fuzz targets' path templates."""

    emails: dict[str, str]
    ids: dict[str, object]
    other_ids: list[int]  # department B's object ids: hostile values for id fields
    other: dict[str, list[int]] = field(default_factory=dict)  # B's ids by kind, for the guard


def _side(make: Make, label: str, today: date) -> dict:
    """A department with a preceptor, a preceptee 120 days into a programme, and their records."""
    site = make.site(f"Site {label}")
    department = make.department(f"Department {label}", site)
    preceptor = make.preceptor(department, name=f"Preceptor {label}")
    preceptee = make.user(Role.PRECEPTEE, email=f"preceptee-{label.lower()}@test.nhs.uk", name=f"Preceptee {label}")
    programme = make.programme(preceptee, department, start=today - timedelta(days=120), preceptor=preceptor)
    requested = make.sign_off_request(programme, 0, f"Reflection {label}")
    signed = make.sign_off_request(programme, 1, f"Second reflection {label}")
    decisions.sign_off(signed, preceptor, "Well done")
    pending = make.sign_off_request(programme, 2, f"Third reflection {label}")
    still_open = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                    .order_by(Milestone.due_date, Milestone.id)).all()[3]
    goal = DevelopmentGoal(preceptorship_id=programme.id, goal=f"Goal {label}", actions="Practise",
                           status=GoalStatus.OPEN)
    meeting = Meeting(preceptorship_id=programme.id, meeting_type=MeetingType.AD_HOC,
                      scheduled_for=today + timedelta(days=7), recorded_by_id=preceptor.id)
    time = ProtectedTime(preceptor_id=preceptor.id, occurred_on=today, hours=Decimal("1.5"), note=f"Time {label}")
    invitation = SurveyInvitation(preceptorship_id=programme.id, template_id=current_version("newly-qualified").id,
                                  time_point=TimePoint.BASELINE, opens_on=today - timedelta(days=1),
                                  closes_on=today + timedelta(days=20))
    db.session.add_all([goal, meeting, time, invitation])
    notice = notifications.notify(preceptee, Category.SIGN_OFF, f"Hello {label}", "/preceptee/")
    db.session.flush()
    log_entry = db.session.scalar(select(sa.func.min(LogEntry.id)).where(LogEntry.preceptorship_id == programme.id))
    return {"site": site, "department": department, "preceptor": preceptor, "preceptee": preceptee,
            "programme": programme, "requested": requested, "signed": signed, "pending": pending, "open": still_open,
            "goal": goal, "meeting": meeting, "time": time, "invitation": invitation, "notice": notice,
            "entry": log_entry}


def build_world(make: Make) -> World:
    """Both departments, a lead of department A, an admin, and the few shared things admins edit."""
    today = date.today()
    install_default_framework()
    install_default_surveys()
    install_default_areas()
    a, b = _side(make, "A", today), _side(make, "B", today)
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk", name="Lee Lead")
    lead.lead_departments = [a["department"]]
    admin = make.user(Role.ADMIN, email="admin@test.nhs.uk", name="Ada Admin")
    waiting = make.user(Role.PRECEPTEE, email="waiting@test.nhs.uk", name="Wanda Waiting")
    checklist = create_checklist("Fuzz checklist", admin)
    invite = account_links.issue(waiting, LinkPurpose.INVITE, admin)
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.user_id == a["preceptee"].id))
    failed.status, failed.attempts, failed.last_error = OutboxStatus.FAILED, 8, "refused"
    area = add_area(a["department"], "Fuzz area", admin)
    add_area(b["department"], "Other area", admin)
    db.session.commit()
    ids = {
        "department": a["department"].id, "site": a["site"].id, "area": area.id, "programme": a["programme"].id,
        "preceptee": a["preceptee"].id, "preceptor": a["preceptor"].id, "waiting": waiting.id,
        "requested": a["requested"].id, "signed": a["signed"].id, "open": a["open"].id, "goal": a["goal"].id,
        "entry": a["entry"], "meeting": a["meeting"].id, "time": a["time"].id, "invitation": a["invitation"].id,
        "notice": a["notice"].id, "message": failed.id, "checklist": checklist.id, "token": invite,
        "unsubscribe": notifications.unsubscribe_token(a["preceptee"].id, Category.SIGN_OFF),
        "survey_template": current_version("newly-qualified").id, "key": "initial-meeting",
        "stage": "initial", "day": today.day, "month": today.month, "year": today.year,
    }
    milestones_b = list(db.session.scalars(select(Milestone.id).where(Milestone.preceptorship_id == b["programme"].id)))
    other = {
        "user": [b["preceptee"].id, b["preceptor"].id], "site": [b["site"].id], "department": [b["department"].id],
        "preceptorship": [b["programme"].id], "milestone": milestones_b, "meeting": [b["meeting"].id],
        "protected_time": [b["time"].id], "development_goal": [b["goal"].id], "log_entry": [b["entry"]],
        "survey_invitation": [b["invitation"].id], "notification": [b["notice"].id],
    }
    emails = {PRECEPTEE: a["preceptee"].email, PRECEPTOR: a["preceptor"].email, LEAD: lead.email,
              ADMIN: admin.email}
    other_ids = sorted({i for values in other.values() for i in values})
    return World(emails=emails, ids=ids, other_ids=other_ids, other=other)


# table: ((column, kind in World.other), ...): a row is department B's if any of its columns
# holds one of B's ids. These rows are checksummed before and after each request.
GUARDED = {
    "user": (("id", "user"),),
    "user_role": (("user_id", "user"),),
    "site": (("id", "site"),),
    "department": (("id", "department"),),
    "preceptor_profile": (("user_id", "user"), ("department_id", "department")),
    "preceptorship": (("id", "preceptorship"), ("preceptee_id", "user"), ("department_id", "department")),
    "allocation": (("preceptorship_id", "preceptorship"), ("preceptor_id", "user")),
    "status_change": (("preceptorship_id", "preceptorship"),),
    "milestone": (("preceptorship_id", "preceptorship"),),
    "sign_off_request": (("milestone_id", "milestone"), ("requested_by_id", "user"), ("decided_by_id", "user")),
    "milestone_evidence": (("milestone_id", "milestone"), ("entry_id", "log_entry")),
    "log_entry": (("preceptorship_id", "preceptorship"), ("author_id", "user")),
    "development_goal": (("preceptorship_id", "preceptorship"),),
    "learning_needs_assessment": (("preceptorship_id", "preceptorship"),),
    "meeting": (("preceptorship_id", "preceptorship"),),
    "meeting_action": (("owner_id", "user"),),
    "protected_time": (("preceptor_id", "user"),),
    "survey_invitation": (("preceptorship_id", "preceptorship"),),
    "notification": (("user_id", "user"),),
    "notification_preference": (("user_id", "user"),),
    "draft": (("user_id", "user"),),
    "learning_need_area": (("department_id", "department"),),
}


def checksums(world: World, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """A digest per guarded table of department B's rows, read on a connection of its own."""
    found = {}
    with db.engine.connect() as connection:
        for name, columns in GUARDED.items():
            if name in skip:
                continue
            table = db.metadata.tables[name]
            theirs = sa.or_(*(table.c[column].in_(world.other[kind]) for column, kind in columns))
            rows = connection.execute(select(table).where(theirs).order_by(*table.primary_key.columns)).all()
            found[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return found


@dataclass(frozen=True)
class Target:
    """How to fuzz one POST endpoint: as whom, at which path, with the fields of which page.

    `form_page` is the page whose form posts here (default: the path itself); `fields` adds names
    the page does not show (set by script or a file upload); `may_change` names guarded tables
    this endpoint may rightly change in department B (an admin's trust-wide powers);
    `signs_out` means the client must sign in again before each example. Paths, pages and
    fields are templates filled from `World.ids`.
    """

    role: str
    path: str
    form_page: str | None = None
    fields: tuple[str, ...] = ()
    forms: tuple[type, ...] = ()  # WTForms classes whose fields the page does not show at once
    valid: tuple[tuple[str, str], ...] = ()  # values that make the page's form valid, where it starts empty
    csv: tuple[str, str] | None = None  # (field, headings): a CSV upload ("file") or a packed one ("content")
    may_change: frozenset[str] = frozenset()
    signs_out: bool = False


T = Target


def TODAY_AS(name: str) -> tuple[tuple[str, str], ...]:  # noqa: N802  (reads as a constant in the table)
    """Today in an NHS date input's three boxes."""
    return ((f"{name}[day]", "{day}"), (f"{name}[month]", "{month}"), (f"{name}[year]", "{year}"))

EVERYTHING = frozenset(GUARDED)

TARGETS: dict[str, Target] = {
    # -- sign-in and own account
    "auth.sign_in": T(ANON, "/sign-in", fields=("email", "password", "next")),
    "auth.sign_out": T(PRECEPTEE, "/sign-out", form_page="/preceptee/", signs_out=True),
    "auth.switch_role": T(PRECEPTEE, "/switch-role"),
    "auth.details": T(PRECEPTEE, "/your-details"),
    "auth.change_password": T(PRECEPTEE, "/your-details/password", signs_out=True),
    "auth.set_password": T(ANON, "/account/{token}"),
    "notifications.unsubscribe": T(ANON, "/unsubscribe/{unsubscribe}"),
    # -- notifications
    "notifications.mark_read": T(PRECEPTEE, "/notifications/{notice}/read", form_page="/notifications"),
    "notifications.read_all": T(PRECEPTEE, "/notifications/read-all", form_page="/notifications"),
    "notifications.settings": T(PRECEPTEE, "/notifications/settings"),
    # -- preceptee
    "preceptee.edit_goal": T(PRECEPTEE, "/preceptee/development-plan/{goal}/edit"),
    "preceptee.goal_status": T(PRECEPTEE, "/preceptee/development-plan/{goal}/status",
                               form_page="/preceptee/development-plan", fields=("status",)),
    "preceptee.new_goal": T(PRECEPTEE, "/preceptee/development-plan/new",
                            valid=(("goal", "Scan a wrist"), ("actions", "Shadow a colleague"))),
    "preceptee.autosave": T(PRECEPTEE, "/preceptee/drafts", form_page="/preceptee/log/new",
                            fields=("draft_key", "key")),
    "preceptee.discard_draft": T(PRECEPTEE, "/preceptee/drafts/discard", form_page="/preceptee/log/new",
                                 fields=("draft_key", "key")),
    "preceptee.self_assessment": T(PRECEPTEE, "/preceptee/learning-needs/{stage}"),
    "preceptee.edit_entry": T(PRECEPTEE, "/preceptee/log/{entry}/edit"),
    # `kind` in the query string reaches the entry form; the body's `kind` is fuzzed too
    "preceptee.new_entry": T(PRECEPTEE, "/preceptee/log/new?kind=reflection", fields=("kind",), valid=(
        ("title", "A scan"), *TODAY_AS("occurred_on"), ("what_happened", "Scan"), ("so_what", "Learnt"),
        ("now_what", "Practise"))),
    "preceptee.milestone": T(PRECEPTEE, "/preceptee/milestones/{open}"),
    "preceptee.withdraw": T(PRECEPTEE, "/preceptee/milestones/{requested}/withdraw",
                            form_page="/preceptee/milestones/{requested}"),
    "preceptee.answer": T(PRECEPTEE, "/preceptee/surveys/{invitation}", form_page="/preceptee/surveys/{invitation}"),
    "preceptee.answer_step": T(PRECEPTEE, "/preceptee/surveys/{invitation}/steps/1",
                               form_page="/preceptee/surveys/{invitation}"),
    # -- preceptor
    "caseload.decide": T(PRECEPTOR, "/preceptor/milestones/{requested}/decision",
                         form_page="/preceptor/milestones/{requested}"),
    "caseload.reopen": T(PRECEPTOR, "/preceptor/milestones/{signed}/reopen",
                         form_page="/preceptor/milestones/{signed}"),
    "caseload.edit_meeting": T(PRECEPTOR, "/preceptor/preceptees/{programme}/meetings/{meeting}"),
    "caseload.new_meeting": T(PRECEPTOR, "/preceptor/preceptees/{programme}/meetings/new",
                              valid=(("meeting_type", "ad_hoc"), *TODAY_AS("on"), ("notes", "Talked"))),
    "caseload.protected_time": T(PRECEPTOR, "/preceptor/protected-time", valid=(
        *TODAY_AS("occurred_on"), ("hours", "1.5"), ("note", "Review with my preceptee"))),
    "caseload.delete_protected_time": T(PRECEPTOR, "/preceptor/protected-time/{time}/delete",
                                        form_page="/preceptor/protected-time"),
    "caseload.bulk": T(PRECEPTOR, "/preceptor/queue/bulk", form_page="/preceptor/queue",
                       fields=("milestone", "version-{requested}", "seen-{requested}")),
    # -- education lead (department A only)
    "lead.cohort_accept": T(LEAD, "/lead/cohort", form_page="/lead/cohort"),
    "lead.reopen": T(LEAD, "/lead/milestones/{signed}/reopen", form_page="/lead/milestones/{signed}"),
    "lead.programme": T(LEAD, "/lead/programmes/{programme}", fields=("action",),
                        forms=tuple(PROGRAMME_FORMS.values())),
    "lead.pair": T(LEAD, "/lead/programmes/{programme}/preceptor", form_page="/lead/programmes/{programme}/preceptor",
                   forms=(PairingForm,)),
    "lead.register_save": T(LEAD, "/lead/register/{preceptor}", form_page="/lead/register/{preceptor}"),
    "lead.add_starter": T(LEAD, "/lead/starters", form_page="/lead/starters", valid=(
        ("name", "Sam Starter"), ("email", "sam@test.nhs.uk"), *TODAY_AS("start_date"),
        ("department", "{department}"))),
    "lead.upload_starters": T(LEAD, "/lead/starters/upload", form_page="/lead/starters",
                              csv=("file", ",".join(esr_extract.HEADINGS.values()))),
    "lead.import_starters": T(LEAD, "/lead/starters/import", form_page="/lead/starters",
                              csv=("content", ",".join(esr_extract.HEADINGS.values()))),
    "admin.framework_apply": T(LEAD, "/admin/framework/apply"),
    "admin.framework_apply_programme": T(LEAD, "/admin/framework/apply/{programme}"),
    "admin.survey_template_new": T(LEAD, "/admin/surveys/new", fields=("fingerprint", "version")),
    "admin.survey_template_edit": T(LEAD, "/admin/surveys/{survey_template}", fields=("fingerprint", "version")),
    # -- admin: trust-wide, so only a department merge and a person's own record may reach department B
    "admin.department": T(ADMIN, "/admin/departments/{department}"),
    "admin.department_area_add": T(ADMIN, "/admin/departments/{department}/areas",
                                   form_page="/admin/departments/{department}", valid=(("title", "Area 2"),)),
    "admin.department_area": T(ADMIN, "/admin/departments/{department}/areas/{area}"),
    "admin.department_merge": T(ADMIN, "/admin/departments/{department}/merge", fields=("fingerprint",),
                                may_change=EVERYTHING),
    "admin.department_new": T(ADMIN, "/admin/departments/new",
                              valid=(("name", "Department C"), ("site", "{site}"), ("profession", "diagnostic"))),
    "admin.site": T(ADMIN, "/admin/sites/{site}"),
    "admin.site_new": T(ADMIN, "/admin/sites/new", valid=(("name", "Site C"),)),
    "admin.checklists": T(ADMIN, "/admin/framework/checklists", valid=(("name", "Another checklist"),)),
    "admin.checklist": T(ADMIN, "/admin/framework/checklists/{checklist}"),
    "admin.framework_edit": T(ADMIN, "/admin/framework/milestones/{key}/edit", fields=("mode",)),
    "admin.framework_retire": T(ADMIN, "/admin/framework/milestones/{key}/retire",
                                form_page="/admin/framework/milestones/{key}", fields=("mode", "version")),
    "admin.framework_new": T(ADMIN, "/admin/framework/new"),
    "admin.retry_email": T(ADMIN, "/admin/outbox/{message}/retry", form_page="/admin/outbox"),
    "admin.person": T(ADMIN, "/admin/people/{preceptee}"),
    "admin.person_details": T(ADMIN, "/admin/people/{preceptee}/details"),
    "admin.erase": T(ADMIN, "/admin/people/{waiting}/erase"),
    "admin.people_import_upload": T(ADMIN, "/admin/people/import", form_page="/admin/people/import",
                                    csv=("file", ",".join(people_import.HEADINGS.values()))),
    "admin.people_import_confirm": T(ADMIN, "/admin/people/import/confirm", form_page="/admin/people/import",
                                     csv=("content", ",".join(people_import.HEADINGS.values()))),
    "admin.person_new": T(ADMIN, "/admin/people/new",
                          valid=(("name", "Nia New"), ("email", "nia@test.nhs.uk"), ("roles", "preceptee"))),
}
