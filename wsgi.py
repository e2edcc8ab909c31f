"""The WSGI entry point for gunicorn: `gunicorn -w 2 wsgi:app`."""

from preceptor import create_app
from preceptor.database import refresh_sqlite_statistics

app = create_app()
refresh_sqlite_statistics(app)  # SQLite keeps no planner statistics of its own
