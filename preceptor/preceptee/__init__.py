"""The preceptee's area: their programme, timeline, progress log, meetings, learning needs
and development plan."""

from flask import Blueprint

bp = Blueprint("preceptee", __name__, url_prefix="/preceptee")

from . import log, needs, record, surveys, timeline, views  # noqa: E402,F401  (routes register on the blueprint)
