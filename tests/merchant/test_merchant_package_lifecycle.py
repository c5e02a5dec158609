"""The merchant portal's package lifecycle: a scheduled cancel shown and withdrawn, a
suspension between two dates. "Now" is pinned to 2015-10-10 12:00 UTC; the package (monthly
VoIP, started 2015-09-01) was billed by the Oct 1 run."""
import pytest

from support.factories import make_package, utc
from portal.services.billing import run_billing

NOW = utc(2015, 10, 10, 12)


@pytest.fixture
def billed(db, monkeypatch):
    for module in ("portal.services.packages", "portal.services.suspensions",
                   "portal.merchant.packages"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    package = make_package()
    db.session.commit()
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 2
    return package


def test_the_merchant_portal_schedules_shows_and_withdraws_a_cancel(admin, db, billed):
    url = f"/merchant/packages/{billed.id}"
    response = admin.post(f"{url}/cancel", {"cancel_datetime": "2015-10-20"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Cancel scheduled" in page
    assert "Cancels on" in page and "2015-10-20" in page and "Withdraw the cancel" in page
    db.session.expire_all()
    assert (billed.status, billed.cancel_at) == ("active-current", utc(2015, 10, 20))
    assert admin.post(f"{url}/uncancel").status_code == 302
    db.session.expire_all()
    assert (billed.cancel_at, billed.next_invoice_at) == (None, utc(2015, 11, 1))


def test_the_merchant_portal_suspends_between_two_dates(admin, db, billed):
    url = f"/merchant/packages/{billed.id}"
    response = admin.post(f"{url}/suspend", {"suspendfrom_datetime": "2015-10-05",
                                            "suspendto_datetime": "2015-10-25"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Package suspended." in page
    assert "from 2015-10-05 00:00" in page and "until 2015-10-25 00:00" in page and "Unsuspend" in page
    db.session.expire_all()
    assert billed.status == "suspended-suspended"
    assert [(s.start_at, s.end_at) for s in billed.suspensions] == [(utc(2015, 10, 5), utc(2015, 10, 25))]
    assert admin.post(f"{url}/unsuspend").status_code == 302
    db.session.expire_all()
    assert billed.status == "active-current" and billed.suspensions[0].end_at == NOW
