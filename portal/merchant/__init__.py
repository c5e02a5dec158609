"""/merchant: the merchant portal (staff login; admins change, viewers read)."""
import importlib

from flask import Blueprint, request
from flask_login import current_user

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

# Each module adds its views to `bp`; the portal's areas are listed here once.
VIEW_MODULES = ("auth", "dashboard", "catalog", "customers", "packages", "invoices",
                "settings", "usage", "imports", "developers", "usage_urls", "invitations",
                "credit_notes", "contacts", "exports", "reminders", "usage_pulls", "webhooks",
                "usage_alerts")
PUBLIC_ENDPOINTS = {"merchant.login"}


@bp.before_request
def require_staff_login():
    """Every merchant page needs a logged-in staff user."""
    from flask import redirect, url_for

    from portal.models import StaffUser

    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated or not isinstance(current_user._get_current_object(), StaffUser):
        return redirect(url_for("merchant.login", next=request.full_path))
    return None


def import_view_modules(names=VIEW_MODULES) -> None:
    """Import each area's module; a missing or misspelt one raises (it never drops an area)."""
    for name in names:
        importlib.import_module(f"portal.merchant.{name}")


import_view_modules()
