"""`package` through the API: create, read, list, update, input errors, then the actions
cancel, suspend, unsuspend and upgrade (`invoice` is tested with the billing run)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from support.api_client import body, refused
from portal.models import Invoice, Item, Package


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _customer(api, company="Acme"):
    return body(api.post("/api/v3/customer", json={"company": company}))["response"]["id"]


def _item(api, name="VoIP minutes", **fields):
    payload = {"name": name, "external_key": name.lower().replace(" ", "-"), "is_metered": True,
               "pricemodel": {"pricemodel": "uni", "base": "10.00",
                              "tiers": [{"unit_from": 0, "amount": "0.05"}]}, **fields}
    response = api.post("/api/v3/item", json=payload)
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def _package(api, customer_id, item_id, **fields):
    payload = {"customer_id": customer_id, "start_datetime": "2015-09-01 10:30:00",
               "line_items": [{"item_id": item_id}], **fields}
    response = api.post("/api/v3/package", json=payload)
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def _get(api, package_id):
    response = api.get(f"/api/v3/package/{package_id}")
    assert response.status_code == 200
    return body(response)["response"]



def _invoice(db, package_id, total_minor, paid_minor=0, status="open-unpaid", boundary=None):
    """An invoice row of the package (the billing run is tested elsewhere)."""
    package = db.session.get(Package, package_id)
    refnumber = (db.session.query(Invoice).count() or 0) + 1000
    db.session.add(Invoice(
        refnumber=refnumber, customer_id=package.customer_id, package_id=package_id,
        currency="USD", date=date(2015, 10, 1), due_date=date(2015, 10, 31),
        subtotal_minor=total_minor, total_minor=total_minor, paid_minor=paid_minor,
        status=status, boundary_at=boundary))
    db.session.commit()


def test_create_and_get_a_package(api, db):
    customer_id, item_id = _customer(api), _item(api)
    response = api.post("/api/v3/package", json={
        "customer_id": customer_id, "external_key": "pkg-1", "nickname": "Main line",
        "paycycle": "qtr", "start_datetime": "2015-09-01 10:30:00", "line_items": [{
            "item_id": item_id, "descrip": "Calls", "line_quantity": "2.5", "external_key": "line-1",
            "trial_days": 3, "tierset": {"pricemodel": "uni", "setup": "1",
                                         "tiers": [{"unit_from": 0, "amount": "0.0125"}]}}]})
    assert response.status_code == 201
    package_id = body(response)["response"]["id"]
    assert response.headers["Location"].endswith(f"/api/v3/package/{package_id}")
    package = _get(api, package_id)
    expected = {
        "package_id": package_id, "customer_id": customer_id, "external_key": "pkg-1",
        "nickname": "Main line", "paycycle": "qtr", "start_datetime": "2015-09-01 10:30:00",
        "holduntil_datetime": None, "next_invoice_datetime": "2015-09-01 00:00:00",
        "cancel_datetime": None, "suspendfrom_datetime": None, "package_status_str": "active-current",
        "package_status_state": "a", "package_status_name": "Current", "currency_iso4217": "USD",
        "amount_invoiced": 0, "amount_due": 0,
    }
    assert {k: package[k] for k in expected} == expected
    [line] = package["line_items"]
    assert {k: line[k] for k in ("item_id", "item_name", "item_external_key", "external_key", "descrip",
                                 "line_quantity", "trial_days", "subscribe_datetime", "cancel_datetime")} == {
        "item_id": item_id, "item_name": "VoIP minutes", "item_external_key": "voip-minutes",
        "external_key": "line-1", "descrip": "Calls", "line_quantity": Decimal("2.5"), "trial_days": 3,
        "subscribe_datetime": "2015-09-01 10:30:00", "cancel_datetime": None}
    assert line["tierset"]["tiers"][0]["amount"] == Decimal("0.0125")
    assert line["tierset"]["setup"] == 1 and line["tierset_id"] == line["tierset"]["tierset_id"]
    assert line["tierset_id"] != db.session.get(Item, item_id).tierset_id
    assert api.get(f"/api/v3/package/{package_id}?expand=line_items").status_code == 200


def test_defaults_without_optional_fields(api):
    item_id = _item(api)
    package_id = body(api.post("/api/v3/package", json={
        "customer_id": str(_customer(api)), "line_items": [{"item_id": str(item_id)}]}))["response"]["id"]
    package = _get(api, package_id)
    assert package["paycycle"] == "mon" and package["nickname"] == ""
    assert package["start_datetime"][:10] == datetime.now(timezone.utc).date().isoformat()
    [line] = package["line_items"]
    assert line["line_quantity"] == 1 and line["trial_days"] == 0
    assert line["tierset"]["base"] == Decimal("10.00")  # the item's own tierset
    empty = api.post("/api/v3/package", json={"customer_id": _customer(api, "B")})
    assert empty.status_code == 201 and _get(api, body(empty)["response"]["id"])["line_items"] == []


def test_holduntil_as_a_bare_date_anchors_the_periods(api):
    package_id = _package(api, _customer(api), _item(api), holduntil_datetime="2015-10-15")
    package = _get(api, package_id)
    assert package["holduntil_datetime"] == "2015-10-15 00:00:00"
    assert package["next_invoice_datetime"] == "2015-10-15 00:00:00"


def test_naive_datetimes_are_in_the_merchant_time_zone(api, app, db):
    app.config["TIMEZONE"] = "America/New_York"
    try:
        package_id = _package(api, _customer(api), _item(api), start_datetime="2015-09-01 00:00:00",
                              holduntil_datetime="2015-09-05")
        stored = db.session.get(Package, package_id)
        assert stored.start_at == utc(2015, 9, 1, 4) and stored.holduntil_at == utc(2015, 9, 5, 4)
        assert stored.next_invoice_at == utc(2015, 9, 5, 4)
        package = _get(api, package_id)
        assert package["start_datetime"] == "2015-09-01 00:00:00"
        assert package["next_invoice_datetime"] == "2015-09-05 00:00:00"
        offset = _package(api, _customer(api, "B"), _item(api, "SMS"),
                          start_datetime="2015-09-01T00:00:00+00:00")
        assert _get(api, offset)["start_datetime"] == "2015-08-31 20:00:00"
    finally:
        app.config["TIMEZONE"] = "UTC"


@pytest.mark.parametrize("change, field, message", [
    ({"customer_id": None}, "customer_id", "is required"),
    ({"customer_id": 999}, "customer_id", "no customer 999"),
    ({"customer_id": 10**30}, "customer_id", "no customer"),
    ({"customer_id": "abc"}, "customer_id", "must be an integer"),
    ({"paycycle": "weekly"}, "paycycle", "must be one of"),
    ({"paycycle": ["mon"]}, "paycycle", "must be a string"),
    ({"nickname": "n" * 256}, "nickname", "at most 255"),
    ({"start_datetime": "someday"}, "start_datetime", "date-time"),
    ({"start_datetime": 20150901}, "start_datetime", "date-time"),
    ({"start_datetime": "9999-12-31 23:59:59"}, "start_datetime", "between 1970 and 9000"),
    ({"holduntil_datetime": "2015-08-01"}, "holduntil_datetime", "must not be before start"),
    ({"line_items": "x"}, "line_items", "must be a non-empty list"),
    ({"line_items": [1]}, "line_items[0]", "must be an object"),
    ({"line_items": [{}]}, "line_items[0].item_id", "is required"),
    ({"line_items": [{"item_id": 999}]}, "line_items[0].item_id", "no item 999"),
    ({"line_items": [{"item_id": "ITEM", "line_quantity": "-1"}]}, "line_items[0].line_quantity", "negative"),
    ({"line_items": [{"item_id": "ITEM", "line_quantity": "1.0000001"}]}, "line_items[0].line_quantity", "6 decimal"),
    ({"line_items": [{"item_id": "ITEM", "line_quantity": "lots"}]}, "line_items[0].line_quantity", "a number"),
    ({"line_items": [{"item_id": "ITEM", "trial_days": -1}]}, "line_items[0].trial_days", "between 0"),
    ({"line_items": [{"item_id": "ITEM", "trial_days": "x"}]}, "line_items[0].trial_days", "integer"),
    ({"line_items": [{"item_id": "ITEM", "descrip": {"a": 1}}]}, "line_items[0].descrip", "a string"),
    ({"line_items": [{"item_id": "ITEM"}, {"item_id": "ITEM", "tierset": {"pricemodel": "tie", "tiers": [
        {"unit_to": 10, "amount": 1}, {"unit_from": 20, "amount": 1}]}}]},
     "line_items[1].tierset.tiers[1].unit_from", "leaves a gap"),
    ({"line_items": [{"item_id": "ITEM", "tierset": "uni"}]}, "line_items[0].tierset", "an object"),
])
def test_bad_package_input_is_400_naming_the_field(api, change, field, message):
    item_id = _item(api)
    payload = {"customer_id": _customer(api), "line_items": [{"item_id": item_id}], **change}
    for entry in payload["line_items"] if isinstance(payload["line_items"], list) else []:
        if isinstance(entry, dict) and entry.get("item_id") == "ITEM":
            entry["item_id"] = item_id
    response = api.post("/api/v3/package", json={k: v for k, v in payload.items() if v is not None})
    assert message in refused(response, field)
    assert body(response)["message"].startswith(f"{field}: ")


def test_disabled_item_and_duplicate_keys_are_refused(api):
    customer_id, item_id = _customer(api), _item(api)
    disabled = _item(api, "Old plan", enabled=False)
    message = refused(api.post("/api/v3/package", json={
        "customer_id": customer_id, "line_items": [{"item_id": disabled}]}), "line_items[0].item_id")
    assert message == f"line_items[0].item_id: item {disabled} is disabled and cannot be added to a package"
    _package(api, customer_id, item_id, external_key="p1",
             line_items=[{"item_id": item_id, "external_key": "l1"}])
    refused(api.post("/api/v3/package", json={"customer_id": customer_id, "external_key": "p1"}), "external_key")
    again = api.post("/api/v3/package", json={"customer_id": customer_id, "line_items": [
        {"item_id": item_id, "external_key": "l2"}, {"item_id": item_id, "external_key": "l2"}]})
    assert "already used by line_item" in refused(again, "line_items[1].external_key")
    refused(api.post("/api/v3/package", json={"customer_id": customer_id, "line_items": [
        {"item_id": item_id, "external_key": "l1"}]}), "line_items[0].external_key")


def test_list_where_order_and_count(api):
    acme, beta, item_id = _customer(api), _customer(api, "Beta"), _item(api)
    first = _package(api, acme, item_id, nickname="alpha", paycycle="yrl")
    second = _package(api, acme, item_id, nickname="bravo", start_datetime="2015-10-01 00:00:00")
    third = _package(api, beta, item_id, nickname="charlie", external_key="c")
    api.post(f"/api/v3/package/{second}/_action/cancel")
    ids = lambda q: [p["package_id"] for p in body(api.get(f"/api/v3/package?{q}"))["response"]]
    assert ids(f"where=customer_id:EQUALS:{acme}&order=package_id:DESC") == [second, first]
    assert ids("where=package_status_str:EQUALS:active-current&order=nickname:DESC") == [third, first]
    assert ids("where=paycycle:EQUALS:yrl") == [first]
    assert ids("where=nickname:CONTAINS:AR") == [third]
    assert ids("where=external_key:EQUALS:c") == [third]
    assert ids("where=start_datetime:GTE:2015-10-01 00:00:00") == [second]
    assert ids("order=start_datetime:DESC,package_id:ASC&limit=2") == [second, first]
    assert ids("where=next_invoice_datetime:LT:2015-09-02") == [first, third]
    assert ids("where=package_id:NOTEQUALS:1") == [second, third]
    assert body(api.get(f"/api/v3/package/_count?where=customer_id:EQUALS:{beta}"))["response"] == 1
    assert api.get("/api/v3/package?where=start_datetime:GT:soon").status_code == 400


def test_update_package(api, db):
    customer_id, item_id = _customer(api), _item(api)
    package_id = _package(api, customer_id, item_id, nickname="old")
    _package(api, customer_id, item_id, external_key="taken")
    response = api.put(f"/api/v3/package/{package_id}", json={
        "nickname": "new", "external_key": "mine", "holduntil_datetime": "2015-09-10",
        "customer_id": customer_id, "start_datetime": "2001-01-01 00:00:00", "line_items": []})
    assert response.status_code == 202 and body(response)["response"] == {"id": package_id}
    package = _get(api, package_id)
    assert (package["nickname"], package["external_key"]) == ("new", "mine")
    assert package["holduntil_datetime"] == "2015-09-10 00:00:00"
    assert package["next_invoice_datetime"] == "2015-09-10 00:00:00"
    assert package["start_datetime"] == "2015-09-01 10:30:00"  # not changeable: ignored
    assert api.put(f"/api/v3/package/{package_id}", json={"paycycle": "yrl"}).status_code == 202
    assert _get(api, package_id)["paycycle"] == "yrl"
    refused(api.put(f"/api/v3/package/{package_id}", json={"external_key": "taken"}), "external_key")
    refused(api.put(f"/api/v3/package/{package_id}", json={"customer_id": 999}), "customer_id")
    refused(api.put(f"/api/v3/package/{package_id}", json={"holduntil_datetime": "2015-08-01"}),
           "holduntil_datetime")
    _invoice(db, package_id, 1000, boundary=utc(2015, 9, 10))
    message = refused(api.put(f"/api/v3/package/{package_id}", json={"holduntil_datetime": "2015-09-20"}),
                     "holduntil_datetime")
    assert message == f"holduntil_datetime: cannot change: package {package_id} has been invoiced"
    refused(api.put(f"/api/v3/package/{package_id}", json={"paycycle": "mon"}), "paycycle")
    assert api.put(f"/api/v3/package/{package_id}", json={"nickname": "later"}).status_code == 202


def test_amounts_sum_the_non_void_invoices(api, db):
    package_id = _package(api, _customer(api), _item(api))
    _invoice(db, package_id, 1000)
    _invoice(db, package_id, 550, paid_minor=550, status="closed-paid")
    _invoice(db, package_id, 9999, status="closed-void")
    package = _get(api, package_id)
    assert package["amount_invoiced"] == Decimal("15.50") and package["amount_due"] == Decimal("10.00")
    assert package["amount_collected"] == Decimal("5.50")


def test_packages_cannot_be_deleted_and_missing_ones_are_404(api):
    package_id = _package(api, _customer(api), _item(api))
    assert api.delete(f"/api/v3/package/{package_id}").status_code == 400
    missing = api.get("/api/v3/package/999")
    assert missing.status_code == 404 and body(missing)["message"] == "This package does not exist."


# --- actions -------------------------------------------------------------------------------

def _act(api, package_id, name, payload=None):
    return api.post(f"/api/v3/package/{package_id}/_action/{name}", json=payload or {})


def test_cancel_now_cancels_lines_and_schedules_the_final_invoice(api, db):
    package_id = _package(api, _customer(api), _item(api))
    _invoice(db, package_id, 1000, boundary=utc(2015, 9, 1))
    db.session.get(Package, package_id).next_invoice_at = utc(2099, 1, 1)  # as if billing is current
    db.session.commit()
    response = _act(api, package_id, "cancel")
    assert response.status_code == 200 and body(response)["response"] is True
    package = _get(api, package_id)
    assert (package["package_status_str"], package["package_status_state"], package["package_status_name"]) == (
        "canceled-manual", "c", "Canceled manually")
    assert package["cancel_datetime"] is not None
    assert package["next_invoice_datetime"] == package["cancel_datetime"]
    assert [line["cancel_datetime"] for line in package["line_items"]] == [package["cancel_datetime"]]
    again = _act(api, package_id, "cancel")
    assert body(again)["message"] == f"package_id: package {package_id} is canceled and cannot be changed"
    refused(again, "package_id")
    refused(_act(api, package_id, "suspend"), "package_id")
    refused(_act(api, package_id, "upgrade", {"line_items": [{"item_id": 1}]}), "package_id")
    refused(api.put(f"/api/v3/package/{package_id}", json={"paycycle": "yrl"}), "package_id")
    assert api.put(f"/api/v3/package/{package_id}", json={"nickname": "gone"}).status_code == 202


def test_cancel_at_a_given_instant_through_the_legacy_url(api, db):
    package_id = _package(api, _customer(api), _item(api))
    refused(api.post(f"/api/v3/package/{package_id}?action=cancel",
                    json={"cancel_datetime": "2015-08-01 00:00:00"}), "cancel_datetime")
    refused(_act(api, package_id, "cancel", {"cancel_datetime": "tomorrow"}), "cancel_datetime")
    response = api.post(f"/api/v3/package/{package_id}?action=cancel",
                        json={"cancel_datetime": "2015-09-20 12:00:00"})
    assert response.status_code == 200 and body(response)["response"] is True
    stored = db.session.get(Package, package_id)
    assert stored.cancel_at == utc(2015, 9, 20, 12)
    assert [line.cancel_at for line in stored.line_items] == [utc(2015, 9, 20, 12)]
    # The boundary of 2015-09-01 is still due first; billing reaches the cancel after it.
    assert stored.next_invoice_at == utc(2015, 9, 1)


def test_cancel_before_the_last_invoiced_boundary_is_refused(api, db):
    package_id = _package(api, _customer(api), _item(api))
    _invoice(db, package_id, 1000, boundary=utc(2015, 10, 1))
    message = refused(_act(api, package_id, "cancel", {"cancel_datetime": "2015-09-20 00:00:00"}),
                     "cancel_datetime")
    assert "must not be before 2015-10-01 00:00:00" in message


def test_cancel_with_line_items_cancels_only_those_lines(api, db):
    item_id = _item(api)
    package_id = _package(api, _customer(api), item_id, line_items=[{"item_id": item_id}] * 2)
    first, second = [line["line_item_id"] for line in _get(api, package_id)["line_items"]]
    response = _act(api, package_id, "cancel", {"line_items": [{"line_item_id": first, "cancel": True}]})
    assert response.status_code == 200
    package = _get(api, package_id)
    assert package["package_status_str"] == "active-current"
    assert [line["line_item_id"] for line in package["line_items"]] == [second]
    assert db.session.get(Package, package_id).line_items[0].cancel_at is not None
    again = _act(api, package_id, "cancel", {"line_items": [{"line_item_id": first, "cancel": True}]})
    assert f"line item {first} is canceled" in refused(again, "line_items[0].line_item_id")


def test_suspend_and_unsuspend(api):
    package_id = _package(api, _customer(api), _item(api))
    refused(_act(api, package_id, "suspend", {"suspendto_datetime": "2016-01-01"}), "suspendto_datetime")
    assert body(_act(api, package_id, "suspend", {"suspendfrom_datetime": "2015-10-01"}))["response"] is True
    package = _get(api, package_id)
    assert (package["package_status_str"], package["package_status_state"], package["package_status_name"]) == (
        "suspended-suspended", "s", "Suspended")
    assert package["suspendfrom_datetime"] == "2015-10-01 00:00:00"
    assert "already suspended" in refused(_act(api, package_id, "suspend"), "package_id")
    assert _act(api, package_id, "unsuspend").status_code == 200
    package = _get(api, package_id)
    assert (package["package_status_str"], package["suspendfrom_datetime"]) == ("active-current", None)
    assert "is not suspended" in refused(_act(api, package_id, "unsuspend"), "package_id")


def test_upgrade_quantity_change_records_a_quantity_change(api, db):
    package_id = _package(api, _customer(api), _item(api))
    line_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    response = _act(api, package_id, "upgrade", {"line_items": [
        {"line_item_id": line_id, "line_quantity": "5.5", "effective_datetime": "2015-09-15 00:00:00"}]})
    assert response.status_code == 200 and body(response)["response"] is True
    line = db.session.get(Package, package_id).line_items[0]
    assert [(c.effective_at, c.quantity) for c in line.quantity_changes] == [
        (utc(2015, 9, 1, 10, 30), Decimal(1)), (utc(2015, 9, 15), Decimal("5.5"))]
    assert _get(api, package_id)["line_items"][0]["line_quantity"] == Decimal("5.5")
    # The same instant again corrects that change instead of adding a second one.
    _act(api, package_id, "upgrade", {"effective_datetime": "2015-09-15 00:00:00",
                                      "line_items": [{"line_item_id": line_id, "line_quantity": 7}]})
    db.session.expire_all()
    line = db.session.get(Package, package_id).line_items[0]
    assert [c.quantity for c in line.quantity_changes] == [Decimal(1), Decimal(7)]
    _act(api, package_id, "upgrade", {"line_items": [{"line_item_id": line_id, "line_quantity": 0}]})
    db.session.expire_all()
    assert len(db.session.get(Package, package_id).line_items[0].quantity_changes) == 3


def test_upgrade_replace_makes_a_new_line_and_cancels_the_old(api, db):
    small, big = _item(api, "Small plan"), _item(api, "Big plan")
    package_id = _package(api, _customer(api), small, line_items=[
        {"item_id": small, "line_quantity": 3, "external_key": "main", "descrip": "Plan"}])
    old_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    response = _act(api, package_id, "upgrade", {"line_items": [
        {"line_item_id": old_id, "item_id": big, "subscribe_prorate": True, "cancel_prorate": True}]})
    assert response.status_code == 200, body(response)
    [new] = _get(api, package_id)["line_items"]
    assert new["line_item_id"] != old_id and new["item_id"] == big and new["item_name"] == "Big plan"
    assert (new["line_quantity"], new["external_key"], new["descrip"]) == (3, "main", "Plan")
    stored = db.session.get(Package, package_id)
    old = next(line for line in stored.line_items if line.id == old_id)
    assert old.cancel_at is not None and old.cancel_at == stored.line_items[-1].subscribe_at
    assert old.external_key is None
    # A new tierset alone also replaces the line, keeping its item.
    _act(api, package_id, "upgrade", {"line_items": [{"line_item_id": new["line_item_id"], "tierset": {
        "pricemodel": "uni", "tiers": [{"unit_from": 0, "amount": "0.04"}]}}]})
    [newer] = _get(api, package_id)["line_items"]
    assert newer["item_id"] == big and newer["tierset"]["tiers"][0]["amount"] == Decimal("0.04")


def test_upgrade_adds_and_cancels_lines(api):
    item_id, extra = _item(api), _item(api, "Support")
    package_id = _package(api, _customer(api), item_id)
    line_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    response = _act(api, package_id, "upgrade", {"line_items": [
        {"item_id": extra, "line_quantity": 2, "external_key": "support"},
        {"line_item_id": line_id, "cancel": "1"}]})
    assert response.status_code == 200, body(response)
    [line] = _get(api, package_id)["line_items"]
    assert (line["item_id"], line["line_quantity"], line["external_key"]) == (extra, 2, "support")


@pytest.mark.parametrize("payload, field, message", [
    ({}, "line_items", "non-empty list"),
    ({"line_items": []}, "line_items", "non-empty list"),
    ({"line_items": [5]}, "line_items[0]", "must be an object"),
    ({"line_items": [{"line_item_id": 999, "line_quantity": 2}]}, "line_items[0].line_item_id",
     "has no line item 999"),
    ({"line_items": [{"line_item_id": "x"}]}, "line_items[0].line_item_id", "integer"),
    ({"line_items": [{"line_item_id": "LINE"}]}, "line_items[0].line_item_id", "nothing to change"),
    ({"line_items": [{"line_quantity": 2}]}, "line_items[0].item_id", "is required"),
    ({"line_items": [{"item_id": 999}]}, "line_items[0].item_id", "no item 999"),
    ({"line_items": [{"line_item_id": "LINE", "line_quantity": "-2"}]}, "line_items[0].line_quantity",
     "negative"),
    ({"line_items": [{"line_item_id": "LINE", "line_quantity": "x"}]}, "line_items[0].line_quantity",
     "a number"),
    ({"line_items": [{"line_item_id": "LINE", "cancel": "maybe"}]}, "line_items[0].cancel", "true or false"),
    ({"line_items": [{"line_item_id": "LINE", "line_quantity": 2, "effective_datetime": "2015-08-01"}]},
     "line_items[0].effective_datetime", "must not be before 2015-09-01 10:30:00"),
    ({"effective_datetime": "later", "line_items": [{"line_item_id": "LINE", "line_quantity": 2}]},
     "effective_datetime", "date-time"),
    ({"line_items": [{"line_item_id": "LINE", "item_id": "ITEM", "tierset": {"pricemodel": "uni"}}]},
     "line_items[0].tierset.tiers", "exactly one tier"),
])
def test_bad_upgrades_are_400_and_change_nothing(api, db, payload, field, message):
    item_id = _item(api)
    package_id = _package(api, _customer(api), item_id)
    line_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    for entry in payload.get("line_items") or []:
        if isinstance(entry, dict):
            entry.update({k: {"LINE": line_id, "ITEM": item_id}[v] for k, v in entry.items()
                          if v in ("LINE", "ITEM")})
    assert message in refused(_act(api, package_id, "upgrade", payload), field)
    assert [line["line_item_id"] for line in _get(api, package_id)["line_items"]] == [line_id]


def test_a_failed_upgrade_rolls_back_its_earlier_entries(api, db):
    item_id = _item(api)
    package_id = _package(api, _customer(api), item_id)
    line_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    response = _act(api, package_id, "upgrade", {"line_items": [
        {"line_item_id": line_id, "line_quantity": 9}, {"line_item_id": 12345, "cancel": True}]})
    refused(response, "line_items[1].line_item_id")
    assert _get(api, package_id)["line_items"][0]["line_quantity"] == 1


def test_upgrade_before_the_last_invoiced_boundary_is_refused(api, db):
    package_id = _package(api, _customer(api), _item(api))
    line_id = _get(api, package_id)["line_items"][0]["line_item_id"]
    _invoice(db, package_id, 1000, boundary=utc(2015, 10, 1))
    message = refused(_act(api, package_id, "upgrade", {"line_items": [
        {"line_item_id": line_id, "line_quantity": 2, "effective_datetime": "2015-09-20 00:00:00"}]}),
        "line_items[0].effective_datetime")
    assert message.endswith("must not be before 2015-10-01 00:00:00, the package's last invoiced period boundary")


def test_unknown_package_action_is_400(api):
    package_id = _package(api, _customer(api), _item(api))
    response = _act(api, package_id, "explode")
    assert response.status_code == 400 and "unknown action 'explode'" in body(response)["message"]
