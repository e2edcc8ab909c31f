"""New starters: checking the rows read from the ESR extract (or typed into the lead's form)
against the departments and the portal, previewing a file, and starting their preceptorships.

Reading a file is in `esr_extract`, the rules for one value at a time in `starter_values`.
The rules live once, for both ways in: a CSV upload (previewed, then imported) and the lead's
hand-entry form. Reading never writes; `import_starters` writes but never commits, so the
view commits the whole import as one transaction or nothing at all.

Idempotency: a starter is "already imported" when the person with that email already has a
programme in that department starting on that date. Re-importing the same file therefore
changes nothing, and a file that grew by a few rows imports only the new ones.

Reusing an email: an email that already belongs to someone in the portal is the same person
when the name matches (ignoring case and spacing) or both records carry the same HCPC number.
Then they get the preceptee role and the new programme on their existing account (a preceptor
starting a new role, someone returning to practice). Otherwise the row is refused: an
import must never attach a programme to somebody else's account.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import RUNNING_STATUSES, Department, Preceptorship, Role, Site, TransitionType, User
from . import accounts, audit
from .esr_extract import MAX_BYTES, decode, read_rows
from .programmes import start_preceptorship
from .starter_values import (
    StarterRow,
    _words,
    email_problem,
    hcpc_problem,
    name_problem,
    normalise_hcpc,
    parse_date,
    parse_transition,
    start_date_problem,
)

# Programme lengths a lead may choose (PRODUCT.md: 12 months; a 6-month minimum variant).
PROGRAMME_MONTHS = (12, 6)
# The new starters page lists programmes that start in the future or started this recently.
RECENT = timedelta(weeks=8)
_QUERY_CHUNK = 500  # ids per IN (...): well inside every database's limit on parameters

# Accounts an import never changes: a lead may not give roles or programmes to these.
STAFF_ROLES = {Role.EDUCATION_LEAD, Role.ADMIN}


@dataclass
class Preview:
    """A file read and checked: file-wide problems (nothing could be read as rows) or rows."""

    rows: list[StarterRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    text: str = ""  # the decoded file, carried to the confirm step
    fingerprint: str = ""  # SHA-256 of the text: recorded in the audit log, never the content

    @property
    def bad_rows(self) -> list[StarterRow]:
        return [row for row in self.rows if not row.ok]

    @property
    def new_rows(self) -> list[StarterRow]:
        return [row for row in self.rows if row.ok and not row.already_imported]

    @property
    def already_rows(self) -> list[StarterRow]:
        return [row for row in self.rows if row.ok and row.already_imported]

    @property
    def importable(self) -> bool:
        """Nothing wrong anywhere: the whole file can go in (possibly all already there)."""
        return not self.file_problems and not self.bad_rows and bool(self.rows)


@dataclass(frozen=True)
class ImportResult:
    imported: int
    already: int
    programme_ids: tuple[int, ...] = ()


class StartersRefused(Exception):
    """An import asked for with rows that still have problems: nothing is written."""


# --- each row's values, against the departments ----------------------------------------------

@dataclass
class Departments:
    """Every department by (site, name), and which of them the lead may import into."""

    by_name: dict[tuple[str, str], Department]
    sites: set[str]
    scope: set[int] | None  # None: every department (a trust-wide lead)

    @classmethod
    def load(cls, scope: Iterable[int] | None) -> "Departments":
        departments = db.session.scalars(select(Department).join(Site)).all()
        return cls(by_name={(_words(d.site.name), _words(d.name)): d for d in departments},
                   sites={_words(d.site.name) for d in departments},
                   scope=None if scope is None else set(scope))

    def in_scope(self, department: Department) -> bool:
        return self.scope is None or department.id in self.scope

    def find(self, row, site: str, name: str) -> Department | None:
        """The open, in-scope department called `name` at `site`, or None with the reason
        noted on `row` against the site or department column."""
        department = self.by_name.get((_words(site), _words(name)))
        if not site:
            row.refuse("site", "Enter the site")
        elif not name:
            row.refuse("department", "Enter the department")
        elif _words(site) not in self.sites:
            row.refuse("site", f"There is no site called {site!r} in the portal")
        elif department is None:
            row.refuse("department", f"There is no department called {name!r} at {site}")
        elif department.archived_at is not None:
            row.refuse("department", f"{department.full_name} has closed")
        elif not self.in_scope(department):
            row.refuse("department", f"{department.full_name} is not one of your departments")
        else:
            return department
        return None


def check_values(row: StarterRow, departments: Departments, today: date) -> StarterRow:
    """Turn the row's typed values into a starter, noting each value that is wrong."""
    values = row.values
    row.name = " ".join(values.get("name", "").split())
    if problem := name_problem(row.name):
        row.refuse("name", problem)
    row.email = User.normalise_email(values.get("email", ""))
    if problem := email_problem(row.email):
        row.refuse("email", problem)
    row.hcpc_number = normalise_hcpc(values.get("hcpc_number", "")) or None
    if problem := hcpc_problem(row.hcpc_number or ""):
        row.refuse("hcpc_number", problem)

    row.department = departments.find(row, values.get("site", ""), values.get("department", ""))

    typed = values.get("start_date", "")
    row.start_date = parse_date(typed)
    if not typed:
        row.refuse("start_date", "Enter the start date")
    elif row.start_date is None:
        row.refuse("start_date", f"Start date {typed!r} is not a real date: write it like 2026-09-07 or 07/09/2026")
    elif problem := start_date_problem(row.start_date, today):
        row.refuse("start_date", problem)

    transition = parse_transition(values.get("transition", ""))
    if transition is None:
        row.refuse("transition", "Transition must be newly qualified, return to practice, international recruit "
                                 "or new role")
    else:
        row.transition = transition
    months = values.get("months", "").strip() or str(PROGRAMME_MONTHS[0])
    if months.isdigit() and int(months) in PROGRAMME_MONTHS:
        row.months = int(months)
    else:
        row.refuse("months", f"Programme months must be {' or '.join(map(str, PROGRAMME_MONTHS))}")
    return row


