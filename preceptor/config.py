"""Settings: defaults in code, then `instance/config.py`, then the environment.

Environment: `DATABASE_URL`, `SECRET_KEY`, and any setting below as `PRECEPTOR_<NAME>`
(values parsed as JSON where they can be, e.g. `PRECEPTOR_DEFAULT_PRECEPTOR_CAP=3`).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask


class Defaults:
    """The portal's defaults; PRODUCT.md gives the basis for each."""

    TRUST_NAME = "Demo NHS Foundation Trust"
    SERVICE_NAME = "Preceptorship portal"
    TIME_ZONE = "Europe/London"  # times are stored in UTC and shown in this zone

    # Programme and preceptor defaults (all configurable).
    PROGRAMME_MONTHS = 12
    MINIMUM_PROGRAMME_MONTHS = 6
    DEFAULT_PRECEPTOR_CAP = 2
    PRECEPTOR_MIN_MONTHS_REGISTERED = 12
    PRECEPTOR_PROTECTED_HOURS = 12
    REFLECTIONS_PER_YEAR = 8
    SURVEY_SUPPRESSION_THRESHOLD = 5
    SURVEY_BASELINE_DAYS = 14  # the baseline survey is answered in the first 2 weeks
    SURVEY_WINDOW_DAYS = 28  # how long the 3, 6 and 12-month waves stay open
    PRECEPTOR_FEEDBACK_MINIMUM = 3

    # The largest request accepted: an ESR extract (2 MB at most) with room for the form around
    # it. Anything bigger is refused before it is read, with the NHS "file is too large" page.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024

    # Sign-in and sessions.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  (a hashing method's name, not a password)
    PASSWORD_MIN_LENGTH = 12
    ACCOUNT_LINK_DAYS = 7  # how long an invitation or a reset link works
    # How long a departed person's details are kept after deactivation before an admin may
    # erase them (NHS records guidance for staff training records: keep, then anonymise).
    ERASURE_RETENTION_DAYS = 365 * 6
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True when served over HTTPS
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=60)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Failed sign-ins (Flask-Limiter). Per account from one address, to stop password guessing;
    # per account from anywhere, higher, so nobody can lock a colleague out with a few guesses;
    # per address, far higher, because a hospital's staff often share one public address.
    # "memory://" counts in each worker process: with several workers or servers use one Redis,
    # e.g. PRECEPTOR_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0.
    SIGN_IN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    SIGN_IN_LIMIT_PER_ACCOUNT_ANYWHERE = "20 per 15 minutes"
    SIGN_IN_LIMIT_PER_ADDRESS = "50 per 15 minutes"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "preceptor"
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on a refusal
    RATELIMIT_SWALLOW_ERRORS = True  # a store that is down must not stop staff signing in; it is logged
    # Proxies in front of the portal that set X-Forwarded-For and X-Forwarded-Proto (nginx,
    # HAProxy): 1 behind one proxy. Then the limits see each person's own address, and HTTPS
    # at the proxy makes cookies Secure-aware and turns on HSTS. 0 when the portal is reached directly.
    TRUSTED_PROXIES = 0

    # Notifications by email. Links in emails start with PORTAL_URL. MAIL_BACKEND "file" writes
    # each message to instance/outbox/ as a .eml file (nothing leaves the machine); "smtp" sends
    # through MAIL_SERVER.
    PORTAL_URL = "http://127.0.0.1:5000"
    MAIL_BACKEND = "file"
    MAIL_FROM = "Preceptorship portal <no-reply@preceptorship.invalid>"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_TIMEOUT_SECONDS = 20
    MAIL_MAX_BYTES = 1_000_000  # a message bigger than this is refused, not sent in part
    MAIL_MAX_ATTEMPTS = 8  # then the message is kept as failed; retries back off from a minute
    NOTIFICATION_POLL_SECONDS = 60  # how often an open page refreshes the header's count
    # Reminders (`reminders run`, daily; issue 8 gives the numbers).
    REMINDER_DUE_SOON_DAYS = 7  # a milestone due within this many days
    REMINDER_MEETING_DAYS = 2  # a booked meeting within this many days
    REVIEW_REMINDER_WORKING_DAYS = 5  # a sign-off request waiting longer: the preceptor is reminded
    REVIEW_ESCALATION_WORKING_DAYS = 10  # waiting longer still: the education leads are told too
    SURVEY_REMINDER_DAYS = 7  # an open survey not answered: reminded this often

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False


def load(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name in ("DATABASE_URL", "SECRET_KEY"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        app.config.from_prefixed_env("PRECEPTOR")
    else:
        app.config.update(test_config)

    default_db = "sqlite:///" + str(Path(app.instance_path) / "preceptor.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config.get("DATABASE_URL") or default_db)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def database_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _instance_secret(instance: Path) -> str:
    """Read the install's random key, writing one on first run (never a hard-coded default)."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
