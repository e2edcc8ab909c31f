"""The audit log is append-only through the ORM as well as in the database."""

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, AuditLogIsAppendOnly, Role
from preceptor.services import audit


def test_record_writes_ids_in_the_same_transaction(app, make):
    user = make.user(Role.ADMIN)
    event = audit.record("user.create", user, actor_id=user.id, details={"roles": ["admin"]})
    db.session.rollback()  # the change and its audit row go together
    assert db.session.scalar(select(AuditEvent)) is None
    user = make.user(Role.ADMIN)
    event = audit.record("user.create", user, actor_id=user.id)
    db.session.commit()
    assert (event.object_type, event.object_id, event.actor_id) == ("user", user.id, user.id)


@pytest.mark.parametrize("change", ["update", "delete"])
def test_orm_refuses_to_change_audit_rows(app, make, change):
    event = audit.record("user.create", make.user())
    db.session.commit()
    if change == "update":
        event.reason = "rewritten"
    else:
        db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
