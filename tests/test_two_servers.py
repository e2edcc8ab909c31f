"""Two servers, one PostgreSQL: two gunicorn instances on different loopback ports share
sign-ins, see each other's changes at once, and between them never allocate a preceptor past
their cap (issue 9).

The servers are real gunicorn processes (2 sync workers each, app built before forking as in
`make serve`) started once for this module against the test database; they run no migrations
(the suite's set-up already did). Each test commits its data so the servers see it, and talks
to them over plain HTTP as a browser would: cookies, the page's CSRF token, forms.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import Allocation, AuditEvent, Role
from tests.conftest import CSRF_META
from tests.factories import PASSWORD, Make

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="two servers share one PostgreSQL database: set TEST_DATABASE_URL (SQLite is "
                              "one file on one machine)"),
]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
SECRET_KEY = "two-servers-shared-secret"  # noqa: S105  (the one key both servers sign sessions with)
HASH_METHOD = "pbkdf2:sha256:1000"  # as the factories hash the test users' passwords
USER_AGENT = "two-servers-test"
START_SECONDS = 60
REDIS_URL = "redis://127.0.0.1:6379/0"
PROBLEM = re.compile(r"[^<>]*(?:places taken|Someone else|not |cannot )[^<>]*")


@dataclass
class Server:
    """One gunicorn instance, its log (stdout and stderr) kept for failure messages."""

    base: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def ask_to_stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: nothing is in flight

    def wait_stopped(self) -> None:
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    """The settings both servers must share; the developer's own DATABASE_URL, SECRET_KEY,
    PRECEPTOR_* and gunicorn settings are left out so they cannot leak in."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "SECRET_KEY", "GUNICORN_CMD_ARGS"} and not key.startswith("PRECEPTOR_")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, PRECEPTOR_PASSWORD_HASH_METHOD=HASH_METHOD,
               PRECEPTOR_INSTANCE_PATH=str(instance),
               # Failed sign-ins are counted in one Redis for both (a fresh prefix: nothing from earlier runs).
               PRECEPTOR_RATELIMIT_STORAGE_URI=REDIS_URL,
               PRECEPTOR_RATELIMIT_KEY_PREFIX=f"two-servers-{secrets.token_hex(6)}")
    return env


def start(name: str, env: dict[str, str], folder: Path) -> Server:
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--worker-class", "sync", "--preload", "--graceful-timeout", "5",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Server(f"http://127.0.0.1:{port}", process, log)


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server {server.base} exited with {server.process.returncode}:\n{server.output()}")
        try:
            if Browser().get(server, "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server {server.base} did not answer /healthz within {START_SECONDS}s:\n{server.output()}")


