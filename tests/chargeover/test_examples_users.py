"""ChargeOver's PHP examples for `user` (contacts), as the same HTTP exchanges."""
from sqlalchemy import select

from portal.models import Contact, EmailDelivery
from support.api_client import body
from support.portal_client import PortalClient

URL = "/api/v3/user"


def _customer(api) -> int:
    return body(api.post("/api/v3/customer", json={"company": "Acme"}))["response"]["id"]


def _user(api, customer_id, **fields) -> int:
    response = api.post(URL, json={"customer_id": customer_id, "name": "Ryan Bantz",
                                   "email": "ryan@adgadgagadg.com", "phone": "888-555-1212", **fields})
    assert response.status_code == 201, body(response)
    return body(response)["response"]["id"]


def test_example_create_user_with_password_can_log_in(api, client, db):
    user_id = _user(api, _customer(api), password="some test password", username="ryanb")
    user = body(api.get(f"{URL}/{user_id}"))["response"]
    assert (user["first_name"], user["last_name"], user["username"]) == ("Ryan", "Bantz", "ryanb")
    assert "password" not in user
    login = PortalClient(client).post("/portal/login", data={
        "email": "ryan@adgadgagadg.com", "password": "some test password"})
    assert login.status_code == 302  # the stored password works in the customer portal


def test_example_modify_user(api):
    user_id = _user(api, _customer(api))
    response = api.put(f"{URL}/{user_id}", json={"name": "Ryan Bantz", "email": "newemail@newemail.com"})
    assert response.status_code == 202
    assert body(api.get(f"{URL}/{user_id}"))["response"]["email"] == "newemail@newemail.com"


def test_example_delete_user(api):
    customer_id = _customer(api)
    _user(api, customer_id, email="first@example.com")
    second = _user(api, customer_id, email="second@example.com")
    response = api.delete(f"{URL}/{second}")
    assert response.status_code == 200 and body(response)["response"] is True
    assert api.get(f"{URL}/{second}").status_code == 404


def test_example_login_user_answers_a_login_link(api, client):
    user_id = _user(api, _customer(api), password="some test password")
    response = api.post(f"{URL}/{user_id}?action=login", json=[])
    assert response.status_code == 200
    link = body(response)["response"]
    assert "/portal/login/" in link
    path = link.split("://", 1)[1].split("/", 1)[1]
    landed = client.get("/" + path)
    assert landed.status_code == 302 and landed.headers["Location"].endswith("/portal/")
    assert client.get("/portal/").status_code == 200


def test_login_of_a_user_without_password_is_refused(api):
    user_id = _user(api, _customer(api))
    response = api.post(f"{URL}/{user_id}?action=login", json=[])
    assert response.status_code == 400 and "no password" in body(response)["message"]


def test_example_reset_password_explicit(api, client, db):
    user_id = _user(api, _customer(api), password="some test password")
    response = api.post(f"{URL}/{user_id}?action=reset_password&_flag_emails=0",
                        json={"password": "here is the password"})
    assert response.status_code == 200 and body(response)["response"] is True
    login = PortalClient(client).post("/portal/login", data={
        "email": "ryan@adgadgagadg.com", "password": "here is the password"})
    assert login.status_code == 302


def test_example_reset_password_link_queues_the_email(api, db):
    user_id = _user(api, _customer(api), password="some test password")
    response = api.post(f"{URL}/{user_id}?action=reset_password", json=[])
    assert response.status_code == 200 and body(response)["response"] is True
    mail = db.session.scalars(select(EmailDelivery)).all()
    assert [m.to_address for m in mail] == ["ryan@adgadgagadg.com"]
    assert "Reset your password" in mail[0].subject


def test_username_is_unique_and_unknown_fields_are_refused(api, db):
    customer_id = _customer(api)
    _user(api, customer_id, username="same", email="a@example.com")
    duplicate = api.post(URL, json={"customer_id": customer_id, "email": "b@example.com",
                                    "username": "same"})
    assert duplicate.status_code == 400 and body(duplicate)["details"]["field"] == "username"
    mobile = api.post(URL, json={"customer_id": customer_id, "mobile": "555"})
    assert mobile.status_code == 400 and body(mobile)["details"] == {"field": "mobile", "supported": False}
    assert db.session.scalar(select(Contact).where(Contact.email == "b@example.com")) is None
