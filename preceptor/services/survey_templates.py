"""Editing survey templates: the list of surveys, reading the edit form, and saving a change.

A version that anyone has been invited with is locked: its question rows are what their
invitations, drafts and answers point at. Saving a change to it makes the next version, which
new invitations get (waves always use the current version); the old rows are never touched.
A version nobody has been invited with yet is edited in place. Each question keeps its `code`
from version to version, because reports join answers across versions by code; a new question
gets a fresh code that no version of the survey has used. Nothing here commits.
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace

import sqlalchemy as sa

from ..extensions import db
from ..fields import posted_number
from ..models import (
    QuestionType,
    SurveyInvitation,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    User,
)
from . import audit

NAME_MAX = 160
TEXT_MAX = 500
HELP_MAX = 500
STEP_MAX = 20
OPTIONS_MIN, OPTIONS_MAX = 2, 12
OPTION_MAX = 200
QUESTIONS_MAX = 50
CODE_MAX = 60
KEY_MAX = 60
LIMITS = {"NAME_MAX": NAME_MAX, "TEXT_MAX": TEXT_MAX, "HELP_MAX": HELP_MAX, "STEP_MAX": STEP_MAX,
          "OPTIONS_MIN": OPTIONS_MIN, "OPTIONS_MAX": OPTIONS_MAX}  # for the form's hints

QUESTION_TYPES: dict[QuestionType, str] = {
    QuestionType.AGREEMENT: "Agree or disagree, on a 5-point scale",
    QuestionType.YES_NO: "Yes or no",
    QuestionType.SINGLE_CHOICE: "Choose one of a list of options",
    QuestionType.FREE_TEXT: "Free text",
}
PURPOSES: dict[SurveyPurpose, str] = {
    SurveyPurpose.NEWLY_QUALIFIED: "Preceptees, about how their preceptorship is going",
    SurveyPurpose.PRECEPTOR_FEEDBACK: "Preceptees, about their preceptor",
}

STALE = ("This survey was changed by someone else since you opened it: version {version} is now current. "
         "Your changes have not been saved.")
LOST_RACE = "This survey was changed by someone else while you were saving. Your changes have not been saved."

_ROW = re.compile(r"q-(\d{1,3})-(?:text|code|help|qtype|step|options|required|remove)")


class TemplateRefused(ValueError):
    """A change to a survey refused; the message is for the person editing it."""


# --- the list -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateSummary:
    id: int
    key: str
    name: str
    version: int
    purpose: SurveyPurpose
    questions: int
    invitations: int
    responses: int


def _counts(column) -> sa.Subquery:
    return sa.select(column.label("template_id"), sa.func.count().label("n")).group_by(column).subquery()


def templates_overview() -> list[TemplateSummary]:
    """The current version of every survey, with its question, invitation and response counts:
    one query, whatever the number of surveys."""
    questions = _counts(SurveyQuestion.template_id)
    invitations = _counts(SurveyInvitation.template_id)
    responses = _counts(SurveyResponse.template_id)
    rows = db.session.execute(
        sa.select(SurveyTemplate.id, SurveyTemplate.key, SurveyTemplate.name, SurveyTemplate.version,
                  SurveyTemplate.purpose, sa.func.coalesce(questions.c.n, 0), sa.func.coalesce(invitations.c.n, 0),
                  sa.func.coalesce(responses.c.n, 0))
        .outerjoin(questions, questions.c.template_id == SurveyTemplate.id)
        .outerjoin(invitations, invitations.c.template_id == SurveyTemplate.id)
        .outerjoin(responses, responses.c.template_id == SurveyTemplate.id)
        .where(SurveyTemplate.current.is_(True))
        .order_by(SurveyTemplate.name, SurveyTemplate.id))
    return [TemplateSummary(*row) for row in rows]


def current_version(key: str, *, lock: bool = False) -> SurveyTemplate | None:
    """The version of survey `key` that new invitations get. `lock` holds its row until the
    transaction ends (PostgreSQL): two saves of one survey take turns, and an invitation being
    added with this version (its foreign key check locks the row too) waits or is waited for,
    so whether the version is locked cannot change while it is being saved."""
    query = sa.select(SurveyTemplate).where(SurveyTemplate.key == key, SurveyTemplate.current.is_(True))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def invitation_count(template: SurveyTemplate) -> int:
    """How many people have been invited with this version."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation)
                             .where(SurveyInvitation.template_id == template.id)) or 0


