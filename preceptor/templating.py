"""What every template can use: navigation per role, the sign-out form, form-field
parameters for the NHS.UK macros, and the request's CSP nonce."""

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, get_template_attribute, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from .access import active_role, lead_scope
from .models import Role
from .security import csp_nonce

# (label, endpoint) per role; the first is the role's home page. Seven at most, leaving room for
# "Switch role": past eight the NHS.UK header folds the last ones into "More" on a laptop screen.
# A lead reaches cohort allocation from Waiting, and the audit log from Oversight and Programmes.
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.PRECEPTEE: [
        ("My preceptorship", "preceptee.home"), ("Timeline", "preceptee.timeline"), ("Progress log", "preceptee.log"),
        ("Meetings", "preceptee.meetings_page"), ("Learning needs", "preceptee.learning_needs"),
        ("Development plan", "preceptee.development_plan"), ("My record", "preceptee.record"),
    ],
    Role.PRECEPTOR: [("My preceptees", "caseload.home"), ("Review queue", "caseload.queue"),
                     ("Protected time", "caseload.protected_time"), ("Feedback", "caseload.feedback")],
    Role.EDUCATION_LEAD: [("Capacity", "lead.capacity"), ("Waiting", "lead.waiting"),
                          ("Register", "lead.register_page"), ("Programmes", "lead.programmes_list"),
                          ("Oversight", "lead.oversight"),
                          ("New starters", "lead.starters"), ("Surveys", "lead.surveys")],
    Role.ADMIN: [("Administration", "admin.home"), ("People", "admin.people"), ("Departments", "admin.departments"),
                 ("Programmes", "lead.programmes_list"), ("Framework", "admin.framework"),
                 ("Surveys", "admin.survey_templates"), ("Audit log", "admin.audit_log")],
}


def navigation_items() -> list[dict]:
    role = active_role()
    if role is None:
        return []
    badges = _badges(role)
    count_badge = get_template_attribute("macros/status.html", "count_badge")
    items = []
    for label, endpoint in NAVIGATION[role]:
        href = url_for(endpoint)
        item = {"text": label, "href": href, "current": request.path == href}
        if endpoint in badges:
            badge_id, count, words = badges[endpoint]
            item["html"] = Markup("{} {}").format(label, count_badge(badge_id, count, words))
        items.append(item)
    if len(current_user.roles) > 1:
        href = url_for("auth.switch_role")
        items.append({"text": "Switch role", "href": href, "current": request.path == href})
    return items


def _badges(role: Role) -> dict[str, tuple[str, int, str]]:
    """Counts beside navigation items, as (element id, count, words for screen readers): for a
    preceptee, milestones due in 14 days or overdue; for a preceptor, what waits for review; for
    a lead, who waits for a preceptor."""
    if role is Role.PRECEPTEE:
        from .preceptee.queries import due_soon_count

        return {"preceptee.timeline": ("due-count", due_soon_count(current_user.id, date.today()), "due")}
    if role is Role.PRECEPTOR:
        from .caseload.queries import queue_count

        return {"caseload.queue": ("queue-count", queue_count(current_user.id), "waiting")}
    if role is Role.EDUCATION_LEAD:
        from .services.capacity import waiting_count

        return {"lead.waiting": ("waiting-count", waiting_count(lead_scope(), date.today()), "waiting")}
    return {}


def sign_out_form() -> Markup:
    """The header's sign-out control: a POST form carrying its CSRF token."""
    return Markup(
        '<form class="nhsuk-header__account-form" method="post" action="{action}">'
        '<input type="hidden" name="csrf_token" value="{token}">'
        '<button class="nhsuk-header__account-button">Sign out</button></form>'
    ).format(action=url_for("auth.sign_out"), token=escape(generate_csrf()))


def field_params(field, hint: str | None = None, **extra) -> dict:
    """A WTForms field as NHS.UK component parameters, keeping its first error."""
    params = {"label": {"text": field.label.text}, "id": field.id, "name": field.name}
    if hint:
        params["hint"] = {"text": hint}
    if field.errors:
        params["errorMessage"] = {"text": field.errors[0]}
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


def long_date(day: date | str | None) -> str:
    """NHS style: "21 November 2026". Takes ISO strings too (dates kept in evidence snapshots)."""
    if isinstance(day, str):
        day = date.fromisoformat(day) if day else None
    return f"{day.day} {day:%B %Y}" if day else ""


def local_datetime(moment: datetime | None) -> str:
    """A stored UTC time in the trust's time zone: "21 November 2026 at 16:42"."""
    if moment is None:
        return ""
    local = moment.astimezone(local_zone())
    return f"{long_date(local.date())} at {local:%H:%M}"


def local_date(moment: datetime | None) -> date | None:
    """The day a stored UTC time falls on in the trust's time zone."""
    return moment.astimezone(local_zone()).date() if moment else None


def local_zone() -> tzinfo:
    try:
        return ZoneInfo(current_app.config["TIME_ZONE"])
    except ZoneInfoNotFoundError:  # no time zone database on this machine: say UTC rather than fail
        return UTC


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end`: "5 months in"."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day))


def hours(value) -> str:
    """Hours without trailing zeros: 12, 7.5."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(fraction) -> str:
    """A fraction as a whole percentage, "60%"; a dash when there is nothing to divide by."""
    return "–" if fraction is None else f"{Decimal(fraction) * 100:.0f}%"


def radio_item(choice, selected) -> dict:
    """A WTForms SelectChoice as an NHS.UK radio or checkbox item."""
    return {"value": choice.value, "text": choice.label, "checked": str(choice.value) == str(selected)}


def local_path(url: str | None) -> str:
    """The path and query of a URL on this site (for returning after sign-in), or ""."""
    parts = urlsplit(url or "")
    if parts.netloc and parts.netloc != request.host:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(long_date=long_date, hours=hours, percent=percent, radio_item=radio_item,
                                 local_path=local_path,
                                 local_datetime=local_datetime, local_date=local_date)
    app.jinja_env.globals.update(
        navigation_items=navigation_items,
        sign_out_form=sign_out_form,
        field_params=field_params,
        csp_nonce=csp_nonce,
        active_role=active_role,
        months_between=months_between,
    )
