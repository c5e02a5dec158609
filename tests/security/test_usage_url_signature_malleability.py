"""Issue 10.8: a token with its last base64 character changed (same decoded bytes) was
still accepted, and had its own rate-limit bucket."""
from __future__ import annotations

import base64

from support.factories import make_package
from portal.services.usage_urls import issue_url, token_of

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _same_bytes_variant(token: str) -> str:
    """The token with a different last character that decodes to the same signature."""
    head, signature = token.rsplit(".", 1)
    index = ALPHABET.index(signature[-1])
    variant = signature[:-1] + ALPHABET[index ^ 1]  # a spare (padding) bit of the last character

    def decode(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    assert variant != signature and decode(variant) == decode(signature)
    return f"{head}.{variant}"


def test_flipped_last_character_is_refused(app, db, client):
    line = make_package().line_items[0]
    token = token_of(issue_url(line))
    db.session.commit()
    assert client.post(f"/u/{token}", data={"value": "1"}).status_code == 201
    forged = _same_bytes_variant(token)
    answer = client.post(f"/u/{forged}", data={"value": "1"})
    assert answer.status_code == 403 and answer.get_json() == {"ok": False, "error": "This usage URL is not valid."}


def test_altered_nonce_or_id_is_refused(app, db, client):
    line = make_package().line_items[0]
    token = token_of(issue_url(line))
    db.session.commit()
    head, signature = token.rsplit(".", 1)
    assert client.get(f"/u/{head}x.{signature}?value=1").status_code == 403
    assert client.get(f"/u/{token}x?value=1").status_code == 403
