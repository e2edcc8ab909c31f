"""Every POST endpoint, fuzzed with hypothesis as a person allowed to use it (issue 10).

The fuzzer reads the endpoint's form from its page (field names, offered values, and the values
a valid submission carries). Each example is either that valid submission with one or two values
made hostile, or the real field names each missing, present or duplicated with hostile values;
plus a few invented names; sometimes as htmx; sometimes with invalid bytes unescaped; a CSV file
for the upload steps. Hostile values: 100k-character strings, control characters and NUL, lone
surrogates and invalid UTF-8, numbers out of range, impossible dates, ids of department B's
objects. Two properties hold for all: the server never fails (no 5xx, no exception), and
department B's rows never change (see `fuzz_targets`).

`FUZZ_EXAMPLES=200 pytest tests/test_fuzz_posts.py` runs a longer search locally.
"""

import os
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import quote_from_bytes

import pytest
from flask import request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from preceptor.extensions import db
from preceptor.models import LogEntry, Role, Site
from preceptor.services.csv_upload import pack

from .factories import PASSWORD
from .form_reader import read_forms
from .fuzz_targets import ANON, TARGETS, Target, World, build_world, checksums
from .test_access import EXPECTED

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))

HUGE = [b"x" * 100_000, ("\u00e9" * 50_000).encode(), b"<script>" * 12_500]
CONTROL = [b"\x00", b"a\x00b", bytes(range(32)), b"\r\n\r\n", b"\x1b[31m", b"\x7f\x85"]
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"caf\xe9"]
NUMBERS = [b"-1", b"0", b"1", b"9223372036854775808", b"-9223372036854775809", b"1e309", b"-1e309", b"NaN",
           b"inf", b"0.000001", b"99999.999", b"1" * 400, b"0x10", b"1_000", b" 7 "]
DATES = [b"0000-00-00", b"9999-12-31", b"2026-02-30", b"0001-01-01", b"2026-13-01", b"31/12/2026", b"today",
         b"1970-01-01T00:00:00"]
WORDS = [b"", b" ", b"on", b"y", b"true", b"yes", b"null", b"[]", b"{}", b"' OR 1=1 --", b"../../etc/passwd", b"%00",
         b"%ZZ", b"<b>bold</b>", b"=cmd|' /C calc'!A0", b"\xe2\x80\xae", b"\xef\xbb\xbf", b"\xf0\x9f\x92\xa9"]
ACTIONS = [b"pause", b"resume", b"extend", b"complete", b"leave", b"send", b"save", b"next", b"back", b"restore",
           b"remove", b"add", b"rename", b"archive", b"delete", b"merge", b"sign_off", b"return", b"access",
           b"deactivate", b"reactivate", b"reflection", b"done", b"open", b"admin", b"preceptee"]


