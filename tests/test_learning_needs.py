"""Learning needs analysis and the personal development plan: the service rules, the pages
(full page and htmx fragment), validation next to fields with input kept, and who may see what."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    AssessmentStage,
    AuditEvent,
    DevelopmentGoal,
    GoalStatus,
    LearningNeedArea,
    LearningNeedRating,
    LearningNeedsAssessment,
    Role,
)
from preceptor.services import learning_needs as service
from preceptor.services.learning_needs import DEFAULT_AREAS, LearningNeedsError, Rating

from .factories import PASSWORD

PLAN = "/preceptee/development-plan"
INITIAL = "/preceptee/learning-needs/initial"
MID_POINT = "/preceptee/learning-needs/mid-point"


def area_ids(programme) -> list[int]:
    return [area.id for area in service.areas_for(programme)]


def all_rated(programme, confidence: int = 3) -> dict[int, Rating]:
    return {area_id: Rating(confidence) for area_id in area_ids(programme)}


def form_data(programme, ratings: dict[int, str] | None = None, notes: dict[int, str] | None = None) -> dict:
    """A browser's post of the self-assessment form: every area rated 3 unless given."""
    data = {}
    for area_id in area_ids(programme):
        value = (ratings or {}).get(area_id, "3")
        if value is not None:
            data[f"confidence_{area_id}"] = value
        data[f"note_{area_id}"] = (notes or {}).get(area_id, "")
    return data


