"""The preceptee's area: their programme, timeline and progress log."""

from flask import Blueprint

bp = Blueprint("preceptee", __name__, url_prefix="/preceptee")

from . import views  # noqa: E402,F401
