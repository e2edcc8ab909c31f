"""Browser fixtures: the demo trust served on 127.0.0.1, real Chromium through Playwright,
an axe-core accessibility check, and a guard that fails any test whose pages log console
errors (CSP violations, failed asset loads, script errors).

Chromium comes from the system (`apt-get install chromium`); without it every browser test
is skipped with the reason shown.
"""

import shutil
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from preceptor import create_app
from preceptor.demo import seed_demo
from preceptor.extensions import db
from tests.conftest import config_for

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    return path


@contextmanager
def serving(app):
    """`app` served on 127.0.0.1 at a free port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def live_server(databases):
    """The demo trust on a fresh database, served on 127.0.0.1 at a free port; yields the base URL."""
    app = create_app(config_for(databases.fresh()))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    try:
        with serving(app) as url:
            yield url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def playwright_instance(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance, chromium_path):
    browser = playwright_instance.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class ConsoleErrors:
    """Collects what would show as errors in the browser's console, on every page of a context."""

    def __init__(self):
        self.errors: list[str] = []
        self.pages: list = []

    def watch(self, page) -> None:
        if any(seen is page for seen in self.pages):
            return
        self.pages.append(page)
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))
        page.on("requestfailed", lambda request: self._failed(page, request))
        page.on("response", lambda response: self._response(page, response))

    def _failed(self, page, request) -> None:
        # A request the browser cancelled because the test moved to another page is not a fault.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.errors.append(f"{page.url}: request failed {request.method} {request.url} ({request.failure})")

    def _console(self, page, message) -> None:
        if message.type == "error":
            self.errors.append(f"{page.url}: console error: {message.text}")

    def _response(self, page, response) -> None:
        if response.status >= 400:
            self.errors.append(f"{page.url}: HTTP {response.status} for {response.request.method} {response.url}")

    def check(self) -> None:
        if self.errors:
            pytest.fail("The browser reported errors:\n" + "\n".join(f"  - {e}" for e in self.errors), pytrace=False)


CONSOLES = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body, fail the test (not its teardown) if any of its pages logged errors."""
    result = yield
    for console in item.stash.get(CONSOLES, []):
        console.check()
    return result


@pytest.fixture
def new_page(request, browser, live_server):
    """new_page(**context_options): a page in a fresh browser context (e.g. java_script_enabled=False).
    Every page opened in such a context is watched for console errors, which fail the test."""
    contexts = []
    consoles = request.node.stash.setdefault(CONSOLES, [])

    def make(**options):
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        console = ConsoleErrors()
        consoles.append(console)
        context.on("page", console.watch)  # pages the app opens later (new tabs) too
        page = context.new_page()
        page.javascript_off = options.get("java_script_enabled") is False  # see assert_accessible
        console.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def patient_expect():
    """The machine is small (2 cores): give every expectation more time than the default 5 s.
    Modules with long journeys use it (`pytest.mark.usefixtures("patient_expect")`)."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def page(new_page):
    """A page in a new browser context (no cookies carried between tests)."""
    return new_page()


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        pytest.fail(f"axe-core is missing at {AXE_PATH}: run `.venv/bin/python -m preceptor.vendor`")
    return AXE_PATH.read_text(encoding="utf-8")


def format_violations(violations: list[dict], url: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation.get("nodes", [])]
        shown = "; ".join(targets[:3]) + (f"; and {len(targets) - 3} more" if len(targets) > 3 else "")
        lines.append(f"  - {violation['id']} [{violation.get('impact')}]: {violation.get('help')}")
        lines.append(f"      {violation.get('helpUrl', '')}")
        lines.append(f"      at: {shown}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Run axe-core on the page and fail with a readable list of any violations.

    axe is injected through page.evaluate, which the page's CSP (no inline script) does not block.
    In a page with JavaScript off axe.run never settles, so such a page fails at once instead of
    hanging: check its HTML in a JavaScript tab (as test_preceptor_journey's `axe_as_served` does).
    """
    if getattr(page, "javascript_off", False):
        pytest.fail("axe cannot run in a page with JavaScript off: check its HTML in a JavaScript tab instead",
                    pytrace=False)
    # A click that navigates returns before the new document is built: axe must not run on a page
    # still loading (it would find no <main> and no <h1>).
    page.wait_for_load_state("load")
    page.locator("main").first.wait_for(state="attached")
    page.evaluate(axe_source())
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    if violations:
        pytest.fail(format_violations(violations, page.url), pytrace=False)
