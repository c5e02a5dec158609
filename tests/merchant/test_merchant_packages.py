"""Package pages: create for a customer, detail, line changes, cancel, suspend, bill now."""
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from support.factories import make_customer, make_package, make_voip_item, utc
from portal.db_types import utcnow
from portal.models import Invoice, LineItem, Package


def _new_package(item_id, **extra):
    return {"paycycle": "mon", "start_datetime": "2025-09-01", "holduntil_datetime": "", "nickname": "Plan A",
            "external_key": "", "line_items-0-item_id": str(item_id), "line_items-0-line_quantity": "2",
            "line_items-0-descrip": "Main line", **extra}


def _recent_package():
    """A package that started on the first day of last month: two boundaries are due now."""
    start = (utcnow() - relativedelta(months=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    package = make_package(start=start)
    return package


def test_new_package_form_lists_enabled_items(admin, db):
    customer, item = make_customer(), make_voip_item()
    make_voip_item(name="Old plan", enabled=False)
    db.session.commit()
    page = admin.get(f"/merchant/customers/{customer.id}/packages/new").get_data(as_text=True)
    assert f'<option value="{item.id}">VoIP minutes</option>' in page and "Old plan" not in page


def test_create_package(admin, db):
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    response = admin.post(f"/merchant/customers/{customer.id}/packages", _new_package(item.id))
    package = db.session.query(Package).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/packages/{package.id}")
    assert package.nickname == "Plan A" and package.start_at == utc(2025, 9, 1)
    assert [(line.line_quantity, line.descrip) for line in package.line_items] == [(Decimal(2), "Main line")]


def test_create_refuses_bad_lines_and_dates(admin, db):
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    url = f"/merchant/customers/{customer.id}/packages"
    no_item = admin.post(url, _new_package("", **{"line_items-0-descrip": "x"}))
    assert no_item.status_code == 422 and "choose an item" in no_item.get_data(as_text=True)
    negative = admin.post(url, _new_package(item.id, **{"line_items-0-line_quantity": "-1"}))
    assert negative.status_code == 422 and "must not be negative" in negative.get_data(as_text=True)
    hold = admin.post(url, _new_package(item.id, holduntil_datetime="2025-08-01"))
    assert hold.status_code == 422 and "must not be before start_datetime" in hold.get_data(as_text=True)
    bad_date = admin.post(url, _new_package(item.id, start_datetime="yesterday"))
    assert bad_date.status_code == 422 and "must be a date like" in bad_date.get_data(as_text=True)
    none = admin.post(url, _new_package("", **{"line_items-0-descrip": ""}))
    assert none.status_code == 422 and "add at least one line" in none.get_data(as_text=True)
    assert db.session.query(Package).count() == 0


def test_line_rows_editor(admin, db):
    item = make_voip_item()
    db.session.commit()
    query = {"line_items-0-item_id": str(item.id), "line_items-0-line_quantity": "3"}
    added = admin.get("/merchant/packages/line-rows", htmx=True, query_string={**query, "add": "1"})
    page = added.get_data(as_text=True)
    assert "<html" not in page and 'name="line_items-1-item_id"' in page and 'value="3"' in page
    removed = admin.get("/merchant/packages/line-rows", htmx=True, query_string={
        **query, "line_items-1-item_id": "", "remove": "0"}).get_data(as_text=True)
    assert 'name="line_items-1-item_id"' not in removed and 'value="3"' not in removed


def test_detail_shows_lines_and_invoices(admin, db):
    package = make_package(nickname="VoIP plan")
    db.session.commit()
    page = admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    assert "VoIP plan" in page and "VoIP minutes" in page and f"<code>{package.line_items[0].id}</code>" in page


def test_bill_now_creates_the_due_invoices(admin, db):
    package = _recent_package()
    db.session.commit()
    response = admin.post(f"/merchant/packages/{package.id}/bill", follow_redirects=True)
    assert "2 invoices created" in response.get_data(as_text=True)
    assert db.session.query(Invoice).filter_by(package_id=package.id).count() == 2


def test_bill_now_with_nothing_due_says_until_when(admin, db):
    start = (utcnow() + timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    package = make_package(start=start)
    db.session.commit()
    response = admin.post(f"/merchant/packages/{package.id}/bill", htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and 'id="package-detail"' in page
    assert f"Nothing due until {start.date().isoformat()}." in page
    assert db.session.query(Invoice).count() == 0


def test_change_quantity_add_and_cancel_lines(admin, db):
    package = make_package(start=utcnow() - timedelta(days=3))
    extra = make_voip_item(name="Seats", is_metered=False)
    db.session.commit()
    line_id = package.line_items[0].id
    url = f"/merchant/packages/{package.id}"
    assert admin.post(f"{url}/lines/{line_id}/quantity", {"line_quantity": "5"}).status_code == 302
    bad = admin.post(f"{url}/lines/{line_id}/quantity", {"line_quantity": "-2"}, htmx=True)
    assert bad.status_code == 422 and "must not be negative" in bad.get_data(as_text=True)
    assert admin.post(f"{url}/lines", {"item_id": str(extra.id), "line_quantity": "3"}).status_code == 302
    assert admin.post(f"{url}/lines/{line_id}/cancel").status_code == 302
    db.session.expire_all()
    lines = {line.item.name: line for line in db.session.query(LineItem).filter_by(package_id=package.id)}
    assert lines["VoIP minutes"].line_quantity == Decimal(5) and lines["VoIP minutes"].cancel_at is not None
    assert lines["Seats"].line_quantity == Decimal(3) and lines["Seats"].cancel_at is None


def test_add_line_without_item_shows_field_error(admin, db):
    package = make_package(start=utcnow() - timedelta(days=3))
    db.session.commit()
    response = admin.post(f"/merchant/packages/{package.id}/lines", {"item_id": "", "line_quantity": "1"})
    assert response.status_code == 422 and "choose an item" in response.get_data(as_text=True)


def test_suspend_unsuspend_and_cancel(admin, db):
    package = make_package(start=utcnow() - timedelta(days=3))
    db.session.commit()
    url = f"/merchant/packages/{package.id}"
    assert admin.post(f"{url}/suspend").status_code == 302
    again = admin.post(f"{url}/suspend", htmx=True)
    assert again.status_code == 422 and "is already suspended" in again.get_data(as_text=True)
    assert admin.post(f"{url}/unsuspend").status_code == 302
    assert admin.post(f"{url}/cancel", {"cancel_datetime": ""}).status_code == 302
    db.session.expire_all()
    assert package.status == "canceled-manual" and package.cancel_at is not None


def test_edit_package_details(admin, db):
    package = make_package(start=utcnow() - timedelta(days=3))
    db.session.commit()
    response = admin.post(f"/merchant/packages/{package.id}/edit",
                          {"nickname": "Renamed", "external_key": "pkg-1", "paycycle": "yrl",
                           "holduntil_datetime": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (package.nickname, package.external_key, package.paycycle) == ("Renamed", "pkg-1", "yrl")


def test_actions_need_the_csrf_token(admin, db):
    package = make_package()
    db.session.commit()
    assert admin.post(f"/merchant/packages/{package.id}/suspend", csrf=False).status_code == 400
    db.session.expire_all()
    assert package.status == "active-current"
