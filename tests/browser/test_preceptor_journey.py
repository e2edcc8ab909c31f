"""The preceptor's journey in Chromium (issue "Preceptor journey"): the review queue decided in
place with htmx and as plain form posts without JavaScript, the error shown when a return has
no action plan, reopening a sign-off, the History panel (read from the audit log) that every
decision writes to, and axe-core on each preceptor page.

"Done when": the demo preceptor (Priya Preceptor) can clear a review queue with and without
JavaScript, and every decision shows in the audit history.

All tests in this module share one seeded database (one live server per module). Each test
that needs something waiting for the preceptor has Sam Preceptee ask for sign-off on a
milestone that is "Not started" at the time (through the browser, as Sam would), and reads
counts before acting rather than assuming them, so the tests pass in any order.

axe-core cannot run in a page with JavaScript disabled (axe.run never settles there), so pages
reached without JavaScript are checked through `Audit.axe_as_served`: the same HTML, scripts
removed, served again at the same origin to a JavaScript tab.

The protected time, feedback and meetings pages were built alongside this module; each is
checked only when it answers 200 and is skipped (with the reason shown) otherwise. They all
answered 200 when this module was written.
"""

import re
from dataclasses import dataclass
from itertools import count

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible, axe_source, format_violations

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

PRECEPTOR = "preceptor@demo.nhs.uk"
PRECEPTOR_NAME = "Priya Preceptor"
SAM = "preceptee@demo.nhs.uk"
SAM_NAME = "Sam Preceptee"
ALEX_NAME = "Alex Newstarter"
COMMENT_LABEL = "Comment for the preceptee (optional)"
PLAN_LABEL = "Action plan (needed to return it)"
PLAN_ERROR = "Write an action plan: what the preceptee needs to do before asking again"
_serial = count(1)


def unique(text: str) -> str:
    return f"{text} [{next(_serial)}]"


def url_is(live_server: str, path: str, query: str = r"(\?.*)?") -> re.Pattern:
    return re.compile("^" + re.escape(live_server) + path + query + "$")


def heading(page):
    return page.get_by_role("heading", level=1)


# --- signing in and moving about ------------------------------------------------------------

def sign_in(page, live_server: str, email: str, then: str) -> None:
    """Sign in through the form and go straight on to `then` (the form's `next`)."""
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url_is(live_server, re.escape(then.split("?")[0])))
    page.wait_for_load_state("load")


def follow(locator) -> None:
    """Click something that loads another page and wait for that page to load. Waits for this
    page to finish loading first: leaving earlier aborts its pending requests, which the
    conftest would count as errors."""
    page = locator.page
    page.wait_for_load_state("load")
    with page.expect_event("load", timeout=30_000):
        locator.click()


def status_tag(scope, label: str):
    return scope.locator("strong.nhsuk-tag", has_text=re.compile(r"^\s*" + re.escape(label) + r"\s*$"))


def history_rows(page, what: str):
    """Rows of the History panel whose "What" column says exactly `what`."""
    return page.locator("table.app-history tbody tr").filter(
        has=page.locator("strong", has_text=re.compile("^" + re.escape(what) + "$")))


def header_count(page):
    return page.locator("#queue-count")


def expect_header_count(page, n: int) -> None:
    if n:
        expect(header_count(page)).to_have_text(re.compile(rf"^{n}\s*waiting$"))
    else:
        expect(header_count(page)).to_be_hidden()


def expect_queue_summary(page, n: int) -> None:
    expect(page.locator("#queue-summary")).to_have_text(
        "Nothing is waiting for you." if n == 0 else f"{n} item{'' if n == 1 else 's'} waiting for you.")


def queue_total(page) -> int:
    """What the queue page says is waiting ("3 items waiting for you." or "Nothing is ...")."""
    text = page.locator("#queue-summary").inner_text().strip()
    if text == "Nothing is waiting for you.":
        return 0
    return int(re.fullmatch(r"(\d+) items? waiting for you\.", text).group(1))


