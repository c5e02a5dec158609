"""The package service: creation, and the changes behind cancel, suspend and upgrade."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from support.factories import make_customer, make_package, make_voip_item, utc
from portal.billing.errors import ValidationError
from portal.billing.pricing import PriceModel
from portal.db_types import utcnow
from portal.models import Invoice
from portal.services.catalog import update_item
from portal.services.packages import (
    LineDraft, cancel_line, cancel_package, change_line_quantity, create_package, last_billed_boundary,
    replace_line, subscribe_line, update_package,
)
from portal.services.suspensions import suspend_package, unsuspend_package


def _invoice(db, package, boundary, status="open-unpaid"):
    db.session.add(Invoice(refnumber=1000 + len(db.session.query(Invoice).all()),
                           customer_id=package.customer_id, package_id=package.id, currency="USD",
                           date=date(2015, 10, 1), due_date=date(2015, 10, 1), status=status,
                           boundary_at=boundary))
    db.session.flush()


def test_line_errors_name_the_line(db):
    item, disabled = make_voip_item(), make_voip_item(name="Old")
    update_item(disabled, enabled=False)
    with pytest.raises(ValidationError) as error:
        create_package(make_customer(), [LineDraft(item=item), LineDraft(item=item, line_quantity=Decimal(-1))])
    assert error.value.field == "line_items[1].line_quantity"
    with pytest.raises(ValidationError) as error:
        create_package(make_customer(email="b@example.com"), [LineDraft(item=disabled)])
    assert error.value.field == "line_items[0].item_id"
    with pytest.raises(ValidationError) as error:
        create_package(make_customer(email="c@example.com"), [LineDraft(
            item=item, tierset=PriceModel(pricemodel="uni"))])
    assert error.value.field == "line_items[0].tierset.tiers"


def test_quantity_changes_are_recorded_and_corrected_in_place(db):
    line = make_package().line_items[0]
    change_line_quantity(line, Decimal(3), utc(2015, 9, 10))
    change_line_quantity(line, Decimal(4), utc(2015, 9, 10))
    assert [(c.effective_at, c.quantity) for c in line.quantity_changes] == [
        (utc(2015, 9, 1), Decimal(1)), (utc(2015, 9, 10), Decimal(4))]
    change_line_quantity(line, Decimal("2.5"))  # now
    assert line.line_quantity == Decimal("2.5") and line.quantity_changes[-1].effective_at <= utcnow()
    for bad, at in ((Decimal(2), utc(2015, 8, 31)), (Decimal("0.0000001"), None), (Decimal(10**13), None)):
        with pytest.raises(ValidationError):
            change_line_quantity(line, bad, at)


def test_changes_before_the_last_billed_boundary_are_refused_but_void_invoices_do_not_count(db):
    package = make_package()
    line = package.line_items[0]
    _invoice(db, package, utc(2015, 11, 1), status="closed-void")
    _invoice(db, package, utc(2015, 10, 1))
    assert last_billed_boundary(package) == utc(2015, 10, 1)
    with pytest.raises(ValidationError, match="last invoiced period boundary"):
        cancel_line(line, utc(2015, 9, 30))
    cancel_line(line, utc(2015, 10, 1))
    assert line.cancel_at == utc(2015, 10, 1)
    with pytest.raises(ValidationError, match="is canceled"):
        change_line_quantity(line, Decimal(2))


def test_cancel_package_cancels_every_line_and_brings_the_next_invoice_forward(db):
    package = make_package(start=utc(2015, 9, 1))
    later = subscribe_line(package, LineDraft(item=package.line_items[0].item), utc(2015, 9, 25))
    package.next_invoice_at = utc(2015, 10, 1)
    cancel_package(package, utc(2015, 9, 20))
    assert (package.status, package.cancel_at, package.next_invoice_at) == (
        "canceled-manual", utc(2015, 9, 20), utc(2015, 9, 20))
    # A line that had not started yet ends when it would have started (never a negative span).
    assert [line.cancel_at for line in package.line_items] == [utc(2015, 9, 20), later.subscribe_at]
    for action in (cancel_package, suspend_package):
        with pytest.raises(ValidationError, match="is canceled"):
            action(package)


def test_cancel_now_of_a_package_that_has_not_started_ends_it_at_its_start(db):
    start = utcnow() + timedelta(days=10)
    package = make_package(start=start)
    cancel_package(package)
    assert package.cancel_at == start and package.line_items[0].cancel_at == start


def test_replace_line_moves_the_external_key_to_the_new_line(db):
    item = make_voip_item()
    package = create_package(make_customer(), [LineDraft(item=item, external_key="k", line_quantity=Decimal(2))],
                             start_at=utc(2015, 9, 1))
    old = package.line_items[0]
    new = replace_line(old, LineDraft(item=item, line_quantity=Decimal(5)), utc(2015, 9, 15))
    assert (old.cancel_at, old.external_key) == (utc(2015, 9, 15), None)
    assert (new.subscribe_at, new.external_key, new.line_quantity) == (utc(2015, 9, 15), "k", Decimal(5))
    assert [c.quantity for c in new.quantity_changes] == [Decimal(5)]
    newer = replace_line(new, LineDraft(item=item, external_key="other"), utc(2015, 9, 20))
    assert (new.external_key, newer.external_key) == ("k", "other")


def test_suspend_and_unsuspend(db):
    package = make_package()
    suspend_package(package, utc(2015, 9, 5))
    assert package.status == "suspended-suspended"
    assert [(s.start_at, s.end_at) for s in package.suspensions] == [(utc(2015, 9, 5), None)]
    with pytest.raises(ValidationError, match="already suspended"):
        suspend_package(package)
    unsuspend_package(package)
    assert package.status == "active-current"
    # The interval is kept (it still prorates its periods), ended now.
    assert package.suspensions[0].end_at is not None and package.suspensions[0].end_at > utc(2026, 1, 1)
    with pytest.raises(ValidationError, match="not suspended"):
        unsuspend_package(package)


def test_update_package_schedule_only_before_any_invoice(db):
    package = make_package()
    update_package(package, holduntil_at=utc(2015, 9, 3), nickname="n")
    assert package.next_invoice_at == utc(2015, 9, 3)
    update_package(package, paycycle="yrl", holduntil_at=None)
    assert (package.paycycle, package.next_invoice_at) == ("yrl", utc(2015, 9, 1))
    with pytest.raises(ValidationError) as error:
        update_package(package, paycycle="nope")
    assert error.value.field == "paycycle"
    with pytest.raises(ValidationError, match="is not a package field"):
        update_package(package, status="active-trial")
    _invoice(db, package, utc(2015, 9, 1), status="closed-void")  # even a void invoice fixed the periods
    with pytest.raises(ValidationError, match="has been invoiced"):
        update_package(package, paycycle="mon")
    update_package(package, paycycle="yrl", external_key="same-cycle-is-no-change")
