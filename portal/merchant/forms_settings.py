"""The merchant settings form: identity, defaults and invoice design (with a live preview)."""
from __future__ import annotations

import base64

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from portal.billing.errors import ValidationError
from portal.billing.money import MINOR_UNITS
from portal.merchant.forms_common import choices
from portal.models import MerchantSettings
from portal.presentation.formatting import format_quantity
from portal.services.invoice_view import DESIGN_FIELDS, logo_data_uri
from portal.services.settings import (
    ACCENT_COLOUR, LOGO_MAX_BYTES, logo_mimetype, tax_rate_from_percent,
)

PAYMENT_TERMS = {0: "Due on receipt", 15: "Net 15", 30: "Net 30"}
TEXT_FIELDS = ("company_name", "address", "email", "phone", "footer_text", "terms_text")


class SettingsForm(FlaskForm):
    """Merchant identity, defaults for new invoices, and the invoice design."""

    company_name = StringField("Company name", validators=[Length(max=255)])
    address = TextAreaField("Address", validators=[Length(max=2000)], render_kw={"rows": 3})
    email = EmailField("E-mail", validators=[Length(max=255)])
    phone = StringField("Phone", validators=[Length(max=60)])
    default_currency = SelectField("Default currency", choices=choices((c, c) for c in sorted(MINOR_UNITS)))
    default_tax_rate = StringField("Default tax rate (%)", validators=[Length(max=20)],
                                   render_kw={"inputmode": "decimal"})
    payment_terms_days = SelectField("Payment terms", choices=choices(PAYMENT_TERMS.items()), coerce=int)
    logo = FileField("Logo (PNG or JPEG, at most 500 kB)", render_kw={"accept": "image/png,image/jpeg"})
    remove_logo = BooleanField("Remove the current logo")
    accent_colour = StringField("Accent colour", validators=[Length(max=7)], render_kw={"type": "color"})
    footer_text = TextAreaField("Footer", validators=[Length(max=2000)], render_kw={"rows": 2})
    terms_text = TextAreaField("Terms", validators=[Length(max=4000)], render_kw={"rows": 3})
    email_zero_invoices = BooleanField("E-mail invoices whose total is zero")


def settings_form_data(settings: MerchantSettings) -> dict:
    """The saved settings as the form's initial data (the tax rate in percent)."""
    data = {name: getattr(settings, name) for name in (*TEXT_FIELDS, "default_currency",
                                                       "payment_terms_days", "accent_colour",
                                                       "email_zero_invoices")}
    data["default_tax_rate"] = format_quantity(settings.default_tax_rate * 100)
    return data


def uploaded_logo(form: SettingsForm) -> bytes | None:
    """The uploaded logo's bytes (read at most one byte past the limit), or None."""
    storage = form.logo.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.read(LOGO_MAX_BYTES + 1)


def settings_fields(form: SettingsForm) -> dict:
    """update_settings' keyword arguments from the form."""
    fields = {name: form[name].data for name in (*TEXT_FIELDS, "default_currency",
                                                 "payment_terms_days", "accent_colour")}
    fields["email_zero_invoices"] = bool(form.email_zero_invoices.data)
    fields["default_tax_rate"] = tax_rate_from_percent((form.default_tax_rate.data or "0").strip() or "0")
    return {**fields, "logo": uploaded_logo(form), "remove_logo": bool(form.remove_logo.data)}


def preview_design(form: SettingsForm, settings: MerchantSettings) -> tuple[dict, str | None, str, str | None]:
    """The typed (unsaved) design: (texts, logo data URI, accent colour, logo problem or None)."""
    design = {name: (form[name].data or "").strip() for name in DESIGN_FIELDS}
    typed_accent = (form.accent_colour.data or "").strip()
    accent = typed_accent if ACCENT_COLOUR.fullmatch(typed_accent) else settings.accent_colour
    logo, problem = None if form.remove_logo.data else logo_data_uri(settings), None
    try:
        data = uploaded_logo(form)
        if data is not None:
            mimetype = logo_mimetype(data)
            logo = f"data:{mimetype};base64,{base64.b64encode(data).decode()}"
    except ValidationError as error:
        problem = error.message
    return design, logo, accent, problem
