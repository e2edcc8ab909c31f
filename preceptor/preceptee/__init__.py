"""The preceptee's area: their programme, timeline and progress log."""

from flask import Blueprint

bp = Blueprint("preceptee", __name__, url_prefix="/preceptee")

from . import log, timeline, views  # noqa: E402,F401  (routes register on the blueprint)