def response_count(template: SurveyTemplate) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                             .where(SurveyResponse.template_id == template.id)) or 0


# --- reading the form -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PostedQuestion:
    """One question's fieldset exactly as typed, to show back when something needs fixing."""

    index: int
    code: str = ""
    text: str = ""
    help_text: str = ""
    qtype: str = ""
    required: bool = True
    step: str = "1"
    options: str = ""
    remove: bool = False

    @property
    def blank(self) -> bool:
        """The empty "Add a question" fieldset, left as it was."""
        return not (self.code or self.text or self.help_text or self.options)

    def field(self, part: str) -> str:
        return field_name(self.index, part)


@dataclass(frozen=True)
class QuestionDraft:
    code: str
    text: str
    help_text: str
    qtype: QuestionType
    required: bool
    step: int
    options: list[str]


def field_name(index: int, part: str) -> str:
    """The form field of one part of a question: `q-3-text`, `q-3-options`."""
    return f"q-{index}-{part}"


def rows_of(template: SurveyTemplate) -> list[PostedQuestion]:
    """A saved version's questions as the edit form shows them."""
    return [PostedQuestion(index=i, code=q.code, text=q.text, help_text=q.help_text or "", qtype=q.qtype.value,
                           required=q.required, step=str(q.step), options="\n".join(q.options or []))
            for i, q in enumerate(template.questions)]


def posted_rows(form: Mapping[str, str]) -> list[PostedQuestion]:
    """Every question fieldset in a posted form, in the order of their numbers."""
    indexes = sorted({int(match.group(1)) for key in form if (match := _ROW.fullmatch(key))})

    def value(index: int, part: str) -> str:
        return (form.get(field_name(index, part)) or "").strip()

    return [PostedQuestion(index=i, code=value(i, "code"), text=value(i, "text"), help_text=value(i, "help"),
                           qtype=value(i, "qtype"), required=bool(value(i, "required")), step=value(i, "step"),
                           options=(form.get(field_name(i, "options")) or "").strip(),
                           remove=bool(value(i, "remove")))
            for i in indexes]


def posted_name(form: Mapping[str, str]) -> str:
    return (form.get("name") or "").strip()


def parse_purpose(form: Mapping[str, str]) -> tuple[SurveyPurpose | None, dict[str, str]]:
    """Who a new survey is for, or a problem keyed by the field."""
    try:
        return SurveyPurpose(form.get("purpose") or ""), {}
    except ValueError:
        return None, {"purpose": "Choose who answers this survey"}


def _options(typed: str) -> list[str]:
    return [line.strip() for line in typed.splitlines() if line.strip()]


