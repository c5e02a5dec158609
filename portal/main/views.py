"""Public pages: landing and health."""
from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import text

from portal.extensions import db, login_manager
from portal.jobs.queue import queue_counts
from portal.main import bp
from portal.services.billing_runs import scheduler_status
from portal.services.usage_rollup_reads import rollup_status


@login_manager.user_loader
def load_user(session_id: str):
    """Flask-Login: the staff user or contact of a session, if its version is current."""
    from portal.services.accounts import user_for_session

    return user_for_session(session_id)


@bp.get("/")
def index():
    """Landing page: what Meterbill is and where to go (nothing about the data it holds)."""
    return render_template("index.html")


@bp.get("/health")
def health():
    """Health: 503 when the database is down; else 200, "degraded" when billing is not running."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        db.session.rollback()
        return jsonify(status="error", database="unavailable", detail=type(exc).__name__), 503
    scheduler = scheduler_status(current_app.config)
    return jsonify(status="ok" if scheduler.healthy else "degraded", database="ok",
                   scheduler=scheduler.state, jobs=queue_counts(), rollups=rollup_status())
