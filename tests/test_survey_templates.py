"""Editing survey templates: a version nobody was invited with changes in place; a version
someone was invited with stays as it was and the change becomes the next version, which new
invitations get; a stale form, a locked version and bad input are refused with a message and
nothing lost; only admins and education leads may edit."""

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    AuditEvent,
    QuestionType,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyTemplate,
    User,
)
from preceptor.services import survey_answers
from preceptor.services import survey_templates as service
from preceptor.services.survey_library import NEWLY_QUALIFIED, PRECEPTOR_FEEDBACK, install_default_surveys
from preceptor.services.survey_templates import TemplateRefused
from preceptor.services.survey_waves import current_template, open_due

from .factories import counted_queries

TODAY = date.today()
PASSWORD = "correct-horse-battery"
LIST = "/admin/surveys"


class FormReader(HTMLParser):
    """What a browser would post from the page's first POST form, as it stands."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.in_form = self.done = False
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post" and not self.done and "sign-out" not in attrs["action"]:
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in attrs:
                return
            self.data[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.data[self.textarea] = ""

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def form_on(html: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(html)
    return reader.data


def error_by(html: str, field_id: str) -> str:
    """The error message shown next to a field (the NHS.UK `<id>-error` element), or ""."""
    found = re.search(rf'id="{re.escape(field_id)}-error"\s*>\s*<span[^>]*>Error: </span>([^<]*)', html)
    return found.group(1).strip() if found else ""


@pytest.fixture
def surveys(app):
    install_default_surveys()
    db.session.commit()
    return current_template(NEWLY_QUALIFIED.key)


@pytest.fixture
def invited(surveys, make):
    """Sam, invited with version 1 of the newly-qualified survey, has answered it."""
    sam = make.user(Role.PRECEPTEE, email="sam@test.nhs.uk")
    make.programme(preceptee=sam, start=TODAY - timedelta(days=2))
    db.session.commit()
    assert open_due(TODAY) == 1
    invitation = db.session.scalar(select(SurveyInvitation))
    survey = survey_answers.survey_for(sam.id, invitation.id)
    answers = {q.id: "4" if q.qtype is QuestionType.AGREEMENT else "It helped" for q in survey.questions()}
    assert survey_answers.save(survey, answers, TODAY) == {}
    survey_answers.submit(survey, TODAY)
    db.session.commit()
    return invitation


@pytest.fixture
def admin(client, make):
    make.user(Role.ADMIN, email="admin@test.nhs.uk")
    db.session.commit()
    assert client.sign_in("admin@test.nhs.uk", PASSWORD).status_code == 302
    return client


def edit_page(template: SurveyTemplate) -> str:
    return f"/admin/surveys/{template.id}"


def snapshot(template_id: int) -> list[tuple]:
    return db.session.execute(
        select(SurveyQuestion.id, SurveyQuestion.position, SurveyQuestion.step, SurveyQuestion.code,
               SurveyQuestion.text, SurveyQuestion.help_text, SurveyQuestion.qtype, SurveyQuestion.required,
               SurveyQuestion.options)
        .where(SurveyQuestion.template_id == template_id).order_by(SurveyQuestion.position)).all()


def answers_snapshot() -> list[tuple]:
    return db.session.execute(select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value_int,
                                     SurveyAnswer.value_text).order_by(SurveyAnswer.question_id)).all()


def versions(key: str = NEWLY_QUALIFIED.key) -> list[tuple[int, int, bool]]:
    db.session.expire_all()
    return db.session.execute(select(SurveyTemplate.id, SurveyTemplate.version, SurveyTemplate.current)
                              .where(SurveyTemplate.key == key).order_by(SurveyTemplate.version)).all()


# --- the list -------------------------------------------------------------------------------------

def test_the_list_shows_each_current_version_with_its_counts_in_one_query(admin, invited, surveys):
    with counted_queries() as statements:
        overview = service.templates_overview()
    assert len(statements) == 1
    counts = {row.key: (row.version, row.questions, row.invitations, row.responses) for row in overview}
    assert counts == {NEWLY_QUALIFIED.key: (1, len(NEWLY_QUALIFIED.questions), 1, 1),
                      PRECEPTOR_FEEDBACK.key: (1, len(PRECEPTOR_FEEDBACK.questions), 0, 0)}
    html = admin.get(LIST).get_data(as_text=True)
    assert NEWLY_QUALIFIED.name in html and PRECEPTOR_FEEDBACK.name in html
    assert f'href="{edit_page(surveys)}"' in html and 'href="/admin/surveys/new"' in html


# --- editing in place and as a new version --------------------------------------------------------

def test_a_version_nobody_was_invited_with_is_edited_in_place(admin, surveys):
    before = snapshot(surveys.id)
    html = admin.get(edit_page(surveys)).get_data(as_text=True)
    assert "Nobody has been invited with version 1 yet" in html
    data = form_on(html)
    assert data["version"] == "1" and data["q-0-text"] == NEWLY_QUALIFIED.questions[0].text
    data["q-0-text"] = "I feel confident in my new role."
    response = admin.submit(edit_page(surveys), data, token_from=edit_page(surveys))
    assert response.status_code == 302 and response.headers["Location"] == LIST
    assert versions() == [(surveys.id, 1, True)]
    after = snapshot(surveys.id)
    assert after[0][0] == before[0][0] and after[0][3] == "confidence"  # the same row, the same code
    assert after[0][4] == "I feel confident in my new role." and after[1:] == before[1:]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey_template.edit"))
    assert event.object_id == surveys.id and event.details["from_version"] == event.details["to_version"] == 1
    assert event.details["new_version"] is False
    assert "Version 1 of “How your first year is going” is saved" in admin.get(LIST).get_data(as_text=True)


def test_a_version_with_invitations_stays_and_the_change_is_the_next_version(admin, invited, surveys, make):
    old_questions, old_answers = snapshot(surveys.id), answers_snapshot()
    assert old_answers  # Sam's answers
    html = admin.get(edit_page(surveys)).get_data(as_text=True)
    assert ("1 person has been invited with version 1. Saving makes version 2 for new invitations; "
            "answers already given stay with version 1.") in html
    data = form_on(html)
    data["q-0-text"] = "I feel confident in my role this month."
    data["q-1-remove"] = "yes"
    adding = max(int(key.split("-")[1]) for key in data if key.startswith("q-"))
    assert data[f"q-{adding}-text"] == ""  # the blank "Add a question"
    data.update({f"q-{adding}-text": "Which shift pattern do you mostly work?", f"q-{adding}-qtype": "single_choice",
                 f"q-{adding}-options": "Days\nNights\n\nMixed\n", f"q-{adding}-step": "2"})
    response = admin.submit(edit_page(surveys), data, token_from=edit_page(surveys))
    assert response.status_code == 302

    # Version 1 and everything pointing at it are as they were.
    assert snapshot(surveys.id) == old_questions and answers_snapshot() == old_answers
    db.session.refresh(invited)
    assert invited.template_id == surveys.id
    (_, _, old_current), (new_id, version, current) = versions()
    assert (old_current, version, current) == (False, 2, True)
    new = db.session.get(SurveyTemplate, new_id)
    admin_id = db.session.scalar(select(User.id).where(User.email == "admin@test.nhs.uk"))
    assert (new.key, new.name, new.purpose, new.created_by_id) == (surveys.key, surveys.name, surveys.purpose, admin_id)
    codes = [q.code for q in new.questions]
    assert codes[0] == "confidence" and "preceptor_support" not in codes
    assert codes[-1] == "which_shift_pattern_do_you_mostly_work" and len(codes) == len(set(codes))
    shift = new.questions[-1]
    assert (shift.qtype, shift.options, shift.step) == (QuestionType.SINGLE_CHOICE, ["Days", "Nights", "Mixed"], 2)
    assert new.questions[0].text == "I feel confident in my role this month."
    assert {q.id for q in new.questions}.isdisjoint(row[0] for row in old_questions)

    # New invitations get version 2; the list says so.
    assert current_template().id == new_id
    make.programme(start=TODAY - timedelta(days=1))
    db.session.commit()
    assert open_due(TODAY) == 1
    assert db.session.scalar(select(SurveyInvitation.template_id).order_by(SurveyInvitation.id.desc())) == new_id
    html = admin.get(LIST).get_data(as_text=True)
    assert ("Version 2 of “How your first year is going” is saved. New invitations get it; answers already given "
            "stay with version 1.") in html
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey_template.edit"))
    assert (event.object_id, event.details["from_version"], event.details["to_version"]) == (new_id, 1, 2)
    # The old version's address opens the current one.
    assert admin.get(edit_page(surveys)).headers["Location"] == f"/admin/surveys/{new_id}"


def test_saving_without_a_change_makes_no_version(admin, invited, surveys):
    data = form_on(admin.get(edit_page(surveys)).get_data(as_text=True))
    response = admin.submit(edit_page(surveys), data, token_from=edit_page(surveys), follow_redirects=True)
    assert "Nothing was changed: version 1" in response.get_data(as_text=True)
    assert versions() == [(surveys.id, 1, True)]


def test_a_form_opened_before_someone_elses_new_version_is_refused(admin, invited, surveys):
    page = edit_page(surveys)
    first = form_on(admin.get(page).get_data(as_text=True))
    second = dict(first)
    first["q-0-text"] = "Saved first."
    assert admin.submit(page, first, token_from=page).status_code == 302
    saved = versions()
    new_questions = snapshot(saved[-1][0])
    second["q-0-text"] = "Typed in the other tab."
    response = admin.submit(page, second, token_from=LIST)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert ("This survey was changed by someone else since you opened it: version 2 is now current. "
            "Your changes have not been saved.") in html
    assert 'value="Typed in the other tab."' in html  # nothing typed is lost
    assert versions() == saved and snapshot(saved[-1][0]) == new_questions
    assert form_on(html)["version"] == "2"  # saving it again now is a deliberate choice


def test_a_form_opened_before_someone_elses_change_in_place_is_refused(admin, surveys):
    page = edit_page(surveys)
    first = form_on(admin.get(page).get_data(as_text=True))
    second = dict(first)
    first["name"] = "Renamed first"
    assert admin.submit(page, first, token_from=page).status_code == 302
    second["q-0-text"] = "Typed in the other tab."
    response = admin.submit(page, second, token_from=LIST)
    assert response.status_code == 409
    assert "version 1 is now current. Your changes have not been saved." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SurveyTemplate, surveys.id).name == "Renamed first"
    assert snapshot(surveys.id)[0][4] == NEWLY_QUALIFIED.questions[0].text


def test_a_version_with_answers_cannot_be_changed_in_place(invited, surveys, make):
    before, answers = snapshot(surveys.id), answers_snapshot()
    drafts, problems = service.parse_questions({"name": "Changed", "q-0-text": "Only question",
                                                "q-0-qtype": "yes_no", "q-0-step": "1"}, surveys)
    assert problems == {}
    with pytest.raises(TemplateRefused, match="Version 1 already has answers, so it cannot be changed: "):
        service.update_in_place(surveys, "Changed", drafts)
    db.session.rollback()
    assert snapshot(surveys.id) == before and answers_snapshot() == answers
    assert db.session.get(SurveyTemplate, surveys.id).name == NEWLY_QUALIFIED.name


def test_an_invitation_alone_locks_a_version(surveys, make):
    make.programme(start=TODAY - timedelta(days=2))
    db.session.commit()
    assert open_due(TODAY) == 1  # invited, nothing answered yet
    editor = make.user(Role.EDUCATION_LEAD)
    drafts, _ = service.parse_questions({"name": "Changed", "q-0-text": "Only question", "q-0-qtype": "yes_no",
                                         "q-0-step": "1"}, surveys)
    with pytest.raises(TemplateRefused, match="has been sent to people already"):
        service.update_in_place(surveys, "Changed", drafts)
    saved, new_version = service.save(surveys.id, 1, "Changed", drafts, editor)
    assert new_version and saved.version == 2 and saved.id != surveys.id and not surveys.current


# --- reading the form -----------------------------------------------------------------------------

def test_codes_stay_with_their_question_and_new_ones_are_never_reused(invited, surveys, make):
    form = {"name": "N", "q-0-code": "confidence", "q-0-text": "Reworded", "q-0-qtype": "agreement", "q-0-step": "1",
            "q-1-code": "workload", "q-1-text": "Workload?", "q-1-qtype": "yes_no", "q-1-step": "1",  # type changed
            "q-2-code": "valued", "q-2-text": "Removed", "q-2-qtype": "agreement", "q-2-step": "1", "q-2-remove": "yes",
            "q-3-code": "confidence", "q-3-text": "Copied code", "q-3-qtype": "agreement", "q-3-step": "1",
            "q-4-text": "Wellbeing", "q-4-qtype": "agreement", "q-4-step": "1",
            "q-5-text": "", "q-5-qtype": "agreement", "q-5-step": "1", "q-5-required": "yes"}  # the blank one
    drafts, problems = service.parse_questions(form, surveys)
    assert problems == {}
    assert [d.code for d in drafts] == ["confidence", "workload_2", "copied_code", "wellbeing_2"]
    assert [d.required for d in drafts] == [False] * 4  # unticked boxes post nothing
    drafts, problems = service.parse_questions({"name": "N", "q-0-text": "", "q-0-qtype": "agreement",
                                                "q-0-step": "1", "q-0-remove": "yes"})
    assert drafts == [] and problems == {"questions": "Add at least one question"}
    drafts, problems = service.parse_questions({"name": "N", "q-0-help": "Help without a question"})
    assert drafts == [] and problems == {"q-0-text": "Enter the question", "q-0-qtype": "Choose the type of answer",
                                         "q-0-step": "Step must be a whole number from 1 to 20"}


BAD_INPUT = [
    ("text", "", "Enter the question"),
    ("text", "x" * 501, "Question must be 500 characters or fewer"),
    ("help", "h" * 501, "Help text must be 500 characters or fewer"),
    ("qtype", "ranking", "Choose the type of answer"),
    ("step", "0", "Step must be a whole number from 1 to 20"),
    ("step", "21", "Step must be a whole number from 1 to 20"),
    ("step", "two", "Step must be a whole number from 1 to 20"),
    ("options", "Only one", "Enter at least 2 options, one on each line"),
    ("options", "\n".join(f"Option {n}" for n in range(13)), "Enter no more than 12 options"),
    ("options", "Days\nNights\ndays", "Each option must be different: “Days” is there twice"),
]


@pytest.mark.parametrize("part, value, message", BAD_INPUT, ids=[f"{p}-{m[:24]}" for p, v, m in BAD_INPUT])
def test_bad_input_is_shown_by_the_field_with_everything_typed_kept(admin, surveys, part, value, message):
    page, before = edit_page(surveys), snapshot(surveys.id)
    data = form_on(admin.get(page).get_data(as_text=True))
    data.update({"name": "A name typed", "q-1-text": "Another question typed"})
    if part == "options":
        data["q-0-qtype"] = "single_choice"
    data[f"q-0-{part}"] = value
    response = admin.submit(page, data, token_from=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Error: " in html and "There is a problem" in html
    assert f'href="#q-0-{part}"' in html and f"Question 1: {message}" in html
    assert error_by(html, f"q-0-{part}") == message
    shown = form_on(html)
    assert (shown["name"], shown["q-1-text"]) == ("A name typed", "Another question typed")
    if part == "qtype":
        assert "q-0-qtype" not in shown  # no type of answer called "ranking" to tick
    else:
        assert shown[f"q-0-{part}"] == value
    assert snapshot(surveys.id) == before and versions() == [(surveys.id, 1, True)]


def test_options_on_another_type_and_a_missing_name_are_refused(admin, surveys):
    page = edit_page(surveys)
    data = form_on(admin.get(page).get_data(as_text=True))
    data.update({"name": " ", "q-0-options": "Yes\nNo"})
    html = admin.submit(page, data, token_from=page).get_data(as_text=True)
    assert error_by(html, "name") == "Enter the survey name"
    assert error_by(html, "q-0-options").startswith("Only a ")
    assert form_on(html)["q-0-options"] == "Yes\nNo"


def test_removing_every_question_is_refused(admin, surveys):
    page = edit_page(surveys)
    data = form_on(admin.get(page).get_data(as_text=True))
    data.update({key.replace("-text", "-remove"): "yes" for key in list(data) if key.endswith("-text")})
    response = admin.submit(page, data, token_from=page)
    assert response.status_code == 400
    assert "Add at least one question" in response.get_data(as_text=True)
    assert len(snapshot(surveys.id)) == len(NEWLY_QUALIFIED.questions)


# --- creating -------------------------------------------------------------------------------------

def test_creating_a_survey(admin, surveys):
    page = "/admin/surveys/new"
    data = form_on(admin.get(page).get_data(as_text=True))
    assert set(data) >= {"csrf_token", "name", "q-0-text", "q-0-step"} and "version" not in data
    data.update({"name": "Leaving interview", "q-0-text": "Why are you leaving?", "q-0-qtype": "free_text"})
    response = admin.submit(page, data, token_from=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and error_by(html, "purpose") == "Choose who answers this survey"
    data["purpose"] = SurveyPurpose.NEWLY_QUALIFIED.value
    response = admin.submit(page, data, token_from=page, follow_redirects=True)
    assert "“Leaving interview” is saved as version 1." in response.get_data(as_text=True)
    created = current_template("leaving-interview")
    assert (created.version, created.purpose, created.name) == (1, SurveyPurpose.NEWLY_QUALIFIED, "Leaving interview")
    assert [(q.code, q.qtype, q.required) for q in created.questions] == [
        ("why_are_you_leaving", QuestionType.FREE_TEXT, True)]
    assert admin.submit(page, data, token_from=page).status_code == 302
    assert current_template("leaving-interview-2") is not None  # the same name again: its own key


# --- who may do it --------------------------------------------------------------------------------

PAGES = [LIST, "/admin/surveys/new", "edit"]


@pytest.mark.parametrize("role, status", [(Role.ADMIN, 200), (Role.EDUCATION_LEAD, 200), (Role.PRECEPTEE, 403),
                                          (Role.PRECEPTOR, 403)])
@pytest.mark.parametrize("path", PAGES)
def test_only_admins_and_education_leads_edit_surveys(client, make, surveys, role, status, path):
    make.user(role, email="someone@test.nhs.uk")
    db.session.commit()
    client.sign_in("someone@test.nhs.uk", PASSWORD)
    path = edit_page(surveys) if path == "edit" else path
    assert client.get(path).status_code == status
    if path != LIST:
        before = snapshot(surveys.id)
        posted = client.submit(path, {"name": "Taken over", "q-0-text": "Hi", "q-0-qtype": "yes_no", "q-0-step": "1",
                                      "version": "1", "purpose": "newly_qualified"}, token_from="/your-details")
        assert posted.status_code == (302 if status == 200 else 403)
        if status == 403:
            assert snapshot(surveys.id) == before and db.session.scalar(
                select(func.count()).select_from(SurveyTemplate)) == 2


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_people_are_sent_to_sign_in(client, surveys, path):
    path = edit_page(surveys) if path == "edit" else path
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")


def test_a_post_without_its_csrf_token_is_refused(admin, surveys):
    page = edit_page(surveys)
    data = form_on(admin.get(page).get_data(as_text=True))
    del data["csrf_token"]
    data["name"] = "Changed without a token"
    response = admin.post(page, data=data)
    assert response.status_code == 400
    assert "This form has expired or did not come from this service" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SurveyTemplate, surveys.id).name == NEWLY_QUALIFIED.name
