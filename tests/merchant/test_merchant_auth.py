"""Staff login, logout, password change, CSRF and login rate limiting."""
from portal.services.accounts import create_staff_user
from support.logins import STAFF_PASSWORD as PASSWORD
from support.portal_client import csrf_token
from support.portal_client import staff_login as login


def test_pages_need_a_login(client):
    response = client.get("/merchant/account/password")
    assert response.status_code == 302
    assert "/merchant/login?next=" in response.headers["Location"]


def test_login_with_wrong_password_is_refused(client, db):
    create_staff_user(email="a@b.example", password=PASSWORD)
    db.session.commit()
    response = login(client, "a@b.example", "wrong-password")
    assert response.status_code == 400
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, db):
    create_staff_user(email="a@b.example", password=PASSWORD)
    db.session.commit()
    response = client.post("/merchant/login", data={"email": "a@b.example", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/merchant/account/password").status_code == 302


def test_login_follows_only_local_next(client, db):
    create_staff_user(email="a@b.example", password=PASSWORD)
    db.session.commit()
    token = csrf_token(client, "/merchant/login")
    response = client.post("/merchant/login?next=https://evil.example/x",
                           data={"email": "a@b.example", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/"  # the dashboard, not the foreign site
    assert client.get("/merchant/account/password").status_code == 200  # and logged in


def test_password_change_and_logout(admin):
    page = admin.post("/merchant/account/password",
                      data={"current": PASSWORD, "new": "new-password-1", "confirm": "new-password-1"})
    assert page.status_code == 302
    assert admin.post("/merchant/logout").status_code == 302
    assert admin.get("/merchant/account/password").status_code == 302
    assert login(admin.client, "admin@merchant.example", "new-password-1").status_code == 302


def test_security_headers_on_pages(client):
    response = client.get("/merchant/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_login_attempts_are_rate_limited(app, client, db):
    create_staff_user(email="a@b.example", password=PASSWORD)
    db.session.commit()
    statuses = [login(client, "a@b.example", "nope").status_code for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


def test_login_refuses_protocol_relative_next(client, db):
    create_staff_user(email="a@b.example", password=PASSWORD)
    db.session.commit()
    for target in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/"):
        token = csrf_token(client, "/merchant/login")
        response = client.post(f"/merchant/login?next={target}",
                               data={"email": "a@b.example", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/merchant/", target
        client.post("/merchant/logout", data={"csrf_token": csrf_token(client, "/merchant/")})
