"""Older home of the API test client, kept for modules not yet moved: import from
`support.api_client` instead."""
from support.api_client import ApiClient, body

__all__ = ["ApiClient", "body"]
