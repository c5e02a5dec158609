"""/portal: the customer self-service portal (contacts log in; they see only their customer)."""
import importlib

from flask import Blueprint, redirect, request, url_for

bp = Blueprint("customer", __name__, url_prefix="/portal")

# Each module adds its views (helpers: its Jinja filters and error page) to `bp`.
VIEW_MODULES = ("helpers", "auth", "invoices", "packages", "credit_notes")
PUBLIC_ENDPOINTS = {"customer.login", "customer.logout", "customer.forgot_password",
                    "customer.accept_invitation", "customer.reset_password", "customer.login_link"}


@bp.before_request
def require_contact_login():
    """Every portal page but the public ones needs a logged-in contact who can log in."""
    from portal.customer.access import logged_in_contact

    if request.endpoint in PUBLIC_ENDPOINTS or logged_in_contact() is not None:
        return None
    login_url = url_for("customer.login", next=request.full_path)
    if getattr(request, "htmx", False):
        # A redirect would swap the login page into a fragment; HX-Redirect loads it whole.
        return "", 401, {"HX-Redirect": login_url}
    return redirect(login_url)


@bp.after_request
def no_store(response):
    """A customer's pages hold personal billing data: no shared or back-button caches."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


for _name in VIEW_MODULES:
    importlib.import_module(f"portal.customer.{_name}")
