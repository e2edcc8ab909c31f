"""Allocation changes keep their history and are audited in the same transaction."""

from datetime import date

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import Allocation, AllocationEndReason, AuditEvent
from preceptor.services import allocations


def test_reallocation_ends_the_old_one_with_a_reason_and_audits_both(app, make):
    programme = make.programme()
    first, second = make.preceptor(), make.preceptor()
    allocations.allocate(programme, first, programme.start_date)
    db.session.commit()
    with pytest.raises(ValueError):
        allocations.allocate(programme, second, date.today())
    db.session.rollback()
    allocations.allocate(programme, second, date.today(), end_reason=AllocationEndReason.LEAVE,
                         end_note="Maternity leave")
    db.session.commit()
    history = db.session.scalars(select(Allocation).where(Allocation.preceptorship_id == programme.id)
                                 .order_by(Allocation.id)).all()
    assert [(a.preceptor_id, a.ends_on, a.end_reason) for a in history] == [
        (first.id, date.today(), AllocationEndReason.LEAVE), (second.id, None, None)]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.preceptorship_id == programme.id,
                                                                 AuditEvent.action.like("allocation.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["allocation.start", "allocation.end", "allocation.start"]
    db.session.refresh(programme)
    assert programme.current_allocation.preceptor_id == second.id
