"""The forms on an HTML page as a browser would submit them: each form's action and the
name/value pairs it would post unchanged (checked boxes, selected options, typed text)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

TEXT_TYPES = {"text", "hidden", "email", "number", "tel", "password", "date", "search", "url", None}


@dataclass
class Form:
    action: str | None  # None: controls outside any form
    pairs: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)  # every value offered (options, radios, buttons)


class FormReader(HTMLParser):
    """Collects `forms`; controls outside any form are kept in a form with action None."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = [Form(action=None)]
        self.current = self.forms[0]
        self.select: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "form":
            self.current = Form(action=a.get("action") or "")
            self.forms.append(self.current)
        elif tag == "input" and name:
            self.current.names.add(name)
            self.current.values.add(a.get("value") or "")
            kind = a.get("type")
            if kind in TEXT_TYPES or (kind in ("checkbox", "radio") and "checked" in a):
                self.current.pairs.append((name, a.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "button" and name:
            self.current.names.add(name)
            self.current.values.add(a.get("value") or "")
        elif tag == "select" and name:
            self.current.names.add(name)
            self.select = name
        elif tag == "option" and self.select:
            self.current.values.add(a.get("value") or "")
            if "selected" in a:
                self.current.pairs.append((self.select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self.current.names.add(name)
            self.textarea, self.text = name, []

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.current.pairs.append((self.textarea, "".join(self.text).removeprefix("\n")))
            self.textarea = None
        elif tag == "form":
            self.current = self.forms[0]


def read_forms(html: str) -> list[Form]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms
