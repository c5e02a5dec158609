"""Small factories for tests: each builds one thing through the services and flushes."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from portal.billing.pricing import PriceModel
from portal.services.catalog import create_item, unit_price
from portal.services.customers import add_contact, create_customer
from portal.services.packages import LineDraft, create_package


def utc(*args) -> datetime:
    """An aware UTC datetime: utc(2015, 10, 1)."""
    return datetime(*args, tzinfo=timezone.utc)


def make_voip_item(**overrides):
    """ChargeOver's example item: $10 base per cycle plus $0.05 per metered minute."""
    fields = dict(
        name="VoIP minutes", is_metered=True, units="minute", units_plural="minutes",
        pricing=PriceModel(pricemodel="uni", base=Decimal("10.00"), tiers=unit_price("0.05")),
    )
    fields.update(overrides)
    return create_item(**fields)


def make_customer(company="Acme Telephony", email="jane@acme.example", **fields):
    """A customer with one contact."""
    customer = create_customer(company=company, **fields)
    add_contact(customer, email=email, first_name="Jane", last_name="Doe")
    return customer


def make_package(customer=None, item=None, start=None, **fields):
    """A monthly package of one line (the VoIP item unless given), started 2015-09-01."""
    customer = customer or make_customer()
    item = item or make_voip_item()
    return create_package(customer, [LineDraft(item=item)], start_at=start or utc(2015, 9, 1),
                          **fields)
