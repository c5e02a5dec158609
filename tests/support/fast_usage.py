"""The kit of the usage fast path's tests (`portal.api.fast_usage`): the `fast` fixture and
`Run`, one key and lines sending requests with the fast path on or off.

Requests are sent outside the test's app context (a fresh `contextvars.Context`), as a
server sends them: the fast path leaves requests made inside a pushed context to Flask.
"""
from __future__ import annotations

import base64
import contextvars
import json
import re

import pytest
from sqlalchemy import func, select

from support.factories import make_customer, make_package, make_voip_item, utc
from portal.models import BillingChange, UsageRecord
from portal.services.apikeys import create_api_key

FAST, FULL = True, False


@pytest.fixture
def fast(app, monkeypatch):
    """The fast path, recording which requests it handed to Flask; key cache entries live
    for the test (the default second could end between two requests of a slow machine)."""
    monkeypatch.setitem(app.config, "API_KEY_CACHE_SECONDS", 3600)
    layer = app.wsgi_app
    handed = []

    def full(environ, start_response):
        handed.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    inner = layer.full
    monkeypatch.setattr(layer, "full", full)
    layer.handed = handed
    return layer


class Run:
    """One run of the scenario: its own key and lines, the fast path on or off."""

    def __init__(self, app, client, db, fast_path: bool, name: str):
        key, private = create_api_key(f"run {name}")
        customer = make_customer(company=f"Run {name}", email=f"{name}@run.example")
        item = make_voip_item(name=f"VoIP minutes ({name})")
        self.line = make_package(customer, item).line_items[0]
        self.line.external_key = f"line-{name}"
        cancelled = make_package(customer, item).line_items[0]
        cancelled.cancel_at = utc(2015, 9, 10)
        db.session.commit()
        self.app, self.client, self.db, self.fast_path = app, client, db, fast_path
        self.key = key
        self.auth = "Basic " + base64.b64encode(f"{key.public_key}:{private}".encode()).decode()
        self.names = {"line": self.line.id, "line_key": self.line.external_key,
                      "cancelled": cancelled.id}

    def send(self, body, headers=None, query=""):
        """POST the body (a dict with {placeholders}, or bytes) outside any app context."""
        body = json.dumps(body).encode() if isinstance(body, dict) else body
        for name, value in self.names.items():
            body = body.replace(b"{%s}" % name.encode(), str(value).encode())
        headers = {"Authorization": self.auth, "Content-Type": "application/json", **(headers or {})}
        self.app.config["API_FAST_PATH"] = self.fast_path
        try:
            return contextvars.Context().run(
                self.client.post, f"/api/v3/usage{query}", data=body, headers=headers)
        finally:
            self.app.config["API_FAST_PATH"] = True

    def warm(self):
        """A first request verifies the key and records its use (the cache then holds it)."""
        contextvars.Context().run(self.client.get, "/api/v3/usage",
                                  headers={"Authorization": self.auth})

    def normal(self, response) -> tuple:
        """Status, headers and envelope with this run's ids replaced by their rank."""
        ids = self.record_ids()
        text = response.get_data(as_text=True)
        for rank, record_id in enumerate(ids):
            text = re.sub(rf'(usage record |"id": |/usage/){record_id}\b', rf"\g<1>#{rank}", text)
        for name, value in self.names.items():
            text = re.sub(rf"line item {value}\b" if isinstance(value, int) else re.escape(value),
                          f"<{name}>", text)
        headers = [(name, re.sub(r"/usage/(\d+)$", lambda m: f"/usage/#{ids.index(int(m[1]))}", value))
                   for name, value in response.headers]
        # The length of the body (ids of both runs may have different numbers of digits).
        headers = [(name, "exact" if name == "Content-Length" and int(value) == len(response.data)
                    else value) for name, value in headers]
        return response.status, headers, text

    def record_ids(self) -> list[int]:
        return list(self.db.session.scalars(select(UsageRecord.id).where(
            UsageRecord.line_item_id == self.line.id).order_by(UsageRecord.id)))

    def rows(self) -> list[tuple]:
        """The stored rows (all but id and created_at) and the change-log entries of the line."""
        records = self.db.session.scalars(select(UsageRecord).where(
            UsageRecord.line_item_id == self.line.id).order_by(UsageRecord.id))
        # A record sent without `from` is from the instant it was stored.
        stored = [(str(r.usage_value), *["now" if at == r.created_at else at for at in (r.from_at, r.to_at)],
                   r.usage_type, r.external_key, r.source) for r in records]
        logged = self.db.session.scalar(select(func.count()).select_from(BillingChange).where(
            BillingChange.line_item_id == self.line.id))
        return [*stored, ("change log", logged)]


# (body, headers, query, answered by the fast path?)
