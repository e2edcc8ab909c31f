"""Committing a person's change: a rule's refusal or a lost race rolls the whole change back
and becomes a message for the page, so nothing is ever half-saved."""

from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .services.decisions import STALE
from .services.signoff_requests import SignOffRefused

# PostgreSQL's deadlock and serialisation failures: another transaction won; nothing was saved.
LOST_RACE = ("40P01", "40001")


def commit(change: Callable[[], object], problems: list[str], *, stale: str = STALE,
           refusals: tuple[type[Exception], ...] = (SignOffRefused,)) -> bool:
    """Run `change` and commit. On a refusal (its message) or a concurrent change (the
    version check or a unique index lost the race: `stale`), roll back, note it, return False."""
    try:
        change()
        db.session.commit()
    except refusals as refusal:
        db.session.rollback()
        problems.append(str(refusal))
        return False
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        problems.append(stale)
        return False
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in LOST_RACE:
            raise
        db.session.rollback()
        problems.append(stale)
        return False
    return True
