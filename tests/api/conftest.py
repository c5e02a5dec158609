"""API tests; the `api` fixture lives in tests/conftest.py (used beyond tests/api).

`body` and `ApiClient` are re-exported for modules not yet moved: import them from
`support.api_client` instead."""
from support.api_client import ApiClient, body

__all__ = ["ApiClient", "body"]
