"""Merchant settings: identity, defaults and the invoice design with a live preview."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from portal.db_types import utcnow
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action
from portal.merchant.forms_settings import (
    SettingsForm, preview_design, settings_fields, settings_form_data,
)
from portal.services.invoice_view import design_preview_context, logo_data_uri, sample_invoice_context
from portal.services.reports import local_today
from portal.services.settings import ensure_settings, update_settings

PAGE, PREVIEW = "merchant/settings.html", "partials/merchant_invoice_preview.html"


def _page(form: SettingsForm) -> dict:
    """The settings page's context: the form and the saved design's preview."""
    settings = ensure_settings()
    return {"form": form, "has_logo": settings.logo is not None,
            "logo": logo_data_uri(settings), "preview": sample_invoice_context(local_today(utcnow())),
            "logo_problem": None}


@bp.get("/settings")
def settings():
    """The settings form (read-only for viewers) with a preview of the invoice design."""
    form = SettingsForm(data=settings_form_data(ensure_settings()))
    return render_template(PAGE, **_page(form))


@bp.post("/settings")
@admin_required
def settings_save():
    """Save the settings (and logo) through the settings service."""
    form = SettingsForm()
    return form_action(lambda: update_settings(ensure_settings(), **settings_fields(form)), form=form,
                       refuse=lambda: (PAGE, PAGE, _page(form)), message="Settings saved.",
                       done=lambda _: redirect(url_for("merchant.settings")))


@bp.post("/settings/preview")
@admin_required
def settings_preview():
    """HTMX: the sample invoice drawn with the typed, unsaved design."""
    form = SettingsForm()
    design, logo, accent, problem = preview_design(form, ensure_settings())
    preview = design_preview_context(local_today(utcnow()), design, logo, accent)
    return render_template(PREVIEW, preview=preview, logo_problem=problem)