# --- against each other and against the portal --------------------------------------------------

def _chunks(items: Sequence, size: int = _QUERY_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _load(column, values: set) -> list:
    """Users (or programmes) where `column` is one of `values`, a chunk of ids at a time."""
    found = []
    for chunk in _chunks(sorted(values)):
        found.extend(db.session.scalars(select(column.class_).where(column.in_(chunk))))
    return found


def same_person(user: User, row: StarterRow) -> bool:
    """See the module's docstring: the name matches, or both carry the same HCPC number."""
    return _words(user.name) == _words(row.name) or bool(row.hcpc_number and user.hcpc_number == row.hcpc_number)


def check_against_portal(rows: list[StarterRow]) -> list[StarterRow]:
    """Duplicates within the rows, and each row against the people and programmes already in
    the portal: already imported, someone else's email or HCPC number, a programme still running.
    A fixed number of queries, whatever the number of rows."""
    first_email: dict[str, int] = {}
    first_hcpc: dict[str, int] = {}
    for row in rows:
        if row.email and not row.problems_for("email"):
            if row.email in first_email:
                row.refuse("email", f"The same starter (email) as line {first_email[row.email]}: "
                                    "each starter must appear once")
            first_email.setdefault(row.email, row.line)
        if row.hcpc_number and not row.problems_for("hcpc_number"):
            if row.hcpc_number in first_hcpc:
                row.refuse("hcpc_number", f"The same HCPC number as line {first_hcpc[row.hcpc_number]}")
            first_hcpc.setdefault(row.hcpc_number, row.line)

    users = {u.email: u for u in _load(User.email, set(first_email))}
    by_hcpc = {u.hcpc_number: u for u in _load(User.hcpc_number, set(first_hcpc))}
    programmes: dict[int, list[Preceptorship]] = {}
    for programme in _load(Preceptorship.preceptee_id, {u.id for u in users.values()}):
        programmes.setdefault(programme.preceptee_id, []).append(programme)

    for row in rows:
        user = users.get(row.email)
        holder = by_hcpc.get(row.hcpc_number) if row.hcpc_number else None
        if user is None:
            if holder is not None:
                row.refuse("hcpc_number", "This HCPC number already belongs to someone else in the portal")
            continue
        theirs = programmes.get(user.id, [])
        if row.department is not None and any(
                p.department_id == row.department.id and p.start_date == row.start_date for p in theirs):
            row.already_imported = True
            continue
        if user.erased_at is not None or not user.active:
            row.refuse("email", "This email belongs to an account that has been closed. Ask an administrator")
        elif user.roles & STAFF_ROLES:
            row.refuse("email", "This email belongs to an education lead or administrator. Ask an administrator "
                                "to start their programme")
        elif not same_person(user, row):
            row.refuse("email", "This email already belongs to someone else in the portal, under a different name. "
                                "Check the email, or the name if they have changed it")
        elif row.hcpc_number and user.hcpc_number and user.hcpc_number != row.hcpc_number:
            row.refuse("hcpc_number", "This email belongs to someone with a different HCPC number")
        elif holder is not None and holder.id != user.id:
            row.refuse("hcpc_number", "This HCPC number already belongs to someone else in the portal")
        elif any(p.status in RUNNING_STATUSES for p in theirs):
            row.refuse("start_date", "This person already has a preceptorship running: it must end before "
                                     "another can start")
        else:
            row.existing_user = user
    return rows


def preview_text(text: str, scope: Iterable[int] | None, today: date) -> Preview:
    """Read and check decoded CSV text (the upload, or the text carried to the confirm step)."""
    preview = Preview(text=text, fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if len(text.encode("utf-8")) > MAX_BYTES:
        preview.file_problems.append(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        return preview
    rows, problems = read_rows(text)
    if problems:
        preview.file_problems = problems
        return preview
    departments = Departments.load(scope)
    preview.rows = check_against_portal([check_values(row, departments, today) for row in rows])
    return preview


def preview_file(data: bytes, scope: Iterable[int] | None, today: date) -> Preview:
    """Read and check an uploaded file, as bytes: nothing is written."""
    text, problem = decode(data)
    if problem:
        return Preview(file_problems=[problem])
    return preview_text(text, scope, today)



# --- writing ----------------------------------------------------------------------------------

def import_starters(rows: Sequence[StarterRow], *, actor_id: int | None, source: str,
                    fingerprint: str | None = None) -> ImportResult:
    """Start a preceptorship for every row not already imported: a new preceptee account, or
    the same person's existing one. Refuses (writing nothing) if any row has a problem.
    Audited; the caller commits, once, so the import is whole or absent."""
    if not rows or any(not row.ok for row in rows):
        raise StartersRefused("Nothing was imported: some rows still have problems.")
    programme_ids = []
    for row in rows:
        if row.already_imported:
            continue
        user = row.existing_user
        if user is None:
            user = accounts.create_user(row.email, row.name, [Role.PRECEPTEE], password=None,
                                        hcpc_number=row.hcpc_number)
            db.session.flush()
            audit.record("user.create", user, actor_id=actor_id, details={"roles": ["preceptee"], "via": source})
        else:
            changed = {}
            if not user.has_role(Role.PRECEPTEE):
                user.grant(Role.PRECEPTEE)
                changed["role"] = Role.PRECEPTEE.value
            if row.hcpc_number and not user.hcpc_number:
                user.hcpc_number = row.hcpc_number
                changed["hcpc_number"] = "added"  # never the number: the log outlives erasure
            if changed:
                audit.record("user.update", user, actor_id=actor_id, details={**changed, "via": source})
        programme = start_preceptorship(user, row.department, row.start_date, row.transition, row.months)
        programme_ids.append(programme.id)
    result = ImportResult(imported=len(programme_ids), already=sum(row.already_imported for row in rows),
                          programme_ids=tuple(programme_ids))
    audit.record("starters.import", None, actor_id=actor_id, details={
        "source": source, "imported": result.imported, "already": result.already,
        "preceptorship_ids": list(programme_ids), "sha256": fingerprint})
    return result


def hand_entered(*, name: str, email: str, hcpc_number: str, department: Department, start_date: date,
                 transition: TransitionType, months: int) -> StarterRow:
    """One starter typed into the lead's form (each value already checked by the form with the
    functions in `starter_values`), checked against the portal as a file row would be."""
    row = StarterRow(line=0, values={}, name=" ".join(name.split()), email=User.normalise_email(email),
                     hcpc_number=normalise_hcpc(hcpc_number) or None, department=department,
                     start_date=start_date, transition=transition, months=months)
    return check_against_portal([row])[0]
