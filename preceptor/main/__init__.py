"""Pages that belong to no single role: the front door, the health check, your own data."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from . import own_data, views  # noqa: E402,F401
