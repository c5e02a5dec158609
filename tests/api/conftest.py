"""API fixtures: `api`, a client that sends a valid API key with every request."""
from __future__ import annotations

import base64

import pytest

from portal.services.apikeys import create_api_key


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


@pytest.fixture
def api(client, db):
    """An authenticated API client on a clean database."""
    key, private_key = create_api_key("tests")
    db.session.commit()
    return ApiClient(client, key.public_key, private_key)


def body(response) -> dict:
    """The decoded envelope of a response."""
    return response.get_json()
