"""Every request gets an id. It goes back in `X-Request-ID`, on every log line written while
the request runs, and on the error page, so support can find the log entry from what the
person reads out. Behind a trusted proxy an id the proxy set is kept, to join up both logs."""

import logging
import re
import secrets
import sys

from flask import Flask, g, has_app_context, request

GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def request_id() -> str:
    """This request's id (made on first use, so errors before any hook still have one)."""
    if "request_id" not in g:
        g.request_id = secrets.token_hex(8)
    return g.request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_app_context() else "-"
        return True


def _log_with_request_ids() -> None:
    """The portal's own log lines go to standard error with the request id (once per process)."""
    logger = logging.getLogger("preceptor")
    if any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    _log_with_request_ids()
    trust_incoming = bool(app.config.get("TRUSTED_PROXIES"))

    @app.before_request
    def assign() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if trust_incoming and GOOD_ID.fullmatch(incoming) else secrets.token_hex(8)

    @app.after_request
    def send_back(response):
        response.headers["X-Request-ID"] = request_id()
        return response
