"""The audit log in words: what each action and object type is called on the audit page and in
its downloads, and its details (ids and values) written out for a person to read.

The log stores machine names ("milestone.sign_off") and plain values so it can outlive any
wording; this module is the one place that turns them into English. An action added later
without a label still reads sensibly ("Department: merge").
"""

import re
from collections.abc import Mapping

from ..templating import long_date

ACTION_LABELS = {
    "account.invite": "Invitation link issued",
    "account.reset": "Password reset forced",
    "account.password_set": "Password set through a link",
    "account.password_changed": "Password changed",
    "allocation.start": "Preceptor allocated",
    "allocation.end": "Preceptor allocation ended",
    "development_goal.add": "Development goal added",
    "development_goal.update": "Development goal changed",
    "development_goal.status": "Development goal status changed",
    "learning_needs.save": "Learning needs analysis saved",
    "log_entry.create": "Progress log entry added",
    "log_entry.update": "Progress log entry changed",
    "meeting.book": "Meeting booked",
    "meeting.record": "Meeting recorded",
    "milestone.set_evidence": "Milestone evidence changed",
    "notifications.preferences": "Email choices changed",
    "notifications.unsubscribe": "Unsubscribed from an email link",
    "outbox.retry": "Failed email sent again",
    "milestone.request_sign_off": "Sign-off requested",
    "milestone.withdraw_request": "Sign-off request withdrawn",
    "milestone.sign_off": "Milestone signed off",
    "milestone.return": "Milestone returned with an action plan",
    "milestone.reopen": "Signed-off milestone reopened",
    "people.import": "People imported",
    "person.create": "Person added",
    "person.change_access": "Roles or departments changed",
    "person.change_details": "Person's details changed",
    "person.deactivate": "Account deactivated",
    "person.reactivate": "Account reactivated",
    "person.erase": "Personal details erased",
    "preceptor.place": "Preceptor's department set",
    "preceptorship.start": "Programme started",
    "preceptorship.pause": "Programme paused",
    "preceptorship.resume": "Programme resumed",
    "preceptorship.extend": "Programme extended",
    "protected_time.log": "Protected time logged",
    "protected_time.delete": "Protected time removed",
    "register.change": "Preceptor register changed",
    "starters.import": "New starters imported",
    "survey.answer": "Survey answered",
    "survey_template.create": "Survey created",
    "survey_template.edit": "Survey changed",
    "user.create": "Account created",
    "user.update": "Account updated by an import",
    "user.grant_role": "Role given",
    "user.update_details": "Own details changed",
    "user.download_own_data": "Own data downloaded",
    "user.sign_in": "Signed in",
    "user.sign_out": "Signed out",
}

OBJECT_LABELS = {
    "user": "Person",
    "preceptorship": "Programme",
    "milestone": "Milestone",
    "sign_off_request": "Sign-off request",
    "allocation": "Allocation",
    "meeting": "Meeting",
    "log_entry": "Log entry",
    "learning_needs_assessment": "Learning needs analysis",
    "development_goal": "Development goal",
    "protected_time": "Protected time",
    "survey_invitation": "Survey invitation",
    "survey_template": "Survey",
    "department": "Department",
    "site": "Site",
    "milestone_template": "Framework milestone",
    "learning_need_area": "Learning needs area",
    "outbox_message": "Email",
    "system": "The service",
}

# Keys of `details` whose value is a person's id: shown with their name (read now).
PERSON_KEYS = frozenset({"by", "preceptor", "user"})
KEY_LABELS = {
    "by": "By", "preceptor": "Preceptor", "on": "On", "new_end": "New planned end", "via": "Through",
    "lead_departments": "Departments they lead", "trust_wide": "Whole trust", "sha256": "File fingerprint",
    "entries": "Log entries", "preceptorship_ids": "Programmes", "user_ids": "People",
    "user": "To", "was": "It had",
}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _humane(name: str) -> str:
    return name.replace("_", " ").capitalize()


def action_label(action: str) -> str:
    """"milestone.sign_off" → "Milestone signed off"; an unknown action still reads."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    thing, _, verb = action.partition(".")
    return f"{_humane(thing)}: {verb.replace('_', ' ')}" if verb else _humane(thing)


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type) or _humane(object_type)


def person_ids(details) -> set[int]:
    """The ids of people named by `details` (in `PERSON_KEYS`, at the top or in before/after)."""
    found: set[int] = set()
    if not isinstance(details, Mapping):
        return found
    for part in (details, details.get("before"), details.get("after")):
        if isinstance(part, Mapping):
            found.update(v for k, v in part.items() if k in PERSON_KEYS and isinstance(v, int))
    return found


def _value(key: str, value, names: Mapping[int, str]) -> str:
    if key in PERSON_KEYS and isinstance(value, int):
        return f"{names[value]} (person {value})" if value in names else f"person {value}"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return long_date(value) if ISO_DAY.match(value) else value
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(key, v, names) for v in value) or "none"
    if isinstance(value, Mapping):
        return "; ".join(f"{_key(k)} {_value(k, v, names)}" for k, v in value.items()) or "none"
    return str(value)


def _key(key) -> str:
    return KEY_LABELS.get(key) or _humane(str(key))


def readable(details, names: Mapping[int, str] | None = None) -> list[str]:
    """`details` as lines like "Roles: admin → admin, preceptor". A before/after pair shows
    only what changed; any other keys follow as "Key: value". `names` are people's names by
    id, for the keys in `PERSON_KEYS`."""
    names = names or {}
    if not details:
        return []
    if not isinstance(details, Mapping):
        return [_value("", details, names)]
    lines = []
    rest = dict(details)
    if "before" in details or "after" in details:
        before, after = rest.pop("before", None), rest.pop("after", None)
        if isinstance(before, Mapping) or isinstance(after, Mapping):
            before, after = before or {}, after or {}
            for key in [*before, *(k for k in after if k not in before)]:
                if before.get(key) != after.get(key):
                    was = _value(key, before.get(key), names) if key in before else "none"
                    lines.append(f"{_key(key)}: {was} → {_value(key, after.get(key), names)}")
        else:
            lines.append(f"{_value('', before, names)} → {_value('', after, names)}")
    lines.extend(f"{_key(key)}: {_value(key, value, names)}" for key, value in rest.items())
    return lines
