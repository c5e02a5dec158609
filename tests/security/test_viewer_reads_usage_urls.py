"""Issue 10.5: viewer-role staff could read signed usage URLs (write credentials)."""
from __future__ import annotations

from support.factories import make_package
from portal.services.usage_urls import issue_url, token_of
from support.portal_client import csrf_token, make_staff, staff_client


def _line_with_url(db):
    package = make_package()
    line = package.line_items[0]
    usage_url = issue_url(line)
    db.session.commit()
    return package, line, token_of(usage_url)


def test_viewer_sees_no_usage_url_anywhere(app, db):
    package, line, token = _line_with_url(db)
    make_staff(db, "viewer@merchant.example", role="viewer")
    viewer = staff_client(app, "viewer@merchant.example")
    assert viewer.get(f"/merchant/lines/{line.id}/usage-url").status_code == 403
    for page in (f"/merchant/packages/{package.id}", "/merchant/developers", "/merchant/"):
        html = viewer.get(page).get_data(as_text=True)
        assert token not in html and "/usage-url" not in html, page
    token_csrf = csrf_token(viewer, "/merchant/")
    assert viewer.post(f"/merchant/lines/{line.id}/usage-url", data={"csrf_token": token_csrf}).status_code == 403
    assert viewer.post(f"/merchant/usage-urls/{line.id}/revoke", data={"csrf_token": token_csrf}).status_code == 403


def test_admin_sees_copies_rotates_and_revokes(app, db):
    package, line, token = _line_with_url(db)
    make_staff(db, "admin@merchant.example")
    admin = staff_client(app, "admin@merchant.example")
    assert f"/merchant/lines/{line.id}/usage-url" in admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    page = admin.get(f"/merchant/lines/{line.id}/usage-url")
    assert page.status_code == 200 and f"http://localhost/u/{token}" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
