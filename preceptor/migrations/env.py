"""Alembic environment, run through Flask-Migrate (`flask --app preceptor db ...`).

Uses the app's engine (`db.engine`) and metadata; batch mode so SQLite can alter tables.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db
options = current_app.extensions["migrate"].configure_args


def run_migrations_offline() -> None:
    context.configure(url=db.engine.url.render_as_string(hide_password=False),
                      target_metadata=db.metadata, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        # `db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata,
                          process_revision_directives=skip_empty, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
