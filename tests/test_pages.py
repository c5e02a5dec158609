"""Site-wide pages: the favicon and styled error pages with the area's navigation (the API
keeps its JSON envelope)."""
from __future__ import annotations

import pytest


def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    assert client.get("/static/favicon.svg").data.startswith(b"<svg")


@pytest.mark.parametrize("path, way_back", [
    ("/no-such-page", 'href="/">Back to the home page'),
    ("/merchant/no-such-page", 'href="/merchant/">Back to the dashboard'),
    ("/portal/no/such/page", 'href="/portal/">Back to your account'),
])
def test_404_pages_are_styled_with_a_way_back(client, path, way_back):
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in page and way_back in page
    assert "/static/css/app.css" in page and 'class="topbar"' in page  # the site's frame and nav


def test_merchant_403_is_styled_with_the_portal_navigation(client, db):
    import re

    from portal.services.accounts import create_staff_user

    create_staff_user(email="viewer@shop.example", password="viewer-password-1", role="viewer")
    db.session.commit()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/merchant/login").get_data(as_text=True))
    client.post("/merchant/login", data={"email": "viewer@shop.example", "password": "viewer-password-1",
                                         "csrf_token": token.group(1)})
    response = client.post("/merchant/items", data={"csrf_token": token.group(1), "name": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "<h1>Not allowed</h1>" in page
    assert 'href="/merchant/customers">Customers</a>' in page  # the logged-in navigation


def test_500_is_styled_and_logged(app, client, monkeypatch, caplog):
    from portal.main import views

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    monkeypatch.setattr(views, "render_template", lambda *a, **k: 1 / 0)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "<h1>Something went wrong</h1>" in page
    assert "ZeroDivisionError" not in page and "Traceback" not in page
    assert any("ZeroDivisionError" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_api_errors_keep_the_json_envelope(client):
    response = client.get("/api/v3-no-such-route")
    assert response.status_code == 400 and response.is_json  # ChargeOver: unknown endpoint
    assert response.get_json()["code"] == 400
    wrong_method = client.delete("/api/v3/openapi.json")
    assert wrong_method.status_code == 400 and wrong_method.get_json()["code"] == 400
