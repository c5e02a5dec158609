"""Forms of the customer portal (Flask-WTF: CSRF on every form)."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.services.contact_access import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Contact login."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField("Remember me")


class ForgotForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=255)])


class SetPasswordForm(FlaskForm):
    """Choose a password (from an invitation or a reset link)."""

    password = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                               message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])
