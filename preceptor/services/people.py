"""People, for administrators: finding them, adding someone with an invitation link, changing
what they may do (their roles, and the departments an education lead looks after), deactivating
and reactivating an account, and forcing a password reset.

A person is never deleted: deactivating ends their sessions and stops them signing in, and
everything they did stays. There is always at least one active administrator. Each decision is
audited with its before and after as ids and values (no names: the log outlives erasure).
Nothing here commits.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    AccountLink,
    AuditEvent,
    Department,
    LinkPurpose,
    PreceptorProfile,
    Preceptorship,
    Role,
    Site,
    User,
    UserRole,
    lead_department,
)
from ..models._columns import utcnow
from . import account_links, accounts, audit
from .scope import open_departments

PER_PAGE = 50
LAST_ADMIN = "There must always be at least one active administrator"
DUPLICATE_EMAIL = "An account with this email already exists"
DUPLICATE_HCPC = "This HCPC registration number belongs to another account"
NO_ROLE = "Choose at least one role"
UNKNOWN_ROLE = "Choose roles from the list"
UNKNOWN_DEPARTMENT = "Choose departments from the list"
NO_SCOPE = "Choose the departments this education lead looks after, or the whole trust"


class PeopleRefused(ValueError):
    """A change the rules refuse. The message is for the administrator; `field` names the form
    field it belongs beside, or None for the page as a whole."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Status(enum.StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class Link(enum.StrEnum):
    """How a person belongs to a department, as the people list shows it."""

    LEADS = "Leads"
    PRECEPTS = "Preceptor"
    PRECEPTEE = "Preceptee"


@dataclass(frozen=True)
class Membership:
    department_id: int
    department: str  # "CT, Royal Preston"
    link: Link


@dataclass(frozen=True)
class PersonRow:
    user: User
    departments: list[Membership] = field(default_factory=list)


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    total: int
    page: int
    pages: int


def _tag(link: Link) -> sa.ColumnElement[str]:
    # Cast, so PostgreSQL knows the type of a constant in a UNION.
    return sa.cast(sa.literal(link.name), sa.String(10)).label("link")


def _memberships() -> sa.Subquery:
    """(user_id, department_id, link) for every way a person belongs to a department: the
    departments they lead, the one they precept in, and those of their running programmes."""
    return sa.union_all(
        sa.select(lead_department.c.user_id, lead_department.c.department_id, _tag(Link.LEADS)),
        sa.select(PreceptorProfile.user_id, PreceptorProfile.department_id, _tag(Link.PRECEPTS)),
        sa.select(Preceptorship.preceptee_id, Preceptorship.department_id, _tag(Link.PRECEPTEE))
        .where(Preceptorship.status.in_(RUNNING_STATUSES)),
    ).subquery("membership")


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def people(search: str = "", role: Role | None = None, department_id: int | None = None,
           status: Status | None = None, page: int = 1) -> PeoplePage:
    """A page of people by name, with their roles and departments: three queries whatever the
    page holds (the count, the people with their roles, their departments). `search` matches
    name, email or HCPC number, ignoring case; a page past the end is the last page."""
    query = sa.select(User)
    if search:
        pattern = _like(search)
        query = query.where(sa.or_(*(sa.func.lower(column).like(pattern, escape="\\")
                                     for column in (User.name, User.email, User.hcpc_number))))
    if role is not None:
        query = query.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == role)))
    if department_id is not None:
        memberships = _memberships()
        query = query.where(User.id.in_(sa.select(memberships.c.user_id)
                                        .where(memberships.c.department_id == department_id)))
    can_sign_in = User.active.is_(True) & User.erased_at.is_(None)
    if status is Status.ACTIVE:
        query = query.where(can_sign_in)
    elif status is Status.DEACTIVATED:
        query = query.where(~can_sign_in)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    users = db.session.scalars(query.order_by(User.name, User.id).limit(PER_PAGE)
                               .offset((page - 1) * PER_PAGE)).all()  # roles come with them (selectin)
    departments = _departments_of([user.id for user in users])
    return PeoplePage([PersonRow(user, departments.get(user.id, [])) for user in users], total, page, pages)


