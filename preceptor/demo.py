"""The demo trust behind `flask --app preceptor seed-demo`.

Two sites, eight departments, about 40 preceptors (some untrained, some on leave, some at
or over their cap) and about 60 preceptees at every stage, with dates relative to today.
Everything is planned from a fixed random seed and then added by natural key (site name,
department, email), so running the command again adds nothing.
"""

import os
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from . import demo_surveys
from .extensions import db
from .models import (
    Allocation,
    AllocationEndReason,
    Department,
    EntryKind,
    LogEntry,
    Meeting,
    MeetingType,
    Milestone,
    MilestoneStatus,
    PreceptorProfile,
    Preceptorship,
    Profession,
    ProgrammeStatus,
    ProtectedTime,
    QuestionType,
    RequestStatus,
    Role,
    SignOffRequest,
    Site,
    StatusChange,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
    User,
    milestone_evidence,
    request_evidence,
)
from .models._columns import utcnow
from .services import accounts, audit, survey_waves
from .services.decisions import snapshots
from .services.framework import install_default_framework
from .services.learning_needs import install_default_areas
from .services.programmes import add_months, start_preceptorship
from .services.survey_library import PRECEPTOR_FEEDBACK, install_default_surveys

DEMO_ACCOUNTS = [
    ("preceptee@demo.nhs.uk", Role.PRECEPTEE),
    ("preceptor@demo.nhs.uk", Role.PRECEPTOR),
    ("lead@demo.nhs.uk", Role.EDUCATION_LEAD),
    ("admin@demo.nhs.uk", Role.ADMIN),
]

SITES = {
    "Royal Preston Hospital": [
        ("General X-ray", Profession.DIAGNOSTIC),
        ("CT", Profession.DIAGNOSTIC),
        ("MRI", Profession.DIAGNOSTIC),
        ("Fluoroscopy and theatres", Profession.DIAGNOSTIC),
        ("Radiotherapy pre-treatment", Profession.THERAPEUTIC),
        ("Radiotherapy treatment", Profession.THERAPEUTIC),
    ],
    "Chorley and South Ribble Hospital": [
        ("General X-ray", Profession.DIAGNOSTIC),
        ("CT", Profession.DIAGNOSTIC),
    ],
}

FIRST = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Farah", "George", "Hannah", "Imran", "Jess",
         "Kieran", "Lucy", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom", "Usha",
         "Victoria", "Will", "Yasmin", "Zak", "Amelia", "Callum", "Deepa", "Ethan", "Grace", "Harvey"]
LAST = ["Ahmed", "Bennett", "Clarke", "Davies", "Evans", "Fletcher", "Gill", "Hughes", "Iqbal", "Jones",
        "Khan", "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Quinn", "Roberts", "Shah", "Taylor",
        "Underwood", "Walsh", "Young", "Ashworth", "Brennan", "Cartwright", "Dixon", "Hartley", "Moss"]

# Preceptee stages: (stage, how many, months since start).
# Earlier September intakes: (years ago, starters).
PAST_INTAKES = ((2, 15), (3, 13))

STAGES = [
    ("new", 6, (0, 0)),
    ("waiting", 8, (0, 1)),
    ("starting", 6, (-2, -1)),  # the next intake, not yet allocated: the forecast and cohort allocation
    ("mid-way", 22, (3, 9)),
    ("overdue", 8, (4, 10)),
    ("paused", 2, (3, 6)),
    ("completed", 8, (13, 24)),
    ("left", 5, (2, 10)),
]


def demo_password() -> str:
    """The shared demo password; override with DEMO_PASSWORD."""
    return os.environ.get("DEMO_PASSWORD", "Preceptorship-demo-2026")


@dataclass
class PersonPlan:
    email: str
    name: str
    role: Role
    department: tuple[str, str]  # (site, department name)
    hcpc: str | None = None


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in used:
            used.add(name)
            return name


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@demo.nhs.uk"


