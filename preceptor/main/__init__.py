"""Pages that belong to no single role: the front door, the health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from . import views  # noqa: E402,F401
