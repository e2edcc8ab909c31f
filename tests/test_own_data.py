"""A person's own data: all of it (their programme and everything under it, what they did as a
preceptor), none of anyone else's, no secrets, as a page and as JSON."""

import json

import pytest

from preceptor.extensions import db
from preceptor.models import Role, User
from preceptor.services.framework import install_default_framework
from preceptor.services.own_data import own_data

from .factories import PASSWORD


@pytest.fixture
def sam_and_others(make):
    install_default_framework()
    department = make.department("CT")
    preceptor = make.preceptor(department, name="Priya Preceptor")
    sam = make.user(Role.PRECEPTEE, email="sam@test.nhs.uk", name="Sam Preceptee")
    programme = make.programme(preceptee=sam, department=department, preceptor=preceptor)
    milestone = make.sign_off_request(programme, 0, "Sam's reflection on CT heads", what_happened="Sam's scan")
    other = make.programme(department=department, preceptor=preceptor)
    make.sign_off_request(other, 0, "Someone else's reflection", what_happened="Their scan")
    return sam, preceptor, programme, milestone


def test_everything_of_theirs_and_nothing_of_anyone_else(sam_and_others):
    sam, _, programme, milestone = sam_and_others
    data = own_data(sam)
    assert [row["email"] for row in data["user"]] == ["sam@test.nhs.uk"]
    assert [row["id"] for row in data["preceptorship"]] == [programme.id]
    assert milestone.id in {row["id"] for row in data["milestone"]}
    assert {row["title"] for row in data["log_entry"]} == {"Sam's reflection on CT heads"}
    assert [row["milestone_id"] for row in data["sign_off_request"]] == [milestone.id]
    assert data["allocation"] and all(row["preceptorship_id"] == programme.id for row in data["allocation"])
    assert "Someone else" not in json.dumps(data)


def test_no_secrets(sam_and_others):
    sam = sam_and_others[0]
    dumped = json.dumps(own_data(sam))
    assert "password_hash" not in dumped and db.session.get(User, sam.id).password_hash not in dumped


def test_a_preceptor_gets_what_they_did_not_their_preceptees_records(sam_and_others):
    _, preceptor, programme, _ = sam_and_others
    data = own_data(preceptor)
    assert {row["preceptorship_id"] for row in data["allocation"]} >= {programme.id}
    assert "preceptorship" not in data and "log_entry" not in data  # theirs to download, not the preceptor's
    assert data["preceptor_profile"][0]["user_id"] == preceptor.id


def test_the_page_and_the_download(client, sam_and_others):
    client.sign_in("sam@test.nhs.uk", PASSWORD)
    page = client.get("/your-data")
    assert page.status_code == 200 and "Sam&#39;s reflection on CT heads" in page.text
    download = client.get("/your-data.json")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "no-store"
    body = download.get_json()
    assert body["tables"]["user"][0]["name"] == "Sam Preceptee"
    # Taking a copy is itself on the record.
    assert any(row["action"] == "user.download_own_data" for row in own_data(sam_and_others[0])["audit_event"])


def test_signed_out_goes_to_sign_in(client):
    assert client.get("/your-data").status_code == 302
    assert client.get("/your-data.json").status_code == 302
