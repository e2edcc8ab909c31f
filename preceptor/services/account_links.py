"""Links that let a person set their password: an invitation to a new account, or a reset an
admin forced. Each link is single use and expires after `ACCOUNT_LINK_DAYS`; the database
holds only a SHA-256 of the token, so neither a copy of it nor the audit log can be used to
take over an account. Issuing a link ends any earlier unused one for the same person.
Nothing here commits.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from ..extensions import db
from ..models import AccountLink, LinkPurpose, User
from ..models._columns import utcnow
from . import accounts, audit


class LinkRefused(ValueError):
    """The link cannot be used; the message is for the person who followed it."""


class LinkUnknown(LinkRefused):
    """No link was ever issued with this token (as against one used, expired or ended)."""


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: LinkPurpose, created_by: User | None = None) -> str:
    """A new link for `user`; returns the token (shown once, never stored). A reset also
    stops the old password working and signs the person out everywhere."""
    now = utcnow()
    end_unused(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(AccountLink(user_id=user.id, token_hash=token_hash(token), purpose=purpose,
                               expires_at=now + timedelta(days=current_app.config["ACCOUNT_LINK_DAYS"]),
                               created_by_id=created_by.id if created_by else None))
    if purpose is LinkPurpose.RESET:
        user.password_hash = None
        user.auth_version += 1
    audit.record(f"account.{purpose.value}", user, details={"by": created_by.id if created_by else None})
    return token


def link_url(token: str) -> str:
    return url_for("auth.set_password", token=token, _external=True)


def find(token: str) -> AccountLink:
    """The usable link for `token`, or LinkRefused saying why not."""
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.token_hash == token_hash(token or "")))
    if link is None:
        raise LinkUnknown("This link is not valid. Check it was copied in full, or ask an administrator "
                          "for a new one")
    if link.used_at is not None:
        raise LinkRefused("This link has already been used. Sign in with your password, or ask an "
                          "administrator for a new link")
    if link.expires_at <= utcnow():
        raise LinkRefused("This link has expired. Ask an administrator for a new one")
    if not link.user.active or link.user.erased_at is not None:
        raise LinkRefused("This account is not active. Ask an administrator")
    return link


def use(token: str, password: str) -> User:
    """Set the password through the link and spend it. The caller has checked the password
    against the policy. Two tabs posting at once: only one spends the link."""
    link = find(token)
    now = utcnow()
    spent = db.session.execute(
        sa.update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise LinkRefused("This link has already been used. Sign in with your password")
    user = link.user
    user.password_hash = accounts.hash_password(password)
    user.auth_version += 1
    audit.record("account.password_set", user, actor_id=user.id, details={"purpose": link.purpose.value})
    return user


def end_unused(user: User, now=None) -> None:
    """Spend every link of `user` not yet used, so none of them works any more."""
    now = now or utcnow()
    db.session.execute(sa.update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
