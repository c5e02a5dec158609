"""Webhook receivers and pulled usage URLs reach public addresses only, unless the install
allows private ones (OUTBOUND_ALLOW_PRIVATE): an admin cannot aim Meterbill's requests at
an internal service or a cloud metadata endpoint. The test app allows them (its receivers
are on loopback); these tests turn that off."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from portal.jobs import run_pending
from portal.models import UsagePull, WebhookDelivery, WebhookEndpoint
from portal.services import outbound, webhooks
from portal.services.usage_pulls import PullError, fetch_usage
from support.api_client import body, refused
from support.factories import make_customer, make_voip_item
from support.http_receiver import start_receiver, stop_receiver


@pytest.fixture
def private_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)  # the install's default


@pytest.fixture
def receiver():
    started = start_receiver([200])
    yield started
    stop_receiver(started)


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("10.1.2.3", False),
    ("172.16.0.9", False), ("192.168.1.1", False), ("169.254.169.254", False), ("::1", False),
    ("fd00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", True), ("0.0.0.0", False),
    ("224.0.0.1", False), ("100.64.0.1", False), ("fe80::1%eth0", False),
    ("1.1.1.1", True), ("2606:4700:4700::1111", True), ("ff0e::1", False), ("2001:db8::1", False),
])
def test_public_means_globally_routable(address, public):
    assert outbound.is_public(address) is public


@pytest.mark.parametrize("address, public", [
    ("64:ff9b::a00:5", False), ("64:ff9b::a9fe:a9fe", False), ("64:ff9b::808:808", True),  # NAT64
    ("64:ff9b:1::a00:5", False), ("64:ff9b:1:a00:5::", False),  # local-use NAT64: never
    ("2002:a9fe:a9fe::1", False), ("2002:7f00:1::1", False), ("2002:808:808::1", True),  # 6to4
    ("::127.0.0.1", False), ("::10.0.0.5", False), ("::8.8.8.8", False), ("::", False),  # IPv4-compatible
    ("fec0::1", False), ("3fff::1", False),  # site-local, documentation
    ("2001::1", False), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo: a private side
])
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_by_it(address, public):
    # Python calls these global whatever they carry; the packets reach the IPv4 address.
    assert outbound.is_public(address) is public


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "https://169.254.169.254/latest/meta-data", "http://[::1]/h",
                                 "http://10.0.0.5/h", "http://db.localhost/h", "http://LOCALHOST./h",
                                 "http://[64:ff9b::a9fe:a9fe]/h", "http://[2002:a00:5::1]/h",
                                 "http://[::127.0.0.1]/h", "http://[fec0::1]/h"])
def test_the_api_refuses_a_private_receiver_by_name(api, db, private_refused, url):
    refused(api.post("/api/v3/_resthook", json={"target_url": url, "event": "customer.insert"}),
            "target_url")
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_a_public_receiver_and_the_allowed_setting_are_accepted(api, app, db, private_refused):
    created = api.post("/api/v3/_resthook", json={"target_url": "https://8.8.8.8/hook",
                                                  "event": "customer.insert"})
    assert created.status_code == 201, body(created)
    app.config["OUTBOUND_ALLOW_PRIVATE"] = True
    created = api.post("/api/v3/_resthook", json={"target_url": "http://127.0.0.1:9/hook",
                                                  "event": "customer.insert"})
    assert created.status_code == 201, body(created)


def test_a_name_resolving_to_loopback_is_not_delivered(app, db, private_refused, receiver, monkeypatch):
    # Saved as a public-looking name, it resolves to loopback when the worker posts (as a DNS
    # answer that changes after the check would): the receiver must get nothing.
    port = receiver.server.server_address[1]
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
        "127.0.0.1" if host == "hooks.example.com" else host, *a, **k))
    db.session.add(WebhookEndpoint(url=f"http://hooks.example.com:{port}/hooks", events=["customer.insert"],
                                   secret="whsec_t", enabled=True))
    make_customer(company="Rebind Ltd")
    db.session.commit()
    assert run_pending(app, "w1") == {"done": 1}
    assert receiver.received == []
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "resolves to 127.0.0.1, a private address" in delivery.error
    app.config["OUTBOUND_ALLOW_PRIVATE"] = True  # the same name, allowed: delivered
    answer = webhooks.post(f"http://hooks.example.com:{port}/hooks", b"{}", {}, 5)
    assert answer.ok and len(receiver.received) == 1


def test_a_pulled_usage_url_is_checked_when_saved_and_when_fetched(api, app, db, private_refused, receiver):
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    answer = api.post("/api/v3/package", json={
        "customer_id": customer.id, "start_datetime": "2015-09-01 00:00:00",
        "line_items": [{"item_id": item.id, "usage_url": "http://127.0.0.1:9/usage"}]})
    assert "must reach a public address: 127.0.0.1" in refused(answer, "line_items[0].usage_url")
    with pytest.raises(PullError, match="private address"):
        fetch_usage(receiver.url, {"x": 1})
    assert receiver.received == [] and db.session.scalars(select(UsagePull)).all() == []
