"""The password policy: long enough, not absurdly long, not a common password or an easy
variation of one, and not the person's own email address or name.

Common passwords come from `preceptor/data/common_passwords.txt` (shipped with the package),
read once. A password is also refused when, with digits and punctuation taken off its ends and
look-alike characters read as letters ("P@ssw0rd2024!" is "password"), it is one of those
passwords or the word at its heart.
"""

import string
from functools import cache
from importlib.resources import files

from flask import current_app

from ..models import User

PASSWORD_MAX_LENGTH = 256
COMMON_PASSWORDS = ("data", "common_passwords.txt")  # inside the preceptor package
SHORTEST_CORE = 4  # a shorter word at the heart of a password is not worth refusing on

PADDING = string.digits + string.punctuation + string.whitespace
LOOK_ALIKES = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s",
                             "7": "t"})

TOO_COMMON = "This password is too common. Choose one that would be harder to guess"
TOO_PERSONAL = "Password must not be your email address or name"


def password_problem(password: str, user: User | None = None) -> str | None:
    """Why `password` may not be used (a message for the person choosing it), or None if it can."""
    shortest = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < shortest:
        return f"Password must be at least {shortest} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer"
    typed = _plain(password)
    forms = {typed, _core(typed)}
    if user is not None and forms & _personal(user):
        return TOO_PERSONAL
    if forms & common_passwords():
        return TOO_COMMON
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, plus the word at the heart of each entry ("password" for "password123456")."""
    text = files("preceptor").joinpath(*COMMON_PASSWORDS).read_text(encoding="utf-8")
    entries = {_plain(line) for line in text.splitlines() if line.strip() and not line.startswith("#")}
    return frozenset(entries | {core for core in map(_core, entries) if len(core) >= SHORTEST_CORE})


def _personal(user: User) -> set[str]:
    email = _plain(user.email or "")
    words = {email, email.partition("@")[0], _plain(user.name or "")}
    return {w for w in words | {_core(w) for w in words} if len(w) >= SHORTEST_CORE}


def _plain(text: str) -> str:
    """Lower case, spaces ignored."""
    return "".join(text.lower().split())


def _core(text: str) -> str:
    """Digits and punctuation off both ends, then look-alikes as letters: "p@ssw0rd2024!" -> "password"."""
    return text.strip(PADDING).translate(LOOK_ALIKES)
