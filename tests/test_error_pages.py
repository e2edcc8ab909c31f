"""Production error pages: no stack trace or SQL, and a reference that matches the log."""

import logging

import pytest
from sqlalchemy import text

from preceptor import create_app
from preceptor.extensions import db

from .conftest import config_for


@pytest.fixture
def failing_app(database_url):
    """An app with two routes that fail: a Python error and a database error."""
    app = create_app(config_for(database_url, TESTING=False))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail: password=hunter2")

    @app.get("/bad-sql")
    def bad_sql():
        db.session.execute(text("SELECT secret_column FROM no_such_table"))

    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/boom", "/bad-sql"])
def test_an_unexpected_error_shows_a_reference_and_nothing_inside(failing_app, caplog, path):
    caplog.set_level(logging.ERROR, logger="preceptor")
    response = failing_app.test_client().get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    reference = response.headers["X-Request-ID"]
    assert f"quote this reference: <strong>{reference}</strong>" in html
    for inside in ("Traceback", "hunter2", "secret_column", "no_such_table", "SELECT", "sqlalchemy", "RuntimeError"):
        assert inside not in html
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert logged[0].request_id == reference and reference in logged[0].getMessage()


def test_every_response_carries_a_request_id_and_a_proxy_id_is_kept_only_behind_a_trusted_proxy(database_url):
    direct_app = create_app(config_for(database_url))
    proxied_app = create_app(config_for(database_url, TRUSTED_PROXIES=1))
    direct = direct_app.test_client()
    first, second = direct.get("/healthz"), direct.get("/healthz")
    assert len(first.headers["X-Request-ID"]) == 16 and first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert direct.get("/healthz", headers={"X-Request-ID": "from-the-proxy-1"}).headers["X-Request-ID"] \
        != "from-the-proxy-1"  # nobody may choose their own id without a proxy in front
    proxied = proxied_app.test_client()
    assert proxied.get("/healthz", headers={"X-Request-ID": "from-the-proxy-1"}).headers["X-Request-ID"] \
        == "from-the-proxy-1"
    hostile = proxied.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert hostile != "<script>"
    for app in (direct_app, proxied_app):
        with app.app_context():
            db.engine.dispose()
