"""Factories for billed states: ChargeOver's example invoice through the real billing run."""
from __future__ import annotations

from factories import make_package, utc
from portal.extensions import db
from portal.models import Invoice
from portal.jobs.billing import run_billing
from portal.services.usage import record_usage


def make_october_invoice() -> Invoice:
    """ChargeOver's example: $10 base + 361 minutes × $0.05 → the $28.05 October invoice."""
    package = make_package()
    db.session.commit()
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "361",
                  "from": "2015-09-15 00:00:00"})
    db.session.commit()
    ids = run_billing(utc(2015, 10, 1)).invoice_ids
    return db.session.get(Invoice, ids[-1])
