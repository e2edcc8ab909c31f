"""Accounts: password hashing, sign-in checks and creating people."""

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User
from ..models._columns import utcnow

# Checked when no account matches, so a wrong email costs as long as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (never says which was wrong)."""
    user = db.session.scalar(select(User).where(User.email == User.normalise_email(email)))
    if user is None or not user.password_hash:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("not-a-password", method=method))
        check_password_hash(dummy, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    user.last_sign_in_at = utcnow()
    return user


def create_user(email: str, name: str, roles: list[Role], password: str | None = None,
                hcpc_number: str | None = None, password_hash: str | None = None) -> User:
    """A new user with these roles; the caller commits. Email is stored lower-case."""
    user = User(
        email=User.normalise_email(email),
        name=name.strip(),
        hcpc_number=hcpc_number or None,
        password_hash=password_hash or (hash_password(password) if password else None),
    )
    for role in roles:
        user.grant(role)
    db.session.add(user)
    return user


def email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == User.normalise_email(email))) is not None
