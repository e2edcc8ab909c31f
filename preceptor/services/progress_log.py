"""Progress log entries and the drafts that keep long text safe while it is typed."""

import re

from sqlalchemy import delete, select

from ..extensions import db
from ..models import Draft, LogEntry, Milestone, Preceptorship, User, milestone_evidence
from ..models._columns import utcnow
from . import audit
from .signoff_requests import SignOffRefused, evidence_ids, set_evidence

ENTRY_FIELDS = ("kind", "title", "occurred_on", "hours", "what_happened", "so_what", "now_what", "notes")
DRAFT_KEY = re.compile(r"^log:(new:[a-z_]{1,30}|\d{1,12})$")
DRAFT_VALUE_MAX = 20_000  # characters per value
DRAFT_FIELDS_MAX = 40  # a form has about a dozen; more is not a form of ours


def save_entry(programme: Preceptorship, author: User, values: dict, milestone_ids: set[int],
               entry: LogEntry | None = None) -> LogEntry:
    """Create or update an entry and make it evidence for exactly `milestone_ids`.

    Linking goes through `set_evidence`, so a milestone that is signed off or waiting for
    sign-off refuses the change (SignOffRefused) and nothing is saved.
    """
    created = entry is None
    if created:
        entry = LogEntry(preceptorship=programme, author_id=author.id)
        db.session.add(entry)
    for name in ENTRY_FIELDS:
        if name in values:
            setattr(entry, name, values[name])
    db.session.flush()
    link_entry(entry, milestone_ids)
    audit.record("log_entry.create" if created else "log_entry.update", entry, preceptorship_id=programme.id,
                 details={"kind": entry.kind.value if hasattr(entry.kind, "value") else entry.kind})
    discard_draft(author, f"log:new:{entry.kind}" if created else f"log:{entry.id}")
    return entry


def link_entry(entry: LogEntry, milestone_ids: set[int]) -> None:
    current = set(db.session.scalars(
        select(milestone_evidence.c.milestone_id).where(milestone_evidence.c.entry_id == entry.id)))
    wanted = set(milestone_ids)
    milestones = {m.id: m for m in db.session.scalars(select(Milestone).where(
        Milestone.id.in_(wanted | current), Milestone.preceptorship_id == entry.preceptorship_id))}
    if set(milestones) != wanted | current:
        raise SignOffRefused("Choose milestones from your own programme")
    for milestone_id in wanted ^ current:
        milestone = milestones[milestone_id]
        ids = evidence_ids(milestone)
        set_evidence(milestone, ids | {entry.id} if milestone_id in wanted else ids - {entry.id})


# --- drafts ----------------------------------------------------------------------------

def valid_draft_key(key: str) -> bool:
    return bool(key) and DRAFT_KEY.match(key) is not None


def save_draft(user: User, key: str, values: dict[str, list[str]]) -> Draft:
    """Store what is typed so far under `key` (each field's list of values, so several ticked
    boxes survive), replacing the previous draft. Sizes are capped."""
    data = {name[:60]: [str(v)[:DRAFT_VALUE_MAX] for v in vals[:100]]
            for name, vals in list(values.items())[:DRAFT_FIELDS_MAX]}
    draft = db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.form_key == key))
    if draft is None:
        draft = Draft(user_id=user.id, form_key=key, data=data)
        db.session.add(draft)
    else:
        draft.data = data
        draft.updated_at = utcnow()
    return draft


def load_draft(user: User, key: str) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.form_key == key))


def discard_draft(user: User, key: str) -> None:
    db.session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.form_key == key))
