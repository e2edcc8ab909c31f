"""The preceptorship portal: a Flask application factory.

`create_app()` builds the app; nothing is built at import time. Templates and static files
sit at the repository root, beside this package.
"""

import os
from pathlib import Path

from flask import Flask
from jinja2 import BytecodeCache, ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader, select_autoescape
from werkzeug.routing import IntegerConverter

from . import config, database, form_input, query_count
from .extensions import csrf, db, htmx, login_manager, migrate
from .fields import DATABASE_INT_MAX

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the life of the process, shared by every app it builds.

    One app compiles each template once anyway; this matters where a process builds many apps
    (the test suite builds one per test, and compiling the layout takes most of a second).
    Jinja checks each entry against its source's checksum, so an edited template recompiles.
    """

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


class DatabaseId(IntegerConverter):
    """`<int:...>` in a URL: an id too big for the database is a page that does not exist
    (404), not an overflow error."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(url_map, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("PRECEPTOR_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # The NHS.UK macros need ChainableUndefined and their own package loader.
    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader([FileSystemLoader(str(ROOT / "templates")), PackageLoader("nhsuk_frontend_jinja")]),
        # Plain-text emails (.txt) are not HTML; everything else is escaped.
        "autoescape": select_autoescape(disabled_extensions=("txt",), default_for_string=True, default=True),
        "bytecode_cache": COMPILED_TEMPLATES,
    }
    form_input.init_app(app)  # NUL dropped from posted values, refused in URLs: PostgreSQL text cannot hold one
    config.load(app, test_config)

    db.init_app(app)
    query_count.init_app(app)  # first of the after_request hooks, so it runs last
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from . import auth, compression, errors, request_ids, security, static_files, templating
    from .admin import bp as admin_bp
    from .caseload import bp as caseload_bp
    from .lead import bp as lead_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp
    from .preceptee import bp as preceptee_bp

    auth.init_app(app)
    request_ids.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    static_files.init_app(app)  # wraps wsgi_app: /static/ is answered before Flask
    app.url_map.converters["int"] = DatabaseId
    for blueprint in (main_bp, preceptee_bp, caseload_bp, lead_bp, admin_bp, notifications_bp):
        app.register_blueprint(blueprint)

    from . import cli

    cli.init_app(app)

    if app.config.get("CHECK_DATABASE_ON_START", True):
        database.check_reachable(app)
    return app