class Audit:
    """Collects axe-core violations and soft checks over a whole journey and fails once at the
    end, so a problem on one page does not hide the rest of the journey."""

    def __init__(self):
        self.problems: list[str] = []

    def axe(self, page, url: str | None = None) -> None:
        page.evaluate(axe_source())
        violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        if violations:
            self.problems.append(format_violations(violations, url or page.url))

    def axe_as_served(self, new_page, live_server: str, page) -> None:
        """axe on a page open with JavaScript off. axe.run never settles in a page whose own
        scripts are disabled, so the page's HTML (scripts removed: it is what a browser without
        JavaScript shows) is served again at the same origin to a JavaScript tab and checked there."""
        html = re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S | re.I)
        viewer = new_page()
        snapshot = f"{live_server}/__no_js_snapshot__"
        viewer.route(snapshot, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                           body=html))
        viewer.goto(snapshot)
        viewer.wait_for_load_state("load")
        self.axe(viewer, url=f"{page.url} (as shown without JavaScript)")
        viewer.context.close()

    def check(self, what: str, assertion) -> None:
        try:
            assertion()
        except AssertionError as error:
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            self.problems.append(f"{what}:\n    " + "\n    ".join(lines[:3]))

    def verify(self) -> None:
        if self.problems:
            pytest.fail("Problems found:\n" + "\n".join(f"- {p}" for p in self.problems), pytrace=False)


# --- Sam asks for sign-off ------------------------------------------------------------------

@dataclass(frozen=True)
class Requested:
    id: int
    title: str
    evidence: str | None  # the title of the log entry sent with it


def request_sign_off(new_page, live_server: str, how_many: int = 1) -> list[Requested]:
    """Sam asks for sign-off on `how_many` milestones that are "Not started" (or, once the tests
    have used those up, "Returned with an action plan"), each with one log entry as evidence,
    through the milestone page as plain forms (JavaScript off). How many of Sam's milestones
    are still ahead depends on today's date, so the module must not count on a number."""
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, SAM, then="/preceptee/timeline")
    done = []
    for _ in range(how_many):
        rows = page.locator("#timeline tbody tr")
        askable = rows.filter(has=status_tag(page, "Not started"))
        if not askable.count():
            askable = rows.filter(has=status_tag(page, "Returned with an action plan"))
        link = askable.first.locator("td").nth(1).get_by_role("link")
        expect(link).to_be_visible()
        follow(link)
        expect(page).to_have_url(url_is(live_server, "/preceptee/milestones/", r"\d+"))
        milestone_id = int(page.url.rsplit("/", 1)[1])
        title = heading(page).inner_text().strip()

        evidence = None
        boxes = page.get_by_role("group", name="Evidence", exact=True).get_by_role("checkbox")
        if boxes.count():
            boxes.first.check()
            evidence = page.locator(f"label[for='{boxes.first.get_attribute('id')}']").inner_text().strip()
        page.get_by_label("Summary for your preceptor").fill(f"I have done “{title}”: see my evidence.")
        follow(page.get_by_role("button", name="Ask for sign-off"))
        expect(page.get_by_role("button", name="Withdraw request")).to_be_visible()
        expect(status_tag(page.locator(".nhsuk-summary-list"), "Waiting for sign-off")).to_be_visible()
        done.append(Requested(milestone_id, title, evidence))
        page.goto("/preceptee/timeline")
    page.context.close()
    return done


def sam_waiting_ids(new_page, live_server: str) -> set[int]:
    """The ids of Sam's milestones waiting for sign-off, from Sam's own timeline."""
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, SAM, then="/preceptee/timeline?status=waiting")
    hrefs = page.locator("#timeline tbody tr td:nth-child(2) a").evaluate_all("links => links.map(a => a.href)")
    page.context.close()
    return {int(h.rsplit("/", 1)[1]) for h in hrefs}


# --- the preceptor decides ------------------------------------------------------------------

def queue_item(page, milestone_id: int):
    return page.locator(f"#item-{milestone_id}")


def item_ids(page) -> list[int]:
    return [int(i.removeprefix("item-")) for i in
            page.locator("section.app-queue-item").evaluate_all("items => items.map(s => s.id)")]


def press(item, decision: str) -> None:
    """Press the item's "Sign off" or "Return with action plan" button."""
    name = {"sign_off": r"^Sign off\b", "return": r"^Return with action plan\b"}[decision]
    item.get_by_role("button", name=re.compile(name)).click()


