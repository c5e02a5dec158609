"""The merchant settings row (identity, invoice design, defaults)."""
from __future__ import annotations

from portal.extensions import db
from portal.models import MerchantSettings


def ensure_settings() -> MerchantSettings:
    """The merchant settings row, created with defaults if missing (flushes)."""
    settings = db.session.get(MerchantSettings, 1)
    if settings is None:
        settings = MerchantSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings
