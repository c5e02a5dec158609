"""What stays the same during one billing run, read once instead of once per invoice."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from decimal import Decimal

from sqlalchemy.orm import selectinload

from portal.billing.pricing import PriceModel
from portal.extensions import db
from portal.models import Customer, LineItem, Tierset
from portal.services.catalog import pricemodel_of
from portal.services.invoice_snapshot import SELLER_FIELDS
from portal.services.settings import ensure_settings

# What an invoice's snapshot takes from the settings (see `invoice_snapshot.build_snapshot`).
_SNAPSHOT_FIELDS = (*SELLER_FIELDS, "terms_text", "accent_colour", "footer_text", "logo", "logo_mimetype")


@dataclass
class RunContext:
    """Merchant defaults and the price models met so far (pure values, safe across commits).

    A catalog change made while a run is under way applies from the next run.
    """

    default_tax_rate: Decimal
    default_terms_days: int
    company_name: str
    email_zero_invoices: bool = False
    # The settings as invoices snapshot them (`invoice_snapshot.build_snapshot`).
    seller: SimpleNamespace | None = None
    pricemodels: dict[int, PriceModel] = field(default_factory=dict)

    @classmethod
    def load(cls) -> RunContext:
        """Read the merchant settings once."""
        settings = ensure_settings()
        seller = SimpleNamespace(**{name: getattr(settings, name) for name in _SNAPSHOT_FIELDS})
        return cls(settings.default_tax_rate, settings.payment_terms_days, settings.company_name,
                   settings.email_zero_invoices, seller)

    def pricing(self, line: LineItem) -> PriceModel:
        """The price model in force on `line` (its override, else its item's), cached by id."""
        tierset_id = line.tierset_id or line.item.tierset_id
        if tierset_id not in self.pricemodels:
            tierset = db.session.get(Tierset, tierset_id, options=[selectinload(Tierset.tiers)])
            self.pricemodels[tierset_id] = pricemodel_of(tierset)
        return self.pricemodels[tierset_id]

    def tax_rate(self, customer: Customer) -> Decimal:
        """The customer's own tax rate, else the merchant's default."""
        return customer.tax_rate if customer.tax_rate is not None else self.default_tax_rate

    def terms_days(self, customer: Customer) -> int:
        """Payment terms in days: the customer's, else the merchant's default."""
        if customer.payment_terms_days is not None:
            return customer.payment_terms_days
        return self.default_terms_days
