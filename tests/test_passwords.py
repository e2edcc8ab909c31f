"""The password policy on its own: length, the shipped list of common passwords and easy
variations of them, and the person's own email address and name."""

from importlib.resources import files

import pytest

from preceptor.models import User
from preceptor.services.passwords import (
    PASSWORD_MAX_LENGTH,
    TOO_COMMON,
    TOO_PERSONAL,
    common_passwords,
    password_problem,
)

GOOD = "kettle-orbit-marsh-velvet"


def person() -> User:
    return User(email="jane.smithson@test.nhs.uk", name="Jane Smithson")


@pytest.mark.parametrize("password, problem", [
    ("x" * 11, "Password must be at least 12 characters"),
    ("tqzvbnwrplmk", None),  # 12 characters is enough
    ("ü" * 11, "Password must be at least 12 characters"),  # characters, not bytes
    ("mq" * (PASSWORD_MAX_LENGTH // 2), None),
    ("mq" * (PASSWORD_MAX_LENGTH // 2) + "z", f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer"),
    ("qwertyuiop123", TOO_COMMON),
    ("QwertyUiop123", TOO_COMMON),  # case does not matter
    ("Password123456!", TOO_COMMON),  # the list's "password123456" with other digits and a symbol
    ("!!password2026", TOO_COMMON),  # ... or with them in front
    ("P@ssw0rd2024!", TOO_COMMON),  # look-alike characters read as letters
    ("Liverpool1892", TOO_COMMON),
    ("letmein please", TOO_COMMON),  # spaces ignored
    ("Preceptorship2026", TOO_COMMON),
    ("summer2025!!", TOO_COMMON),
    ("123456789012", TOO_COMMON),
    ("radiographer-orbit-velvet", None),  # a common word inside a longer passphrase is fine
    (GOOD, None),
])
def test_policy(app, password, problem):
    assert password_problem(password) == problem


@pytest.mark.parametrize("password", [
    "jane.smithson@test.nhs.uk",
    "JANE.SMITHSON@TEST.NHS.UK",
    "jane.smithson2026",  # the email's name part, padded with digits
    "Jane Smithson",
    "janesmithson",
    "JaneSmithson 2026!",
])
def test_the_persons_email_or_name_is_refused(app, password):
    assert password_problem(password, person()) == TOO_PERSONAL
    assert password_problem(GOOD, person()) is None


def test_minimum_length_follows_the_setting(app):
    app.config["PASSWORD_MIN_LENGTH"] = 16
    assert password_problem("tqzvbnwrplmk") == "Password must be at least 16 characters"


def test_the_list_ships_in_the_package_and_is_read_once(app):
    text = files("preceptor").joinpath("data", "common_passwords.txt").read_text(encoding="utf-8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(entries) >= 300
    assert all(entry == entry.lower() and len(entry) >= 12 for entry in entries)
    assert len(set(entries)) == len(entries)
    assert set(entries) <= common_passwords()
