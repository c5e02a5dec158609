"""Developers page: API keys created (private key shown once), listed, revoked; API docs link."""
from __future__ import annotations

import base64
import re

from sqlalchemy import func, select

from portal.models import ApiKey
from portal.services.apikeys import authenticate, create_api_key


def _private_key(page: str) -> str:
    match = re.search(r'id="new-private-key" class="input" type="text" readonly value="([^"]+)"', page)
    assert match, "the private key is not shown"
    return match.group(1)


def test_create_shows_the_private_key_once_and_it_works(admin, db, client):
    response = admin.post("/merchant/developers/keys", data={"name": "Production sender"})
    page = response.get_data(as_text=True)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    key = db.session.scalar(select(ApiKey))
    private_key = _private_key(page)
    assert key.name == "Production sender" and key.public_key in page
    assert 'data-copy-target="#new-private-key"' in page and "js/copy.js" in page
    assert authenticate(key.public_key, private_key) is not None
    assert private_key not in admin.get("/merchant/developers").get_data(as_text=True)
    auth = base64.b64encode(f"{key.public_key}:{private_key}".encode()).decode()
    assert client.get("/api/v3/customer", headers={"Authorization": f"Basic {auth}"}).status_code == 200
    db.session.expire_all()
    listing = admin.get("/merchant/developers").get_data(as_text=True)
    assert "never" not in listing  # last used is shown once the key was used


def test_create_with_htmx_swaps_the_keys_section(admin, db):
    response = admin.post("/merchant/developers/keys", data={"name": "CI"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in page and page.lstrip().startswith(("{#", "<section"))
    assert 'id="api-keys"' in page and _private_key(page)


def test_a_name_is_required(admin, db):
    response = admin.post("/merchant/developers/keys", data={"name": "  "})
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_revoke(admin, db):
    key, private_key = create_api_key("Old")
    db.session.commit()
    response = admin.post(f"/merchant/developers/keys/{key.id}/revoke")
    assert response.status_code == 303
    db.session.expire_all()
    assert key.revoked_at is not None and authenticate(key.public_key, private_key) is None
    page = admin.get("/merchant/developers").get_data(as_text=True)
    assert "revoked" in page and f"/merchant/developers/keys/{key.id}/revoke" not in page
    htmx = admin.post(f"/merchant/developers/keys/{key.id}/revoke", htmx=True)
    assert htmx.status_code == 200 and "<html" not in htmx.get_data(as_text=True)
    assert admin.post("/merchant/developers/keys/999/revoke").status_code == 404


def test_viewer_sees_keys_but_cannot_create_or_revoke(viewer, db):
    key, _ = create_api_key("Reporting")
    db.session.commit()
    page = viewer.get("/merchant/developers").get_data(as_text=True)
    assert "Reporting" in page and key.public_key in page
    assert "Create an API key" not in page and "/revoke" not in page
    assert viewer.post("/merchant/developers/keys", data={"name": "x"}).status_code == 403
    assert viewer.post(f"/merchant/developers/keys/{key.id}/revoke").status_code == 403
    db.session.expire_all()
    assert key.revoked_at is None and db.session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_csrf_is_required(admin, db):
    key, _ = create_api_key("Kept")
    db.session.commit()
    assert admin.post("/merchant/developers/keys", data={"name": "x"}, csrf=False).status_code == 400
    assert admin.post(f"/merchant/developers/keys/{key.id}/revoke", csrf=False).status_code == 400
    db.session.expire_all()
    assert key.revoked_at is None and db.session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_page_links_the_api_documentation(admin, db, app):
    page = admin.get("/merchant/developers")
    expected = "/api/docs"
    if "api_docs.page" in app.view_functions:
        with app.test_request_context():
            from flask import url_for
            expected = url_for("api_docs.page")
    assert page.status_code == 200 and f'href="{expected}"' in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
