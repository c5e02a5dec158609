"""The merchant dashboard: revenue, open balance, usage, due invoices, recent activity."""
from flask import current_app, render_template

from portal.db_types import utcnow
from portal.jobs.queue import queue_counts
from portal.merchant import bp
from portal.presentation.figures import revenue_figure_json
from portal.services.billing_runs import scheduler_status
from portal.services.reports import dashboard as dashboard_figures
from portal.services.settings import ensure_settings


@bp.get("/")
def dashboard():
    """Dashboard: the state of the business at a glance (figures from the reports service)."""
    figures = dashboard_figures(utcnow())
    return render_template("merchant/dashboard.html", figures=figures,
                           revenue_chart=revenue_figure_json(figures.revenue),
                           currency=ensure_settings().default_currency,
                           billing_status=scheduler_status(current_app.config), job_counts=queue_counts())