class DemoTrust:
    """Plans the demo trust from a seed, then adds what is missing."""

    def __init__(self, today: date, seed: int = 2026):
        self.today = today
        self.rng = random.Random(seed)
        self.password_hash = None
        self.departments: dict[tuple[str, str], Department] = {}
        self.counts = {"sites": 0, "departments": 0, "people": 0, "programmes": 0}

    # --- organisation -----------------------------------------------------------------
    def sites_and_departments(self) -> None:
        for site_name, departments in SITES.items():
            site = db.session.scalar(select(Site).where(Site.name == site_name))
            if site is None:
                site = Site(name=site_name)
                db.session.add(site)
                self.counts["sites"] += 1
            for name, profession in departments:
                department = db.session.scalar(
                    select(Department).where(Department.site == site, Department.name == name)
                )
                if department is None:
                    department = Department(site=site, name=name, profession=profession)
                    db.session.add(department)
                    self.counts["departments"] += 1
                self.departments[(site_name, name)] = department
        db.session.flush()

    # --- people -------------------------------------------------------------------------
    def person(self, email: str, name: str, roles: list[Role], hcpc: str | None = None) -> User:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            if self.password_hash is None:
                self.password_hash = accounts.hash_password(demo_password())
            user = accounts.create_user(email, name, roles, password_hash=self.password_hash, hcpc_number=hcpc)
            self.counts["people"] += 1
        return user

    def preceptor(self, user: User, department: Department, **profile) -> PreceptorProfile:
        existing = db.session.get(PreceptorProfile, user.id) if user.id else None
        if existing is not None:
            return existing
        record = PreceptorProfile(user=user, department=department, **profile)
        db.session.add(record)
        if record.trained_on is not None:  # some protected preceptor time over the last year
            own = random.Random(user.email)  # not the planning sequence: a re-run must plan the same trust
            for n in range(own.randint(1, 5)):
                days_ago = 30 + 60 * n  # logged on the day, so none is still new enough to remove
                db.session.add(ProtectedTime(preceptor=user, occurred_on=self.today - timedelta(days=days_ago),
                                             hours=own.choice([1, 1.5, 2, 3]), note="Preceptor time",
                                             created_at=utcnow() - timedelta(days=days_ago)))
        return record

    # --- the whole trust -------------------------------------------------------------------
    def build(self) -> str:
        install_default_framework()
        install_default_areas()
        install_default_surveys()
        self.sites_and_departments()
        rng, today = self.rng, self.today
        used_names: set[str] = set()
        keys = list(self.departments)

        # Fixed demo accounts.
        lead = self.person("lead@demo.nhs.uk", "Rachel Lead", [Role.EDUCATION_LEAD])
        lead.trust_wide = True
        self.person("admin@demo.nhs.uk", "Adam Admin", [Role.ADMIN])
        chorley_lead = self.person("chorley.lead@demo.nhs.uk", "Carys Nolan", [Role.EDUCATION_LEAD, Role.PRECEPTOR])
        for key in keys:
            if key[0].startswith("Chorley") and self.departments[key] not in chorley_lead.lead_departments:
                chorley_lead.lead_departments.append(self.departments[key])
        ct = self.departments[("Royal Preston Hospital", "CT")]
        demo_preceptor = self.person("preceptor@demo.nhs.uk", "Priya Preceptor", [Role.PRECEPTOR], hcpc="RA612345")
        self.preceptor(demo_preceptor, ct, band=6, cap=3, trained_on=today - timedelta(days=700),
                       registered_on=today - timedelta(days=6 * 365))
        self.preceptor(chorley_lead, self.departments[("Chorley and South Ribble Hospital", "CT")], band=7,
                       trained_on=today - timedelta(days=1500), registered_on=today - timedelta(days=12 * 365))

        # About 40 preceptors: most trained, some not yet, some on leave, some new to registration.
        preceptors: list[tuple[User, PreceptorProfile]] = []
        for i in range(38):
            key = keys[i % len(keys)]
            name = _name(rng, used_names)
            years_registered = rng.choice([1, 2, 3, 5, 8, 12, 15])
            trained = i % 8 != 3  # roughly one in eight untrained
            newly_registered = i % 13 == 5  # registered under 12 months: not eligible
            on_leave = i % 9 == 4
            registered = today - timedelta(days=200 if newly_registered else years_registered * 365)
            user = self.person(_email(name), name, [Role.PRECEPTOR], hcpc=f"RA{700000 + i}")
            profile = self.preceptor(
                user, self.departments[key], band=rng.choice([6, 6, 6, 7, 7, 8]),
                cap=rng.choice([None, None, None, 1, 3]),
                trained_on=(registered + timedelta(days=400)) if trained and not newly_registered else None,
                registered_on=registered,
                unavailable_until=today + timedelta(days=rng.randint(14, 90)) if on_leave else None,
                unavailable_reason="Annual leave" if on_leave else None,
            )
            preceptors.append((user, profile))
        db.session.flush()

        # The demo preceptee: mid-way in CT with the demo preceptor.
        demo_preceptee = self.person("preceptee@demo.nhs.uk", "Sam Preceptee", [Role.PRECEPTEE], hcpc="RA654321")
        plans = [("mid-way", demo_preceptee, ct, 5, demo_preceptor, None)]
        # A second preceptee for the demo preceptor, with work waiting for review.
        second = self.person("alex.newstarter@demo.nhs.uk", "Alex Newstarter", [Role.PRECEPTEE], hcpc="RA654322")
        plans.append(("mid-way", second, ct, 3, demo_preceptor, None))

        # Allocate to trained preceptors not on leave: same department first, fewest preceptees,
        # within cap. The last mid-way starter goes over a full preceptor's cap, with a reason.
        available = [(u, p) for u, p in preceptors if p.trained_on and not p.unavailable_until]
        load: dict[int, int] = {}

        def pick(department: Department, allow_over: bool, current: bool) -> tuple[User, str | None]:
            pool = [(u, p) for u, p in available if p.department is department] or available
            user, profile = min(pool, key=lambda up: (load.get(up[0].id, 0) >= (up[1].cap or 2) and not allow_over,
                                                      -load.get(up[0].id, 0) if allow_over else load.get(up[0].id, 0),
                                                      up[0].email))
            if not current:  # an ended allocation takes no place
                return user, None
            load[user.id] = load.get(user.id, 0) + 1
            over = load[user.id] > (profile.cap or 2)
            return user, ("Only trained preceptor on the rota for this starter's shifts" if over else None)

        for stage, count, (low, high) in STAGES:
            for n in range(count):
                name = _name(rng, used_names)
                key = rng.choice(keys)
                months = rng.randint(low, high)
                user = self.person(_email(name), name, [Role.PRECEPTEE], hcpc=f"RA{800000 + len(plans)}")
                department = self.departments[key]
                preceptor, reason = None, None
                if stage not in ("waiting", "starting"):
                    preceptor, reason = pick(department, allow_over=stage == "mid-way" and n == count - 1,
                                             current=stage not in ("completed", "left"))
                plans.append((stage, user, department, months, preceptor, reason))

        for stage, user, department, months, preceptor, reason in plans:
            self.programme(stage, user, department, months, preceptor, reason)
        self.past_intakes(keys, used_names, pick)
        self.preceptor_feedback(demo_preceptor, ct)
        self.surveys(demo_preceptee)

        db.session.flush()
        return (
            f"Demo trust: {self.counts['sites']} sites, {self.counts['departments']} departments, "
            f"{self.counts['people']} people and {self.counts['programmes']} programmes added "
            f"(in all: {db.session.scalar(select(func.count()).select_from(User))} people, "
            f"{db.session.scalar(select(func.count()).select_from(Preceptorship))} programmes)."
        )

    def past_intakes(self, keys: list, used_names: set[str], pick) -> None:
        """Two earlier September intakes, finished or left, for survey history and retention
        at 12 and 24 months. Most went to three departments, so some groups are big enough
        to report and others are suppressed."""
        own = random.Random("past-intakes")  # not the planning sequence: a re-run must plan the same trust
        for years_ago, starters in PAST_INTAKES:
            months = years_ago * 12 + self.today.month - 9
            for n in range(starters):
                name = _name(own, used_names)
                user = self.person(_email(name), name, [Role.PRECEPTEE], hcpc=f"RA{900000 + 100 * years_ago + n}")
                department = self.departments[keys[own.choice([0, 0, 0, 1, 1, 2, 3, 4])]]
                preceptor, _ = pick(department, allow_over=False, current=False)
                left_after = own.choice([5, 9, 16, 20]) if n % 5 == 4 else None
                self.programme("left" if left_after else "completed", user, department, months, preceptor, None,
                               left_after=left_after)

    # --- surveys ------------------------------------------------------------------------
    def surveys(self, demo_preceptee: User) -> None:
        """Open the waves due today, add the trust's survey history, and give the demo
        preceptee an open survey to answer: their starting survey, reopened for the demo
        (their own baseline closed months ago)."""
        db.session.flush()
        survey_waves.add_due(self.today)
        programme = db.session.scalar(select(Preceptorship).where(Preceptorship.preceptee_id == demo_preceptee.id))
        demo_surveys.survey_history(self.today, skip=((programme.id, TimePoint.BASELINE),))
        template = survey_waves.current_template()
        exists = db.session.scalar(select(SurveyInvitation.id).where(
            SurveyInvitation.preceptorship_id == programme.id, SurveyInvitation.time_point == TimePoint.BASELINE))
        if template is not None and exists is None:
            db.session.add(SurveyInvitation(preceptorship_id=programme.id, template_id=template.id,
                                            time_point=TimePoint.BASELINE, opens_on=self.today - timedelta(days=2),
                                            closes_on=self.today + timedelta(days=12)))

    # --- one programme at its stage ----------------------------------------------------------
    def programme(self, stage: str, user: User, department: Department, months: int,
                  preceptor: User | None, over_cap_reason: str | None, left_after: int | None = None) -> None:
        """A programme started `months` ago at its stage; a leaver leaves `left_after` months
        in when given, otherwise about now."""
        if db.session.scalar(select(Preceptorship.id).where(Preceptorship.preceptee_id == user.id)):
            return
        rng, today = self.rng, self.today
        start = add_months(today, -months) - timedelta(days=rng.randint(0, 20) if months else rng.randint(0, 9))
        programme = start_preceptorship(user, department, start)
        self.counts["programmes"] += 1
        if preceptor is not None:
            db.session.add(Allocation(preceptorship=programme, preceptor=preceptor, starts_on=start,
                                      over_cap_reason=over_cap_reason))
        if stage == "left":
            ended = min(today, add_months(start, left_after or months) + timedelta(days=10))
            self._status(programme, ProgrammeStatus.LEFT, ended, "Moved to another trust nearer family")
            programme.ended_on, programme.end_reason = ended, "Relocation"
            for allocation in programme.allocations:
                allocation.ends_on, allocation.end_reason = ended, AllocationEndReason.PROGRAMME_ENDED
        elif stage == "completed":
            ended = programme.planned_end_date
            self._status(programme, ProgrammeStatus.COMPLETED, ended, "All milestones signed off")
            programme.ended_on = ended
            for allocation in programme.allocations:
                allocation.ends_on, allocation.end_reason = ended, AllocationEndReason.PROGRAMME_ENDED
        elif stage == "paused":
            self._status(programme, ProgrammeStatus.PAUSED, today - timedelta(days=14), "Sickness absence")
        db.session.flush()

        milestones = sorted(programme_milestones(programme.id), key=lambda m: m.due_date)
        # The demo preceptee's two latest past milestones: one returned, one waiting.
        shown = [m for m in milestones if m.due_date <= today][-2:] if user.email == "preceptee@demo.nhs.uk" else []
        for milestone in milestones:
            if milestone not in shown:
                self.progress_milestone(stage, milestone, user, preceptor)
        for milestone, status in zip(shown, (RequestStatus.RETURNED, RequestStatus.WAITING), strict=False):
            self._request(milestone, user, preceptor, status, today - timedelta(days=3))
            milestone.status = MilestoneStatus(status.value)
        if preceptor is not None and stage not in ("new",):
            db.session.add(Meeting(
                preceptorship=programme, meeting_type=MeetingType.INITIAL,
                scheduled_for=start + timedelta(days=10), held_on=start + timedelta(days=10),
                notes="Talked through the learning needs analysis and agreed the first goals.",
                recorded_by_id=preceptor.id,
            ))
        if stage in ("mid-way", "overdue", "completed"):
            for n in range(rng.randint(1, 4)):
                occurred = start + timedelta(days=20 + 25 * n)
                if occurred < today:
                    db.session.add(LogEntry(
                        preceptorship=programme, author_id=user.id, kind=EntryKind.REFLECTION,
                        title=f"Reflection {n + 1}: {rng.choice(REFLECTION_TOPICS)}", occurred_on=occurred,
                        what_happened="A busy list with a patient who was anxious about the scan.",
                        so_what="I noticed my explanation helped more than speed did.",
                        now_what="I will build time for explanation into how I plan the list.",
                    ))
        self.attach_evidence(programme)

    def attach_evidence(self, programme: Preceptorship) -> None:
        """Each request goes with the latest reflection written before it, so the review queue
        and signed-off milestones show real evidence; decided ones keep it as their snapshot."""
        db.session.flush()
        entries = db.session.scalars(select(LogEntry).where(LogEntry.preceptorship_id == programme.id)
                                     .order_by(LogEntry.occurred_on)).all()
        requests = db.session.scalars(select(SignOffRequest).join(Milestone)
                                      .where(Milestone.preceptorship_id == programme.id)).all()
        for request in requests:
            before = [e for e in entries if e.occurred_on <= request.requested_at.date()]
            if not before:
                continue
            db.session.execute(insert(milestone_evidence).values(milestone_id=request.milestone_id,
                                                                 entry_id=before[-1].id))
            db.session.execute(insert(request_evidence).values(request_id=request.id, entry_id=before[-1].id))
            if request.decided_at is not None:
                request.evidence_snapshot = snapshots([request.id])[request.id]

    def progress_milestone(self, stage: str, milestone: Milestone, preceptee: User, preceptor: User | None) -> None:
        """Sign off, request or return milestones according to the programme's stage."""
        today, rng = self.today, self.rng
        if preceptor is None or milestone.due_date > today:
            return
        overdue_stage = stage == "overdue"
        recent = (today - milestone.due_date).days < 21
        if stage in ("completed",) or (not overdue_stage and not recent) or (overdue_stage and rng.random() < 0.4):
            decided = min(today, milestone.due_date + timedelta(days=rng.randint(0, 10)))
            self._request(milestone, preceptee, preceptor, RequestStatus.SIGNED_OFF, decided)
            milestone.status = MilestoneStatus.SIGNED_OFF
        elif stage == "mid-way" and recent:
            returned = rng.random() < 0.25
            status = RequestStatus.RETURNED if returned else RequestStatus.WAITING
            self._request(milestone, preceptee, preceptor, status, today - timedelta(days=rng.randint(1, 6)))
            milestone.status = MilestoneStatus.RETURNED if returned else MilestoneStatus.WAITING
        elif overdue_stage:
            milestone.status = rng.choice([MilestoneStatus.NOT_STARTED, MilestoneStatus.IN_PROGRESS])

    def _request(self, milestone: Milestone, preceptee: User, preceptor: User, status: RequestStatus,
                 day: date) -> None:
        when = utcnow() - timedelta(days=(self.today - day).days)
        request = SignOffRequest(
            milestone=milestone, requested_by_id=preceptee.id, requested_at=when,
            summary="I have done this and linked what I wrote about it.", status=status, evidence_snapshot=[],
        )
        if status is RequestStatus.SIGNED_OFF:
            request.decided_by_id, request.decided_at, request.comment = preceptor.id, when, "Well done."
        elif status is RequestStatus.RETURNED:
            request.decided_by_id, request.decided_at = preceptor.id, when
            request.action_plan = "Add a reflection on the feedback from the reporting radiographer, then resubmit."
        db.session.add(request)
        db.session.flush()
        # The history panel reads the audit log, so the demo's past is written there too.
        audit.record("milestone.request_sign_off", request, actor_id=preceptee.id,
                     preceptorship_id=milestone.preceptorship_id, details={"milestone": milestone.id}).at = when
        if request.decided_at:
            action = "milestone.sign_off" if status is RequestStatus.SIGNED_OFF else "milestone.return"
            audit.record(action, request, actor_id=preceptor.id, preceptorship_id=milestone.preceptorship_id,
                         details={"milestone": milestone.id}).at = when

    def preceptor_feedback(self, preceptor: User, department: Department) -> None:
        """Feedback on the demo preceptor from five past preceptees, so their feedback page shows
        figures (it needs three). Anonymous like real responses: no person, no programme."""
        if db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.about_preceptor_id == preceptor.id)
                             .limit(1)):
            return
        template = db.session.scalar(select(SurveyTemplate).where(SurveyTemplate.key == PRECEPTOR_FEEDBACK.key,
                                                                  SurveyTemplate.current))
        own = random.Random("preceptor-feedback")  # not the planning sequence: a re-run must plan the same trust
        responses = [SurveyResponse(id=secrets.token_hex(16), template_id=template.id,
                                    time_point=TimePoint.END_FEEDBACK, department_id=department.id,
                                    cohort=f"{add_months(self.today, -14 - 6 * (n // 2)):%Y-%m}",
                                    about_preceptor_id=preceptor.id) for n in range(5)]
        db.session.add_all(responses)
        db.session.flush()  # answers refer to the responses
        for n, response in enumerate(responses):
            for question in template.questions:
                if question.qtype is QuestionType.AGREEMENT:
                    db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id,
                                                value_int=own.choice([3, 4, 4, 5, 5])))
                elif n % 2 == 0:  # free text is for education leads only; the preceptor never sees it
                    db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id,
                                                value_text=own.choice(FEEDBACK_COMMENTS)))

    def _status(self, programme: Preceptorship, to: ProgrammeStatus, on: date, reason: str) -> None:
        db.session.add(StatusChange(preceptorship=programme, from_status=programme.status, to_status=to,
                                    effective_on=on, reason=reason))
        programme.status = to


FEEDBACK_COMMENTS = ["More time together in the first few weeks would have helped.",
                     "Nothing: the two-monthly reviews kept me on track.",
                     "Tell new starters earlier which study days are available."]

REFLECTION_TOPICS = ["an anxious patient in CT", "my first trauma call", "a portable on ICU",
                     "contrast reaction drill", "feedback from a reporter", "a difficult cannulation",
                     "working in theatres", "explaining radiotherapy side effects"]


def programme_milestones(programme_id: int) -> list[Milestone]:
    return list(db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme_id)))


def seed_demo(today: date | None = None) -> str:
    """Add the demo trust; returns a one-line summary. The caller commits."""
    return DemoTrust(today or date.today()).build()
