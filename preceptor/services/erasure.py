"""Erasing a departed person's personal details once the retention period has passed.

Who: a person whose account was deactivated at least `ERASURE_RETENTION_DAYS` ago (counted
from `User.deactivated_at`), never yourself, never twice. The account row stays (every record
points at it) with a placeholder name, an address that cannot receive mail, no HCPC number,
phone or password, and every unused link ended. Roles stay, so history still reads: signed
milestones, allocations and meetings show "Erased person 123".

What counts as personal detail (decided here, in one place):
- what the person wrote, and notes that describe them rather than record someone else's
  decision: their progress log (kept as dated entries of a kind and hours, without title or
  text), learning-needs notes, development plan, sign-off summaries, the copies of all that in
  the evidence snapshots others signed, meeting notes, autosaved drafts, unsent survey
  answers, their protected-time notes and the reason they were unavailable: removed;
- decisions others made about them (sign-off comments and action plans, reopening, pause and
  leaving reasons, allocation notes, agreed actions): kept as history, with their name (also
  its single words, as written) replaced by the placeholder;
- anywhere else (every text and JSON column of every table, found by walking the schema so a
  table added later is covered): any copy of their full name, email, HCPC number or phone is
  replaced by the placeholder. That includes anonymous survey answers: the answer stays, only
  the name goes, which links it to nobody.
The audit log is append-only; the one change the database allows is this redaction: an event
whose reason or details hold a copy (typed into a reason) has the redacted values recorded in
`audit_redaction` first, and is then rewritten to exactly those. Nothing here commits.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    Allocation,
    AuditEvent,
    AuditRedaction,
    DevelopmentGoal,
    Draft,
    LearningNeedRating,
    LearningNeedsAssessment,
    LogEntry,
    Meeting,
    MeetingAction,
    Milestone,
    PreceptorProfile,
    Preceptorship,
    ProtectedTime,
    SignOffRequest,
    StatusChange,
    SurveyInvitation,
    User,
)
from ..models._columns import utcnow
from ..templating import local_date, long_date
from . import account_links, audit
from .erasure_copies import Copies, sweep

REMOVED = "Removed when this person's details were erased"
SNAPSHOT_TEXT = ("what_happened", "so_what", "now_what", "notes")


def placeholder_name(user_id: int) -> str:
    return f"Erased person {user_id}"


def placeholder_email(user_id: int) -> str:
    return f"erased-{user_id}@erased.invalid"  # .invalid never resolves (RFC 2606): no mail can reach it


class ErasureRefused(ValueError):
    """Erasure is not allowed (yet); the message says why, and when it will be."""


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    message: str
    allowed_from: date | None = None  # the first local day erasure is allowed, where known


@dataclass
class Erasure:
    changed: dict[str, int] = field(default_factory=dict)  # table -> rows changed
    audit_events_redacted: list[int] = field(default_factory=list)

    def count(self, table: str, rows: int = 1) -> None:
        if rows:
            self.changed[table] = self.changed.get(table, 0) + rows


def retention_words() -> str:
    days = current_app.config["ERASURE_RETENTION_DAYS"]
    if days % 365 == 0:
        years = days // 365
        return f"{years} year" if years == 1 else f"{years} years"
    return f"{days} day" if days == 1 else f"{days} days"


def deactivated_at(user: User) -> datetime | None:
    """When the person was last deactivated: the account's own record, or for an account
    deactivated before that was recorded, the latest deactivation in the audit log."""
    return user.deactivated_at or db.session.scalar(
        sa.select(sa.func.max(AuditEvent.at)).where(AuditEvent.action == "person.deactivate",
                                                   AuditEvent.object_type == "user",
                                                   AuditEvent.object_id == user.id))


def eligibility(user: User, by: User, now: datetime | None = None) -> Eligibility:
    """Whether `by` may erase `user` now, and if not, why not and from when."""
    now = now or utcnow()
    if user.erased_at is not None:
        return Eligibility(False, f"This person's details were erased on {long_date(local_date(user.erased_at))}.")
    if user.id == by.id:
        return Eligibility(False, "You cannot erase your own details. Another administrator can, once you have left "
                                  "and the retention period has passed.")
    if user.active:
        return Eligibility(False, f"{user.name}'s account is active. Only the details of someone who has left can be "
                                  f"erased: deactivate the account first. Erasure is then allowed "
                                  f"{retention_words()} later.")
    since = deactivated_at(user)
    if since is None:
        return Eligibility(False, "When this account was deactivated is not recorded, so the retention period cannot "
                                  "be counted. Reactivate and deactivate it to start the period from today.")
    due = since + timedelta(days=current_app.config["ERASURE_RETENTION_DAYS"])
    deactivated, allowed_from = long_date(local_date(since)), local_date(due)
    if now < due:
        return Eligibility(False, f"{user.name}'s details must be kept until {long_date(allowed_from)}: "
                                  f"{retention_words()} after the account was deactivated on {deactivated}.",
                           allowed_from)
    return Eligibility(True, f"The account was deactivated on {deactivated}, more than {retention_words()} ago.",
                       allowed_from)


# --- erasing ----------------------------------------------------------------------------------

def _fresh(query):
    """ORM rows read afresh, whatever the session already holds."""
    return db.session.scalars(query.execution_options(populate_existing=True)).unique().all()


def _set(result: Erasure, rows, **values) -> None:
    for row in rows:
        changed = False
        for name, value in values.items():
            new = value(getattr(row, name)) if callable(value) else value
            if getattr(row, name) != new:
                setattr(row, name, new)
                changed = True
        if changed:
            result.count(row.__tablename__)


def _snapshot(items: list | None) -> list | None:
    """Evidence as signed, without the person's words: kind, date, hours and ids stay."""
    if not items:
        return items
    return [{**item, **({} if "meeting" in item else {"title": REMOVED}),  # a meeting's title is its type
             **{key: "" for key in SNAPSHOT_TEXT if key in item}}
            if isinstance(item, dict) else item for item in items]


