"""SQL statements per request, in an `X-SQL-Queries` response header (opt-in, for the benchmark).

Off unless the setting `SQL_COUNT_HEADER` is true (environment: `PRECEPTOR_SQL_COUNT_HEADER=true`);
`make bench` turns it on so its table can show how many statements each page costs.
"""

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event

from .extensions import db

HEADER = "X-SQL-Queries"


def _count_statement(*_args) -> None:
    # The engine also runs outside requests (CLI commands, start-up checks): only requests count.
    if has_request_context():
        g.sql_queries = g.get("sql_queries", 0) + 1


def _add_header(response: Response) -> Response:
    response.headers[HEADER] = str(g.get("sql_queries", 0))
    return response


def init_app(app: Flask) -> None:
    """Count every statement sent on the app's engines. Call it before other `after_request`
    hooks are registered: Flask runs them in reverse, so this one runs last and sees their
    statements too."""
    if not app.config.get("SQL_COUNT_HEADER"):
        return
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "before_cursor_execute", _count_statement)
    app.after_request(_add_header)