def decide_in_place(page, milestone_id: int, decision: str, comment: str = "", plan: str = ""):
    """With JavaScript: fill the item's form and press a button; htmx posts it and swaps the
    item. Checks that htmx sent it (not a page load); returns the item."""
    item = queue_item(page, milestone_id)
    if comment:
        item.get_by_label(COMMENT_LABEL, exact=True).fill(comment)
    if plan:
        item.get_by_label(PLAN_LABEL, exact=True).fill(plan)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/preceptor/milestones/{milestone_id}/decision")) as answer:
        press(item, decision)
    response = answer.value
    assert response.request.headers.get("hx-request") == "true", "the decision was not sent by htmx"
    assert response.status == 200, f"the decision was answered with HTTP {response.status}"
    return item


def decide_with_a_post(page, milestone_id: int, decision: str, comment: str = "", plan: str = "") -> None:
    """Without JavaScript: the same form as a plain post (the page reloads)."""
    item = queue_item(page, milestone_id)
    if comment:
        item.get_by_label(COMMENT_LABEL, exact=True).fill(comment)
    if plan:
        item.get_by_label(PLAN_LABEL, exact=True).fill(plan)
    page.wait_for_load_state("load")
    with page.expect_event("load", timeout=30_000):
        press(item, decision)


def decide_on_the_milestone_page(page, milestone_id: int, comment: str) -> None:
    """Sign off from the preceptor's milestone page, whose decision form sits in the same
    `#item-<id>` card: however it is sent (a plain post, or htmx), wait for the answer."""
    item = queue_item(page, milestone_id)
    item.get_by_label(COMMENT_LABEL, exact=True).fill(comment)
    page.wait_for_load_state("load")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/preceptor/milestones/{milestone_id}/decision")) as answer:
        press(item, "sign_off")
    assert answer.value.status in (200, 302, 303), f"the decision was answered with HTTP {answer.value.status}"


def item_title(page, milestone_id: int) -> tuple[str, str]:
    """(preceptee name, milestone title) from the item's heading "Name: Title"."""
    text = queue_item(page, milestone_id).get_by_role("heading", level=2).inner_text().strip()
    name, title = text.split(": ", 1)
    return name, title


def expect_signed_off_history(page, comment: str, who: str = PRECEPTOR_NAME) -> None:
    row = history_rows(page, "Signed off")
    expect(row.filter(has_text=comment)).to_have_count(1)
    expect(row.filter(has_text=comment).locator("td").nth(1)).to_have_text(who)


# --- 1. the queue decided in place, with JavaScript --------------------------------------------

