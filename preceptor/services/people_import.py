"""Adding many people at once from a CSV file: read and check every row (a preview that writes
nothing), then create every new account with its roles, department and invitation link in one
transaction.

A row whose email already has an account is listed as "already in the portal" and skipped,
so importing the same file again changes nothing; an existing account is changed on its own
page, never by a file. New starters' programmes come from the education lead's ESR import;
this file is for staff: preceptors, education leads, administrators, and preceptees whose
programme a lead will start.

The department column means the department a preceptor works in (their place in the
register) and the department an education lead looks after (their scope, widened on the
person's page). A preceptor needs their HCPC registration date: capacity counts preceptors
registered at least 12 months.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Department, LinkPurpose, PreceptorProfile, Role, User
from . import account_links, accounts, audit
from .csv_upload import MAX_BYTES, CheckedRow, Column, decode, read_rows, words
from .starter_values import email_problem, hcpc_problem, name_problem, normalise_hcpc, parse_date
from .starters import Departments

COLUMNS = (
    Column("name", "Full Name", True),
    Column("email", "Email", True),
    Column("roles", "Roles", True),
    Column("hcpc_number", "HCPC Number", False),
    Column("site", "Site", False),
    Column("department", "Department", False),
    Column("registered_on", "HCPC Registration Date", False),
    Column("trained_on", "Preceptor Training Date", False),
)
HEADINGS = {column.key: column.heading for column in COLUMNS}
ROLE_WORDS = {**{words(role.label): role for role in Role}, **{words(role.value): role for role in Role},
              "administrator": Role.ADMIN, "lead": Role.EDUCATION_LEAD}
ROLE_SEPARATORS = re.compile(r"[;|/+]|\band\b", re.IGNORECASE)
WITH_DEPARTMENT = (Role.PRECEPTOR, Role.EDUCATION_LEAD)
ROLES_HELP = ("Roles must be preceptee, preceptor, education lead or administrator; "
              "separate several with semicolons")


class ImportRefused(Exception):
    """An import asked for while rows still have problems: nothing is written."""


@dataclass
class PersonRow(CheckedRow):
    """One person read from a file line, checked."""

    name: str = ""
    email: str = ""
    hcpc_number: str | None = None
    roles: list[Role] = field(default_factory=list)
    department_id: int | None = None
    department_name: str = ""
    registered_on: date | None = None
    trained_on: date | None = None
    already: bool = False  # an account with this email exists: skipped


@dataclass
class Preview:
    rows: list[PersonRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    text: str = ""
    fingerprint: str = ""

    @property
    def bad_rows(self) -> list[PersonRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def new_rows(self) -> list[PersonRow]:
        return [row for row in self.rows if row.ok and not row.already]

    @property
    def already_rows(self) -> list[PersonRow]:
        return [row for row in self.rows if row.ok and row.already]

    @property
    def importable(self) -> bool:
        return not self.file_problems and not self.bad_rows and bool(self.rows)


@dataclass(frozen=True)
class Invited:
    user: User
    token: str  # shown once on the result page, never stored


def parse_roles(text: str) -> list[Role] | None:
    """Roles by their words ("Preceptor; Education lead"), in the portal's order; None if any
    is unknown or none is given."""
    parts = [words(part) for part in ROLE_SEPARATORS.split(text.replace(",", ";"))]
    found = [ROLE_WORDS.get(part) for part in parts if part]
    if not found or None in found:
        return None
    return [role for role in Role if role in found]


def _past_date(row: PersonRow, key: str, label: str, today: date, required: bool) -> date | None:
    typed = row.values.get(key, "")
    if not typed:
        if required:
            row.refuse(key, f"Enter the {label} for a preceptor")
        return None
    day = parse_date(typed)
    if day is None:
        row.refuse(key, f"{label.capitalize()} {typed!r} is not a real date: write it like 2019-07-01 or 01/07/2019")
    elif day > today:
        row.refuse(key, f"{label.capitalize()} must be today or in the past")
    return day


def check_values(row: PersonRow, departments: Departments, today: date) -> PersonRow:
    """Turn the row's typed values into a person, noting each value that is wrong."""
    values = row.values
    row.name = " ".join(values.get("name", "").split())
    if problem := name_problem(row.name, "person"):
        row.refuse("name", problem)
    row.email = User.normalise_email(values.get("email", ""))
    if problem := email_problem(row.email, "person"):
        row.refuse("email", problem)
    row.hcpc_number = normalise_hcpc(values.get("hcpc_number", "")) or None
    if problem := hcpc_problem(row.hcpc_number or ""):
        row.refuse("hcpc_number", problem)
    roles = parse_roles(values.get("roles", ""))
    if roles is None:
        row.refuse("roles", ROLES_HELP)
    else:
        row.roles = roles
    site, name = values.get("site", ""), values.get("department", "")
    if set(row.roles) & set(WITH_DEPARTMENT) or site or name:
        department = departments.find(row, site, name)
        if department is not None:
            row.department_id, row.department_name = department.id, department.full_name
    if Role.PRECEPTOR in row.roles:
        row.registered_on = _past_date(row, "registered_on", "HCPC registration date", today, required=True)
        row.trained_on = _past_date(row, "trained_on", "preceptor training date", today, required=False)
        if row.registered_on and row.trained_on and row.trained_on < row.registered_on:
            row.refuse("trained_on", "Preceptor training date must be on or after the HCPC registration date")
    return row


