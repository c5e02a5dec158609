"""`_resthook`: ChargeOver's Rest Hooks through the API (subscribe, list, update, unsubscribe)."""
from sqlalchemy import select

from portal.models import WebhookDelivery, WebhookEndpoint
from support.api_client import body


def test_subscribe_list_update_and_unsubscribe(api, db):
    created = api.post("/api/v3/_resthook", json={
        "target_url": "https://hooks.example.com/user_update", "event": "customer.update"})
    assert created.status_code == 201, body(created)
    hook_id = body(created)["response"]["id"]
    assert created.headers["Location"].endswith(f"/api/v3/_resthook/{hook_id}")
    got = body(api.get(f"/api/v3/_resthook/{hook_id}"))["response"]
    assert got["target_url"] == "https://hooks.example.com/user_update"
    assert (got["event"], got["events"], got["enabled"]) == ("customer.update", ["customer.update"], True)
    assert got["security_token"].startswith("whsec_") and len(got["security_token"]) > 30
    listed = body(api.get("/api/v3/_resthook"))["response"]
    assert [h["resthook_id"] for h in listed] == [hook_id]
    updated = api.put(f"/api/v3/_resthook/{hook_id}", json={"events": ["invoice.*", "customer.insert"],
                                                            "enabled": False})
    assert updated.status_code == 202
    endpoint = db.session.get(WebhookEndpoint, hook_id)
    assert (endpoint.events, endpoint.enabled) == (["invoice.*", "customer.insert"], False)
    deleted = api.delete(f"/api/v3/_resthook/{hook_id}")
    assert deleted.status_code == 200 and body(deleted)["response"] is True
    db.session.expire_all()
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_a_subscribed_hook_gets_the_customer_the_api_creates(api, db):
    api.post("/api/v3/_resthook", json={"target_url": "http://127.0.0.1:9/h", "event": "customer.insert"})
    customer_id = body(api.post("/api/v3/customer", json={"company": "Hooked"}))["response"]["id"]
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.event.context, delivery.event.context_id, delivery.event.event) == (
        "customer", customer_id, "insert")
    assert delivery.event.data["customer"] == body(api.get(f"/api/v3/customer/{customer_id}"))["response"]


def test_bad_subscriptions_are_400_naming_the_field(api, db):
    cases = [
        ({"event": "invoice.paid"}, "target_url"),
        ({"target_url": "ftp://example.com/x", "event": "invoice.paid"}, "target_url"),
        ({"target_url": "https://example.com/x"}, "event"),
        ({"target_url": "https://example.com/x", "event": "item.update"}, "event"),
        ({"target_url": "https://example.com/x", "events": "invoice.paid"}, "events"),
        ({"target_url": "https://example.com/x", "events": []}, "events"),
    ]
    for payload, field in cases:
        answer = api.post("/api/v3/_resthook", json=payload)
        assert answer.status_code == 400, payload
        assert body(answer)["message"].startswith(f"{field}:"), body(answer)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_chargeover_example_create_resthook_user_update(api, db):
    """docs/example_create_resthook.php: target_url + event "user.update"."""
    created = api.post("/api/v3/_resthook", json={
        "target_url": "http://playscape2.uglyslug.com/resthooks/user_update.php", "event": "user.update"})
    assert created.status_code == 201, body(created)
    customer_id = body(api.post("/api/v3/customer", json={
        "company": "Users Ltd", "superuser_email": "u@users.example"}))["response"]["id"]
    user_id = body(api.get(f"/api/v3/user?where=customer_id:EQUALS:{customer_id}"))["response"][0]["user_id"]
    assert api.put(f"/api/v3/user/{user_id}", json={"first_name": "Una"}).status_code == 202
    delivery = db.session.scalars(select(WebhookDelivery)).one()  # only the update is subscribed
    assert (delivery.event.context, delivery.event.event, delivery.event.context_id) == ("user", "update", user_id)
    assert delivery.event.data["user"]["first_name"] == "Una"
    assert api.delete(f"/api/v3/_resthook/{body(created)['response']['id']}").status_code == 200
