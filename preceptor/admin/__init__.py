"""The administrator's area: people, departments, the milestone framework."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401
    audit_log,
    departments,
    erasure,
    framework,
    outbox,
    people,
    people_import,
    person_details,
    survey_templates,
    views,
)
