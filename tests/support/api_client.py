"""An authenticated API test client (HTTP Basic with an API key), envelope access, and
`seed_objects`: one real row of every API object, made through the API."""
from __future__ import annotations

import base64
from datetime import timedelta

from portal.db_types import utcnow
from portal.extensions import db as _db
from portal.jobs.billing import run_billing


class ApiClient:
    """Thin wrapper over Flask's test client adding HTTP Basic auth and JSON decoding."""

    def __init__(self, client, public_key: str, private_key: str):
        self.client = client
        token = base64.b64encode(f"{public_key}:{private_key}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def request(self, method: str, url: str, json=None, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, json=None, **kwargs):
        return self.request("POST", url, json=json, **kwargs)

    def put(self, url, json=None, **kwargs):
        return self.request("PUT", url, json=json, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


def body(response) -> dict:
    """The decoded envelope of a response."""
    return response.get_json()


def ok(response, code: int = 200):
    """The `response` of a successful envelope, checking status and envelope code agree."""
    envelope = body(response)
    assert (response.status_code, envelope["code"], envelope["status"]) == (code, code, "OK"), envelope
    return envelope["response"]


def refused(response, field: str) -> str:
    """The message of a 400 envelope that names `field` (`details.field`, and first in the
    message)."""
    envelope = body(response)
    assert (response.status_code, envelope["status"], envelope["details"].get("field")) == \
        (400, "Error", field), envelope
    assert envelope["message"].startswith(f"{field}: "), envelope
    return envelope["message"]


def seed_objects(api) -> dict:
    """A customer with a contact, a metered item, a package started a month ago, usage, an
    invoice from the billing run and a payment: one real id for every object."""
    start = (utcnow() - timedelta(days=40)).strftime("%Y-%m-%d %H:%M:%S")
    ids = {"date": (utcnow() - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")}
    ids["item_id"] = body(api.post("/api/v3/item", json={
        "name": "VoIP minutes", "external_key": "voip", "is_metered": True, "units": "minute",
        "pricemodel": {"pricemodel": "uni", "base": "10.00", "paycycle": "mon",
                       "tiers": [{"unit_from": 0, "amount": "0.05"}]}}))["response"]["id"]
    ids["customer_id"] = body(api.post("/api/v3/customer", json={
        "company": "Acme Telephony", "superuser_email": "jane@acme.example",
        "superuser_first_name": "Jane", "superuser_last_name": "Doe"}))["response"]["id"]
    ids["user_id"] = body(api.get("/api/v3/user"))["response"][0]["user_id"]
    ids["package_id"] = body(api.post("/api/v3/package", json={
        "customer_id": ids["customer_id"], "start_datetime": start,
        "line_items": [{"item_id": ids["item_id"], "external_key": "acme-voip"}]}))["response"]["id"]
    line = body(api.get(f"/api/v3/package/{ids['package_id']}"))["response"]["line_items"][0]
    ids["line_item_id"] = line["line_item_id"]
    ids["usage_id"] = body(api.post("/api/v3/usage", json={
        "line_item_id": line["line_item_id"], "usage_value": "42.5", "from": start,
        "external_key": "call-1"}))["response"]["id"]
    run_billing(utcnow())
    _db.session.commit()
    invoices = body(api.get("/api/v3/invoice?order=invoice_id:ASC"))["response"]
    assert invoices, "the billing run made no invoice"
    ids["invoice_id"] = invoices[0]["invoice_id"]
    ids["transaction_id"] = body(api.post("/api/v3/transaction", json={
        "customer_id": ids["customer_id"], "amount": "1.00", "gateway_method": "visa",
        "applied_to": [{"invoice_id": ids["invoice_id"], "applied": "1.00"}]}))["response"]["id"]
    ids["import_id"] = _csv_import(api, line["line_item_id"], start)
    ids["resthook_id"] = body(api.post("/api/v3/_resthook", json={
        "target_url": "http://127.0.0.1:9/hooks", "event": "invoice.paid"}))["response"]["id"]
    ids["usage_alert_id"] = body(api.post("/api/v3/usage_alert", json={
        "package_id": ids["package_id"], "line_item_id": ids["line_item_id"],
        "threshold": "1000"}))["response"]["id"]
    return ids


def _csv_import(api, line_id: int, start: str) -> int:
    """A usage CSV uploaded through the API and imported by the job runner."""
    import tempfile

    from flask import current_app

    from portal.jobs import run_pending

    if not current_app.config.get("IMPORTS_DIR"):
        current_app.config["IMPORTS_DIR"] = tempfile.mkdtemp(prefix="imports-")
    answer = api.post("/api/v3/usage/_action/import", headers={"Content-Type": "text/csv"},
                      data=f"line_item_id,usage_value,from\n{line_id},1,{start}\n{line_id},x,{start}\n")
    assert answer.status_code == 202, body(answer)
    run_pending(current_app._get_current_object())
    return body(answer)["response"]["id"]
