"""Older home of the customer portal test helpers, kept for modules not yet moved: import
from `support.portal_client` and `support.logins` instead."""
from support.logins import BOB, JANE
from support.logins import CONTACT_PASSWORD as PASSWORD
from support.portal_client import PortalClient, csrf_token

__all__ = ["BOB", "JANE", "PASSWORD", "PortalClient", "csrf_token"]
