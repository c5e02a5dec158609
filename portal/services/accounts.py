"""Staff users of the merchant portal."""
from __future__ import annotations

from sqlalchemy import select

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.models import STAFF_ROLES, StaffUser

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
