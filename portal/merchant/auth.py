"""Staff login, logout and password change."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.billing.errors import ValidationError
from portal.extensions import db, limiter
from portal.merchant import bp
from portal.merchant.forms import LoginForm, PasswordForm
from portal.services.accounts import change_own_password, staff_login
from portal.web import safe_next

LOGIN_LIMIT = "10 per minute; 50 per hour"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """Staff login form."""
    form = LoginForm()
    if form.validate_on_submit():
        user = staff_login(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
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
        return _password_changed(form)
    status = 400 if request.method == "POST" else 200
    return render_template("merchant/password.html", form=form), status


def _password_changed(form: PasswordForm):
    """Store the new password; every other session ends, this browser stays logged in."""
    user = current_user._get_current_object()
    try:
        change_own_password(user, form.current.data, form.new.data)
    except ValidationError as error:
        db.session.rollback()
        (form.current if error.field == "current" else form.new).errors.append(error.message)
        return render_template("merchant/password.html", form=form), 400
    db.session.commit()
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(user, remember=remembered)  # the session id carries the new version
    flash("Your password was changed; other sessions were logged out.", "info")
    return redirect(url_for("merchant.dashboard"))
