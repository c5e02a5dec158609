"""Meterbill: usage-based billing. `create_app` builds the Flask application."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from portal.config import PROJECT_ROOT, load_settings
from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate
from portal.jsonio import ExactJSONProvider


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then `config` overrides.

    :param config: settings that win over the environment (tests pass a database URL);
        INSTANCE_PATH (or the environment's) moves the instance folder (generated key, SQLite).
    """
    from portal import security
    from portal.presentation.formatting import register_filters

    config = config or {}
    instance = config.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance"
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(Path(instance).resolve()),
    )
    app.json = ExactJSONProvider(app)
    app.config.update(load_settings())
    app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    security.configure(app)
    _init_extensions(app)
    security.install_guards(app)
    _register_blueprints(app)
    register_filters(app)
    _register_cli(app)
    from portal.api.fast_usage import FastUsagePost

    # Outermost: the plain single POST of usage is answered before Flask (API_FAST_PATH).
    app.wsgi_app = FastUsagePost(app, app.wsgi_app)
    return app


def _init_extensions(app: Flask) -> None:
    """Bind every extension; importing models registers their tables."""
    import portal.models  # noqa: F401  (registers the tables on db.metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)
    elif not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        from portal.db_pool import ping_idle_connections

        with app.app_context():
            ping_idle_connections(db.engine, int(app.config.get("DB_PING_IDLE_SECONDS", 10)))


def _tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout let the web app and the scheduler share the SQLite file."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL is durable across application crashes (only an OS crash may
            # lose the last commits, never corrupt); FULL would fsync on every invoice.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()


def _register_blueprints(app: Flask) -> None:
    """Mount the web areas."""
    from portal.api import bp as api_bp
    from portal.api.docs import bp as api_docs_bp
    from portal.customer import bp as customer_bp
    from portal.links import bp as links_bp
    from portal.main import bp as main_bp
    from portal.merchant import bp as merchant_bp
    from portal.usage_urls import bp as usage_urls_bp
    from portal.web import install_security_headers

    app.register_blueprint(main_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(usage_urls_bp)
    install_security_headers(app)

    @app.context_processor
    def _endpoints():
        # Lets the navigation show only the areas that exist; pages show the public URL.
        return {"url_endpoints": set(app.view_functions), "public_url": app.config["PUBLIC_URL"]}
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates every request with a key, not a session
    limiter.exempt(api_bp)  # the API has no rate limit: no limiter storage round trip per call
    from portal.pages import install_pages

    install_pages(app)  # favicon and styled error pages; after the blueprints' handlers


def _register_cli(app: Flask) -> None:
    """Add the `flask` commands (seed-demo, users, billing)."""
    from portal.cli import register_commands

    register_commands(app)