def check_against_portal(rows: list[PersonRow]) -> list[PersonRow]:
    """Duplicates within the file, and each row against the accounts already in the portal: an
    email with an account is skipped; an HCPC number held by someone else is refused. Two
    queries whatever the number of rows."""
    first_email: dict[str, int] = {}
    first_hcpc: dict[str, int] = {}
    for row in rows:
        if row.email and not row.problems_for("email"):
            if row.email in first_email:
                row.refuse("email", f"The same email as line {first_email[row.email]}: each person must appear once")
            first_email.setdefault(row.email, row.line)
        if row.hcpc_number and not row.problems_for("hcpc_number"):
            if row.hcpc_number in first_hcpc:
                row.refuse("hcpc_number", f"The same HCPC number as line {first_hcpc[row.hcpc_number]}")
            first_hcpc.setdefault(row.hcpc_number, row.line)
    taken = set(db.session.scalars(select(User.email).where(User.email.in_(list(first_email))))) if first_email \
        else set()
    holders = set(db.session.scalars(select(User.hcpc_number).where(User.hcpc_number.in_(list(first_hcpc))))) \
        if first_hcpc else set()
    for row in rows:
        if row.email in taken:
            row.already = True
            row.problems.clear()  # nothing of this row is written, so nothing in it can be wrong
        elif row.hcpc_number in holders:
            row.refuse("hcpc_number", "This HCPC number already belongs to someone else in the portal")
    return rows


def preview_text(text: str, today: date) -> Preview:
    """Read and check decoded CSV text (the upload, or the text carried to the confirm step)."""
    preview = Preview(text=text, fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if len(text.encode("utf-8")) > MAX_BYTES:
        preview.file_problems.append(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        return preview
    rows, problems = read_rows(text, COLUMNS, lambda line, values: PersonRow(line=line, values=values), "people")
    if problems:
        preview.file_problems = problems
        return preview
    departments = Departments.load(None)
    preview.rows = check_against_portal([check_values(row, departments, today) for row in rows])
    return preview


def preview_file(data: bytes, today: date) -> Preview:
    """Read and check an uploaded file: nothing is written."""
    text, problem = decode(data, "Choose a CSV file of people.")
    if problem:
        return Preview(file_problems=[problem])
    return preview_text(text, today)


def import_people(rows: Sequence[PersonRow], by: User, fingerprint: str) -> list[Invited]:
    """Create every new person with their roles, department and an invitation link. Refuses
    (writing nothing) if any row has a problem. Audited; the caller commits once."""
    if not rows or any(not row.ok for row in rows):
        raise ImportRefused("Nothing was imported: some rows still have problems.")
    invited = []
    for row in rows:
        if row.already:
            continue
        user = accounts.create_user(row.email, row.name, row.roles, hcpc_number=row.hcpc_number)
        if Role.EDUCATION_LEAD in row.roles:
            user.lead_departments = [db.session.get(Department, row.department_id)]
        if Role.PRECEPTOR in row.roles:
            db.session.add(PreceptorProfile(user=user, department_id=row.department_id,
                                            registered_on=row.registered_on, trained_on=row.trained_on))
        db.session.flush()
        audit.record("person.create", user, actor_id=by.id, details={
            "via": "import", "roles": [role.value for role in row.roles], "department_id": row.department_id})
        invited.append(Invited(user, account_links.issue(user, LinkPurpose.INVITE, by)))
    audit.record("people.import", None, actor_id=by.id, details={
        "imported": len(invited), "already": sum(row.already for row in rows),
        "user_ids": [i.user.id for i in invited], "sha256": fingerprint})
    return invited