def _remove_own_writing(user: User, programme_ids: sa.Select, result: Erasure) -> None:
    mine = Milestone.preceptorship_id.in_(programme_ids)
    _set(result, _fresh(sa.select(LogEntry).where(LogEntry.preceptorship_id.in_(programme_ids)
                                                  | (LogEntry.author_id == user.id))),
         title=REMOVED, what_happened="", so_what="", now_what="", notes="")
    _set(result, _fresh(sa.select(LearningNeedRating).join(LearningNeedsAssessment).where(
        LearningNeedsAssessment.preceptorship_id.in_(programme_ids))), note="")
    _set(result, _fresh(sa.select(DevelopmentGoal).where(DevelopmentGoal.preceptorship_id.in_(programme_ids))),
         goal=REMOVED, actions="")
    _set(result, _fresh(sa.select(Meeting).where(Meeting.preceptorship_id.in_(programme_ids))), notes="")
    requests = _fresh(sa.select(SignOffRequest).join(Milestone).where(mine))
    _set(result, [r for r in requests if r.requested_by_id == user.id], summary=REMOVED)
    _set(result, requests, evidence_snapshot=_snapshot)
    _set(result, _fresh(sa.select(SurveyInvitation).where(SurveyInvitation.preceptorship_id.in_(programme_ids))),
         draft_answers=None)
    _set(result, _fresh(sa.select(ProtectedTime).where(ProtectedTime.preceptor_id == user.id)), note="")
    _set(result, _fresh(sa.select(PreceptorProfile).where(PreceptorProfile.user_id == user.id)),
         unavailable_reason=None)
    result.count("draft", db.session.execute(sa.delete(Draft).where(Draft.user_id == user.id)).rowcount)


def _anonymise_decisions(user: User, programme_ids: sa.Select, copies: Copies, result: Erasure) -> None:
    scrub = lambda text: copies.scrub(text, parts=True)  # noqa: E731
    _set(result, _fresh(sa.select(SignOffRequest).join(Milestone).where(Milestone.preceptorship_id.in_(programme_ids))),
         comment=scrub, action_plan=scrub, reopen_reason=scrub)
    _set(result, _fresh(sa.select(StatusChange).where(StatusChange.preceptorship_id.in_(programme_ids))),
         reason=scrub)
    _set(result, _fresh(sa.select(Preceptorship).where(Preceptorship.id.in_(programme_ids))), end_reason=scrub)
    _set(result, _fresh(sa.select(Allocation).where(Allocation.preceptorship_id.in_(programme_ids)
                                                    | (Allocation.preceptor_id == user.id))),
         end_note=scrub, over_cap_reason=scrub)
    _set(result, _fresh(sa.select(MeetingAction).join(Meeting).where(Meeting.preceptorship_id.in_(programme_ids))),
         description=scrub)


def redact_audit(copies: Copies, user: User, by: User) -> list[int]:
    """Take every copy out of the audit log: record each event's redacted reason and details
    (the permit the database's trigger checks), then rewrite the event to them. Returns the ids."""
    rows = db.session.execute(sa.select(AuditEvent.id, AuditEvent.reason, AuditEvent.details).where(
        copies.found_in(AuditEvent.reason) | copies.found_in(AuditEvent.details)).order_by(AuditEvent.id)).all()
    redacted = []
    for event_id, reason, details in rows:
        new_reason, new_details = copies.scrub(reason), copies.scrub(details)
        if new_reason is reason and new_details is details:
            continue
        db.session.add(AuditRedaction(event_id=event_id, person_id=user.id, redacted_by_id=by.id,
                                      reason=new_reason, details=new_details))
        db.session.flush()
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id)
                           .values(reason=new_reason, details=new_details))
        redacted.append(event_id)
    return redacted


def erase(user: User, by: User, now: datetime | None = None) -> Erasure:
    """Erase `user`'s personal details (see the module's docstring); ErasureRefused if not
    allowed. Audited as "person.erase" with counts and ids only."""
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())  # one erasure at a time
    db.session.refresh(user)
    check = eligibility(user, by, now)
    if not check.allowed:
        raise ErasureRefused(check.message)
    copies, result = Copies.of(user, placeholder_name(user.id)), Erasure()
    programme_ids = sa.select(Preceptorship.id).where(Preceptorship.preceptee_id == user.id)
    _remove_own_writing(user, programme_ids, result)
    _anonymise_decisions(user, programme_ids, copies, result)
    user.name, user.email = placeholder_name(user.id), placeholder_email(user.id)
    user.hcpc_number = user.phone = user.password_hash = None
    user.erased_at = now or utcnow()
    user.auth_version += 1
    account_links.end_unused(user)
    result.count("user")
    db.session.flush()
    for table, rows in sweep(copies).items():
        result.count(table, rows)
    result.audit_events_redacted = redact_audit(copies, user, by)
    db.session.expire_all()  # the sweep wrote around the session
    audit.record("person.erase", user, actor_id=by.id, details={
        "before": {"erased": False}, "after": {"erased": True}, "rows_changed": dict(sorted(result.changed.items())),
        "audit_events_redacted": result.audit_events_redacted})
    return result
