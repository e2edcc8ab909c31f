"""Static files under content-hashed names (cached for a year) with their pre-compressed copies,
and compressed pages, fragments, JSON and downloads (issue 9)."""

import csv
import gzip
import hashlib
import io
import os
import re
from pathlib import Path
from urllib.parse import urljoin

import brotli
import pytest
from flask import Flask, Response, request, url_for
from openpyxl import load_workbook

from preceptor import static_files
from preceptor.extensions import db
from preceptor.models import Role
from preceptor.static_files import IMMUTABLE, SHORT

STATIC = Path(__file__).resolve().parent.parent / "static"
PASSWORD = "correct-horse-battery"
HASHED_LINK = re.compile(r'(?:href|src)="(/static/[^"]+\.[0-9a-f]{12}\.(?:css|js))"')


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def fetch(client, url: str, **headers):
    response = client.get(url, headers=headers)
    response.get_data()  # read, then close: static files are streamed from disk
    response.close()
    return response


def test_pages_link_static_files_by_content_hash(client):
    html = client.get("/sign-in").get_data(as_text=True)
    links = HASHED_LINK.findall(html)
    assert f"/static/css/app.{digest(STATIC / 'css/app.css')}.css" in links
    assert f"/static/js/app.{digest(STATIC / 'js/app.js')}.js" in links
    assert len(links) == 4  # both stylesheets, htmx and app.js
    for link in links:
        response = fetch(client, link)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        plain = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", link.removeprefix("/static/"))
        assert response.data == (STATIC / plain).read_bytes()
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_plain_urls_keep_working_with_a_short_cache_and_an_etag(client):
    response = fetch(client, "/static/css/app.css")
    assert response.status_code == 200 and response.headers["Cache-Control"] == SHORT
    assert response.data == (STATIC / "css/app.css").read_bytes()
    again = fetch(client, "/static/css/app.css", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # A hash this server does not know (an old page, another release): today's file, not for good.
    stale = fetch(client, "/static/css/app.0123456789ab.css")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == SHORT
    assert stale.data == response.data
    assert fetch(client, "/static/css/missing.0123456789ab.css").status_code == 404


def test_relative_references_inside_css_and_js_resolve(client, app):
    with app.test_request_context():
        app_js = url_for("static", filename="js/app.js")
        nhsuk_css = url_for("static", filename="vendor/nhsuk-frontend/nhsuk-frontend.min.css")
    imports = re.findall(r'^import .*?"(\.[^"]+)";', (STATIC / "js/app.js").read_text(), re.MULTILINE)
    nhsuk = (STATIC / "vendor/nhsuk-frontend/nhsuk-frontend.min.css").read_text()
    images = set(re.findall(r"url\((assets/[^)]+)\)", nhsuk))
    assert len(imports) == 2 and images
    for base, references in ((app_js, imports), (nhsuk_css, images)):
        for reference in references:
            response = fetch(client, urljoin(base, reference))
            assert response.status_code == 200, reference
            assert response.headers["Cache-Control"] == SHORT and response.headers["ETag"]


@pytest.mark.parametrize("accept, encoding", [("gzip", "gzip"), ("gzip, deflate, br", "br"), ("", None)])
def test_compressed_copies_are_served_to_clients_that_accept_them(client, app, accept, encoding):
    source = STATIC / "vendor/nhsuk-frontend/nhsuk-frontend.min.css"
    if not Path(f"{source}.gz").exists():
        pytest.fail("no compressed copies in static/: run `make setup` (python -m preceptor.vendor compress)")
    with app.test_request_context():
        url = url_for("static", filename="vendor/nhsuk-frontend/nhsuk-frontend.min.css")
    response = fetch(client, url, **{"Accept-Encoding": accept})
    assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers.get("Content-Encoding") == encoding
    body = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[encoding](response.data)
    assert body == source.read_bytes()
    if encoding:
        assert len(response.data) < len(body) / 5


def small_app(root: Path, *, debug: bool) -> Flask:
    app = Flask(__name__, static_folder=str(root), static_url_path="/static")
    app.debug = debug
    static_files.init_app(app)
    return app


def edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a later time even on a coarse clock


def test_a_compressed_copy_older_than_its_file_is_not_served(tmp_path):
    style = tmp_path / "site.css"
    style.write_text("body { color: black; }\n" * 100)
    assert static_files.precompress(tmp_path) == 1
    assert static_files.precompress(tmp_path) == 0  # fresh copies are kept
    edit(style, "p { margin: 0; }\n" * 100)
    for debug in (False, True):
        client = small_app(tmp_path, debug=debug).test_client()
        response = fetch(client, "/static/site.css", **{"Accept-Encoding": "gzip, br"})
        assert "Content-Encoding" not in response.headers and response.data == style.read_bytes()
    assert static_files.precompress(tmp_path) == 1
    response = fetch(small_app(tmp_path, debug=False).test_client(), "/static/site.css", **{"Accept-Encoding": "gzip"})
    assert gzip.decompress(response.data) == style.read_bytes()


def test_in_debug_mode_an_edited_file_gets_a_new_url_at_once(tmp_path):
    style = tmp_path / "css" / "app.css"
    style.parent.mkdir()
    style.write_text("body { color: black; }")
    app = small_app(tmp_path, debug=True)
    client = app.test_client()
    with app.test_request_context():
        first = url_for("static", filename="css/app.css")
        edit(style, "body { color: red; }")
        second = url_for("static", filename="css/app.css")
    assert first != second and second == f"/static/css/app.{digest(style)}.css"
    fresh = fetch(client, second)
    assert fresh.data == b"body { color: red; }" and fresh.headers["Cache-Control"] == IMMUTABLE
    old = fetch(client, first)
    assert old.data == b"body { color: red; }" and old.headers["Cache-Control"] == SHORT


def test_outside_debug_mode_the_folder_is_read_once(tmp_path):
    (tmp_path / "app.js").write_text("export {};")
    app = small_app(tmp_path, debug=False)
    with app.test_request_context():
        assert url_for("static", filename="app.js") == f"/static/app.{digest(tmp_path / 'app.js')}.js"
        assert url_for("static", filename="folder/") == "/static/folder/"  # not a file: unchanged


@pytest.mark.parametrize("encoding, decompress", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_pages_are_compressed_and_vary_on_htmx_and_encoding(client, encoding, decompress):
    plain = client.get("/sign-in")
    response = client.get("/sign-in", headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert {"HX-Request", "HX-Target", "Accept-Encoding"} <= set(response.vary)
    html = decompress(response.data).decode()
    assert "<html" in html and len(response.data) < len(plain.data) / 2
    assert int(response.headers["Content-Length"]) == len(response.data)


@pytest.fixture
def lead_client(client, make):
    site = make.site("Royal Preston")
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk")
    lead.lead_departments = [make.department(name, site) for name in ("CT", "MRI", "X-ray", "Ultrasound")]
    for department in lead.lead_departments:
        make.preceptor(department)
        make.programme(department=department)
    db.session.commit()
    client.sign_in("lead@test.nhs.uk", PASSWORD)
    return client


def test_htmx_fragments_are_compressed(lead_client):
    headers = {"HX-Request": "true", "HX-Target": "capacity_report"}
    plain = lead_client.get("/lead/", headers=headers)
    assert len(plain.data) > 500 and "<html" not in plain.get_data(as_text=True)
    response = lead_client.get("/lead/", headers={**headers, "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert {"HX-Request", "HX-Target", "Accept-Encoding"} <= set(response.vary)
    fragment = gzip.decompress(response.data).decode()
    assert fragment.lstrip().startswith('<div id="capacity_report">')


def test_a_small_json_response_is_sent_as_it_is(client):
    # The rule: bodies under 500 bytes are not worth compressing; /healthz is 16.
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers and response.json == {"status": "ok"}
    assert "Accept-Encoding" in response.vary


def test_csv_downloads_are_compressed_and_intact_and_workbooks_are_not(lead_client):
    plain = lead_client.get("/lead/capacity.csv")
    response = lead_client.get("/lead/capacity.csv", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="capacity-')
    assert response.headers["Cache-Control"] == "no-store"
    text = gzip.decompress(response.data).decode("utf-8")
    assert text == plain.get_data(as_text=True) and text.startswith("\ufeffCapacity")
    assert any(row and row[0] == "Ultrasound" for row in csv.reader(io.StringIO(text)))
    workbook = lead_client.get("/lead/capacity.xlsx", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in workbook.headers  # a zip file already
    assert "Capacity" in load_workbook(io.BytesIO(workbook.data)).sheetnames


@pytest.fixture
def extra_routes(app):
    """Routes that no page has yet: a strong ETag, and a streamed body."""

    @app.get("/etag-test")
    def etag_test():
        response = Response("line of text\n" * 100, mimetype="text/plain")
        response.set_etag("v1")
        return response.make_conditional(request)

    @app.get("/stream-test")
    def stream_test():
        return Response((f"chunk {n}\n" for n in range(200)), mimetype="text/plain")

    return app


def test_etags_and_conditional_requests_still_work_when_compressed(extra_routes, client):
    response = client.get("/etag-test", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and response.headers["ETag"] == '"v1:gzip"'
    again = client.get("/etag-test", headers={"Accept-Encoding": "gzip", "If-None-Match": '"v1:gzip"'})
    assert again.status_code == 304 and again.data == b"" and "Content-Encoding" not in again.headers
    identity = client.get("/etag-test", headers={"If-None-Match": '"v1"'})
    assert identity.status_code == 304 and "Content-Encoding" not in identity.headers


def test_streamed_responses_are_not_compressed(extra_routes, client):
    response = client.get("/stream-test", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True).startswith("chunk 0\nchunk 1\n")


@pytest.mark.parametrize("path", ["/static/vendor/.copied", "/static/css/app.css.gz", "/static/css/app.css.br",
                                  "/static/css/../../preceptor/config.py", "/static/../pyproject.toml"])
def test_only_the_static_files_themselves_are_served(client, path):
    """Set-up stamps, compressed copies by their own names, and anything outside static/ are 404."""
    response = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    response.close()
    assert response.status_code == 404