def _departments_of(user_ids: list[int]) -> dict[int, list[Membership]]:
    if not user_ids:
        return {}
    memberships = _memberships()
    rows = db.session.execute(
        sa.select(memberships.c.user_id, Department.id, Department.name, Site.name, memberships.c.link)
        .distinct()
        .join(Department, Department.id == memberships.c.department_id).join(Site, Site.id == Department.site_id)
        .where(memberships.c.user_id.in_(user_ids))
        .order_by(memberships.c.user_id, memberships.c.link, Site.name, Department.name))
    found: dict[int, list[Membership]] = {}
    for user_id, department_id, name, site, link in rows:
        found.setdefault(user_id, []).append(Membership(department_id, f"{name}, {site}", Link[link]))
    return found


def department_choices(user: User | None = None) -> list[Department]:
    """Departments a lead can be given: the open ones, and any archived one they already lead."""
    kept = [d for d in (user.lead_departments if user else []) if d.archived_at is not None]
    return open_departments(None) + sorted(kept, key=lambda d: (d.site.name, d.name))


def _roles(values: Iterable[str | Role]) -> set[Role]:
    chosen = set()
    for value in values:
        try:
            chosen.add(Role(value))
        except ValueError:
            raise PeopleRefused(UNKNOWN_ROLE, "roles") from None
    if not chosen:
        raise PeopleRefused(NO_ROLE, "roles")
    return chosen


def _lead_scope(roles: set[Role], department_ids: Iterable[int], trust_wide: bool,
                user: User | None = None) -> tuple[list[Department], bool]:
    """The departments and trust-wide flag to store. Only an education lead has a scope; the
    whole trust needs no list."""
    if Role.EDUCATION_LEAD not in roles:
        return [], False
    if trust_wide:
        return [], True
    wanted = set(department_ids)
    allowed = {d.id: d for d in department_choices(user)}
    if not wanted <= allowed.keys():
        raise PeopleRefused(UNKNOWN_DEPARTMENT, "lead_scope")
    if not wanted:
        raise PeopleRefused(NO_SCOPE, "lead_scope")
    return [allowed[i] for i in sorted(wanted)], False


def _access(user: User) -> dict:
    """What a person may do, as ids and values for the audit log."""
    return {"roles": sorted(role.value for role in user.roles),
            "lead_departments": sorted(d.id for d in user.lead_departments), "trust_wide": user.trust_wide}


def _keep_an_admin(user: User) -> None:
    """Refuse if `user` is the only active administrator. Every active admin's row is locked
    (PostgreSQL), this one's included and in id order: two admins removing each other at the
    same moment then take turns. The count is a second statement, so on PostgreSQL (read
    committed) it sees what the first of them committed while the second waited."""
    if not (user.is_active and Role.ADMIN in user.roles):
        return
    active_admins = (sa.select(User.id).join(UserRole, UserRole.user_id == User.id)
                     .where(UserRole.role == Role.ADMIN, User.active.is_(True), User.erased_at.is_(None)))
    db.session.execute(active_admins.order_by(User.id).with_for_update(of=User)).all()
    others = db.session.scalars(active_admins.where(User.id != user.id)).all()
    if not others:
        raise PeopleRefused(LAST_ADMIN, "roles")


def _not_erased(user: User) -> None:
    if user.erased_at is not None:
        raise PeopleRefused("This person's account has been erased and cannot be changed")


