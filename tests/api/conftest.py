"""API test helpers; the `api` fixture lives in tests/conftest.py (used beyond tests/api)."""
from apiclient import ApiClient, body  # noqa: F401  (re-exported for `from api.conftest import body`)
