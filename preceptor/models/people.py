"""People: users, the roles they hold, and an education lead's department scope."""

import enum
import re
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow

HCPC_NUMBER = re.compile(r"^RA\d{1,8}$")


class Role(enum.StrEnum):
    PRECEPTEE = "preceptee"
    PRECEPTOR = "preceptor"
    EDUCATION_LEAD = "education_lead"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"education_lead": "Education lead"}.get(self.value, self.value.capitalize())


# When a person holds several roles, the first of these they hold is their main role.
MAIN_ROLE_ORDER = (Role.EDUCATION_LEAD, Role.PRECEPTOR, Role.PRECEPTEE, Role.ADMIN)


lead_department = sa.Table(
    "lead_department",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("department_id", sa.ForeignKey("department.id"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    """A person who signs in. Never deleted once they have records: deactivated or erased."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    hcpc_number: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)
    # A lead who sees every department rather than a listed few.
    trust_wide: Mapped[bool] = mapped_column(default=False)
    # Bumped on password change or forced sign-out: old sessions stop matching.
    auth_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # When they were last deactivated: the retention period before erasure runs from here.
    deactivated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    erased_at: Mapped[datetime | None] = mapped_column(Timestamp)

    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    lead_departments: Mapped[list["Department"]] = relationship(  # noqa: F821
        secondary=lead_department, lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # Flask-Login: the id carries the auth version so a password change signs out everywhere.
    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

    @property
    def is_active(self) -> bool:
        return self.active and self.erased_at is None

    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def main_role(self) -> Role | None:
        return next((r for r in MAIN_ROLE_ORDER if r in self.roles), None)

    @property
    def roles_in_order(self) -> list[Role]:
        return [r for r in MAIN_ROLE_ORDER if r in self.roles]

    def grant(self, role: Role) -> None:
        if role not in self.roles:
            self.role_rows.append(UserRole(role=role))

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"  # a new person sets their first password
    RESET = "reset"  # an admin forced a reset: the old password no longer works


class AccountLink(db.Model):
    """A single-use link that lets a person set their password: an invitation to a new account
    or a forced reset. Only a hash of the token is stored, so a copy of the database cannot be
    used to take over an account."""

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
