"""The administrator's area: people, departments, the milestone framework."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import audit_log, departments, erasure, framework, people, survey_templates, views  # noqa: E402,F401
