"""Posted form values, query strings and URL parts as every view sees them: without NUL characters.

No keyboard types a NUL, PostgreSQL text cannot hold one (the insert fails, a 500), and SQLite
would keep an invisible character that breaks exports later. So a NUL in a name or value is
dropped where Werkzeug parses the request, before any form, view or service reads it; what is
left is validated as usual (a value that was only NULs is empty, and says so beside its field).
Invalid UTF-8 needs nothing here: Werkzeug already decodes it as U+FFFD.
"""

from flask import Flask, Request, abort
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

NUL = "\x00"


def _clean(text: str | None) -> str | None:
    # A multipart part with a mangled header can come through without a name.
    return text.replace(NUL, "") if isinstance(text, str) else text


def without_nul(values: MultiDict) -> MultiDict:
    """`values` again (same type), without NUL in any name or value; the same object when clean."""
    pairs = list(values.items(multi=True))
    if all(_clean(name) == name and _clean(value) == value for name, value in pairs):
        return values
    return type(values)((_clean(name), _clean(value)) for name, value in pairs)


class FormRequest(Request):
    """Flask's request, with NUL dropped from `form` and `args` (and so from `values`)."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = without_nul(self.form)  # where Werkzeug caches the parsed form

    @cached_property
    def args(self) -> MultiDict:
        return without_nul(super().args)


def _refuse_nul_in_path(endpoint: str | None, values: dict | None) -> None:
    """A NUL in a URL part (e.g. a framework key) names nothing: not found, not a database error."""
    if values and any(isinstance(value, str) and NUL in value for value in values.values()):
        abort(404)


def init_app(app: Flask) -> None:
    app.request_class = FormRequest
    app.url_value_preprocessor(_refuse_nul_in_path)
