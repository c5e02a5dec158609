"""Public pages: landing and health."""
from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import text

from portal.extensions import db, login_manager
from portal.main import bp


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
    """Health check: 200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        db.session.rollback()
        return jsonify(status="error", database="unavailable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
