"""The merchant settings row (identity, invoice design, defaults)."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from portal.billing.errors import ValidationError
from portal.billing.money import minor_units, parse_money
from portal.extensions import db
from portal.models import MerchantSettings

LOGO_MAX_BYTES = 500 * 1024
# Recognised by content, not by the name or the type the browser claims.
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
ACCENT_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_TERMS_DAYS = 365
TEXT_LIMITS = {"company_name": 255, "email": 255, "phone": 60, "address": 2000,
               "footer_text": 2000, "terms_text": 4000}
SETTINGS_FIELDS = (*TEXT_LIMITS, "default_currency", "default_tax_rate", "payment_terms_days",
                   "accent_colour", "email_zero_invoices", "mail_rate_per_minute")
MAX_MAIL_RATE = 100_000


def singleton_row(model):
    """The one row (id 1) of a settings-like table, created with its defaults if missing
    (flushes); another process creating it at the same moment is no error."""
    row = db.session.get(model, 1)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(model(id=1))
    except IntegrityError:
        pass
    return db.session.get(model, 1)


def ensure_settings() -> MerchantSettings:
    """The merchant settings row, created with defaults if missing (flushes)."""
    return singleton_row(MerchantSettings)


def logo_mimetype(data: bytes) -> str:
    """The MIME type of an uploaded logo: a PNG or JPEG of at most 500 kB, else refused.

    :param data: the file's bytes.
    """
    if not data:
        raise ValidationError("logo", "the file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError("logo", f"must be at most {LOGO_MAX_BYTES // 1024} kB "
                                      f"(this file has {len(data) // 1024} kB)")
    for signature, mimetype in LOGO_SIGNATURES.items():
        if data.startswith(signature):
            return mimetype
    raise ValidationError("logo", "must be a PNG or JPEG image")


def tax_rate_from_percent(value: object, field: str = "default_tax_rate") -> Decimal:
    """A tax rate typed in percent ("8.25") as the stored fraction (0.0825), exactly.

    :param value: decimal text between 0 and 100.
    :param field: the field named in errors.
    """
    percent = parse_money(value, field)
    if percent > 100:
        raise ValidationError(field, "must be a percentage between 0 and 100")
    return percent.scaleb(-2)


def _clean(name: str, value):
    """One settings field, validated and normalised."""
    if name in TEXT_LIMITS:
        text = (value or "").strip() or None
        if text is not None and len(text) > TEXT_LIMITS[name]:
            raise ValidationError(name, f"must be at most {TEXT_LIMITS[name]} characters")
        if name == "company_name" and text is None:
            raise ValidationError(name, "is required")
        if name == "email" and text is not None and "@" not in text:
            raise ValidationError(name, "must be an e-mail address")
        return text
    if name == "default_currency":
        minor_units(value)  # refuses unknown codes with a clear message
        return value.strip().upper()
    if name == "default_tax_rate":
        return Decimal(value)
    if name == "email_zero_invoices":
        if not isinstance(value, bool):
            raise ValidationError(name, "must be true or false")
        return value
    if name == "mail_rate_per_minute":
        if value is not None and (not isinstance(value, int) or not 1 <= value <= MAX_MAIL_RATE):
            raise ValidationError(name, f"must be a number of e-mails per minute between 1 and {MAX_MAIL_RATE}")
        return value
    if name == "payment_terms_days":
        if not isinstance(value, int) or not 0 <= value <= MAX_TERMS_DAYS:
            raise ValidationError(name, f"must be a number of days between 0 and {MAX_TERMS_DAYS}")
        return value
    if not isinstance(value, str) or not ACCENT_COLOUR.fullmatch(value.strip()):
        raise ValidationError(name, "must be a colour like #2563eb")
    return value.strip().lower()


def update_settings(settings: MerchantSettings, *, logo: bytes | None = None,
                    remove_logo: bool = False, **fields) -> MerchantSettings:
    """Change the merchant settings (the fields given), the logo too; flushes.

    :param settings: the settings row (ensure_settings()).
    :param logo: a new logo file's bytes (PNG or JPEG, ≤ 500 kB), or None to keep it.
    :param remove_logo: drop the current logo (ignored when a new one is given).
    :param fields: any of SETTINGS_FIELDS; default_tax_rate is a fraction (0.0825).
    """
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a settings field")
    cleaned = {name: _clean(name, value) for name, value in fields.items()}
    if cleaned.get("default_tax_rate", 0) < 0 or cleaned.get("default_tax_rate", 0) > 1:
        raise ValidationError("default_tax_rate", "must be between 0 and 100 %")
    mimetype = logo_mimetype(logo) if logo is not None else None
    for name, value in cleaned.items():
        setattr(settings, name, value)
    if logo is not None:
        settings.logo, settings.logo_mimetype = logo, mimetype
    elif remove_logo:
        settings.logo, settings.logo_mimetype = None, None
    db.session.flush()
    return settings