def test_preceptor_signs_off_and_returns_in_place_and_the_preceptee_sees_both(new_page, live_server):
    audit = Audit()
    # Sam asks for one more sign-off (and another if an earlier test already decided Sam's demo
    # one), so two of Sam's milestones wait for the preceptor.
    new = request_sign_off(new_page, live_server)[0]
    waiting = sam_waiting_ids(new_page, live_server) - {new.id}
    if not waiting:
        waiting = {request_sign_off(new_page, live_server)[0].id}
    other_id = min(waiting)

    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/queue")
    expect(heading(page)).to_have_text("Review queue")
    before = queue_total(page)
    assert before >= 2
    expect_header_count(page, before)
    expect(queue_item(page, new.id)).to_be_visible()
    expect(queue_item(page, other_id)).to_be_visible()
    _, other_title = item_title(page, other_id)
    assert item_title(page, new.id) == (SAM_NAME, new.title)

    # The evidence Sam sent reads inline, folded in a <details>.
    if new.evidence:
        evidence = queue_item(page, new.id).locator("details").filter(has_text=new.evidence)
        expect(evidence).to_have_count(1)
        evidence.locator("summary").click()
        expect(evidence).to_have_attribute("open", "")
    audit.axe(page)

    page.evaluate("window.__noReload = true")
    comment = unique("Clear positioning and a good explanation to the patient.")
    item = decide_in_place(page, new.id, "sign_off", comment=comment)
    expect(item.get_by_role("status")).to_have_text(f"Signed off “{new.title}” for {SAM_NAME}.")
    expect(item.get_by_role("button")).to_have_count(0)
    expect(item.get_by_role("link", name="See the milestone and its history")).to_be_visible()
    expect_header_count(page, before - 1)
    expect_queue_summary(page, before - 1)

    plan = unique("Add a reflection on the wellbeing conversation, then ask again.")
    item = decide_in_place(page, other_id, "return", plan=plan)
    expect(item.get_by_role("status")).to_have_text(
        f"Returned “{other_title}” to {SAM_NAME} with your action plan.")
    expect(item.get_by_role("button")).to_have_count(0)
    expect_header_count(page, before - 2)
    expect_queue_summary(page, before - 2)

    assert page.evaluate("window.__noReload") is True, "a decision reloaded the whole page"
    expect(page).to_have_url(url_is(live_server, "/preceptor/queue", ""))
    audit.axe(page)

    # Reloading agrees with what the swaps showed.
    page.reload()
    expect(page.locator("#queue-summary")).to_be_visible()
    assert queue_total(page) == before - 2
    expect(queue_item(page, new.id)).to_have_count(0)
    expect(queue_item(page, other_id)).to_have_count(0)
    expect_header_count(page, before - 2)

    # Sam sees both outcomes: on the timeline, and on each milestone page with its history.
    sam = new_page()
    sign_in(sam, live_server, SAM, then="/preceptee/timeline")
    rows = sam.locator("#timeline tbody tr")
    expect(status_tag(rows.filter(has=sam.get_by_role("link", name=new.title, exact=True)), "Signed off")
           ).to_be_visible()
    expect(status_tag(rows.filter(has=sam.get_by_role("link", name=other_title, exact=True)),
                      "Returned with an action plan")).to_be_visible()

    follow(rows.get_by_role("link", name=new.title, exact=True))
    expect(heading(sam)).to_have_text(new.title)
    expect(status_tag(sam.locator(".nhsuk-summary-list"), "Signed off")).to_be_visible()
    signed = sam.locator(".nhsuk-inset-text")
    expect(signed).to_contain_text(f"Signed off by {PRECEPTOR_NAME}")
    expect(signed).to_contain_text(comment)
    if new.evidence:
        expect(sam.get_by_role("heading", name="Evidence that was signed off")
               .locator("xpath=following-sibling::ul[1]")).to_contain_text(new.evidence)
    expect(sam.get_by_role("heading", name="History")).to_be_visible()
    expect(history_rows(sam, "Sign-off requested").filter(has_text=f"I have done “{new.title}”")).to_have_count(1)
    expect_signed_off_history(sam, comment)
    audit.axe(sam)

    sam.goto(f"/preceptee/milestones/{other_id}")
    expect(heading(sam)).to_have_text(other_title)
    expect(status_tag(sam.locator(".nhsuk-summary-list"), "Returned with an action plan")).to_be_visible()
    callout = sam.locator(".nhsuk-card--warning")  # the NHS.UK warning callout
    expect(callout).to_contain_text("Returned with an action plan")
    expect(callout).to_contain_text(plan)
    expect(callout).to_contain_text(PRECEPTOR_NAME)
    returned = history_rows(sam, "Returned with an action plan").filter(has_text=plan)
    expect(returned).to_have_count(1)
    expect(returned.locator("td").nth(1)).to_have_text(PRECEPTOR_NAME)
    expect(history_rows(sam, "Sign-off requested").first).to_be_visible()
    # The way forward is open again: Sam can ask for sign-off once the plan is done.
    expect(sam.get_by_role("button", name="Ask for sign-off")).to_be_visible()
    audit.axe(sam)
    audit.verify()


# --- 2. returning without an action plan ----------------------------------------------------

def a_waiting_item(new_page, live_server: str, page) -> int:
    """The first item in the preceptor's queue (`page` is at the queue); Sam asks for one
    more sign-off first if nothing is waiting."""
    if not item_ids(page):
        request_sign_off(new_page, live_server)
        page.reload()
        page.wait_for_load_state("load")
    ids = item_ids(page)
    assert ids, "nothing is waiting for the preceptor even after Sam asked for sign-off"
    return ids[0]


def expect_plan_error(audit: Audit, item, comment: str) -> None:
    """The refused return: the error summary in the item, the field's own error, the typed
    comment kept. The NHS.UK details (summary link, field message) are soft checks."""
    summary = item.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text(PLAN_ERROR)
    expect(item.get_by_label(COMMENT_LABEL, exact=True)).to_have_value(comment)
    expect(item.get_by_label(PLAN_LABEL, exact=True)).to_have_value("")
    audit.check("the error summary links to the action plan box", lambda: expect(
        summary.get_by_role("link", name=PLAN_ERROR, exact=True)).to_be_visible(timeout=2000))
    audit.check("the action plan box shows its own error message", lambda: expect(
        item.locator(".nhsuk-form-group--error").filter(has=item.page.get_by_label(PLAN_LABEL, exact=True))
        .locator(".nhsuk-error-message")).to_contain_text(PLAN_ERROR, timeout=2000))
    audit.check("the action plan box is marked invalid", lambda: expect(
        item.get_by_label(PLAN_LABEL, exact=True)).to_have_class(re.compile(r"nhsuk-textarea--error"),
                                                                 timeout=2000))


