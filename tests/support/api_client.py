"""An authenticated API test client (HTTP Basic with an API key) and envelope access."""
from __future__ import annotations

import base64


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