def create_person(email: str, name: str, roles: Iterable[str | Role], department_ids: Iterable[int],
                  trust_wide: bool, hcpc: str | None, created_by: User) -> tuple[User, str]:
    """A new account with an invitation link; returns the person and the link's token (shown
    once). The email is refused if any account has it in any case."""
    chosen = _roles(roles)
    if accounts.email_taken(email):
        raise PeopleRefused(DUPLICATE_EMAIL, "email")
    if hcpc and db.session.scalar(sa.select(User.id).where(User.hcpc_number == hcpc)) is not None:
        raise PeopleRefused(DUPLICATE_HCPC, "hcpc_number")
    departments, trust_wide = _lead_scope(chosen, department_ids, trust_wide)
    user = accounts.create_user(email, name, [r for r in Role if r in chosen], hcpc_number=hcpc or None)
    user.trust_wide, user.lead_departments = trust_wide, departments
    audit.record("person.create", user, actor_id=created_by.id,
                 details={"before": None, "after": {**_access(user), "active": True}})
    return user, account_links.issue(user, LinkPurpose.INVITE, created_by)


def change_access(user: User, roles: Iterable[str | Role], lead_department_ids: Iterable[int], trust_wide: bool,
                  by: User) -> bool:
    """Give `user` these roles and lead scope; True if anything changed. Takes effect on their
    next request (the user is loaded afresh for each)."""
    _not_erased(user)
    chosen = _roles(roles)
    departments, trust_wide = _lead_scope(chosen, lead_department_ids, trust_wide, user)
    if Role.ADMIN not in chosen:
        _keep_an_admin(user)
    before = _access(user)
    for row in list(user.role_rows):
        if Role(row.role) not in chosen:
            user.role_rows.remove(row)
    for role in Role:
        if role in chosen:
            user.grant(role)
    user.trust_wide, user.lead_departments = trust_wide, departments
    after = _access(user)
    if before == after:
        return False
    audit.record("person.change_access", user, actor_id=by.id, details={"before": before, "after": after})
    return True


def deactivate(user: User, by: User) -> bool:
    """Stop `user` signing in and end their sessions; their records stay. False if they were
    already deactivated."""
    if user.id == by.id:
        raise PeopleRefused("You cannot deactivate your own account")
    if not user.active:
        return False
    _keep_an_admin(user)
    user.active = False
    user.deactivated_at = utcnow()
    user.auth_version += 1  # every session of theirs stops matching
    account_links.end_unused(user)  # an old invitation must not work again after reactivation
    audit.record("person.deactivate", user, actor_id=by.id,
                 details={"before": {"active": True}, "after": {"active": False}})
    return True


def reactivate(user: User, by: User) -> bool:
    """Let `user` sign in again with their password. False if they were already active."""
    _not_erased(user)
    if user.active:
        return False
    user.active = True
    user.deactivated_at = None
    audit.record("person.reactivate", user, actor_id=by.id,
                 details={"before": {"active": False}, "after": {"active": True}})
    return True


def force_reset(user: User, by: User) -> str:
    """A reset link for `user`: their password stops working and their sessions end now.
    Returns the token (shown once). Audited by `account_links.issue` as "account.reset"."""
    if user.id == by.id:
        raise PeopleRefused("You cannot force a reset of your own password. Ask another administrator")
    if not user.is_active:
        raise PeopleRefused("Reactivate this account before resetting its password")
    return account_links.issue(user, LinkPurpose.RESET, by)


def open_link(user: User) -> AccountLink | None:
    """The person's newest unused link, if any (only one is ever unused)."""
    return db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
                             .order_by(AccountLink.id.desc()).limit(1))


def recent_events(user: User, limit: int = 20) -> list[tuple[AuditEvent, str | None]]:
    """The latest audit events about `user` or by them, newest first, each with the name of
    whoever acted (read now from their account; the log holds only the id)."""
    actor = aliased(User)
    return [tuple(row) for row in db.session.execute(
        sa.select(AuditEvent, actor.name).outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(((AuditEvent.object_type == User.__tablename__) & (AuditEvent.object_id == user.id))
               | (AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))]