def test_return_without_an_action_plan_shows_the_error_in_place_with_javascript(new_page, live_server):
    audit = Audit()
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/queue")
    milestone_id = a_waiting_item(new_page, live_server, page)
    before = queue_total(page)
    page.evaluate("window.__noReload = true")

    comment = unique("Good start, but I need to see more.")
    item = decide_in_place(page, milestone_id, "return", comment=comment)
    expect_plan_error(audit, item, comment)
    assert page.evaluate("window.__noReload") is True, "the refused return reloaded the whole page"
    expect(page).to_have_url(url_is(live_server, "/preceptor/queue", ""))
    audit.axe(page)

    # The summary's link (if there is one) takes you to the action plan box.
    link = item.locator(".nhsuk-error-summary").get_by_role("link", name=PLAN_ERROR, exact=True)
    if link.count():
        link.click()
        audit.check("the summary link moves focus to the action plan box", lambda: expect(
            item.get_by_label(PLAN_LABEL, exact=True)).to_be_focused(timeout=2000))

    # Nothing was decided: it still waits, and the count has not moved.
    expect(item.get_by_role("button", name=re.compile(r"^Sign off\b"))).to_be_visible()
    expect_header_count(page, before)
    page.reload()
    expect(queue_item(page, milestone_id)).to_be_visible()
    assert queue_total(page) == before
    audit.verify()


def test_return_without_an_action_plan_shows_the_error_without_javascript(new_page, live_server):
    audit = Audit()
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/queue")
    milestone_id = a_waiting_item(new_page, live_server, page)
    before = queue_total(page)

    comment = unique("Good start, but I need to see more (no JS).")
    decide_with_a_post(page, milestone_id, "return", comment=comment)
    expect(heading(page)).to_have_text("Review queue")
    audit.check("the page title starts with “Error:”", lambda: expect(page).to_have_title(
        re.compile(r"^Error: Review queue"), timeout=2000))
    expect_plan_error(audit, queue_item(page, milestone_id), comment)
    expect(page.locator(".nhsuk-error-summary")).to_have_count(1)  # only the item in error has one
    expect_header_count(page, before)
    assert queue_total(page) == before
    audit.axe_as_served(new_page, live_server, page)
    audit.verify()


# --- 3. clearing the whole queue without JavaScript -------------------------------------------

