"""Merchant pages for usage URLs: show, issue, rotate, revoke; viewers read only."""
import re

import pytest

from support.factories import make_package
from portal.models import UsageUrl


@pytest.fixture
def line(db):
    package = make_package()
    db.session.commit()
    return package.line_items[0]


def _url_on_page(page: str) -> str:
    return re.search(r'id="usage-url" class="input" type="text" readonly value="([^"]+)"', page).group(1)


def test_issue_rotate_revoke(admin, client, line):
    page = admin.get(f"/merchant/lines/{line.id}/usage-url").get_data(as_text=True)
    assert "This line has no usage URL." in page
    assert admin.post(f"/merchant/lines/{line.id}/usage-url").status_code == 303
    first = _url_on_page(admin.get(f"/merchant/lines/{line.id}/usage-url").get_data(as_text=True))
    path = first.split("localhost", 1)[1]
    assert client.get(path + "?value=2").status_code == 201
    admin.post(f"/merchant/lines/{line.id}/usage-url")  # rotate
    page = admin.get(f"/merchant/lines/{line.id}/usage-url").get_data(as_text=True)
    second = _url_on_page(page)
    assert second != first
    assert client.get(path + "?value=2").status_code == 403
    url_id = re.search(r"/merchant/usage-urls/(\d+)/revoke", page).group(1)
    assert admin.post(f"/merchant/usage-urls/{url_id}/revoke").status_code == 303
    assert client.get(second.split("localhost", 1)[1] + "?value=2").status_code == 403


def test_csrf_is_required_and_unknown_lines_are_404(admin, line, db):
    page = admin.get(f"/merchant/lines/{line.id}/usage-url").get_data(as_text=True)
    assert f'action="/merchant/lines/{line.id}/usage-url"' in page  # the admin's issue button
    assert admin.post(f"/merchant/lines/{line.id}/usage-url", csrf=False).status_code == 400
    assert db.session.query(UsageUrl).count() == 0
    page = admin.get(f"/merchant/lines/{line.id}/usage-url").get_data(as_text=True)
    assert "This line has no usage URL." in page
    assert admin.get("/merchant/lines/99999/usage-url").status_code == 404
    assert admin.post("/merchant/usage-urls/99999/revoke").status_code == 404