def text_of(html: str) -> str:
    """The page's text with tags removed and spaces collapsed, as a reader would see it."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def programme(make):
    service.install_default_areas()
    user = make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    programme = make.programme(preceptee=user, start=date.today() - timedelta(days=30))
    db.session.commit()
    return programme


@pytest.fixture
def signed_in(client, programme):
    assert client.sign_in("nq@test.nhs.uk", PASSWORD).status_code == 302
    return programme


# --- the service ------------------------------------------------------------------------------

def test_install_default_areas_is_idempotent(app):
    assert service.install_default_areas() == len(DEFAULT_AREAS)
    db.session.flush()
    assert service.install_default_areas() == 0
    db.session.add(LearningNeedArea(department_id=None, title="Something the trust added", position=99))
    db.session.delete(db.session.scalar(select(LearningNeedArea).where(LearningNeedArea.title == DEFAULT_AREAS[0])))
    db.session.flush()
    assert service.install_default_areas() == 1
    titles = list(db.session.scalars(select(LearningNeedArea.title).where(LearningNeedArea.department_id.is_(None))))
    assert sorted(titles) == sorted([*DEFAULT_AREAS, "Something the trust added"])
    assert 6 <= len(DEFAULT_AREAS) <= 10


def test_areas_are_the_departments_own_else_the_trust_defaults(programme, make):
    defaults = [a.title for a in service.areas_for(programme)]
    assert defaults == list(DEFAULT_AREAS)

    other = make.department()
    db.session.add_all([
        LearningNeedArea(department_id=programme.department_id, title="Cardiac cath lab", position=2),
        LearningNeedArea(department_id=programme.department_id, title="Contrast injections", position=1),
        LearningNeedArea(department_id=programme.department_id, title="Old area", position=0,
                         archived_at=datetime.now(UTC)),
        LearningNeedArea(department_id=other.id, title="Another department's area", position=0),
    ])
    db.session.flush()
    assert [a.title for a in service.areas_for(programme)] == ["Contrast injections", "Cardiac cath lab"]


def test_a_department_with_only_archived_areas_falls_back_to_the_defaults(programme):
    db.session.add(LearningNeedArea(department_id=programme.department_id, title="Gone", archived_at=datetime.now(UTC)))
    db.session.flush()
    assert [a.title for a in service.areas_for(programme)] == list(DEFAULT_AREAS)


def test_save_assessment_records_ratings_and_audits(programme):
    answers = all_rated(programme)
    first = area_ids(programme)[0]
    answers[first] = Rating(1, "  Never done a consent conversation alone  ")
    assessment = service.save_assessment(programme, AssessmentStage.INITIAL, answers, date(2026, 1, 5))
    db.session.flush()
    assert assessment.completed_on == date(2026, 1, 5)
    saved = service.ratings(assessment.id)
    assert saved[first].confidence == 1 and saved[first].note == "Never done a consent conversation alone"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "learning_needs.save"))
    assert event.preceptorship_id == programme.id and event.department_id == programme.department_id
    assert event.details["stage"] == "initial" and event.details["created"] is True
    assert event.details["ratings"][str(first)] == 1
    assert "consent" not in str(event.details)  # notes are free text: never in the audit log


def test_saving_a_stage_again_updates_it(programme):
    service.save_assessment(programme, AssessmentStage.INITIAL, all_rated(programme, 2), date(2026, 1, 5))
    service.save_assessment(programme, AssessmentStage.INITIAL, all_rated(programme, 4), date(2026, 1, 9))
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(LearningNeedsAssessment)) == 1
    (assessment,) = service.assessments(programme.id).values()
    assert assessment.completed_on == date(2026, 1, 9)
    assert {r.confidence for r in service.ratings(assessment.id).values()} == {4}
    assert db.session.scalar(select(func.count()).select_from(LearningNeedRating)) == len(DEFAULT_AREAS)


@pytest.mark.parametrize("change", ["missing", "unknown", "zero", "six", "long note"])
def test_save_assessment_refuses_incomplete_or_out_of_range_answers(programme, change):
    answers = all_rated(programme)
    first = area_ids(programme)[0]
    if change == "missing":
        del answers[first]
    elif change == "unknown":
        answers[999_999] = Rating(3)
    elif change == "zero":
        answers[first] = Rating(0)
    elif change == "six":
        answers[first] = Rating(6)
    else:
        answers[first] = Rating(3, "x" * 1001)
    with pytest.raises(LearningNeedsError):
        service.save_assessment(programme, AssessmentStage.INITIAL, answers, date.today())


def test_mid_point_opens_after_the_initial_and_five_months(programme):
    today = date.today()
    assert service.stage_open(programme, AssessmentStage.INITIAL, today, initial_done=False)
    assert not service.stage_open(programme, AssessmentStage.MID_POINT, today, initial_done=True)  # 1 month in
    opens = service.mid_point_opens_on(programme)
    assert not service.stage_open(programme, AssessmentStage.MID_POINT, opens, initial_done=False)
    assert not service.stage_open(programme, AssessmentStage.MID_POINT, opens - timedelta(days=1), initial_done=True)
    assert service.stage_open(programme, AssessmentStage.MID_POINT, opens, initial_done=True)
    with pytest.raises(LearningNeedsError):
        service.save_assessment(programme, AssessmentStage.MID_POINT, all_rated(programme), today)


def test_changes_between_stages(programme):
    ids = area_ids(programme)
    initial = all_rated(programme, 3)
    initial[ids[0]], initial[ids[1]] = Rating(2), Rating(4)
    service.save_assessment(programme, AssessmentStage.INITIAL, initial, date.today())
    mid = all_rated(programme, 3)
    mid[ids[0]], mid[ids[1]] = Rating(4), Rating(3)
    service.save_assessment(programme, AssessmentStage.MID_POINT, mid, service.mid_point_opens_on(programme))
    rows = service.changes(programme)
    assert [row.area.id for row in rows] == ids
    assert (rows[0].initial, rows[0].mid_point, rows[0].change, rows[0].change_words) == (2, 4, 2, "up 2")
    assert (rows[1].change, rows[1].change_words) == (-1, "down 1")
    assert rows[2].change_words == "no change"


def test_suggestions_are_areas_rated_one_or_two_without_a_goal(programme):
    assert service.suggestions(programme) == []
    ids = area_ids(programme)
    answers = all_rated(programme, 3)
    answers[ids[3]], answers[ids[1]], answers[ids[2]] = Rating(2), Rating(1), Rating(2)
    service.save_assessment(programme, AssessmentStage.INITIAL, answers, date.today())
    assert [(a.id, c) for a, c in service.suggestions(programme)] == [(ids[1], 1), (ids[2], 2), (ids[3], 2)]
    service.add_goal(programme, "Lead a consent conversation", area_id=ids[1])
    db.session.flush()
    assert [a.id for a, _ in service.suggestions(programme)] == [ids[2], ids[3]]
    assert db.session.scalar(select(func.count()).select_from(DevelopmentGoal)) == 1  # nothing made automatically


def test_goals_add_update_and_status(programme, make):
    ids = area_ids(programme)
    goal = service.add_goal(programme, "  Work a theatre list alone  ", "Shadow two lists", date(2027, 3, 1), ids[4])
    db.session.flush()
    assert (goal.goal, goal.status, goal.area_id) == ("Work a theatre list alone", GoalStatus.OPEN, ids[4])
    assert service.update_goal(programme, goal, "Work a theatre list alone", "Shadow three lists",
                               date(2027, 3, 1), ids[4]) == ["actions"]
    assert service.update_goal(programme, goal, goal.goal, goal.actions, goal.target_date, goal.area_id) == []
    assert service.set_goal_status(programme, goal, GoalStatus.ACHIEVED) is True
    assert service.set_goal_status(programme, goal, GoalStatus.ACHIEVED) is False
    db.session.flush()
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "development_goal")
                                      .order_by(AuditEvent.id)))
    assert actions == ["development_goal.add", "development_goal.update", "development_goal.status"]

    other_department_area = LearningNeedArea(department_id=make.department().id, title="Elsewhere")
    db.session.add(other_department_area)
    db.session.flush()
    with pytest.raises(LearningNeedsError):
        service.add_goal(programme, "A goal", area_id=other_department_area.id)
    with pytest.raises(LearningNeedsError):
        service.add_goal(programme, "   ")
    someone_else = make.programme()
    with pytest.raises(LearningNeedsError):
        service.set_goal_status(someone_else, goal, GoalStatus.DROPPED)


# --- access ------------------------------------------------------------------------------------

ROUTES = [("GET", "/preceptee/learning-needs"), ("GET", INITIAL), ("GET", MID_POINT), ("GET", PLAN),
          ("GET", f"{PLAN}/new"), ("GET", f"{PLAN}/1/edit"), ("POST", f"{PLAN}/1/status")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_is_sent_to_sign_in(client, method, path):
    response = client.get(path) if method == "GET" else client.submit(path, token_from="/sign-in")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("role", [Role.PRECEPTOR, Role.EDUCATION_LEAD, Role.ADMIN])
@pytest.mark.parametrize("method, path", ROUTES)
def test_other_roles_are_forbidden(client, make, role, method, path):
    make.user(role, email="other@test.nhs.uk")
    db.session.commit()
    client.sign_in("other@test.nhs.uk", PASSWORD)
    response = client.get(path) if method == "GET" else client.submit(path, token_from="/your-details")
    assert response.status_code == 403


def test_another_preceptees_goal_is_not_found(client, signed_in, make):
    theirs = service.add_goal(make.programme(), "Someone else's goal")
    db.session.commit()
    assert client.get(f"{PLAN}/{theirs.id}/edit").status_code == 404
    assert client.submit(f"{PLAN}/{theirs.id}/edit", {"goal": "Mine now"}, token_from=PLAN).status_code == 404
    assert client.submit(f"{PLAN}/{theirs.id}/status", {"status": "dropped"}, token_from=PLAN).status_code == 404
    assert client.get(f"{PLAN}/999999/edit").status_code == 404
    db.session.expire_all()
    goal = db.session.get(DevelopmentGoal, theirs.id)
    assert (goal.goal, goal.status) == ("Someone else's goal", GoalStatus.OPEN)


def test_a_preceptee_without_a_programme_sees_a_plain_message(client, make):
    make.user(Role.PRECEPTEE, email="new@test.nhs.uk")
    db.session.commit()
    client.sign_in("new@test.nhs.uk", PASSWORD)
    for path in ("/preceptee/learning-needs", INITIAL, PLAN, f"{PLAN}/new"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "You do not have a preceptorship programme yet" in response.get_data(as_text=True)
    assert client.get(f"{PLAN}/1/edit").status_code == 404


def test_unknown_stage_is_not_found(client, signed_in):
    assert client.get("/preceptee/learning-needs/final").status_code == 404


# --- the self-assessment pages -----------------------------------------------------------------

def test_self_assessment_page_has_a_fieldset_per_area_with_a_labelled_scale(client, signed_in):
    html = client.get(INITIAL).get_data(as_text=True)
    assert html.count("<legend") == len(DEFAULT_AREAS)
    assert "Radiation protection and IR(ME)R" in html
    assert "1 – Not at all confident" in html and "5 – Very confident" in html
    assert "You can enter up to 1000 characters" in html


def test_saving_the_self_assessment(client, signed_in):
    programme = signed_in
    ids = area_ids(programme)
    response = client.submit(INITIAL, form_data(programme, {ids[0]: "1", ids[1]: "2"}, {ids[0]: "Not done alone"}))
    assert response.status_code == 302 and response.headers["Location"] == "/preceptee/learning-needs"
    db.session.expire_all()
    assessment = service.assessments(programme.id)[AssessmentStage.INITIAL]
    assert assessment.completed_on == date.today()
    saved = service.ratings(assessment.id)
    assert (saved[ids[0]].confidence, saved[ids[0]].note, saved[ids[1]].confidence) == (1, "Not done alone", 2)

    summary = client.get("/preceptee/learning-needs").get_data(as_text=True)
    assert "Your initial self-assessment has been saved" in summary
    assert "You rated 2 areas 1 or 2" in summary
    # Editing shows the saved answers and saving again changes them.
    form = client.get(INITIAL).get_data(as_text=True)
    assert re.search(rf'id="confidence_{ids[0]}" name="confidence_{ids[0]}" type="radio" value="1"\s+checked', form)
    assert "Not done alone" in form
    client.submit(INITIAL, form_data(programme, {ids[0]: "4"}))
    db.session.expire_all()
    assert service.ratings(assessment.id)[ids[0]].confidence == 4


@pytest.mark.parametrize("value, message", [
    (None, "Select how confident you feel in Patient communication and consent"),
    ("", "Select how confident you feel in Patient communication and consent"),
    ("0", "Select a confidence rating from 1 to 5 for Patient communication and consent"),
    ("6", "Select a confidence rating from 1 to 5 for Patient communication and consent"),
    ("three", "Select a confidence rating from 1 to 5 for Patient communication and consent"),
])
def test_missing_or_bad_ratings_are_shown_next_to_the_fieldset_and_input_is_kept(client, signed_in, value, message):
    programme = signed_in
    ids = area_ids(programme)
    data = form_data(programme, {ids[0]: value, ids[1]: "5"}, {ids[0]: "My note", ids[2]: "Another note"})
    response = client.submit(INITIAL, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error:" in html
    assert html.count(message) == 2  # error summary and next to the fieldset
    assert f'href="#confidence_{ids[0]}"' in html and f'id="confidence_{ids[0]}-error"' in html
    assert re.search(r'value="5"\s+checked', html)  # the other ratings are kept ...
    assert "My note" in html and "Another note" in html  # ... and so are the notes
    db.session.expire_all()
    assert service.assessments(programme.id) == {}


def test_a_note_over_1000_characters_is_refused(client, signed_in):
    programme = signed_in
    ids = area_ids(programme)
    image = DEFAULT_AREAS.index("Image evaluation")
    html = client.submit(INITIAL, form_data(programme, notes={ids[image]: "n" * 1001})).get_data(as_text=True)
    assert html.count("Notes on Image evaluation must be 1000 characters or fewer") == 2
    assert f'href="#note_{ids[image]}"' in html and f'id="note_{ids[image]}-error"' in html
    assert "n" * 1001 in html  # kept, to be shortened
    db.session.expire_all()
    assert service.assessments(programme.id) == {}


def test_mid_point_is_closed_until_it_opens(client, signed_in):
    response = client.get(MID_POINT)
    assert response.status_code == 302
    assert "opens on" in client.get("/preceptee/learning-needs").get_data(as_text=True)
    response = client.submit(MID_POINT, form_data(signed_in), token_from=INITIAL)
    assert response.status_code == 302
    db.session.expire_all()
    assert service.assessments(signed_in.id) == {}


def test_summary_shows_the_change_from_initial_to_mid_point(client, make):
    service.install_default_areas()
    user = make.user(Role.PRECEPTEE, email="mid@test.nhs.uk")
    programme = make.programme(preceptee=user, start=date.today() - timedelta(days=200))
    ids = area_ids(programme)
    initial = all_rated(programme)
    initial[ids[0]] = Rating(2)
    service.save_assessment(programme, AssessmentStage.INITIAL, initial, date.today() - timedelta(days=190))
    db.session.commit()
    client.sign_in("mid@test.nhs.uk", PASSWORD)

    summary = client.get("/preceptee/learning-needs").get_data(as_text=True)
    assert "Start your mid-point self-assessment" in summary
    assert client.submit(MID_POINT, form_data(programme, {ids[0]: "4", ids[1]: "2"})).status_code == 302
    html = client.get("/preceptee/learning-needs").get_data(as_text=True)
    text = text_of(html)
    assert '<th scope="col" class="nhsuk-table__header">Change</th>' in html
    assert "Patient communication and consent 2 4 2 → to 4, up 2" in text
    assert "Radiation protection and IR(ME)R 3 2 3 → to 2, down 1" in text
    assert "Image evaluation 3 3 3 → to 3, no change" in text


# --- the development plan ----------------------------------------------------------------------

def test_suggestions_prefill_the_add_goal_form(client, signed_in):
    programme = signed_in
    ids = area_ids(programme)
    client.submit(INITIAL, form_data(programme, {ids[5]: "1"}))
    html = client.get(PLAN).get_data(as_text=True)
    assert "Suggested goals" in html and "Managing workload and prioritising" in html
    assert f'href="{PLAN}/new?area={ids[5]}"' in html
    assert db.session.scalar(select(func.count()).select_from(DevelopmentGoal)) == 0

    form = client.get(f"{PLAN}/new?area={ids[5]}").get_data(as_text=True)
    assert re.search(rf'<option value="{ids[5]}"\s+selected', form)
    assert "selected" not in client.get(f"{PLAN}/new?area=nonsense").get_data(as_text=True).split("<select")[1] \
        .split("</select>")[0].replace('value="" selected', "")


def test_adding_a_goal(client, signed_in):
    programme = signed_in
    ids = area_ids(programme)
    target = date.today() + timedelta(days=90)
    response = client.submit(f"{PLAN}/new", {
        "goal": "Run a theatre list on my own", "actions": "Shadow two lists", "area_id": str(ids[4]),
        "target_date[day]": str(target.day), "target_date[month]": str(target.month),
        "target_date[year]": str(target.year),
    })
    assert response.status_code == 302 and response.headers["Location"] == PLAN
    db.session.expire_all()
    goal = db.session.scalar(select(DevelopmentGoal))
    assert (goal.preceptorship_id, goal.goal, goal.actions, goal.area_id, goal.target_date, goal.status) == \
        (programme.id, "Run a theatre list on my own", "Shadow two lists", ids[4], target, GoalStatus.OPEN)
    html = client.get(PLAN).get_data(as_text=True)
    assert "Goal added to your development plan" in html
    assert "Run a theatre list on my own" in html and "Working in theatres and on wards" in html
    assert f"{target.day} {target:%B %Y}" in html


@pytest.mark.parametrize("parts, message, highlighted", [
    (("31", "2", "2027"), "Target date must be a real date", ("day", "month", "year")),
    (("", "3", "2027"), "Target date must include a day", ("day",)),
    (("1", "", ""), "Target date must include a month and year", ("month", "year")),
    (("1", "March", "2027"), "Target date must be a real date, using numbers only", ("month",)),
    (("1", "3", "27"), "Year must include 4 numbers", ("year",)),
    (("1", "13", "2027"), "Target date must be a real date", ("day", "month", "year")),
    (("1", "1", "2020"), "Target date must be today or in the future", ("day", "month", "year")),
])
def test_target_date_errors(client, signed_in, parts, message, highlighted):
    day, month, year = parts
    response = client.submit(f"{PLAN}/new", {"goal": "Lead a trauma list", "actions": "Ask the band 7",
                                            "target_date[day]": day, "target_date[month]": month,
                                            "target_date[year]": year})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count(message) == 2  # summary and next to the date
    assert 'href="#target_date-day"' in html and 'id="target_date-error"' in html
    for part in ("day", "month", "year"):
        tag = re.search(rf'<input[^>]*id="target_date-{part}"[^>]*>', html).group(0)
        assert ("nhsuk-input--error" in tag) == (part in highlighted), part
    for value in parts:
        if value:
            assert f'value="{value}"' in html  # what was typed is kept
    assert "Lead a trauma list" in html and "Ask the band 7" in html
    assert db.session.scalar(select(func.count()).select_from(DevelopmentGoal)) == 0


@pytest.mark.parametrize("data, message, field", [
    ({"goal": ""}, "Enter your goal", "goal"),
    ({"goal": "g" * 501}, "Goal must be 500 characters or fewer", "goal"),
    ({"goal": "A goal", "actions": "a" * 2001}, "Actions must be 2000 characters or fewer", "actions"),
    ({"goal": "A goal", "area_id": "999999"}, "Select an area from the list", "area_id"),
])
def test_goal_errors_are_shown_next_to_the_field(client, signed_in, data, message, field):
    html = client.submit(f"{PLAN}/new", data).get_data(as_text=True)
    assert message in html
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html
    assert db.session.scalar(select(func.count()).select_from(DevelopmentGoal)) == 0


def test_editing_a_goal(client, signed_in):
    programme = signed_in
    goal = service.add_goal(programme, "Old wording", target_date=date(2020, 5, 1))
    db.session.commit()
    form = client.get(f"{PLAN}/{goal.id}/edit").get_data(as_text=True)
    assert "Old wording" in form and 'value="2020"' in form
    # A goal may keep the past target date it already had.
    response = client.submit(f"{PLAN}/{goal.id}/edit", {
        "goal": "New wording", "actions": "", "area_id": "",
        "target_date[day]": "1", "target_date[month]": "5", "target_date[year]": "2020",
    })
    assert response.status_code == 302
    db.session.expire_all()
    goal = db.session.get(DevelopmentGoal, goal.id)
    assert (goal.goal, goal.target_date) == ("New wording", date(2020, 5, 1))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "development_goal.update"))
    assert event.details == {"fields": ["goal"]}
    # Clearing the date removes it.
    client.submit(f"{PLAN}/{goal.id}/edit", {"goal": "New wording", "target_date[day]": "",
                                            "target_date[month]": "", "target_date[year]": ""})
    db.session.expire_all()
    assert db.session.get(DevelopmentGoal, goal.id).target_date is None


def test_marking_a_goal_achieved_without_javascript(client, signed_in):
    goal = service.add_goal(signed_in, "Reflect on a difficult case")
    db.session.commit()
    html = client.get(PLAN).get_data(as_text=True)
    action = f"{PLAN}/{goal.id}/status"
    assert f'action="{action}" hx-post="{action}" hx-target="#goals"' in html
    response = client.submit(action, {"status": "achieved"}, token_from=PLAN)
    assert response.status_code == 302 and response.headers["Location"] == PLAN
    db.session.expire_all()
    assert db.session.get(DevelopmentGoal, goal.id).status == GoalStatus.ACHIEVED
    page = client.get(PLAN).get_data(as_text=True)
    assert "Goal marked as achieved" in page and "Reopen" in page


def test_marking_a_goal_achieved_with_htmx_redraws_the_goals_region(client, signed_in):
    goal = service.add_goal(signed_in, "Reflect on a difficult case")
    db.session.commit()
    response = client.submit(f"{PLAN}/{goal.id}/status", {"status": "achieved"}, token_from=PLAN,
                             headers={"HX-Request": "true", "HX-Target": "goals"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="goals">') and "<html" not in html
    assert "Goal marked as achieved" in html and "Achieved" in html and "Reopen" in html
    assert "HX-Target" in response.headers["Vary"]
    db.session.expire_all()
    assert db.session.get(DevelopmentGoal, goal.id).status == GoalStatus.ACHIEVED
    # The plan page itself as a fragment, for the same region.
    fragment = client.get(PLAN, headers={"HX-Request": "true", "HX-Target": "goals"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="goals">') and "Suggested goals" not in fragment
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "development_goal.status"))
    assert event.details == {"from": "open", "to": "achieved"}


def test_a_bad_status_is_refused_not_an_error(client, signed_in):
    goal = service.add_goal(signed_in, "A goal")
    db.session.commit()
    assert client.submit(f"{PLAN}/{goal.id}/status", {"status": "deleted"}, token_from=PLAN).status_code == 400
    db.session.expire_all()
    assert db.session.get(DevelopmentGoal, goal.id).status == GoalStatus.OPEN


def test_goal_text_is_escaped(client, signed_in):
    service.add_goal(signed_in, "<script>alert(1)</script>")
    db.session.commit()
    html = client.get(PLAN).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
