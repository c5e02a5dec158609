"""The database itself forbids duplicates and inexact or impossible values."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from support.factories import make_package, utc
from portal.models import Customer, Invoice, Item, LineItem, Package, UsageRecord


def _invoice(package, boundary, refnumber):
    return Invoice(
        refnumber=refnumber, customer_id=package.customer_id, package_id=package.id,
        boundary_at=boundary, currency="USD", date=date(2015, 10, 1), due_date=date(2015, 10, 31),
        subtotal_minor=2805, total_minor=2805,
    )


def test_one_recurring_invoice_per_package_and_boundary(db):
    package = make_package()
    db.session.add(_invoice(package, utc(2015, 10, 1), 1))
    db.session.flush()
    db.session.add(_invoice(package, utc(2015, 10, 1), 2))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_refnumbers_are_unique(db):
    package = make_package()
    db.session.add(_invoice(package, utc(2015, 10, 1), 7))
    db.session.add(_invoice(package, utc(2015, 11, 1), 7))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_invoice_total_must_be_subtotal_plus_taxes(db):
    package = make_package()
    invoice = _invoice(package, utc(2015, 10, 1), 1)
    invoice.total_minor = 9999
    db.session.add(invoice)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_usage_external_key_is_unique_per_line(db):
    line = make_package().line_items[0]
    for _ in range(2):
        db.session.add(UsageRecord(line_item_id=line.id, usage_value=Decimal(1),
                                   from_at=utc(2015, 9, 2), to_at=utc(2015, 9, 2),
                                   external_key="k1"))
    with pytest.raises(IntegrityError):
        db.session.flush()


@pytest.mark.parametrize("model", [Customer, Item, Package, LineItem])
def test_external_keys_are_unique_in_the_database(db, model):
    package = make_package()
    rows = {Customer: lambda: Customer(company="X", external_key="dup"),
            Item: lambda: Item(name="X", external_key="dup", tierset=package.line_items[0].item.tierset),
            Package: lambda: Package(customer=package.customer, external_key="dup"),
            LineItem: lambda: LineItem(package=package, item=package.line_items[0].item,
                                       external_key="dup")}[model]
    db.session.add_all([rows(), rows()])
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_negative_usage_is_refused_by_the_database(db):
    line = make_package().line_items[0]
    db.session.flush()
    with pytest.raises(IntegrityError):
        db.session.execute(text(
            "INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, source,"
            " created_at) VALUES (:line, -1, '2015-09-02 00:00:00', '2015-09-02 00:00:00',"
            " 'api', '2015-09-02 00:00:00')"), {"line": line.id})


def test_usage_values_and_prices_are_stored_exactly(db):
    package = make_package()
    line = package.line_items[0]
    biggest = Decimal("999999999999.999999")
    db.session.add(UsageRecord(line_item_id=line.id, usage_value=biggest,
                               from_at=utc(2015, 9, 2), to_at=utc(2015, 9, 2)))
    db.session.commit()
    stored = db.session.execute(text("SELECT usage_value FROM usage_records")).scalar_one()
    assert stored == 999999999999999999  # integer micro-units: no float on any database
    db.session.expire_all()
    assert db.session.query(UsageRecord).one().usage_value == biggest
    rate = db.session.execute(text("SELECT amount FROM tiers")).scalar_one()
    assert rate == "0.05"


def test_datetimes_come_back_aware_utc(db):
    package = make_package(start=utc(2015, 9, 1, 12, 30))
    db.session.commit()
    db.session.expire_all()
    assert package.start_at == utc(2015, 9, 1, 12, 30)
    assert package.start_at.tzinfo is not None
