"""Absolute URLs that leave the system, and signed links to one invoice.

Every absolute URL (e-mailed links, invoice permalinks, usage URLs, API `Location`) is
built by `external_url` from the configured PUBLIC_URL, never from the request's Host or
X-Forwarded-* headers (which an attacker chooses), and also works without a request
(scheduler, CLI).

An invoice token is [invoice id, link version] signed with SECRET_KEY (itsdangerous, one
salt per purpose): altering it breaks the signature; rotating the invoice's link bumps the
version, so every earlier link stops working; a voided invoice has no working link.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

INVOICE_SALT = "meterbill.invoice-link"


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under PUBLIC_URL.

    :param endpoint: a Flask endpoint, e.g. "links.invoice_view".
    :param values: the endpoint's URL values.
    """
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=INVOICE_SALT)


def invoice_token(invoice) -> str:
    """The signed token naming one invoice at its current link version.

    :param invoice: the invoice (or its id, for version 0).
    """
    if isinstance(invoice, int):
        return _serializer().dumps([invoice, 0])
    return _serializer().dumps([invoice.id, invoice.link_version or 0])


def invoice_from_token(token: str):
    """The invoice a token names, or None: tampered, foreign, rotated away, or voided."""
    from portal.extensions import db
    from portal.models import Invoice
    from portal.url_numbers import MAX_INT32

    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return None
    invoice_id, version = value
    invoice = db.session.get(Invoice, invoice_id) if 0 < invoice_id <= MAX_INT32 else None
    if invoice is None or (invoice.link_version or 0) != version or invoice.voided_at is not None:
        return None
    return invoice


def invoice_links(invoice) -> dict[str, str]:
    """Absolute permalink and PDF link of an invoice (the invoice, or its id)."""
    if isinstance(invoice, int):
        from portal.extensions import db
        from portal.models import Invoice

        invoice = db.session.get(Invoice, invoice)
    token = invoice_token(invoice)
    return {
        "url_permalink": external_url("links.invoice_view", token=token),
        "url_pdflink": external_url("links.invoice_pdf", token=token),
    }


def rotate_invoice_link(invoice) -> None:
    """Give the invoice a new link; every earlier link stops working. Flushes."""
    from portal.extensions import db

    invoice.link_version = (invoice.link_version or 0) + 1
    db.session.flush()