def test_preceptor_clears_the_queue_without_javascript_and_each_decision_is_in_the_history(
        new_page, live_server):
    audit = Audit()
    # Make sure there is a queue to clear, with at least two items (so the bulk form shows too).
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/queue")
    if queue_total(page) < 2:
        request_sign_off(new_page, live_server, 2 - queue_total(page))
        page.reload()
    total = queue_total(page)
    assert total >= 2
    expect_header_count(page, total)
    expect(page.locator("form#bulk").get_by_role("button", name="Sign off selected items")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select for signing off together")).to_have_count(total)

    decided: list[tuple[int, str, str, str]] = []  # (id, preceptee, title, comment)
    for left in range(total, 0, -1):
        milestone_id = item_ids(page)[0]
        name, title = item_title(page, milestone_id)
        comment = unique(f"Signed off without JavaScript: {title}.")
        decide_with_a_post(page, milestone_id, "sign_off", comment=comment)
        expect(page).to_have_url(url_is(live_server, "/preceptor/queue", ""))
        banner = page.locator(".nhsuk-notification-banner--success")
        expect(banner).to_contain_text(f"Signed off “{title}” for {name}.")
        expect(queue_item(page, milestone_id)).to_have_count(0)
        expect_header_count(page, left - 1)
        assert queue_total(page) == left - 1
        decided.append((milestone_id, name, title, comment))

    expect(page.locator("#queue-summary")).to_have_text("Nothing is waiting for you.")
    expect(page.locator("section.app-queue-item")).to_have_count(0)
    expect(page.locator("form#bulk")).to_have_count(0)
    audit.axe_as_served(new_page, live_server, page)

    # Every decision is in its milestone's history, by Priya Preceptor, with the comment.
    for milestone_id, name, title, comment in decided:
        page.goto(f"/preceptor/milestones/{milestone_id}")
        expect(heading(page)).to_have_text(title)
        expect(page.locator(".nhsuk-caption-l")).to_contain_text(name)
        expect(status_tag(page.locator(".nhsuk-summary-list"), "Signed off")).to_be_visible()
        expect(page.get_by_role("heading", name="Evidence that was signed off")).to_be_visible()
        expect_signed_off_history(page, comment)
        expect(history_rows(page, "Sign-off requested").first).to_be_visible()

    # The home page agrees: nothing waits for the preceptor from anyone.
    page.goto("/preceptor/")
    expect(heading(page)).to_have_text("My preceptees")
    table = page.get_by_role("table", name="Current preceptees")
    for person in (SAM_NAME, ALEX_NAME):
        row = table.locator("tbody tr").filter(has=page.get_by_role("link", name=person, exact=True))
        expect(row.locator("td").nth(3)).to_have_text(re.compile(r"Nothing\s*$"))
    audit.verify()


# --- 4. reopening a sign-off ----------------------------------------------------------------

def test_preceptor_reopens_a_sign_off_with_a_reason(new_page, live_server):
    audit = Audit()
    mine = request_sign_off(new_page, live_server)[0]
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then=f"/preceptor/milestones/{mine.id}")

    # Waiting: the decision form is on the milestone page too; sign it off there.
    expect(heading(page)).to_have_text(mine.title)
    expect(status_tag(page.locator(".nhsuk-summary-list"), "Waiting for sign-off")).to_be_visible()
    comment = unique("Signed off from the milestone page.")
    decide_on_the_milestone_page(page, mine.id, comment)
    expect(page.get_by_text(f"Signed off “{mine.title}” for {SAM_NAME}.")).to_be_visible()
    page.wait_for_load_state("load")
    page.goto(f"/preceptor/milestones/{mine.id}")

    expect(status_tag(page.locator(".nhsuk-summary-list"), "Signed off")).to_be_visible()
    expect(page.locator(".nhsuk-inset-text")).to_contain_text(f"Signed off by {PRECEPTOR_NAME}")
    expect_signed_off_history(page, comment)
    expect(page.get_by_role("heading", name="Reopen this milestone")).to_be_visible()

    # A reason is needed.
    follow(page.get_by_role("button", name="Reopen milestone"))
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Give a reason for reopening this milestone")).to_be_visible()
    expect(status_tag(page.locator(".nhsuk-summary-list"), "Signed off")).to_be_visible()
    audit.axe(page)

    reason = unique("The evidence was for a different examination type.")
    page.get_by_label("Why are you reopening this milestone?").fill(reason)
    follow(page.get_by_role("button", name="Reopen milestone"))
    expect(page).to_have_url(url_is(live_server, f"/preceptor/milestones/{mine.id}", ""))
    expect(page.get_by_text(f"“{mine.title}” reopened. The earlier sign-off stays in its history.")).to_be_visible()
    expect(status_tag(page.locator(".nhsuk-summary-list"), "Signed off")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen milestone")).to_have_count(0)
    reopened = history_rows(page, "Reopened").filter(has_text=reason)
    expect(reopened).to_have_count(1)
    expect(reopened.locator("td").nth(1)).to_have_text(PRECEPTOR_NAME)
    expect_signed_off_history(page, comment)  # the earlier sign-off stays in the history
    audit.axe(page)

    # Sam sees the reopening and its reason, and can ask again.
    sam = new_page()
    sign_in(sam, live_server, SAM, then=f"/preceptee/milestones/{mine.id}")
    expect(history_rows(sam, "Reopened").filter(has_text=reason)).to_have_count(1)
    expect(sam.get_by_role("button", name="Ask for sign-off")).to_be_visible()
    audit.verify()


# --- 5. deciding on the milestone page ---------------------------------------------------------

def test_signing_off_on_the_milestone_page_leaves_it_showing_the_sign_off(new_page, live_server):
    """With JavaScript, after signing off on the milestone page, the page must not say "Waiting
    for sign-off" above "Signed off ..." (whether the form is posted by htmx or as a plain post)."""
    mine = request_sign_off(new_page, live_server)[0]
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then=f"/preceptor/milestones/{mine.id}")
    status = page.locator(".nhsuk-summary-list")
    expect(status_tag(status, "Waiting for sign-off")).to_be_visible()
    before = int(re.match(r"\d+", header_count(page).inner_text()).group())

    decide_on_the_milestone_page(page, mine.id, unique("Signed off on the milestone page."))
    expect(page.get_by_text(f"Signed off “{mine.title}” for {SAM_NAME}.")).to_be_visible()
    expect_header_count(page, before - 1)
    expect(status_tag(status, "Waiting for sign-off")).to_have_count(0)
    expect(status_tag(status, "Signed off")).to_be_visible()


