"""The merchant dashboard."""
from flask import render_template

from portal.merchant import bp


@bp.get("/")
def dashboard():
    """Dashboard: the state of the business at a glance."""
    return render_template("merchant/dashboard.html")
