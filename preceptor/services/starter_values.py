"""New starters, one value at a time: checking a name, email, HCPC number or start date, and
parsing a typed date or transition, plus the row those checks are recorded on.

Both ways in share these rules, so they live apart from either: the ESR extract
(`esr_extract` reads a file into rows, `starters.check_values` checks them) and the lead's
hand-entry form, which checks each field with the same functions. Nothing here touches the
database.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email

from ..models import Department, TransitionType, User
from ..models.people import HCPC_NUMBER
from .csv_upload import CheckedRow
from .csv_upload import words as _words

NAME_MAX = 120
EMAIL_MAX = 254
# A start date further out than this is almost always a typing slip in the year.
EARLIEST_START = timedelta(days=365)
LATEST_START = timedelta(days=2 * 365)


@dataclass
class StarterRow(CheckedRow):
    """One starter as read from a file line (or the hand-entry form) with what is wrong with it."""

    name: str = ""
    email: str = ""
    hcpc_number: str | None = None
    department: Department | None = None
    start_date: date | None = None
    transition: TransitionType = TransitionType.NEWLY_QUALIFIED
    months: int = 12
    already_imported: bool = False
    existing_user: User | None = None  # the same person's account, reused on import


def name_problem(name: str, who: str = "starter") -> str | None:
    if not name:
        return f"Enter the {who}'s full name"
    if len(name) > NAME_MAX:
        return f"Full name must be {NAME_MAX} characters or fewer"
    if any(unicodedata.category(character) == "Cc" for character in name):
        return "Full name must not contain control characters, like tabs or line breaks"
    return None


def email_problem(email: str, who: str = "starter") -> str | None:
    if not email:
        return f"Enter the {who}'s email address"
    if len(email) > EMAIL_MAX:
        return f"Email must be {EMAIL_MAX} characters or fewer"
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return "Enter an email address in the correct format, like name@nhs.net"
    return None


def normalise_hcpc(value: str) -> str:
    """HCPC numbers are written "RA 123456" or "ra123456" as often as "RA123456"."""
    return "".join(value.split()).upper()


def hcpc_problem(hcpc_number: str) -> str | None:
    if hcpc_number and not HCPC_NUMBER.match(hcpc_number):
        return "HCPC number must be RA followed by up to 8 digits, like RA123456"
    return None


def start_date_problem(start: date, today: date) -> str | None:
    if start < today - EARLIEST_START:
        return "Start date must be no more than a year ago"
    if start > today + LATEST_START:
        return "Start date must be no more than 2 years from today"
    return None


MONTH_NAMES = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ESR = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")  # Oracle's style, which ESR reports use


def parse_date(text: str) -> date | None:
    """2026-09-07, 07/09/2026 (day first, as in the UK) or 07-Sep-2026; None if not a real date."""
    text = text.strip()
    try:
        if match := _ISO.fullmatch(text):
            year, month, day = map(int, match.groups())
        elif match := _UK.fullmatch(text):
            day, month, year = map(int, match.groups())
        elif (match := _ESR.fullmatch(text)) and match[2].lower() in MONTH_NAMES:
            day, month, year = int(match[1]), MONTH_NAMES[match[2].lower()], int(match[3])
        else:
            return None
        return date(year, month, day)
    except ValueError:
        return None


TRANSITIONS = {_words(t.label): t for t in TransitionType}


def parse_transition(text: str) -> TransitionType | None:
    """A transition by its words ("Return to practice", "return_to_practice"); empty is the default."""
    if not text.strip():
        return TransitionType.NEWLY_QUALIFIED
    return TRANSITIONS.get(_words(text.replace("_", " ").replace("-", " ")))