def values(world: World, page_values: list[str]) -> st.SearchStrategy[bytes]:
    """One hostile (or plausible: a value the page offers, an id) form value, as the bytes that go
    on the wire."""
    ids = [str(i).encode() for i in (*world.other_ids, *(v for v in world.ids.values() if isinstance(v, int)))]
    plausible = ACTIONS + ids + [value.encode() for value in page_values]
    return st.one_of(
        st.sampled_from(HUGE + CONTROL + INVALID_UTF8 + NUMBERS + DATES + WORDS),
        st.sampled_from(plausible),
        # any code point, lone surrogates included (sent as the invalid UTF-8 bytes they encode to)
        st.text(st.characters(exclude_categories=()), max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.binary(max_size=20),
        st.integers().map(lambda n: str(n).encode()),
    )


@st.composite
def csv_files(draw, headings: str) -> bytes:
    """An uploaded CSV: the real headings (or mangled ones) over rows of hostile cells, or junk."""
    heading = draw(st.sampled_from([headings.encode(), b"\xef\xbb\xbf" + headings.encode(), headings.upper().encode(),
                                    headings.encode("utf-16"), b"", b"=1+1," + headings.encode()]))
    cell = st.sampled_from(CONTROL + INVALID_UTF8 + NUMBERS + DATES + WORDS + [b'"', b'"a""b', b"a\nb", b"\r"])
    rows = draw(st.lists(st.lists(cell | st.binary(max_size=8), max_size=12), max_size=6))
    text = b"\r\n".join([heading, *(b",".join(row) for row in rows)])
    return draw(st.sampled_from([text, text, text, b"", b"x" * (2 * 1024 * 1024 + 1), b"\x00" * 512,
                                 b"PK\x03\x04" + text]))


@dataclass
class Example:
    """One hostile request: the form's name/value pairs as bytes, how to send them, any CSV."""

    pairs: list[tuple[bytes, bytes]]
    raw: bool  # invalid bytes sent unescaped rather than percent-escaped
    htmx: bool
    csv: bytes | None = None
    filename: str = "upload.csv"

    def __repr__(self) -> str:  # what hypothesis shows for a failing example: 100k values cut short
        def cut(value: bytes) -> bytes:
            return value if len(value) < 80 else value[:40] + b"...(%d bytes)" % len(value)
        pairs = [(cut(n), cut(v)) for n, v in self.pairs]
        csv = None if self.csv is None else cut(self.csv)
        return f"Example({pairs!r}, raw={self.raw}, htmx={self.htmx}, csv={csv!r}, filename={self.filename!r})"

    def urlencoded(self, token: str) -> bytes:
        """The body, with a valid CSRF token first (an invalid one would only test Flask-WTF)."""
        pairs = self.pairs if self.raw else [(quote_from_bytes(n).encode(), quote_from_bytes(v).encode())
                                             for n, v in self.pairs]
        return b"&".join([b"csrf_token=" + token.encode(), *(n + b"=" + v for n, v in pairs)])

    def multipart(self, token: str, field: str) -> tuple[bytes, str]:
        """A multipart body with the CSV as a file, and its content type; other values as Latin-1
        text (any bytes map to it). Encoded in memory: the test client would spool a big file to a
        temporary file it never closes."""
        data = MultiDict([("csrf_token", token), *((n.decode("latin-1"), v.decode("latin-1")) for n, v in self.pairs)])
        if self.csv is not None:
            data.add(field, FileStorage(BytesIO(self.csv), self.filename, content_type="text/csv"))
        boundary, body = encode_multipart(data)
        return body, f"multipart/form-data; boundary={boundary}"


def sign_in(client, email: str | None) -> None:
    if email is not None:
        response = client.sign_in(email, PASSWORD)
        assert response.status_code == 302, f"could not sign in as {email}"


@dataclass
class PageForm:
    """What the fuzzer knows of an endpoint's form: every field name and offered value on the
    page, and a valid submission (the form posting to the endpoint as the page fills it in,
    with the target's `valid` values on top)."""

    names: list[str]
    values: list[str]
    baseline: list[tuple[str, str]]


def read_form(client, page: str, path: str, target: Target, ids: dict) -> PageForm:
    response = client.get(page, follow_redirects=True)
    assert response.status_code == 200, f"{page} gave {response.status_code}"
    forms = read_forms(response.get_data(as_text=True))
    names = {name for form in forms for name in form.names} | {name.format(**ids) for name in target.fields}
    with client.application.test_request_context():
        names.update(field.name for form in target.forms for field in form(formdata=None))
    posting_here = [form for form in forms
                    if form.action is not None and (form.action or page).split("?")[0] == path.split("?")[0]]
    baseline = [pair for pair in (posting_here[0].pairs if posting_here else []) if pair[0] != "csrf_token"]
    valid = {name.format(**ids): value.format(**ids) for name, value in target.valid}
    baseline = [(name, value) for name, value in baseline if name not in valid] + sorted(valid.items())
    return PageForm(sorted(names - {"csrf_token"}), sorted({v for form in forms for v in form.values}), baseline)


@st.composite
def examples(draw, page: PageForm, world: World, target: Target) -> Example:
    """Either the form as the page would post it (valid) with one or two values made hostile,
    or each real field 0-3 times (missing, present, duplicated) with hostile values; plus 0-2
    invented fields."""
    value = values(world, page.values)
    pairs: list[tuple[bytes, bytes]] = []
    if page.baseline and draw(st.booleans()):
        pairs = [(name.encode(), text.encode()) for name, text in page.baseline]
        for index in draw(st.lists(st.integers(0, len(pairs) - 1), min_size=1, max_size=2)):
            pairs[index] = (pairs[index][0], draw(value))
    else:
        for name in page.names:
            for _ in range(draw(st.sampled_from((0, 1, 1, 1, 2, 3)))):
                pairs.append((name.encode(), draw(value)))
    for name in draw(st.lists(st.binary(min_size=1, max_size=12) | st.sampled_from([b"id", b"user_id"]),
                              max_size=2)):
        pairs.append((name, draw(value)))
    example = Example(pairs, raw=draw(st.integers(0, 9)) == 0, htmx=draw(st.booleans()))
    if target.csv is not None and draw(st.integers(0, 4)) > 0:
        field, headings = target.csv
        example.csv = draw(csv_files(headings))
        if field == "content":  # the confirm step's hidden field: the packed file, as the upload step made it
            example.pairs.append((b"content", pack(example.csv.decode("utf-8", "replace")).encode()))
        else:
            example.filename = draw(st.sampled_from(["upload.csv", "", "../../etc/passwd", "a\x00.csv", "x.xlsx"]))
    return example


def test_nul_is_dropped_from_posted_values_and_query_strings(app):
    with app.test_request_context("/?q=a%00b", method="POST", data={"na\x00me": "Site\x00 C", "kept": "as typed"}):
        assert request.form.to_dict() == {"name": "Site C", "kept": "as typed"}
        assert request.args["q"] == "ab" and request.values["name"] == "Site C"


def test_a_name_of_nul_characters_is_an_empty_name_beside_its_field(client, make):
    """Found by the fuzzer: on PostgreSQL a NUL in any text field was a 500."""
    admin = make.user(Role.ADMIN)
    db.session.commit()
    client.sign_in(admin.email, PASSWORD)
    refused = client.submit("/admin/sites/new", {"name": "\x00\x00"})
    assert refused.status_code == 400 and "nhsuk-error-message" in refused.get_data(as_text=True)
    assert client.submit("/admin/sites/new", {"name": "Royal\x00 Preston"}).status_code == 302
    assert db.session.scalar(select(Site.name)) == "Royal Preston"


def test_a_multipart_part_with_a_mangled_name_is_refused_not_a_failure(client, make):
    """Found by the fuzzer: a part named with a line break reaches the form without a name."""
    admin = make.user(Role.ADMIN)
    db.session.commit()
    client.sign_in(admin.email, PASSWORD)
    boundary, body = encode_multipart(MultiDict([("csrf_token", client.csrf_token("/admin/people/import")),
                                                 ("\n", "x\x00")]))
    response = client.post("/admin/people/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400  # no file chosen


def test_every_post_endpoint_has_a_fuzz_target(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts - set(TARGETS) == set(), "POST endpoints without a fuzz target in tests/fuzz_targets.py"
    assert set(TARGETS) - posts == set(), "fuzz targets for endpoints that no longer take POST"


def test_the_guard_sees_a_change_to_department_b_and_nothing_else(app, make):
    world = build_world(make)
    before = checksums(world)
    db.session.get(LogEntry, world.other["log_entry"][0]).title = "Changed behind their back"
    db.session.get(LogEntry, world.ids["entry"]).title = "My own entry, mine to change"
    db.session.commit()
    after = checksums(world)
    assert [name for name in before if before[name] != after[name]] == ["log_entry"]


@pytest.mark.parametrize("endpoint", sorted(TARGETS))
def test_fuzz_targets_sign_in_as_someone_the_access_table_lets_in(endpoint):
    assert EXPECTED[endpoint][2][TARGETS[endpoint].role] != 403


@pytest.mark.parametrize("endpoint", sorted(TARGETS))
def test_hostile_posts_never_fail_and_never_touch_other_departments(app, make, endpoint):
    target = TARGETS[endpoint]
    world = build_world(make)
    email = None if target.role == ANON else world.emails[target.role]
    path = target.path.format(**world.ids)
    page = (target.form_page or target.path).format(**world.ids)
    client = app.test_client()
    sign_in(client, email)
    form = read_form(client, page, path, target, world.ids)
    signed_in_token = client.csrf_token(page)

    @given(example=examples(form, world, target))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def post(example: Example) -> None:
        token = signed_in_token
        if target.signs_out:
            client.sign_out()
            sign_in(client, email)
            token = client.csrf_token(page)
        headers = {"HX-Request": "true"} if example.htmx else {}
        before = checksums(world, target.may_change)
        if target.csv is not None and target.csv[0] == "file":
            body, content_type = example.multipart(token, "file")
            response = client.post(path, data=body, headers=headers, content_type=content_type)
        else:
            response = client.post(path, data=example.urlencoded(token), headers=headers,
                                   content_type="application/x-www-form-urlencoded")
        response.close()
        assert response.status_code < 500, f"{endpoint} answered {response.status_code}"
        after = checksums(world, target.may_change)
        changed = sorted(name for name in before if before[name] != after[name])
        assert changed == [], f"{endpoint} changed department B's rows in {changed}"

    post()


def test_a_nul_in_a_url_part_is_not_found(client, make):
    """Found in review: a NUL in a framework key reached the database (a 500 on PostgreSQL)."""
    admin = make.user(Role.ADMIN)
    db.session.commit()
    client.sign_in(admin.email, PASSWORD)
    assert client.get("/admin/framework/milestones/initial%00-meeting").status_code == 404
    assert client.get("/admin/framework/milestones/no-such-key").status_code == 404  # as before