@pytest.fixture(scope="module")
def servers(databases, tmp_path_factory) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: one database, one secret key, one password hashing method."""
    folder = tmp_path_factory.mktemp("two-servers")
    env = server_env(databases.url, folder / "instance")
    started: list[Server] = []
    try:
        started += [start("a", env, folder), start("b", env, folder)]
        for server in started:
            wait_until_ready(server)
        yield started[0], started[1]
    finally:
        for server in started:  # both at once, then wait for each
            server.ask_to_stop()
        for server in started:
            server.wait_stopped()


@dataclass
class Response:
    status: int
    location: str
    text: str


class Browser:
    """One person's browser: its cookies go to whichever server it talks to, as they would to
    two servers behind one address."""

    def __init__(self, cookies: dict[str, str] | None = None):
        self.cookies = dict(cookies or {})

    def request(self, server: Server, method: str, path: str, form: dict | None = None) -> Response:
        parts = urlsplit(server.base)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Response(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)  # the server deleted it

    def get(self, server: Server, path: str) -> Response:
        return self.request(server, "GET", path)

    def post(self, server: Server, path: str, form: dict) -> Response:
        return self.request(server, "POST", path, form)

    def csrf_token(self, server: Server, path: str) -> str:
        page = self.get(server, path)
        match = CSRF_META.search(page.text)
        assert match, f"no CSRF token on {server.base}{path} ({page.status})"
        return match.group(1)

    def sign_in(self, server: Server, email: str) -> None:
        token = self.csrf_token(server, "/sign-in")
        response = self.post(server, "/sign-in", {"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status == 302, f"sign-in as {email} on {server.base} failed ({response.status})"


class FormFields(HTMLParser):
    """The hidden inputs of the form posting to `action`, and the name of its button whose
    value is `button`: what a browser would send when that button is pressed."""

    def __init__(self, action: str, button: str):
        super().__init__()
        self.action, self.button = action, button
        self.inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        elif self.inside and tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif self.inside and tag == "button" and attributes.get("value") == self.button:
            self.fields[attributes["name"]] = self.button

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str, action: str, button: str) -> dict[str, str]:
    parser = FormFields(action, button)
    parser.feed(html)
    assert parser.fields, f"no form posting to {action} with a {button!r} button"
    return parser.fields


def problem(html: str) -> str:
    """The refusal a page shows, for a failure message."""
    match = PROBLEM.search(html)
    return match.group(0).strip() if match else "no refusal shown"


def test_signed_in_on_one_server_is_signed_in_on_the_other(servers, setting):
    a, b = servers
    programme, _ = setting
    email, name = programme.preceptee.email, programme.preceptee.name
    db.session.commit()  # end the test's read so it holds nothing while the servers work
    browser = Browser()
    assert browser.get(b, "/").location.endswith("/sign-in")  # nobody signed in yet
    browser.sign_in(a, email)
    assert browser.get(b, "/").location.endswith("/preceptee/")
    home = browser.get(b, "/preceptee/")
    assert home.status == 200 and name in home.text and 'action="/sign-out"' in home.text
    assert browser.get(a, "/preceptee/").status == 200


def test_sign_off_made_on_one_server_is_shown_by_the_other_at_once(servers, setting):
    a, b = servers
    programme, preceptor = setting
    milestone = Make().sign_off_request(programme, 1, "Reflection on a trauma call")
    milestone_id, preceptee_email = milestone.id, programme.preceptee.email
    preceptor_email, preceptor_name = preceptor.email, preceptor.name
    db.session.commit()
    preceptee, reviewer = Browser(), Browser()
    preceptee.sign_in(b, preceptee_email)
    page = f"/preceptee/milestones/{milestone_id}"
    before = preceptee.get(b, page)
    assert "Waiting for your preceptor" in before.text and "Signed off</strong>" not in before.text

    reviewer.sign_in(a, preceptor_email)
    action = f"/preceptor/milestones/{milestone_id}/decision"
    form = form_fields(reviewer.get(a, "/preceptor/queue").text, action, "sign_off")
    decided = reviewer.post(a, action, {**form, f"m{milestone_id}-comment": "Well reflected"})
    assert decided.status == 302, decided.text[-2000:]

    # Every one of B's workers (requests land on either) shows the decision on the next request.
    for _ in range(4):
        after = preceptee.get(b, page)
        assert f"Signed off</strong> by {preceptor_name}" in after.text and "Well reflected" in after.text


def test_allocations_through_both_servers_at_once_never_exceed_the_cap(servers, make):
    a, b = servers
    cap, waiting = 3, 16
    department = make.department("CT")
    lead = make.user(Role.EDUCATION_LEAD, trust_wide=True)
    preceptor = make.preceptor(department, cap=cap)
    start = date.today() - timedelta(days=10)
    programmes = [make.programme(department=department, start=start).id for _ in range(waiting)]
    preceptor_id, lead_email = preceptor.id, lead.email
    db.session.commit()

    browser = Browser()
    browser.sign_in(a, lead_email)
    token = browser.csrf_token(b, "/lead/waiting")  # one session, so one token, on either server
    barrier = threading.Barrier(waiting)
    outcomes: dict[int, tuple[str, Response]] = {}
    errors: list[str] = []

    def allocate(index: int, programme_id: int) -> None:
        server = (a, b)[index % 2]
        own = Browser(browser.cookies)  # the same session; each request in its own tab
        try:
            barrier.wait(timeout=30)
            response = own.post(server, f"/lead/programmes/{programme_id}/preceptor",
                                {"csrf_token": token, "preceptor": str(preceptor_id)})
            outcomes[programme_id] = (server.base, response)
        except Exception as error:  # shown by the assertion below, not lost in the thread
            errors.append(f"{server.base}: {error!r}")

    threads = [threading.Thread(target=allocate, args=pair) for pair in enumerate(programmes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == waiting, f"a request did not finish: {errors}\n{a.output()}\n{b.output()}"

    placed = [pid for pid, (_, response) in outcomes.items()
              if response.status == 302 and response.location.endswith("/lead/waiting")]
    refused = [pid for pid, (_, response) in outcomes.items()
               if response.status == 200 and f"has {cap} of {cap} places taken" in response.text]
    unexpected = {pid: (base, response.status, problem(response.text)) for pid, (base, response) in outcomes.items()
                  if pid not in placed and pid not in refused}
    assert not unexpected, f"neither placed nor clearly refused: {unexpected}"
    assert len(placed) == cap and len(refused) == waiting - cap
    assert {base for base, _ in outcomes.values()} == {a.base, b.base}

    current = db.session.scalars(select(Allocation.preceptorship_id).where(
        Allocation.preceptor_id == preceptor_id, Allocation.ends_on.is_(None))).all()
    assert sorted(current) == sorted(placed)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "allocation.start")) == cap


def test_failed_sign_ins_on_both_servers_count_together(servers, make):
    """Five wrong passwords, alternately on A and B, pause the account on both: the limit is
    kept in the shared Redis, not in each server's memory."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    a, b = servers
    make.user(Role.PRECEPTEE, email="guessed@test.nhs.uk")
    db.session.commit()
    browser = Browser()
    for n in range(5):
        server = (a, b)[n % 2]
        token = browser.csrf_token(server, "/sign-in")
        response = browser.post(server, "/sign-in", {"email": "guessed@test.nhs.uk", "password": "wrong-password-here",
                                                     "csrf_token": token})
        assert response.status == 200, f"attempt {n + 1} on {server.base}: {response.status}"
    for server in (a, b):
        token = browser.csrf_token(server, "/sign-in")
        response = browser.post(server, "/sign-in", {"email": "guessed@test.nhs.uk", "password": PASSWORD,
                                                     "csrf_token": token})
        assert response.status == 429 and "Too many sign-in attempts" in response.text, server.base
