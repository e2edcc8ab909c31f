"""The migrations, applied from empty, produce exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from preceptor.extensions import db
from preceptor.models import Principle


def test_migrated_schema_matches_models(app, databases):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"migrations and models differ on {databases.dialect}: {differences}"


def test_the_five_principles_are_fixed_data(app):
    names = db.session.scalars(select(Principle.name).order_by(Principle.id)).all()
    assert names == [
        "Organisational culture and preceptorship",
        "Quality and oversight of preceptorship",
        "Preceptee empowerment",
        "Preceptor role",
        "Preceptorship programme",
    ]


def test_backend_is_the_one_ci_asked_for(app, databases):
    """CI sets EXPECT_DIALECT on the PostgreSQL leg, so a leg that silently ran on SQLite fails."""
    import os

    expected = os.environ.get("EXPECT_DIALECT", databases.dialect)
    assert db.engine.dialect.name == expected


def test_audit_rows_cannot_be_changed_even_outside_the_orm(app, make):
    from preceptor.services import audit

    audit.record("test.event", make.user(), reason="first")
    db.session.commit()
    for statement in ("UPDATE audit_event SET reason = 'rewritten'", "DELETE FROM audit_event"):
        try:
            with db.engine.begin() as connection:
                connection.execute(text(statement))
        except Exception as error:  # the trigger's message, whatever the driver's exception class
            assert "append-only" in str(error)
        else:
            raise AssertionError(f"{statement} was allowed")
    assert db.session.scalar(text("SELECT reason FROM audit_event")) == "first"
