"""Erasing a departed person's personal details: when it is allowed (deactivated, past the
retention period, not yourself, not twice), that afterwards no copy of their name, email, HCPC
number or phone is left in any text or JSON column of any table while the records others signed
stay and point at them, what the pages say and do, and the one change the append-only audit log allows:
a recorded redaction."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import func, select, text

from preceptor.extensions import db
from preceptor.models import (
    AccountLink,
    Allocation,
    AuditEvent,
    AuditRedaction,
    DevelopmentGoal,
    EntryKind,
    LearningNeedRating,
    LogEntry,
    Meeting,
    MeetingAction,
    MeetingType,
    Milestone,
    Preceptorship,
    RequestStatus,
    Role,
    SignOffRequest,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TransitionType,
    User,
)
from preceptor.models._columns import utcnow
from preceptor.services import (
    allocations,
    audit,
    decisions,
    erasure,
    learning_needs,
    meetings,
    people,
    progress_log,
    protected_time,
    register,
    signoff_requests,
    starters,
    survey_answers,
)
from preceptor.services.erasure import placeholder_name
from preceptor.services.framework import install_default_framework
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_waves import open_due

from .factories import PASSWORD

TODAY = date.today()
NAME, EMAIL = "Zebedee Quartermaine-Fox", "zebedee.quartermaine@test.nhs.uk"
HCPC, PHONE = "RA987654", "07700 900461"
NEEDLES = (NAME, EMAIL, HCPC, PHONE, "Zebedee", "Quartermaine")


def copies_in_database(*needles: str) -> dict[str, int]:
    """Every text and JSON column of every table (the audit log included), searched with SQL
    LIKE, ignoring case: "table.column ~ needle" -> rows holding it."""
    found = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.JSON):
                text = sa.cast(column, sa.Text)
            elif isinstance(column.type, sa.String):
                text = column
            else:
                continue
            for needle in needles:
                rows = db.session.scalar(select(func.count()).select_from(table)
                                         .where(func.lower(text).like(f"%{needle.lower()}%")))
                if rows:
                    found[f"{table.name}.{column.name} ~ {needle}"] = rows
    return found


def retention() -> timedelta:
    return timedelta(days=current_app.config["ERASURE_RETENTION_DAYS"])


def past_retention(user: User) -> None:
    user.deactivated_at = utcnow() - retention() - timedelta(days=1)


@pytest.fixture
def staff(make):
    install_default_framework()
    learning_needs.install_default_areas()
    install_default_surveys()
    ct = make.department("CT")
    preceptor = make.preceptor(ct, name="Priya Preceptor")
    lead = make.user(Role.EDUCATION_LEAD, name="Lena Lead", email="lena@test.nhs.uk")
    lead.lead_departments = [ct]
    admin = make.user(Role.ADMIN, name="Ada Admin", email="ada@test.nhs.uk")
    db.session.commit()
    return {"ct": ct, "preceptor": preceptor, "lead": lead, "admin": admin}


def milestone(programme: Preceptorship, n: int) -> Milestone:
    return db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                              .order_by(Milestone.due_date, Milestone.id)).all()[n]


def reflection(programme, person, title: str, text: str) -> LogEntry:
    return progress_log.save_entry(programme, person, {
        "kind": EntryKind.REFLECTION, "title": title, "occurred_on": TODAY - timedelta(days=1), "hours": None,
        "what_happened": text, "so_what": f"So what, says {NAME}", "now_what": "Practise", "notes": ""}, set())


def free_text(survey) -> dict[int, str]:
    return {q.id: "4" for q in survey.questions() if q.qtype.value == "agreement"}


@pytest.fixture
def departed(make, staff):
    """A preceptee with a year of realistic records made through the real services, in which
    their name, email, HCPC number and phone were copied wherever people would copy them;
    then deactivated and moved past the retention period."""
    ct, preceptor, lead, admin = staff["ct"], staff["preceptor"], staff["lead"], staff["admin"]
    start = TODAY - timedelta(days=2)
    row = starters.hand_entered(name=NAME, email=EMAIL, hcpc_number=HCPC, department=ct, start_date=start,
                                transition=TransitionType.NEWLY_QUALIFIED, months=12)
    assert row.ok, row
    programme = db.session.get(Preceptorship, starters.import_starters(
        [row], actor_id=lead.id, source="hand").programme_ids[0])
    person = programme.preceptee
    person.phone = PHONE
    allocations.allocate(programme, preceptor, start, by=lead)
    db.session.commit()

    # What they wrote, with their own details in it.
    first = reflection(programme, person, f"First week, by {NAME}", f"I am {NAME} ({EMAIL}, {PHONE}, {HCPC}).")
    second = reflection(programme, person, "Trauma list", "zebedee QUARTERMAINE-fox on the trauma list")
    db.session.commit()
    signed, returned = milestone(programme, 0), milestone(programme, 1)
    signoff_requests.request_sign_off(signed, person, f"{NAME} asks for sign-off", {first.id})
    signoff_requests.request_sign_off(returned, person, "Please review", {second.id})
    db.session.commit()
    decisions.sign_off(signed, preceptor, "Well done Zebedee: a thoughtful reflection")
    decisions.return_with_plan(returned, preceptor, "ZEBEDEE to add a second reflection", f"Thanks {NAME}")
    meetings.record(None, programme, preceptor, meeting_type=MeetingType.INITIAL, held_on=TODAY - timedelta(days=1),
                    notes=f"Met {NAME}; Zebedee is settling in", actions=[
                        ("Zebedee to book CT shadowing", person.id, TODAY + timedelta(days=14))])
    areas = learning_needs.areas_for(programme)
    learning_needs.save_assessment(programme, learning_needs.AssessmentStage.INITIAL, {
        area.id: learning_needs.Rating(3, f"{NAME} wants more practice") for area in areas}, TODAY)
    learning_needs.add_goal(programme, f"{NAME}: confident with CT heads", f"Email {EMAIL} the rota")
    progress_log.save_draft(person, "log:new:cpd", {"title": [f"Draft by {NAME}"]})
    # Someone else's words about them, outside their programme.
    protected_time.log_time(preceptor, TODAY, Decimal("1.5"), f"Supported {NAME} on the trauma list")
    db.session.commit()

    # Surveys: theirs in progress (a draft on their invitation); another preceptee's sent, naming them.
    sam = make.user(Role.PRECEPTEE, name="Sam Starter", email="sam@test.nhs.uk")
    make.programme(sam, ct, start=start)
    db.session.commit()
    assert open_due(TODAY) == 2
    theirs, sams = (db.session.scalar(select(SurveyInvitation).join(Preceptorship).where(
        Preceptorship.preceptee_id == who.id)) for who in (person, sam))
    survey = survey_answers.survey_for(person.id, theirs.id)
    survey_answers.save(survey, {q.id: f"I am {NAME}" for q in survey.questions() if q.qtype.value == "free_text"},
                        TODAY)
    sams_survey = survey_answers.survey_for(sam.id, sams.id)
    survey_answers.save(sams_survey, {q.id: "4" if q.qtype.value == "agreement" else f"{NAME} made me welcome"
                                      for q in sams_survey.questions()}, TODAY)
    survey_answers.submit(sams_survey, TODAY)
    db.session.commit()

    # Administrators' work on their account: a second role, a reset link (never used), leaving.
    people.change_access(person, ["preceptee", "preceptor"], [], False, admin)
    people.force_reset(person, admin)
    db.session.commit()
    people.deactivate(person, admin)
    past_retention(person)
    db.session.commit()
    return {**staff, "person": person, "programme": programme, "signed": signed, "returned": returned, "sam": sam}


def counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in (
        LogEntry, SignOffRequest, Meeting, MeetingAction, DevelopmentGoal, LearningNeedRating, Allocation,
        SurveyResponse, SurveyAnswer, AccountLink, User, Preceptorship, Milestone)}


def test_erasure_leaves_no_personal_detail_in_any_table(departed):
    person, admin, preceptor = departed["person"], departed["admin"], departed["preceptor"]
    before = copies_in_database(*NEEDLES)
    # The search can fail: the details are in all the places people copy them to.
    tables = {key.split(".")[0] for key in before}
    assert tables >= {"user", "log_entry", "sign_off_request", "meeting", "meeting_action", "development_goal",
                      "learning_need_rating", "draft", "survey_invitation", "survey_answer", "protected_time"}
    records = counts()
    person_id, auth_version = person.id, person.auth_version
    placeholder = f"Erased person {person_id}"

    result = erasure.erase(person, admin)
    db.session.commit()

    assert copies_in_database(*NEEDLES) == {}
    assert result.audit_events_redacted == []
    assert counts() == records  # nothing deleted but the draft (not counted), nothing added but the event
    person = db.session.get(User, person_id)
    assert (person.name, person.email, person.hcpc_number, person.phone, person.password_hash) == (
        placeholder, f"erased-{person_id}@erased.invalid", None, None, None)
    assert person.erased_at is not None and not person.is_active and person.auth_version == auth_version + 1
    assert person.roles == {Role.PRECEPTEE, Role.PRECEPTOR}
    assert db.session.scalar(select(func.count()).select_from(AccountLink).where(
        AccountLink.user_id == person_id, AccountLink.used_at.is_(None))) == 0

    # What others signed stays, points at the person, and reads with the placeholder.
    signed = db.session.scalar(select(SignOffRequest).where(SignOffRequest.milestone_id == departed["signed"].id))
    assert (signed.status, signed.decided_by_id, signed.requested_by_id) == (
        RequestStatus.SIGNED_OFF, preceptor.id, person_id)
    assert signed.milestone.preceptorship.preceptee_id == person_id
    assert signed.comment == f"Well done {placeholder}: a thoughtful reflection"
    assert signed.summary == erasure.REMOVED
    [evidence] = signed.evidence_snapshot
    assert evidence["kind"] == "reflection" and evidence["occurred_on"] == (TODAY - timedelta(days=1)).isoformat()
    assert (evidence["title"], evidence["what_happened"], evidence["so_what"]) == (erasure.REMOVED, "", "")
    returned = db.session.scalar(select(SignOffRequest).where(SignOffRequest.milestone_id == departed["returned"].id))
    assert (returned.status, returned.action_plan, returned.comment) == (
        RequestStatus.RETURNED, f"{placeholder} to add a second reflection", f"Thanks {placeholder}")
    meeting = db.session.scalar(select(Meeting).where(Meeting.preceptorship_id == departed["programme"].id))
    assert (meeting.held_on, meeting.recorded_by_id, meeting.notes) == (TODAY - timedelta(days=1), preceptor.id, "")
    assert [a.description for a in meeting.actions] == [f"{placeholder} to book CT shadowing"]
    assert db.session.scalar(select(Allocation.preceptor_id).where(
        Allocation.preceptorship_id == departed["programme"].id)) == preceptor.id
    entries = db.session.scalars(select(LogEntry).where(LogEntry.author_id == person_id)).all()
    assert {(e.title, e.what_happened, e.kind) for e in entries} == {(erasure.REMOVED, "", EntryKind.REFLECTION)}

    # Survey answers stay (only the copy of the name inside one is replaced); the draft goes.
    assert db.session.scalar(select(SurveyInvitation.draft_answers).join(Preceptorship).where(
        Preceptorship.preceptee_id == person_id)) is None
    texts = set(db.session.scalars(select(SurveyAnswer.value_text).where(SurveyAnswer.value_text.is_not(None))))
    assert texts == {f"{placeholder} made me welcome"}

    # Audited with ids and counts only.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erase"))
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "user", person_id)
    assert event.details["rows_changed"]["log_entry"] == 2 and event.details["rows_changed"]["draft"] == 1
    assert event.details["audit_events_redacted"] == []


def test_a_departed_preceptor_loses_their_notes_and_leave_reason(make, staff):
    preceptor, admin, lead = staff["preceptor"], staff["admin"], staff["lead"]
    protected_time.log_time(preceptor, TODAY, Decimal("2"), "Teaching session after my operation")
    preceptor_profile = preceptor_profile_of(preceptor)
    preceptor_profile.unavailable_reason = "Hospital appointment"  # typed before register changes were audited
    programme = make.programme(department=staff["ct"], preceptor=preceptor)
    db.session.commit()
    people.deactivate(preceptor, admin)
    past_retention(preceptor)
    db.session.commit()

    erasure.erase(preceptor, admin)
    db.session.commit()

    assert copies_in_database("operation", "Hospital appointment", "Priya Preceptor") == {}
    assert db.session.scalar(select(Allocation.preceptor_id).where(Allocation.preceptorship_id == programme.id)) \
        == preceptor.id
    assert lead.name == "Lena Lead"  # nobody else renamed


def preceptor_profile_of(user):
    from preceptor.models import PreceptorProfile

    return db.session.get(PreceptorProfile, user.id)


def test_someone_else_with_a_name_inside_theirs_keeps_their_words(make, staff):
    """Whole words only: erasing "Al Li" leaves "Royal lights" and "Sally Lin" alone."""
    admin = staff["admin"]
    al = make.user(Role.PRECEPTEE, name="Al Li", email="al.li@test.nhs.uk")
    make.programme(al, staff["ct"])
    protected_time.log_time(staff["preceptor"], TODAY, Decimal("1"), "Royal lights; Sally Lin; al li")
    db.session.commit()
    people.deactivate(al, admin)
    past_retention(al)
    db.session.commit()
    erasure.erase(al, admin)
    db.session.commit()
    from preceptor.models import ProtectedTime

    assert db.session.scalar(select(ProtectedTime.note)) == f"Royal lights; Sally Lin; Erased person {al.id}"


def test_a_name_too_short_to_search_for_is_replaced_only_where_it_is_theirs(make):
    from preceptor.services.erasure_copies import Copies

    jo = make.user(Role.PRECEPTEE, name="Jo", email="jo.k@test.nhs.uk")
    copies = Copies.of(jo, "Erased person 1")
    assert copies.scrub("jo did the X-ray; Jo's email is JO.K@test.nhs.uk") == \
        "jo did the X-ray; Jo's email is Erased person 1"
    assert copies.scrub("Jo did the X-ray", parts=True) == "Erased person 1 did the X-ray"  # in records about them


# --- when erasure is allowed ------------------------------------------------------------------

def test_only_a_departed_person_past_retention_can_be_erased(make, staff):
    admin, other_admin = staff["admin"], make.user(Role.ADMIN, name="Olu Other")
    person = make.user(Role.PRECEPTEE, name="Rhea Remaining")
    db.session.commit()

    check = erasure.eligibility(person, admin)
    assert not check.allowed and "account is active" in check.message and "6 years later" in check.message
    with pytest.raises(erasure.ErasureRefused, match="deactivate the account first"):
        erasure.erase(person, admin)

    people.deactivate(person, admin)
    db.session.commit()
    check = erasure.eligibility(person, admin)
    kept_until = person.deactivated_at.date() + retention()
    assert not check.allowed and check.allowed_from in (kept_until, kept_until + timedelta(days=1))
    assert "must be kept until" in check.message
    with pytest.raises(erasure.ErasureRefused, match="must be kept until"):
        erasure.erase(person, admin)
    assert erasure.eligibility(person, admin, now=person.deactivated_at + retention()).allowed

    past_retention(person)
    db.session.commit()
    assert erasure.eligibility(person, admin).allowed
    people.deactivate(admin, other_admin)
    past_retention(admin)
    db.session.commit()
    with pytest.raises(erasure.ErasureRefused, match="cannot erase your own details"):
        erasure.erase(admin, admin)

    erasure.erase(person, admin)
    db.session.commit()
    check = erasure.eligibility(person, admin)
    assert not check.allowed and "were erased on" in check.message
    with pytest.raises(erasure.ErasureRefused, match="were erased on"):
        erasure.erase(person, admin)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "person.erase")) == 1


def test_an_account_deactivated_before_the_date_was_kept_counts_from_the_audit_log(make, staff):
    admin = staff["admin"]
    person = make.user(Role.PRECEPTEE, name="Old Leaver")
    db.session.commit()
    people.deactivate(person, admin)
    person.deactivated_at = None  # as for an account deactivated before the column existed
    db.session.commit()
    check = erasure.eligibility(person, admin)
    assert not check.allowed and check.allowed_from is not None
    assert erasure.eligibility(person, admin, now=utcnow() + retention() + timedelta(days=1)).allowed
    other = make.user(Role.PRECEPTEE, name="Never Logged", active=False)  # no date, no event
    db.session.commit()
    assert "not recorded" in erasure.eligibility(other, admin).message


# --- the pages ----------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client, staff):
    assert client.sign_in("ada@test.nhs.uk", PASSWORD).status_code == 302
    return client


def test_the_page_says_when_erasure_will_be_allowed_and_refuses_before(admin_client, make, staff):
    person = make.user(Role.PRECEPTEE, name="Tess <b>Early</b>")
    db.session.commit()
    people.deactivate(person, staff["admin"])
    db.session.commit()
    page = admin_client.get(f"/admin/people/{person.id}/erase")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Not allowed yet" in html and "must be kept until" in html
    assert "Tess &lt;b&gt;Early&lt;/b&gt;" in html and "<b>Early</b>" not in html
    assert 'action="/admin/people/' not in html  # no erase button

    refused = admin_client.submit(f"/admin/people/{person.id}/erase")
    assert refused.status_code == 400
    assert "There is a problem" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).erased_at is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "person.erase")) == 0


def test_erasing_from_the_page_returns_to_the_person_with_a_message(admin_client, departed):
    person_id = departed["person"].id
    page = admin_client.get(f"/admin/people/{person_id}/erase")
    html = page.get_data(as_text=True)
    assert f"Erase {NAME}’s personal details?" in html and f"Erased person {person_id}" in html
    response = admin_client.submit(f"/admin/people/{person_id}/erase")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/people/{person_id}"
    html = admin_client.get(f"/admin/people/{person_id}").get_data(as_text=True)
    assert f"they now appear as “Erased person {person_id}”" in html
    assert NAME not in html and EMAIL not in html
    again = admin_client.get(f"/admin/people/{person_id}/erase").get_data(as_text=True)
    assert "were erased on" in again and "Erase Erased person" not in again.split("</h1>")[1]


def test_only_admins_may_erase(client, departed):
    lead = departed["lead"]
    assert client.sign_in(lead.email, PASSWORD).status_code == 302
    url = f"/admin/people/{departed['person'].id}/erase"
    assert client.get(url).status_code == 403
    assert client.submit(url, token_from="/lead/").status_code == 403
    assert db.session.get(User, departed["person"].id).erased_at is None
    assert client.get("/admin/people/99999/erase").status_code == 403


# --- the audit log ------------------------------------------------------------------------------

def test_a_reason_that_names_them_is_redacted_in_the_audit_log_and_the_redaction_recorded(departed):
    person, lead, admin = departed["person"], departed["lead"], departed["admin"]
    decisions.reopen(departed["signed"], lead, f"{NAME} asked to add more evidence")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.reopen"))
    before = (event.id, event.at, event.actor_id, event.action, event.object_type, event.object_id)
    assert NAME in event.reason
    result = erasure.erase(person, admin)
    db.session.commit()
    assert result.audit_events_redacted == [event.id]
    db.session.expire_all()
    event = db.session.get(AuditEvent, event.id)
    assert NAME not in event.reason and placeholder_name(person.id) in event.reason
    assert (event.id, event.at, event.actor_id, event.action, event.object_type, event.object_id) == before
    redaction = db.session.scalar(select(AuditRedaction).where(AuditRedaction.event_id == event.id))
    assert (redaction.person_id, redaction.redacted_by_id, redaction.reason) == (person.id, admin.id, event.reason)
    assert copies_in_database(NAME) == {}


def test_the_database_allows_an_audit_update_only_to_the_recorded_redaction(app, make):
    user = make.user()
    event = audit.record("test.event", user, reason="Named Person said so")
    db.session.flush()
    refused = [
        "UPDATE audit_event SET reason = 'rewritten'",  # no redaction recorded
        "UPDATE audit_event SET reason = 'A person said so', action = 'other'",  # more than the redaction
        "UPDATE audit_event SET reason = 'something else'",  # not the recorded value
        "DELETE FROM audit_event",
    ]
    db.session.add(AuditRedaction(event_id=event.id, person_id=user.id, reason="A person said so",
                                  details=event.details))
    db.session.flush()
    for statement in refused:
        with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id)
                       .values(reason="A person said so", details=event.details))
    assert db.session.scalar(text("SELECT reason FROM audit_event")) == "A person said so"


def test_an_imported_hcpc_number_is_not_kept_by_the_audit_log(make, staff):
    person = make.user(Role.PRECEPTOR, name="Hana Hcpc", email="hana@test.nhs.uk")
    db.session.commit()
    row = starters.hand_entered(name="Hana Hcpc", email="hana@test.nhs.uk", hcpc_number="RA445566",
                                department=staff["ct"], start_date=TODAY, transition=TransitionType.NEW_ROLE,
                                months=12)
    starters.import_starters([row], actor_id=staff["lead"].id, source="hand")
    db.session.commit()
    people.deactivate(person, staff["admin"])
    past_retention(person)
    db.session.commit()
    erasure.erase(person, staff["admin"])
    db.session.commit()
    assert copies_in_database("RA445566") == {}


def test_a_leave_reason_is_not_kept_by_the_audit_log(staff):
    preceptor = staff["preceptor"]
    register.change(preceptor_profile_of(preceptor), cap=None, trained_on=TODAY - timedelta(days=100),
                    unavailable_until=TODAY + timedelta(days=30), unavailable_reason="Knee surgery", by=staff["lead"],
                    today=TODAY)
    db.session.commit()
    people.deactivate(preceptor, staff["admin"])
    past_retention(preceptor)
    db.session.commit()
    erasure.erase(preceptor, staff["admin"])
    db.session.commit()
    assert copies_in_database("Knee surgery") == {}
