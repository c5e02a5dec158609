"""Demo data: ChargeOver's VoIP example (a $10 base fee plus $0.05 per minute)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from portal.billing.pricing import PriceModel
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Contact, Customer
from portal.services import merchant_tz
from portal.services.accounts import create_staff_user
from portal.services.catalog import create_item, unit_price
from portal.services.contact_access import set_contact_password
from portal.services.customers import add_contact, create_customer
from portal.services.packages import LineDraft, create_package
from portal.services.settings import ensure_settings
from portal.services.usage import record_usage
from portal.timeutil import localize

DEMO_STAFF_EMAIL = "admin@meterbill.local"
DEMO_PASSWORD = "meterbill-demo"
DEMO_CUSTOMER_KEY = "demo-acme"
# The demo customer's contact logs into the customer portal (/portal) with this password.
DEMO_CONTACT_EMAIL = "jane@acme.example"
DEMO_CONTACT_PASSWORD = "acme-demo-pass"


def demo_minutes(day: date) -> Decimal:
    """A deterministic, plausible number of VoIP minutes for `day` (weekends are quiet)."""
    weekday_load = 4 if day.weekday() >= 5 else 12
    return Decimal(weekday_load + (day.toordinal() * 7) % 9)


def seed_demo(today: date | None = None) -> bool:
    """Create the demo merchant, staff login, item, customer, package and usage.

    Idempotent: returns False when the demo customer exists, and changes nothing then but
    give the demo contact its known password if it has none (data seeded before the portal).
    :param today: the local date the usage history runs up to (default: today).
    """
    if db.session.scalar(select(Customer.id).where(Customer.external_key == DEMO_CUSTOMER_KEY)):
        _ensure_contact_login()  # demo data seeded before the customer portal existed
        return False
    tz = merchant_tz()
    today = today or utcnow().astimezone(tz).date()
    ensure_settings().company_name = "Demo Telecom Reseller"
    create_staff_user(email=DEMO_STAFF_EMAIL, password=DEMO_PASSWORD, name="Demo Admin")
    item = create_item(
        name="VoIP minutes", is_metered=True, units="minute", units_plural="minutes",
        external_key="voip-minutes",
        pricing=PriceModel(pricemodel="uni", base=Decimal("10.00"), tiers=unit_price("0.05")),
    )
    customer = create_customer(
        company="Acme Telephony", external_key=DEMO_CUSTOMER_KEY, bill_addr1="1 Main Street",
        bill_city="Springfield", bill_state="IL", bill_postcode="62701", bill_country="USA",
    )
    # The first contact becomes the billing (main) contact.
    contact = add_contact(customer, email=DEMO_CONTACT_EMAIL, first_name="Jane", last_name="Doe")
    set_contact_password(contact, DEMO_CONTACT_PASSWORD)
    start = today.replace(day=1) - relativedelta(months=1)
    package = create_package(
        customer, [LineDraft(item=item, external_key="demo-acme-voip")], paycycle="mon",
        start_at=localize(datetime.combine(start, datetime.min.time()), tz), nickname="VoIP plan",
    )
    _seed_daily_usage(package.line_items[0].id, start, today)
    return True


def _ensure_contact_login() -> None:
    """Give the demo contact its known password if it has none yet (never overwrites one)."""
    contact = db.session.scalar(select(Contact).where(Contact.email == DEMO_CONTACT_EMAIL))
    if contact is not None and contact.password_hash is None:
        set_contact_password(contact, DEMO_CONTACT_PASSWORD)


def _seed_daily_usage(line_id: int, first: date, today: date) -> None:
    """One usage record per day from `first` up to yesterday, each with an idempotency key."""
    day = first
    while day < today:
        record_usage({
            "line_item_id": line_id, "usage_value": str(demo_minutes(day)),
            "from": f"{day.isoformat()} 09:00:00", "to": f"{day.isoformat()} 18:00:00",
            "external_key": f"demo-{day.isoformat()}",
        })
        day += timedelta(days=1)
