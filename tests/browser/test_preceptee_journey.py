"""The preceptee's journey in Chromium: write a reflection, use it as evidence and ask for
sign-off (with JavaScript and without), autosaved drafts surviving a reload and a new
sign-in, the htmx timeline filters and log search, and axe-core on every page on the way.

All tests in this module share one seeded database (one live server per module), so each
makes its own uniquely titled entries and picks a milestone that is still "Not started" at
the time it runs, rather than relying on what another test did.
"""

import re
from datetime import date, timedelta
from itertools import count

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible, axe_source, format_violations

pytestmark = pytest.mark.browser

EMAIL = "preceptee@demo.nhs.uk"
REFLECTION_FORM = "/preceptee/log/new?kind=reflection"
_serial = count(1)


def unique(text: str) -> str:
    """A title no other test in this module will use."""
    return f"{text} {next(_serial)}-{date.today():%d%m}"


def url_is(live_server: str, path: str, query: str = r"(\?.*)?") -> re.Pattern:
    return re.compile("^" + re.escape(live_server) + path + query + "$")


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def heading(page):
    return page.get_by_role("heading", level=1)


def sign_in(page, live_server: str, then: str | None = None) -> None:
    """Sign in through the form; with `then`, straight on to that page (the form's `next`),
    so no test navigates away while the home page is still loading its favicon."""
    page.goto("/sign-in" + (f"?next={then}" if then else ""))
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    if then:
        expect(page).to_have_url(url_is(live_server, re.escape(then.split("?")[0]), r"(\?.*)?"))
    else:
        expect(page).to_have_url(url_is(live_server, "/preceptee/"))
        expect(heading(page)).to_have_text("My preceptorship")
    page.wait_for_load_state("load")


def follow(locator) -> None:
    """Click something that loads another page, once this one has finished loading: leaving
    earlier aborts its pending requests (scripts, favicon), which the conftest counts as errors."""
    locator.page.wait_for_load_state("load")
    locator.click()
    locator.page.wait_for_load_state("load")


def nav(page, name: str) -> None:
    # The link's name may carry a count after the words ("Timeline 1 due").
    follow(page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name=re.compile("^" + re.escape(name) + r"(\s|$)")))


class Audit:
    """Collects axe-core violations (and a few checks of known-fragile wording) over a whole
    journey and fails once at the end, so a problem on one page does not hide the rest."""

    def __init__(self):
        self.problems: list[str] = []

    def axe(self, page) -> None:
        page.evaluate(axe_source())
        violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        if violations:
            self.problems.append(format_violations(violations, page.url))

    def check(self, what: str, assertion) -> None:
        try:
            assertion()
        except AssertionError as error:
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            self.problems.append(f"{what}:\n    " + "\n    ".join(lines[:4]))

    def verify(self) -> None:
        if self.problems:
            pytest.fail("Problems found along the journey:\n" + "\n".join(f"- {p}" for p in self.problems),
                        pytrace=False)


def status_tag(scope, label: str):
    return scope.locator("strong.nhsuk-tag", has_text=re.compile(r"^\s*" + re.escape(label) + r"\s*$"))


def not_started_milestone(page) -> str:
    """The title of a milestone that is "Not started" now, read from the whole timeline (not
    a filter), so tests that each take one do not depend on their order."""
    link = not_started_link(page)
    expect(link).to_be_visible()
    return link.inner_text().strip()


def not_started_link(page):
    """The title link (second column) of the first "Not started" milestone on the timeline."""
    rows = page.locator("#timeline tbody tr").filter(has=status_tag(page, "Not started"))
    return rows.first.locator("td").nth(1).get_by_role("link")


def discard_any_draft(page) -> None:
    """A draft left by another test would pre-fill the form: start from a blank one."""
    discard = page.get_by_role("button", name="Discard the draft and start again")
    if discard.count():
        follow(discard)
        expect(page.get_by_text("Draft discarded.")).to_be_visible()
        expect(discard).to_have_count(0)


def fill_date(page, day: date) -> None:
    group = page.get_by_role("group", name="Date")
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def fill_reflection(page, title: str, occurred_on: date, milestone: str | None = None) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    fill_date(page, occurred_on)
    page.get_by_label("Hours").fill("1.5")
    page.get_by_label("What happened?").fill(f"{title}: positioned a trauma shoulder with my preceptor watching.")
    page.get_by_label("So what?").fill("I was unsure of the modified axial view and asked for help early.")
    page.get_by_label("Now what?").fill("Practise the view on the next three trauma lists.")
    if milestone:
        page.get_by_role("group", name="Link as evidence to milestones (optional)").get_by_role(
            "checkbox", name=milestone, exact=True).check()


