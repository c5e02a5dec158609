"""Role checks of the merchant portal: viewers read, admins change."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user


def admin_required(view):
    """Refuse (403) a view that changes data to anyone but an admin."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if getattr(current_user, "role", None) != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper
