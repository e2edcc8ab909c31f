"""Finding and replacing copies of a person's details (name, email, HCPC number, phone) in
text, for erasure (see preceptor/services/erasure.py, which decides what is personal detail).

A copy is found by SQL (LIKE, on plain text and on JSON as text, so only candidate rows are
read) and replaced in Python by one regular expression, so each copy is replaced once and the
whole name wins over its single words. The whole name matches in any case with any spacing,
as whole words only ("Al Li" does not match inside "royal lights"); single words of the name
match only as written or in capitals, and only where the caller says the text is about them.
"""

import json
import re
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import User
from .people import _like as like_pattern

MIN_NAME_LETTERS = 4
# The person's row is rewritten by erasure; the log only through a recorded redaction (erasure.redact_audit).
SKIPPED_TABLES = {"user", "audit_event", "audit_redaction"}


def _like(*words: str) -> str:
    """A lower-case LIKE pattern finding `words` in this order, anything between them."""
    return "%" + "%".join(like_pattern(word)[1:-1] for word in words) + "%"


def _name_parts(words: list[str]) -> list[str]:
    """The single words of a name, and the pieces of a double-barrelled one, as written and
    in capitals: "Mary-Jane O'Neil" gives Mary-Jane, Mary, Jane, O'Neil, Neil and MARY-JANE..."""
    pieces = {piece for word in words for piece in {word, *re.split(r"[-'’]", word)}
              if len(piece) >= 2 and any(c.isalpha() for c in piece)}
    return sorted({v for piece in pieces for v in (piece, piece.upper())}, key=lambda v: (-len(v), v))


@dataclass(frozen=True)
class Copies:
    """How the person's details appear in text, and what replaces them."""

    everywhere: re.Pattern  # the whole name (any case, any spacing), email, HCPC number, phone
    about_them: re.Pattern  # those, and the name's single words as written (in records about them)
    likes: list[str]  # LIKE patterns (lower case) finding candidate rows, in plain and in JSON text
    replacement: str

    @classmethod
    def of(cls, user: User, replacement: str) -> "Copies":
        words = user.name.split()
        alternatives, likes = [], set()
        if sum(c.isalpha() for c in user.name) >= MIN_NAME_LETTERS:  # "Jo" alone would hit too much to be a copy
            alternatives.append(r"(?i:(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w))")
            likes |= {_like(*words), _like(*(json.dumps(word)[1:-1] for word in words))}
        for literal in (user.email, user.hcpc_number, user.phone):
            if literal and len(literal.strip()) >= 5:
                alternatives.append(f"(?i:{re.escape(literal.strip())})")
                likes.add(_like(literal.strip()))
        parts = [r"(?<!\w)(?:" + "|".join(map(re.escape, _name_parts(words))) + r")(?!\w)"] if words else []
        # One pattern per use, so a single pass replaces each copy once (the placeholder is never
        # searched again) and the whole name wins over its single words.
        nothing = [r"(?!)"]  # a pattern that never matches, for a name too short to search for
        return cls(re.compile("|".join(alternatives or nothing)), re.compile("|".join(alternatives + parts or nothing)),
                   sorted(likes), replacement)

    def scrub(self, value, *, parts: bool = False):
        """`value` (text, or JSON data) with every copy replaced; the same object if none."""
        if isinstance(value, str):
            new = (self.about_them if parts else self.everywhere).sub(self.replacement, value)
            return value if new == value else new
        if isinstance(value, list):
            new = [self.scrub(item, parts=parts) for item in value]
            return value if all(a is b for a, b in zip(new, value, strict=True)) else new
        if isinstance(value, dict):
            new = {self.scrub(k, parts=parts): self.scrub(v, parts=parts) for k, v in value.items()}
            return value if list(new.items()) == list(value.items()) else new
        return value

    def found_in(self, column) -> sa.ColumnElement[bool]:
        text = sa.func.lower(sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column)
        return sa.or_(*(text.like(pattern, escape="\\") for pattern in self.likes))


def text_columns(table: sa.Table):
    for column in table.columns:
        if column.primary_key or column.foreign_keys or isinstance(column.type, sa.Enum):
            continue
        if isinstance(column.type, (sa.JSON, sa.String)):
            yield column


def sweep(copies: Copies) -> dict[str, int]:
    """Replace every copy in every text and JSON column of every table (but the two skipped),
    reading only the rows a LIKE finds. A versioned row's version moves on, so a form opened
    before the erasure cannot save the old text back. Returns the rows changed per table."""
    changed: dict[str, int] = {}
    for table in db.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or not table.primary_key.columns:
            continue
        for column in text_columns(table):
            keys = list(table.primary_key.columns)
            for row in db.session.execute(sa.select(*keys, column).where(copies.found_in(column))).all():
                *key, value = row
                new = copies.scrub(value)
                if new is value:
                    continue
                if isinstance(new, str) and getattr(column.type, "length", None):
                    new = new[:column.type.length]
                values = {column.name: new}
                if "version" in table.c:
                    values["version"] = table.c.version + 1
                db.session.execute(sa.update(table).where(*(k == v for k, v in zip(keys, key, strict=True)))
                                   .values(values))
                changed[table.name] = changed.get(table.name, 0) + 1
    return changed
