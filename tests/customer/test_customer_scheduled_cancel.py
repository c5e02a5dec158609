"""The customer portal shows a scheduled cancel: the package is still active, with the date
it ends ("now" pinned to 2015-10-10 12:00 UTC; Acme's package was billed by the Oct 1 run)."""
from support.factories import utc
from portal.services.packages import cancel_package

NOW = utc(2015, 10, 10, 12)


def test_a_scheduled_cancel_shows_its_end_date_on_an_active_package(jane, acme, db, monkeypatch):
    for module in ("portal.services.packages", "portal.customer.packages"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    cancel_package(acme.package, utc(2015, 10, 20))
    db.session.commit()
    assert acme.package.status == "active-current"
    page = jane.get(f"/portal/packages/{acme.package.id}").get_data(as_text=True)
    assert 'Ends</div><div class="cp-figure">2015-10-20<' in page
    assert "(ended" not in page  # its lines run until then
