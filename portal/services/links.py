"""Signed links to one invoice (ChargeOver's url_permalink / url_pdflink).

The token is the invoice id signed with SECRET_KEY (itsdangerous, HMAC-SHA1 by default with
a salt per purpose); altering it to point at another invoice breaks the signature.
"""
from __future__ import annotations

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

INVOICE_SALT = "meterbill.invoice-link"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=INVOICE_SALT)


def invoice_token(invoice_id: int) -> str:
    """The signed token naming one invoice."""
    return _serializer().dumps(invoice_id)


def invoice_id_from_token(token: str) -> int | None:
    """The invoice id a token names, or None for a tampered or foreign token."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def invoice_links(invoice_id: int) -> dict[str, str]:
    """Absolute permalink and PDF link of an invoice."""
    token = invoice_token(invoice_id)
    return {
        "url_permalink": url_for("links.invoice_view", token=token, _external=True),
        "url_pdflink": url_for("links.invoice_pdf", token=token, _external=True),
    }