def expect_waiting_for_sign_off(page, audit: Audit, milestone: str, entry_title: str, summary: str) -> None:
    expect(heading(page)).to_have_text(milestone)
    expect(page.get_by_text("Sign-off requested: your preceptor has been asked to review it.")).to_be_visible()
    audit.check("the milestone's Status row says it is waiting", lambda: expect(
        status_tag(page.locator(".nhsuk-summary-list"), "Waiting for sign-off")).to_be_visible(timeout=1000))
    evidence = page.get_by_role("heading", name="Evidence you sent").locator("xpath=following-sibling::ul[1]")
    expect(evidence.get_by_role("link", name=entry_title, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw request")).to_be_visible()
    expect(page.get_by_role("button", name="Ask for sign-off")).to_have_count(0)
    inset = page.locator(".nhsuk-inset-text")
    audit.check("the waiting inset reads as text, not markup", lambda: expect(inset).to_contain_text(
        re.compile(r"Waiting for your preceptor since " + re.escape(long_date(date.today())) + r"\.\s*"
                   + re.escape(summary)), timeout=1000))
    audit.check("the waiting inset shows no literal tags",
                lambda: expect(inset).not_to_contain_text("<p>", timeout=1000))


# --- 1. the main journey -----------------------------------------------------------------

def test_reflection_to_sign_off_request_with_javascript(page, live_server):
    audit = Audit()
    sign_in(page, live_server)
    audit.axe(page)

    nav(page, "Timeline")
    expect(heading(page)).to_have_text("Timeline")
    milestone = not_started_milestone(page)
    audit.axe(page)

    nav(page, "Progress log")
    expect(page).to_have_url(url_is(live_server, "/preceptee/log"))
    expect(heading(page)).to_have_text("Progress log")
    audit.axe(page)

    # With JavaScript the log adds entries in place: the kind chooser, then the form, open in a panel.
    page.get_by_role("button", name="Add an entry").click()
    panel = page.locator("#entry_panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text("What do you want to add?")
    audit.axe(page)

    panel.get_by_role("link", name="Reflection", exact=True).click()
    expect(panel.get_by_role("heading", level=2)).to_have_text("Add a reflection")
    discard_any_draft(page)  # if there was one, the form is now a page of its own
    audit.axe(page)

    title = unique("Trauma shoulder views")
    occurred_on = date.today() - timedelta(days=3)
    fill_reflection(page, title, occurred_on, milestone)
    # Let the autosave that typing started finish, so leaving the page aborts no request.
    expect(page.locator("#draft-status")).to_contain_text("Draft saved at", timeout=10_000)
    page.get_by_role("button", name="Save entry").click()
    # Saved in the panel (a link to the entry), or, if a discarded draft made it a page, on the entry page.
    saved = page.locator("#entry_panel").get_by_role("link", name=title, exact=True)
    expect(saved.or_(page.get_by_role("heading", level=1, name=title))).to_be_visible()
    if saved.is_visible():
        follow(saved)

    expect(page).to_have_url(url_is(live_server, "/preceptee/log/", r"\d+"))
    expect(heading(page)).to_have_text(title)
    expect(page.locator(".nhsuk-summary-list")).to_contain_text(long_date(occurred_on))
    audit.axe(page)

    follow(page.get_by_role("link", name=milestone, exact=True))
    expect(page).to_have_url(url_is(live_server, "/preceptee/milestones/", r"\d+"))
    expect(heading(page)).to_have_text(milestone)
    audit.axe(page)

    evidence = page.get_by_role("checkbox", name=title, exact=True)
    evidence.check()
    expect(evidence).to_be_checked()
    summary = f"My reflection '{title}' shows I can do this."
    page.get_by_label("Summary for your preceptor").fill(summary)
    follow(page.get_by_role("button", name="Ask for sign-off"))

    expect_waiting_for_sign_off(page, audit, milestone, title, summary)
    audit.axe(page)
    page.reload()
    expect(status_tag(page.locator(".nhsuk-summary-list"), "Waiting for sign-off")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw request")).to_be_visible()

    # The home page and the timeline agree: the milestone now waits for the preceptor.
    nav(page, "My preceptorship")
    waiting = page.get_by_role("heading", name="Waiting for your preceptor").locator("xpath=following-sibling::ul[1]")
    expect(waiting.get_by_role("link", name=milestone, exact=True)).to_be_visible()
    nav(page, "Timeline")
    row = page.locator("#timeline tbody tr").filter(has=page.get_by_role("link", name=milestone, exact=True))
    expect(status_tag(row, "Waiting for sign-off")).to_be_visible()
    expect(row).to_contain_text("1 entry")
    audit.verify()


# --- 2. autosaved drafts -----------------------------------------------------------------

def test_autosaved_draft_survives_a_reload_and_a_new_sign_in(new_page, live_server):
    audit = Audit()
    page = new_page()
    sign_in(page, live_server, then=REFLECTION_FORM)
    expect(heading(page)).to_have_text("Add a reflection")
    discard_any_draft(page)

    title = unique("Draft about a difficult cannulation")
    happened = "The patient was anxious and I explained each step before starting."
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("What happened?").press_sequentially(happened, delay=5)
    status = page.locator("#draft-status")
    expect(status).to_have_text(re.compile(r"^Draft saved at \d\d:\d\d$"), timeout=10_000)

    page.reload()
    expect(heading(page)).to_have_text("Add a reflection")
    expect(page.locator(".nhsuk-inset-text")).to_contain_text("We restored the draft you were writing")
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    expect(page.get_by_label("What happened?")).to_have_value(happened)
    audit.axe(page)
    page.context.close()  # the tab (and its sessionStorage copy) is gone

    again = new_page()
    sign_in(again, live_server, then=REFLECTION_FORM)
    expect(heading(again)).to_have_text("Add a reflection")
    expect(again.locator(".nhsuk-inset-text")).to_contain_text("We restored the draft you were writing")
    expect(again.get_by_label("Title", exact=True)).to_have_value(title)
    expect(again.get_by_label("What happened?")).to_have_value(happened)

    # Leave no draft behind for the other tests (and check discarding works).
    follow(again.get_by_role("button", name="Discard the draft and start again"))
    expect(again.get_by_text("Draft discarded.")).to_be_visible()
    expect(again.get_by_label("Title", exact=True)).to_have_value("")
    expect(again.locator(".nhsuk-inset-text")).to_have_count(0)
    audit.verify()


# --- 3. the same journey without JavaScript ----------------------------------------------

def test_reflection_to_sign_off_request_without_javascript(new_page, live_server):
    audit = Audit()
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, then="/preceptee/timeline")
    milestone = not_started_milestone(page)

    nav(page, "Progress log")
    expect(heading(page)).to_have_text("Progress log")
    follow(page.get_by_role("button", name="Add an entry"))
    expect(heading(page)).to_have_text("What do you want to add?")
    follow(page.get_by_role("link", name="Reflection", exact=True))
    expect(heading(page)).to_have_text("Add a reflection")
    discard_any_draft(page)

    title = unique("Night shift handover (no JS)")
    occurred_on = date.today() - timedelta(days=5)
    fill_reflection(page, title, occurred_on, milestone)
    follow(page.get_by_role("button", name="Save entry"))

    expect(page).to_have_url(url_is(live_server, "/preceptee/log/", r"\d+"))
    expect(heading(page)).to_have_text(title)
    expect(page.get_by_text("Entry saved.")).to_be_visible()
    expect(page.locator(".nhsuk-summary-list")).to_contain_text(long_date(occurred_on))

    follow(page.get_by_role("link", name=milestone, exact=True))
    expect(heading(page)).to_have_text(milestone)
    evidence = page.get_by_role("checkbox", name=title, exact=True)
    evidence.check()

    # Asking without a summary is refused, and what was chosen is kept.
    follow(page.get_by_role("button", name="Ask for sign-off"))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Write a short summary for your preceptor")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_role("checkbox", name=title, exact=True)).to_be_checked()

    summary = "Handover done with the SBAR tool, checked by my preceptor."
    page.get_by_label("Summary for your preceptor").fill(summary)
    follow(page.get_by_role("button", name="Ask for sign-off"))
    expect_waiting_for_sign_off(page, audit, milestone, title, summary)

    # Withdrawing and asking again both work as plain form posts too.
    follow(page.get_by_role("button", name="Withdraw request"))
    expect(page.get_by_text("Request withdrawn. You can change the evidence and ask again.")).to_be_visible()
    expect(page.get_by_role("checkbox", name=title, exact=True)).to_be_checked()
    page.get_by_label("Summary for your preceptor").fill(summary)
    follow(page.get_by_role("button", name="Ask for sign-off"))
    expect(heading(page)).to_have_text(milestone)
    expect(page.get_by_role("button", name="Withdraw request")).to_be_visible()
    audit.verify()


# --- 4. timeline filters -----------------------------------------------------------------

def caption_count(page) -> int:
    text = page.locator("#timeline caption").inner_text().strip()
    return int(re.fullmatch(r"(\d+) milestones?", text).group(1))


def expect_only_signed_off_rows(page, total: int) -> None:
    timeline = page.locator("#timeline")
    rows = timeline.locator("tbody tr")
    expect(status_tag(rows.first, "Signed off")).to_be_visible()
    n = rows.count()
    assert 0 < n < total
    expect(rows.filter(has=status_tag(page, "Signed off"))).to_have_count(n)
    expect(timeline.locator("caption")).to_have_text(f"{n} milestone{'' if n == 1 else 's'}")
    filters = timeline.get_by_role("navigation", name="Filter milestones")
    expect(filters.get_by_role("link", name="Signed off", exact=True)).to_have_attribute("aria-current", "true")


def test_timeline_status_filter_swaps_the_table_in_place(page, live_server):
    sign_in(page, live_server, then="/preceptee/timeline")
    expect(heading(page)).to_have_text("Timeline")
    total = caption_count(page)
    expect(page.locator("#timeline tbody tr")).to_have_count(total)

    page.evaluate("window.__marker = 1")
    with page.expect_response(lambda r: "status=signed_off" in r.url) as answer:
        page.locator("#timeline").get_by_role("link", name="Signed off", exact=True).click()
    assert answer.value.status == 200, f"the filter was answered with HTTP {answer.value.status}"
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(page).to_have_url(url_is(live_server, "/preceptee/timeline", r"\?status=signed_off"))
    expect_only_signed_off_rows(page, total)
    assert page.evaluate("window.__marker") == 1, "the filter reloaded the whole page instead of swapping the table"
    expect(heading(page)).to_have_text("Timeline")
    assert_accessible(page)

    # Back goes to every milestone again.
    page.go_back()
    expect(page).to_have_url(url_is(live_server, "/preceptee/timeline", ""))
    expect(page.locator("#timeline caption")).to_have_text(f"{total} milestones")


def test_timeline_status_filter_is_a_link_without_javascript(new_page, live_server):
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, then="/preceptee/timeline")
    total = caption_count(page)
    with page.expect_response(lambda r: "status=signed_off" in r.url) as answer:
        follow(page.locator("#timeline").get_by_role("link", name="Signed off", exact=True))
    expect(page).to_have_url(url_is(live_server, "/preceptee/timeline", r"\?status=signed_off"))
    expect(heading(page)).to_have_text("Timeline")
    assert answer.value.status == 200, f"the filtered page was answered with HTTP {answer.value.status}"
    expect_only_signed_off_rows(page, total)


# --- 5. log live search ------------------------------------------------------------------

def entries_total(page) -> int:
    return int(re.match(r"(\d+) entr", page.locator("#entries p").first.inner_text()).group(1))


def test_log_search_updates_the_results_in_place(page, live_server):
    # An entry with a word no other entry has, so the expected result is known.
    word = f"zebracrossing{next(_serial)}x"
    sign_in(page, live_server, then=REFLECTION_FORM)
    discard_any_draft(page)
    title = unique(f"Crash call at the {word}")
    fill_reflection(page, title, date.today() - timedelta(days=1))
    expect(page.locator("#draft-status")).to_contain_text("Draft saved at", timeout=10_000)
    follow(page.get_by_role("button", name="Save entry"))
    expect(page.get_by_text("Entry saved.")).to_be_visible()

    nav(page, "Progress log")
    entries = page.locator("#entries")
    count_line = entries.locator("p").first
    total = entries_total(page)
    assert total > 1

    page.evaluate("window.__marker = 1")
    part = word[4:-1]  # part of the title, typed as a person would
    page.get_by_label("Search your entries").press_sequentially(part, delay=20)
    expect(count_line).to_have_text(f"1 entry matching “{part}”.")
    expect(entries.get_by_role("listitem")).to_have_count(1)
    expect(entries.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/preceptee/log\?q=" + part))
    assert page.evaluate("window.__marker") == 1, "the search reloaded the whole page"
    assert_accessible(page)

    # Nonsense finds nothing; clearing the search brings every entry back.
    page.get_by_label("Search your entries").fill("qqxxzz-no-such-entry")
    expect(count_line).to_have_text("0 entries matching “qqxxzz-no-such-entry”.")
    expect(entries.get_by_role("listitem")).to_have_count(0)
    page.get_by_label("Search your entries").fill("")
    expect(count_line).to_have_text(f"{total} entries.")

    # The kind filter swaps the list in place too.
    page.get_by_label("Kind").select_option(label="Reflection")
    expect(page).to_have_url(re.compile(r"[?&]kind=reflection"))
    kinds = entries.get_by_role("listitem").locator(".nhsuk-body-s")
    expect(kinds.first).to_have_text(re.compile(r"^Reflection, "))
    for i in range(kinds.count()):
        expect(kinds.nth(i)).to_have_text(re.compile(r"^Reflection, "))
    assert page.evaluate("window.__marker") == 1


def test_log_search_works_without_javascript(new_page, live_server):
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, then="/preceptee/log")
    first_title = page.locator("#entries li a").first.inner_text().strip()
    page.get_by_label("Search your entries").fill(first_title)
    follow(page.get_by_role("button", name="Search", exact=True))
    expect(page).to_have_url(re.compile(r"/preceptee/log\?q="))
    expect(page.locator("#entries p").first).to_contain_text(f"matching “{first_title}”")
    expect(page.locator("#entries").get_by_role("link", name=first_title, exact=True).first).to_be_visible()


# --- 6. axe on every page ----------------------------------------------------------------

PAGES = [
    ("/preceptee/", "My preceptorship"),
    ("/preceptee/timeline", "Timeline"),
    ("/preceptee/log", "Progress log"),
    ("/preceptee/log/new", "What do you want to add?"),
    (REFLECTION_FORM, "Add a reflection"),
    ("/preceptee/meetings", "Meetings"),
    ("/preceptee/learning-needs", "Your learning needs"),
    ("/preceptee/learning-needs/initial", None),
    ("/preceptee/development-plan", "Your personal development plan"),
    ("/preceptee/development-plan/new", "Add a goal"),
]


@pytest.mark.parametrize(("path", "title"), PAGES, ids=[p for p, _ in PAGES])
def test_each_page_has_no_accessibility_violations(page, live_server, path, title):
    sign_in(page, live_server, then=path)
    expect(page).to_have_url(url_is(live_server, re.escape(path)))
    if title:
        expect(heading(page)).to_have_text(title)
    else:
        expect(heading(page)).not_to_be_empty()
    assert_accessible(page)


def test_self_assessment_offers_a_one_to_five_rating_per_area(page, live_server):
    sign_in(page, live_server, then="/preceptee/learning-needs")
    follow(page.locator("main a[href$='/preceptee/learning-needs/initial']").first)
    expect(page).to_have_url(url_is(live_server, "/preceptee/learning-needs/initial", ""))
    areas = page.locator("main form fieldset").filter(has=page.locator("input[type=radio]"))
    expect(areas.first).to_be_visible()
    for i in range(areas.count()):
        expect(areas.nth(i).get_by_role("radio")).to_have_count(5)
    assert_accessible(page)


def test_a_milestone_page_has_no_accessibility_violations(page, live_server):
    sign_in(page, live_server, then="/preceptee/timeline")
    follow(not_started_link(page))
    expect(page).to_have_url(url_is(live_server, "/preceptee/milestones/", r"\d+"))
    expect(page.get_by_role("button", name="Ask for sign-off")).to_be_visible()
    assert_accessible(page)


def test_an_entry_page_has_no_accessibility_violations(page, live_server):
    sign_in(page, live_server, then="/preceptee/log")
    follow(page.locator("#entries li a").first)
    expect(page).to_have_url(url_is(live_server, "/preceptee/log/", r"\d+"))
    expect(page.get_by_role("button", name="Edit this entry")).to_be_visible()
    assert_accessible(page)


def test_empty_reflection_shows_the_error_summary_accessibly(page, live_server):
    sign_in(page, live_server, then=REFLECTION_FORM)
    discard_any_draft(page)
    follow(page.get_by_role("button", name="Save entry"))

    expect(page).to_have_url(url_is(live_server, "/preceptee/log/new", r"\?kind=reflection"))
    expect(page).to_have_title(re.compile(r"^Error: Add a reflection"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    for message in ("Enter a title", "Enter the date it happened", "Describe what happened",
                    "Say what it meant to you (so what?)", "Say what you will do next (now what?)"):
        expect(summary.get_by_role("link", name=message, exact=True)).to_be_visible()
    expect(summary).to_be_focused()

    # The summary's links take you to the field in error.
    summary.get_by_role("link", name="Enter a title", exact=True).click()
    expect(page.get_by_label("Title", exact=True)).to_be_focused()
    summary.get_by_role("link", name="Enter the date it happened", exact=True).click()
    expect(page.get_by_role("group", name="Date").get_by_label("Day")).to_be_focused()
    assert_accessible(page)

