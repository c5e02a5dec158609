"""Rough edges a merchant meets on day one: the payment form after a payment, the contact
after an invitation, "Bill now" with several due periods and its messages."""
from __future__ import annotations

import re
from datetime import timedelta

from support.factories import make_customer, make_package
from support.factories import make_october_invoice

from portal.db_types import utcnow


def _input_value(page: str, field_id: str) -> str:
    tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return value.group(1) if value else ""


def test_payment_form_is_empty_after_a_payment(admin, db):
    invoice = make_october_invoice()
    before = admin.get(f"/merchant/invoices/{invoice.id}").get_data(as_text=True)
    assert _input_value(before, "amount") == "28.05"  # the balance, offered once
    response = admin.post(f"/merchant/invoices/{invoice.id}/payments",
                          {"amount": "10.00", "paid_on": "2015-10-20", "method": "check", "reference": "CHK 7"},
                          htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "18.05 USD" in page  # still open: the form is shown again
    assert _input_value(page, "amount") == "" and _input_value(page, "reference") == ""


def test_contact_reads_invited_after_the_invitation(admin, db):
    customer = make_customer()
    db.session.commit()
    contact = customer.contacts[0]
    assert "not invited" in admin.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)
    admin.post(f"/merchant/contacts/{contact.id}/invite")
    page = admin.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)
    assert "not invited" not in page and f"invited {utcnow().date().isoformat()}" in page


def test_bill_now_asks_how_many_invoices_and_leaves_no_stale_message(admin, db):
    start = (utcnow() - timedelta(days=100)).replace(hour=0, minute=0, second=0, microsecond=0)
    package = make_package(start=start)
    db.session.commit()
    page = admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    bill_form = page[page.index(f'action="/merchant/packages/{package.id}/bill"'):].split(">", 1)[0]
    count = int(re.search(r'hx-confirm="Bill now will issue (\d+) invoices', bill_form).group(1))
    assert count in (3, 4)  # one per month boundary in 100 days
    response = admin.post(f"/merchant/packages/{package.id}/bill", htmx=True)
    body = response.get_data(as_text=True)
    assert f"{count} invoice" in body  # what was done, in the swapped block
    assert '<div id="flashes" hx-swap-oob="true"></div>' in body  # clears the older messages on top
    assert 'id="flashes"' in admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    after = admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    assert "hx-confirm=\"Bill now will issue" not in after  # nothing more is due


def _errors(page: str) -> list[str]:
    return re.findall(r'class="field-error">([^<]*)<', page)


def test_an_empty_item_form_flags_every_missing_field(admin, db):
    response = admin.post("/merchant/items", {"name": "", "pricemodel": "tie", "tiers-0-unit_from": "",
                                              "tiers-0-amount": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is required" in _errors(page)  # the name, not only the tiers
    assert "the tiered (graduated) price model needs at least one tier" in _errors(page)
    typed = admin.post("/merchant/items", {"name": "", "pricemodel": "tie", "tiers-0-unit_from": "0",
                                           "tiers-0-unit_to": "10", "tiers-0-amount": "",
                                           "tiers-1-unit_from": "10", "tiers-1-amount": ""})
    assert _errors(typed.get_data(as_text=True)).count("is required") == 3  # name and both prices


def test_tier_errors_count_from_one_like_the_table(admin, db):
    response = admin.post("/merchant/items", {"name": "Storage", "pricemodel": "tie",
                                              "tiers-0-unit_from": "0", "tiers-0-unit_to": "100", "tiers-0-amount": "1",
                                              "tiers-1-unit_from": "200", "tiers-1-amount": "0.5"})
    errors = " ".join(_errors(response.get_data(as_text=True)))
    assert "leaves a gap after tier 1, which ends at 100" in errors and "tier 0" not in errors
    quote = admin.get("/merchant/items/price?quantity=5&pricemodel=tie&tiers-0-unit_from=0&tiers-0-amount="
                      "&tiers-1-unit_from=3&tiers-1-amount=2").get_data(as_text=True)
    assert "Tier 1 amount: is required" in quote and "tiers[0]" not in quote
