"""ChargeOver's PHP examples for `package`, as the same HTTP exchanges."""
from sqlalchemy import select

from portal.models import EmailDelivery
from support.api_client import body

URL = "/api/v3/package"


def _customer(api, **fields):
    data = {"company": "Acme", "superuser_name": "Ryan Bantz",
            "superuser_email": "ryan@acme.example", **fields}
    return body(api.post("/api/v3/customer", json=data))["response"]["id"]


def _item(api, name="Seats", **pricemodel):
    pricing = pricemodel or {"pricemodel": "fla", "base": 10}
    return body(api.post("/api/v3/item", json={"name": name, "type": "service",
                                               "pricemodel": pricing}))["response"]["id"]


def _package(api, customer_id, item_id, **fields):
    response = api.post(URL, json={"customer_id": customer_id,
                                   "line_items": [{"item_id": item_id}], **fields})
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def test_example_create_package_refuses_the_coupon_it_cannot_honour(api):
    customer_id, item_id = _customer(api), _item(api)
    entry = {"item_id": item_id, "trial_days": 20, "line_quantity": 15}
    coupon = api.post(URL, json={"customer_id": customer_id, "coupon": "The coupon code goes here.",
                                 "line_items": [entry]})
    assert coupon.status_code == 400 and body(coupon)["details"]["field"] == "coupon"
    created = api.post(URL, json={"customer_id": customer_id, "line_items": [entry]})
    assert created.status_code == 201
    line = body(api.get(f"{URL}/{body(created)['response']['id']}"))["response"]["line_items"][0]
    assert (line["trial_days"], line["line_quantity"]) == (20, 15)


def test_example_create_package_w_specify_pricing_bounded_last_tier(api):
    customer_id, item_id = _customer(api), _item(api)
    response = api.post(URL, json={"customer_id": customer_id, "line_items": [{
        "item_id": item_id, "descrip": "Test of a description goes here.",
        "tierset": {"setup": 0, "base": 135, "paycycle": "mon", "pricemodel": "uni",
                    "tiers": [{"unit_from": 1, "unit_to": 9999, "amount": 60}]}}]})
    assert response.status_code == 201, body(response)
    line = body(api.get(f"{URL}/{body(response)['response']['id']}"))["response"]["line_items"][0]
    assert line["tierset"]["tiers"][0]["unit_to"] == 9999 and line["tierset"]["base"] == 135


def test_example_get_package_by_id(api):
    package_id = _package(api, _customer(api), _item(api))
    package = body(api.get(f"{URL}/{package_id}"))["response"]
    assert package["package_id"] == package_id and package["package_status_str"] == "active-current"
    assert api.get(f"{URL}/999999").status_code == 404


def test_example_hold_package(api):
    package_id = _package(api, _customer(api), _item(api))
    response = api.post(f"{URL}/{package_id}?action=hold",
                        json={"holduntil_datetime": "2099-01-31 00:00:00"})
    assert response.status_code == 200 and body(response)["response"] is True
    package = body(api.get(f"{URL}/{package_id}"))["response"]
    assert package["holduntil_datetime"].startswith("2099-01-31")


def test_example_change_paycycle_for_contract(api):
    package_id = _package(api, _customer(api), _item(api), paycycle="yrl")
    response = api.post(f"{URL}/{package_id}?action=paycycle", json={"paycycle": "mon"})
    assert response.status_code == 200 and body(response)["response"] is True
    assert body(api.get(f"{URL}/{package_id}"))["response"]["paycycle"] == "mon"
    bad = api.post(f"{URL}/{package_id}?action=paycycle", json={"paycycle": "fortnight"})
    assert bad.status_code == 400 and body(bad)["details"]["field"] == "paycycle"


def test_every_php_paycycle_constant_is_accepted(api):
    customer_id, item_id = _customer(api), _item(api)
    for code in ("1wk", "2wk", "2mn", "mon", "qtr", "yrl", "six"):  # PAYCYCLE_* of Package.php
        package_id = _package(api, customer_id, item_id, paycycle=code)
        assert body(api.get(f"{URL}/{package_id}"))["response"]["paycycle"] == code


def test_example_send_welcome_queues_the_email(api, db):
    package_id = _package(api, _customer(api), _item(api, name="Premium seats"))
    response = api.post(f"{URL}/{package_id}?action=welcome", json={"message_id": 19})
    assert response.status_code == 200 and body(response)["response"] is True
    mail = db.session.scalars(select(EmailDelivery)).all()
    assert [(m.to_address, m.subject) for m in mail] == [("ryan@acme.example", "Welcome to "
                                                         + mail[0].subject.split("Welcome to ")[1])]
    assert "Premium seats" in mail[0].body_text


def test_example_suspend_package_with_and_without_an_end(api):
    customer_id, item_id = _customer(api), _item(api)
    package_id = _package(api, customer_id, item_id, start_datetime="2015-01-01 00:00:00")
    response = api.post(f"{URL}/{package_id}?action=suspend", json={
        "suspendfrom_datetime": "2015-03-06 00:00:00", "suspendto_datetime": "2015-06-05 00:00:00"})
    assert response.status_code == 200 and body(response)["response"] is True
    other = _package(api, customer_id, item_id)
    assert body(api.post(f"{URL}/{other}?action=suspend", json=[]))["response"] is True
    assert body(api.get(f"{URL}/{other}"))["response"]["package_status_str"] == "suspended-suspended"


def test_example_cancel_package_now_and_at_a_future_cancel_date(api):
    customer_id, item_id = _customer(api), _item(api)
    now = _package(api, customer_id, item_id)
    response = api.post(f"{URL}/{now}?action=cancel", json=[])
    assert response.status_code == 200 and body(response)["response"] is True
    assert body(api.get(f"{URL}/{now}"))["response"]["package_status_str"] == "canceled-manual"
    later = _package(api, customer_id, item_id)
    api.post(f"{URL}/{later}?action=cancel", json={"cancel_date": "2099-05-01"})
    package = body(api.get(f"{URL}/{later}"))["response"]
    assert package["package_status_str"] == "active-current"
    assert package["cancel_datetime"].startswith("2099-05-01")
    reason = api.post(f"{URL}/{later}?action=cancel", json={"cancel_reason_id": 2})
    assert reason.status_code == 400 and body(reason)["details"]["field"] == "cancel_reason_id"
