"""Staff login, logout and password change."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.db_types import utcnow
from portal.extensions import db, limiter
from portal.merchant import bp
from portal.merchant.forms import LoginForm, PasswordForm
from portal.web import safe_next
from portal.models import StaffUser

LOGIN_LIMIT = "10 per minute; 50 per hour"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """Staff login form."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), "/merchant", url_for("merchant.dashboard")))
        flash("Wrong e-mail or password.", "error")
    status = 400 if request.method == "POST" else 200
    return render_template("merchant/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("merchant.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("This is not your current password.")
        else:
            current_user.set_password(form.new.data)
            db.session.commit()
            flash("Your password was changed.", "info")
            return redirect(url_for("merchant.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("merchant/password.html", form=form), status
