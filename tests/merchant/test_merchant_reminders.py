"""The reminder schedule page and an invoice's reminders in the merchant portal."""
from __future__ import annotations

from datetime import date

from support.factories import utc
from support.factories import make_october_invoice
from portal.jobs.dunning import run_dunning
from portal.models import Invoice
from portal.services.dunning import reminder_settings
from portal.services.payments import pay_invoice


def test_admin_sets_the_schedule_and_bad_input_names_the_field(db, admin, viewer):
    page = viewer.get("/merchant/settings/reminders")
    assert page.status_code == 200 and 'value="3, 7, 14"' in page.get_data(as_text=True)
    assert viewer.post("/merchant/settings/reminders", {"days": "5", "enabled": "y"}).status_code == 403
    saved = admin.post("/merchant/settings/reminders", {"days": "10, 5 ,20", "enabled": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert (reminder_settings().days, reminder_settings().enabled) == ("5,10,20", True)
    bad = admin.post("/merchant/settings/reminders", {"days": "5, soon", "enabled": "y"})
    assert bad.status_code == 422 and "whole numbers of days" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert reminder_settings().days == "5,10,20"


def test_invoice_page_shows_overdue_reminders_sent_and_next(db, admin):
    invoice = make_october_invoice()
    september = db.session.query(Invoice).filter(Invoice.id != invoice.id).one()
    pay_invoice(september, paid_on=date(2015, 9, 5), method="check")
    db.session.commit()
    invoice_id = invoice.id
    run_dunning(utc(2015, 11, 4, 12))
    html = admin.get(f"/merchant/invoices/{invoice_id}").get_data(as_text=True)
    assert "Overdue</strong> since 2015-11-04" in html
    assert "3 days after due · <strong>sent</strong>" in html
    assert "Next: 7 days after due" in html
    paid_page = admin.get(f"/merchant/invoices/{september.id}").get_data(as_text=True)
    assert "No further reminder: the invoice is settled." in paid_page