def _question_problems(row: PostedQuestion, qtype: QuestionType | None, options: list[str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not row.text:
        problems[row.field("text")] = "Enter the question"
    elif len(row.text) > TEXT_MAX:
        problems[row.field("text")] = f"Question must be {TEXT_MAX} characters or fewer"
    if len(row.help_text) > HELP_MAX:
        problems[row.field("help")] = f"Help text must be {HELP_MAX} characters or fewer"
    if qtype is None:
        problems[row.field("qtype")] = "Choose the type of answer"
    if not 1 <= posted_number(row.step) <= STEP_MAX:
        problems[row.field("step")] = f"Step must be a whole number from 1 to {STEP_MAX}"
    folded = [option.casefold() for option in options]
    repeated = next((option for option, key in zip(options, folded, strict=True) if folded.count(key) > 1), None)
    if qtype is QuestionType.SINGLE_CHOICE:
        if len(options) < OPTIONS_MIN:
            problems[row.field("options")] = f"Enter at least {OPTIONS_MIN} options, one on each line"
        elif len(options) > OPTIONS_MAX:
            problems[row.field("options")] = f"Enter no more than {OPTIONS_MAX} options"
        elif repeated is not None:
            problems[row.field("options")] = f"Each option must be different: “{repeated}” is there twice"
        elif any(len(option) > OPTION_MAX for option in options):
            problems[row.field("options")] = f"Each option must be {OPTION_MAX} characters or fewer"
    elif qtype is not None and options:
        problems[row.field("options")] = "Only a “choose one” question has options: clear them or change the type"
    return problems


def parse_questions(form: Mapping[str, str], template: SurveyTemplate | None = None
                    ) -> tuple[list[QuestionDraft], dict[str, str]]:
    """The survey name and questions posted by the edit form, checked. Returns the questions
    (removed ones and the untouched "Add a question" fieldset left out) and problems keyed by
    form field (`name`, `q-3-text`, ...; `questions` when none is left).

    With `template` (the version being edited), a question keeps its posted code only if that
    version has it with the same type of answer: a question whose type changes is a new question
    for reports. New questions get a code from their text that no version of the survey has used.
    """
    problems: dict[str, str] = {}
    name = posted_name(form)
    if not name:
        problems["name"] = "Enter the survey name"
    elif len(name) > NAME_MAX:
        problems["name"] = f"Survey name must be {NAME_MAX} characters or fewer"

    keep = {q.code: q.qtype for q in template.questions} if template is not None else {}
    drafts: list[QuestionDraft] = []
    for row in posted_rows(form):
        if row.remove or row.blank:
            continue
        qtype = QuestionType(row.qtype) if row.qtype in set(QuestionType) else None
        options = _options(row.options)
        found = _question_problems(row, qtype, options)
        problems.update(found)
        if found or qtype is None:
            continue
        kept = row.code in keep and keep[row.code] is qtype and all(d.code != row.code for d in drafts)
        drafts.append(QuestionDraft(code=row.code if kept else "", text=row.text, help_text=row.help_text,
                                    qtype=qtype, required=row.required, step=int(row.step),
                                    options=options if qtype is QuestionType.SINGLE_CHOICE else []))
    if not drafts and not any(key.startswith("q-") for key in problems):
        problems["questions"] = "Add at least one question"
    elif len(drafts) > QUESTIONS_MAX:
        problems["questions"] = f"A survey can have no more than {QUESTIONS_MAX} questions"

    used = _codes_ever_used(template.key) if template is not None else set()
    taken = used | {d.code for d in drafts if d.code}
    for position, draft in enumerate(drafts):
        if not draft.code:
            code = _unique(_slug(draft.text, "_", CODE_MAX - 4) or "question", taken, "_")
            taken.add(code)
            drafts[position] = replace(draft, code=code)
    return drafts, problems


def _codes_ever_used(key: str) -> set[str]:
    return set(db.session.scalars(sa.select(SurveyQuestion.code).distinct()
                                  .join(SurveyTemplate, SurveyTemplate.id == SurveyQuestion.template_id)
                                  .where(SurveyTemplate.key == key)))


def _slug(text: str, separator: str, limit: int) -> str:
    """Lower-case ASCII words joined by `separator`, cut at a word within `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        longer = f"{slug}{separator}{word}" if slug else word
        if len(longer) > limit:
            break
        slug = longer
    return slug or (words[0][:limit] if words else "")


def _unique(base: str, taken: set[str], separator: str) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{separator}{n}"
    return candidate


# --- saving ---------------------------------------------------------------------------------------

def fingerprint(name: str, questions: list) -> str:
    """A short digest of a survey's content (name and questions, from rows or drafts): the edit
    form carries it so that a change saved by someone else in place is noticed too."""
    content = [name] + [[q.code, q.text, q.help_text or "", QuestionType(q.qtype).value, q.required, q.step,
                         list(q.options or [])] for q in questions]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def is_locked(template: SurveyTemplate) -> bool:
    """Has anyone been invited with this version (answered or not)? Then it must not change."""
    invited = sa.select(SurveyInvitation.id).where(SurveyInvitation.template_id == template.id).exists()
    answered = sa.select(SurveyResponse.id).where(SurveyResponse.template_id == template.id).exists()
    return bool(db.session.scalar(sa.select(sa.or_(invited, answered))))


def _question(draft: QuestionDraft, position: int, question: SurveyQuestion | None = None) -> SurveyQuestion:
    question = question or SurveyQuestion(code=draft.code)
    question.position, question.step, question.text = position, draft.step, draft.text
    question.help_text, question.qtype, question.required = draft.help_text, draft.qtype, draft.required
    question.options = list(draft.options) if draft.qtype is QuestionType.SINGLE_CHOICE else None
    return question


def update_in_place(template: SurveyTemplate, name: str, drafts: list[QuestionDraft]) -> SurveyTemplate:
    """Change a version nobody has been invited with: questions are matched by code, changed,
    added or removed. Refused for a version with invitations or answers."""
    if is_locked(template):
        if response_count(template) or db.session.scalar(
                sa.select(sa.func.count()).select_from(SurveyInvitation)
                .where(SurveyInvitation.template_id == template.id, SurveyInvitation.answered_on.is_not(None))):
            raise TemplateRefused(f"Version {template.version} already has answers, so it cannot be changed: "
                                  f"the answers stay with its questions. Save the change as a new version instead.")
        raise TemplateRefused(f"Version {template.version} has been sent to people already, so it cannot be "
                              f"changed. Save the change as a new version instead.")
    existing = {q.code: q for q in template.questions}
    template.name = name
    template.questions = [_question(draft, position, existing.get(draft.code))
                          for position, draft in enumerate(drafts)]
    return template


def _new_version(current: SurveyTemplate, name: str, drafts: list[QuestionDraft], user: User) -> SurveyTemplate:
    current.current = False
    successor = SurveyTemplate(key=current.key, version=current.version + 1, current=True, name=name,
                               purpose=current.purpose, created_by_id=user.id,
                               questions=[_question(draft, position) for position, draft in enumerate(drafts)])
    db.session.add(successor)
    db.session.flush()  # a concurrent save of the same version fails here, on the (key, version) index
    return successor


def save(template_id: int, expected_version: int, name: str, drafts: list[QuestionDraft], user: User, *,
         expected_fingerprint: str | None = None) -> tuple[SurveyTemplate, bool]:
    """Save an edit of the survey whose version `expected_version` (template `template_id`) was
    opened. Returns the version saved and whether it is a new one.

    Refused if that version is no longer the current one, or (given `expected_fingerprint`) was
    changed in place since. A locked version (anyone invited) gets a new version; an unlocked
    one is edited in place. Saving what is already there changes nothing.
    """
    opened = db.session.get(SurveyTemplate, template_id)
    if opened is None:
        raise LookupError(template_id)
    current = current_version(opened.key, lock=True)
    if current is not None:
        db.session.expire(current, ["questions"])  # as they are now, not as the form was read
    if current is None:  # another save took the current version from under the lock
        current = current_version(opened.key)
        raise TemplateRefused(STALE.format(version=current.version if current else expected_version + 1))
    if current.version != expected_version or (
            expected_fingerprint is not None and fingerprint(current.name, current.questions) != expected_fingerprint):
        raise TemplateRefused(STALE.format(version=current.version))
    if fingerprint(name, drafts) == fingerprint(current.name, current.questions):
        return current, False
    before = current.version
    new_version = is_locked(current)
    saved = _new_version(current, name, drafts, user) if new_version else update_in_place(current, name, drafts)
    audit.record("survey_template.edit", saved, actor_id=user.id, details={
        "key": saved.key, "from_template_id": current.id, "from_version": before, "to_version": saved.version,
        "new_version": new_version, "questions": len(drafts)})
    return saved, new_version


def create(name: str, purpose: SurveyPurpose, drafts: list[QuestionDraft], user: User) -> SurveyTemplate:
    """A new survey, version 1, with a key made from its name that no survey has."""
    keys = set(db.session.scalars(sa.select(SurveyTemplate.key).distinct()))
    key = _unique(_slug(name, "-", KEY_MAX - 4) or "survey", keys, "-")
    template = SurveyTemplate(key=key, version=1, current=True, name=name, purpose=purpose, created_by_id=user.id,
                              questions=[_question(draft, position) for position, draft in enumerate(drafts)])
    db.session.add(template)
    audit.record("survey_template.create", template, actor_id=user.id,
                 details={"key": key, "to_version": 1, "questions": len(drafts)})
    return template
