"""Public pages: landing and health."""
from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import func, select, text

from portal.extensions import db, login_manager
from portal.jobs.queue import queue_counts
from portal.main import bp
from portal.models import Contact, Customer, Item, Package, StaffUser
from portal.services.billing_runs import scheduler_status


SESSION_USER_TYPES = {"staff": StaffUser, "contact": Contact}


@login_manager.user_loader
def load_user(session_id: str):
    """Flask-Login: the staff user ("staff:N") or contact ("contact:N") of a session."""
    kind, _, number = session_id.partition(":")
    model = SESSION_USER_TYPES.get(kind)
    return db.session.get(model, int(number)) if model and number.isdigit() else None


@bp.get("/")
def index():
    """Landing page: what Meterbill is and what the database holds."""
    counts = {
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
        "items": db.session.scalar(select(func.count()).select_from(Item)),
        "packages": db.session.scalar(select(func.count()).select_from(Package)),
    }
    return render_template("index.html", counts=counts)


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
                   scheduler=scheduler.state, jobs=queue_counts())
