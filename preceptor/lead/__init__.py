"""The education lead's area: departments in scope, the preceptor register, pairing,
cohort allocation, capacity, oversight and new starters."""

from flask import Blueprint

bp = Blueprint("lead", __name__, url_prefix="/lead")

from . import capacity, milestones, oversight, pairing, programmes, register, starters, surveys  # noqa: E402,F401
