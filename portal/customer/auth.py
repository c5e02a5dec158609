"""Contact login and logout, forgot password, and the set-password page of signed links."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from portal.customer import bp
from portal.customer.access import logged_in_contact
from portal.customer.forms import ForgotForm, LoginForm, SetPasswordForm
from portal.extensions import db, limiter
from portal.web import safe_next
from portal.services.contact_access import (
    authenticate, contact_from_token, request_password_reset, set_contact_password,
)

LOGIN_LIMIT = "10 per minute; 50 per hour"
RESET_ANSWER = ("If an account exists for that address, we have sent it a link to choose a new "
                "password. The link is valid for 2 hours.")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """Contact login form."""
    if request.method == "GET" and logged_in_contact() is not None:
        return redirect(url_for("customer.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        contact = authenticate(form.email.data, form.password.data)
        if contact is not None:
            login_user(contact, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), "/portal", url_for("customer.dashboard")))
        flash("Wrong e-mail or password.", "error")
    status = 400 if request.method == "POST" else 200
    return render_template("customer/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("customer.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def forgot_password():
    """Ask for a password-reset e-mail; the answer never tells whether the address exists."""
    form = ForgotForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        db.session.commit()
        flash(RESET_ANSWER, "info")
        return redirect(url_for("customer.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("customer/forgot.html", form=form), status


@bp.get("/login/<token>")
def login_link(token: str):
    """Log in with a signed login link (the API's user action `login`)."""
    contact = contact_from_token(token, "login")
    if contact is None or not login_user(contact):
        return render_template("customer/link_invalid.html", purpose="login"), 400
    return redirect(url_for("customer.dashboard"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Accept an invitation: choose a password, then be logged in."""
    return _set_password(token, "invitation")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link, then be logged in."""
    return _set_password(token, "reset")


def _set_password(token: str, purpose: str):
    """The set-password page of a signed link; a bad, expired or used link is refused (400)."""
    contact = contact_from_token(token, purpose)
    if contact is None:
        return render_template("customer/link_invalid.html", purpose=purpose), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        set_contact_password(contact, form.password.data)
        db.session.commit()
        login_user(contact)
        flash("Your password is set. Welcome!", "info")
        return redirect(url_for("customer.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("customer/set_password.html", form=form, contact=contact,
                           purpose=purpose), status