# --- 6. axe-core on every preceptor page -------------------------------------------------------

# Pages being built alongside this one: checked only if they answer 200 when the test runs
# (see below), so a page that is not there yet is reported as a skip, not a failure.
OPTIONAL_PAGES = [
    ("/preceptor/protected-time", "Protected time"),
    ("/preceptor/feedback", "Feedback from your preceptees"),
]


@pytest.mark.parametrize(("path", "title"), [("/preceptor/", "My preceptees"), *OPTIONAL_PAGES],
                         ids=["home", "protected-time", "feedback"])
def test_preceptor_page_has_no_accessibility_violations(new_page, live_server, path, title):
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/")
    if path != "/preceptor/":
        response = page.request.get(path)
        if response.status != 200:
            pytest.skip(f"{path} answers HTTP {response.status}: not built yet")
        page.goto(path)
    expect(heading(page)).to_have_text(title)
    assert_accessible(page)


def open_portfolio(page, live_server: str, person: str) -> None:
    page.goto("/preceptor/")
    follow(page.get_by_role("table", name="Current preceptees").get_by_role("link", name=person, exact=True))
    expect(page).to_have_url(url_is(live_server, r"/preceptor/preceptees/\d+", ""))
    expect(heading(page)).to_have_text(person)


@pytest.mark.parametrize("person", [SAM_NAME, ALEX_NAME])
def test_portfolio_page_has_no_accessibility_violations(new_page, live_server, person):
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/")
    open_portfolio(page, live_server, person)
    expect(page.get_by_role("heading", name="Timeline", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Evidence shared", level=2)).to_be_visible()
    assert_accessible(page)


def test_meetings_page_has_no_accessibility_violations(new_page, live_server):
    page = new_page()
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/")
    open_portfolio(page, live_server, SAM_NAME)
    meetings = page.get_by_role("link", name="Meetings: schedule and records")
    path = meetings.get_attribute("href")
    response = page.request.get(path)
    if response.status != 200:
        pytest.skip(f"{path} answers HTTP {response.status}: not built yet")
    follow(meetings)
    expect(page).to_have_url(url_is(live_server, re.escape(path), ""))
    expect(heading(page)).to_have_text("Meetings")
    assert_accessible(page)


def test_queue_and_milestone_pages_have_no_accessibility_violations(new_page, live_server):
    audit = Audit()
    waiting = request_sign_off(new_page, live_server)[0]
    page = new_page()

    # The queue with items (the new one's evidence opened).
    sign_in(page, live_server, PRECEPTOR, then="/preceptor/queue")
    expect(queue_item(page, waiting.id)).to_be_visible()
    details = queue_item(page, waiting.id).locator("details")
    if details.count():
        details.first.locator("summary").click()
    audit.axe(page)

    # A milestone waiting for a decision.
    page.goto(f"/preceptor/milestones/{waiting.id}")
    expect(heading(page)).to_have_text(waiting.title)
    expect(queue_item(page, waiting.id).get_by_role("button", name=re.compile(r"^Sign off\b"))).to_be_visible()
    audit.axe(page)

    # A milestone signed off (one of Sam's from the demo), with its evidence, history and reopen form.
    follow(page.get_by_role("link", name=f"Back to {SAM_NAME}"))
    signed_row = page.locator("table tbody tr").filter(has=status_tag(page, "Signed off")).first
    follow(signed_row.get_by_role("link"))
    expect(page.get_by_role("heading", name="Evidence that was signed off")).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    audit.axe(page)

    # A milestone returned with an action plan (Sam's demo one).
    follow(page.get_by_role("link", name=f"Back to {SAM_NAME}"))
    returned_row = page.locator("table tbody tr").filter(has=status_tag(page, "Returned with an action plan")).first
    if returned_row.count():
        follow(returned_row.get_by_role("link"))
        expect(page.locator(".nhsuk-card--warning")).to_contain_text("Returned with an action plan")
        audit.axe(page)
    audit.verify()
