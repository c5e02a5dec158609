"""Staff users of the merchant portal, and the one login service of both portals."""
from __future__ import annotations

import hmac
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import STAFF_ROLES, Contact, StaffUser
from portal.models.accounts import session_version
from portal.passwords import hash_password
from portal.url_numbers import MAX_INT32

LOGIN_MODELS = {"staff": StaffUser, "contact": Contact}

MIN_PASSWORD_LENGTH = 8


def create_staff_user(*, email: str, password: str, role: str = "admin",
                      name: str | None = None) -> StaffUser:
    """Create a staff login with a hashed password; flushes.

    :param email: login address, unique (case-insensitive).
    :param password: at least MIN_PASSWORD_LENGTH characters; only its hash is stored.
    :param role: admin or viewer.
    """
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ValidationError("email", "must be an e-mail address")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if role not in STAFF_ROLES:
        raise ValidationError("role", f"must be one of {', '.join(STAFF_ROLES)}")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise ValidationError("email", f"{email} already has a login")
    user = StaffUser(email=email, name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


# --- Logins of both portals -------------------------------------------------------------

@cache
def _dummy_hash() -> str:
    """Checked against when nobody can log in with the e-mail, so that a login takes as
    long whether or not the address exists (no account enumeration by timing)."""
    return hash_password("not-a-password-of-anyone")


def authenticate(kind: str, email: str, password: str):
    """The staff user or contact whose e-mail and password match and who may log in, else
    None; the same password-hash work is done in every case.

    :param kind: "staff" or "contact".
    :param email: the login address (case-insensitive).
    :param password: the password typed.
    """
    model = LOGIN_MODELS[kind]
    address = (email or "").strip().lower()
    user = db.session.scalar(select(model).where(model.email == address)) if address else None
    if user is None or not user.is_active or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def user_for_session(session_id: str):
    """The login a session id ("staff:7:<version>") names, if the version is current.

    :param session_id: what `get_id()` returned at login, from the session or the
        remember-me cookie.
    """
    kind, _, rest = (session_id or "").partition(":")
    number, _, version = rest.partition(":")
    model = LOGIN_MODELS.get(kind)
    if model is None or not number.isascii() or not number.isdigit() or int(number) > MAX_INT32:
        return None
    user = db.session.get(model, int(number))
    if user is None or not hmac.compare_digest(version, session_version(user.password_hash)):
        return None
    return user


def change_password(user, password: str) -> None:
    """Set a staff user's or contact's new password; every other session of theirs ends
    (their session version changes). The caller logs the current browser in again.

    :param user: a StaffUser or Contact.
    :param password: the new password.
    """
    if isinstance(user, StaffUser):
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        user.set_password(password)
        db.session.flush()
    else:
        from portal.services.contact_access import set_contact_password

        set_contact_password(user, password)


def staff_login(email: str, password: str) -> StaffUser | None:
    """The staff user whose e-mail and password match (its last login time set), or None.

    :param email: the login address (case-insensitive).
    :param password: the password typed.
    """
    user = authenticate("staff", email, password)
    if user is not None:
        user.last_login_at = utcnow()
        db.session.flush()
    return user


def change_own_password(user, current: str, new: str) -> None:
    """Change one's own password after checking the current one.

    :raises ValidationError: on `current` when it is not the password, or on `password`
        when the new one is refused.
    """
    if not user.check_password(current or ""):
        raise ValidationError("current", "This is not your current password.")
    change_password(user, new)
