"""Invoice pages: filtered list, detail as printed, PDF, e-mail, void and payments."""
from support.factories import make_customer, make_package, utc
from support.factories import make_october_invoice
from portal.extensions import db as _db
from portal.models import EmailDelivery, Invoice, Transaction
from portal.jobs.billing import run_billing
from portal.services.usage import record_usage

PAYMENT = {"amount": "28.05", "paid_on": "2015-10-20", "method": "check", "reference": "CHK 1001"}


def _two_customers_invoices():
    """Acme's October invoice ($28.05) and Initech's ($10.50), both dated 2015-10-01."""
    acme = make_october_invoice()
    other = make_package(make_customer("Initech", email="bill@initech.example"), item=None)
    _db.session.commit()
    record_usage({"line_item_id": other.line_items[0].id, "usage_value": "10", "from": "2015-09-20 00:00:00"})
    _db.session.commit()
    run_billing(utc(2015, 10, 1))
    return acme, _db.session.query(Invoice).filter(Invoice.package_id == other.id).order_by(Invoice.id.desc()).first()


def test_empty_list_explains_what_to_do(admin):
    page = admin.get("/merchant/invoices").get_data(as_text=True)
    assert "No invoices yet." in page and "flask seed-demo" in page


def test_list_and_filters(admin, db):
    acme, initech = _two_customers_invoices()
    page = admin.get("/merchant/invoices").get_data(as_text=True)
    assert "Acme Telephony" in page and "Initech" in page and "28.05 USD" in page
    only = admin.get(f"/merchant/invoices?customer_id={initech.customer_id}").get_data(as_text=True)
    assert "Initech" in only and "28.05 USD" not in only
    admin.post(f"/merchant/invoices/{acme.id}/payments", PAYMENT)
    paid = admin.get("/merchant/invoices?status=closed-paid", htmx=True).get_data(as_text=True)
    assert "28.05 USD" in paid and "10.50 USD" not in paid and "<html" not in paid
    assert "No invoice matches" in admin.get("/merchant/invoices?date_from=2015-10-02").get_data(as_text=True)
    in_range = admin.get("/merchant/invoices?date_from=2015-10-01&date_to=2015-10-01").get_data(as_text=True)
    assert "Initech" in in_range


def test_overdue_filter_and_bad_filter_values_are_ignored(admin, db):
    make_october_invoice()
    assert "28.05 USD" in admin.get("/merchant/invoices?status=overdue").get_data(as_text=True)
    page = admin.get("/merchant/invoices?status=nonsense&date_from=yesterday&customer_id=x")
    assert page.status_code == 200 and "28.05 USD" in page.get_data(as_text=True)


def test_htmx_list_is_the_table_partial(admin, db):
    make_october_invoice()
    response = admin.get("/merchant/invoices?status=open-unpaid", htmx=True)
    page = response.get_data(as_text=True)
    assert 'id="invoice-table"' in page and "<html" not in page and "HX-Request" in response.headers["Vary"]


def test_detail_renders_the_invoice_as_printed(admin, db):
    invoice = make_october_invoice()
    page = admin.get(f"/merchant/invoices/{invoice.id}").get_data(as_text=True)
    assert f"Invoice #{invoice.refnumber}" in page and "Acme Telephony" in page
    assert "361 minutes" in page and "28.05 USD" in page and "Net 30" in page
    partial = admin.get(f"/merchant/invoices/{invoice.id}", htmx=True).get_data(as_text=True)
    assert "<html" not in partial and 'id="invoice-detail"' in partial


def test_pdf_download(viewer, db):
    invoice = make_october_invoice()
    response = viewer.get(f"/merchant/invoices/{invoice.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "attachment" in response.headers["Content-Disposition"]


def test_full_payment_closes_the_invoice(admin, db):
    invoice = make_october_invoice()
    response = admin.post(f"/merchant/invoices/{invoice.id}/payments", PAYMENT, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "is paid" in page and "CHK 1001" in page
    db.session.expire_all()
    assert invoice.status == "closed-paid" and invoice.balance_minor == 0
    payment = db.session.query(Transaction).one()
    assert (payment.amount_minor, payment.method, str(payment.transaction_date)) == (2805, "check", "2015-10-20")


def test_partial_payment_lowers_the_balance(admin, db):
    invoice = make_october_invoice()
    response = admin.post(f"/merchant/invoices/{invoice.id}/payments", dict(PAYMENT, amount="10.00"),
                          follow_redirects=True)
    assert "18.05 USD of invoice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert invoice.status == "open-unpaid" and invoice.balance_minor == 1805


def test_bad_payments_are_refused_next_to_the_field(admin, db):
    invoice = make_october_invoice()
    url = f"/merchant/invoices/{invoice.id}/payments"
    for data, message in ((dict(PAYMENT, amount="30.00"), "is more than invoice"),
                          (dict(PAYMENT, amount="abc"), "must be a number"),
                          (dict(PAYMENT, amount="0"), "must be more than 0"),
                          (dict(PAYMENT, amount="1.234"), "must have at most 2 decimal places in USD"),
                          (dict(PAYMENT, paid_on="20/10/2015"), "must be a date like"),
                          (dict(PAYMENT, method="bitcoin"), "Not a valid choice")):
        response = admin.post(url, data, htmx=True)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    assert db.session.query(Transaction).count() == 0


def test_void_and_refuse_voiding_twice(admin, db):
    invoice = make_october_invoice()
    assert admin.post(f"/merchant/invoices/{invoice.id}/void").status_code == 302
    db.session.expire_all()
    assert invoice.status == "closed-void"
    again = admin.post(f"/merchant/invoices/{invoice.id}/void")
    assert again.status_code == 422 and "is already void" in again.get_data(as_text=True)


def test_paid_invoice_cannot_be_voided(admin, db):
    invoice = make_october_invoice()
    admin.post(f"/merchant/invoices/{invoice.id}/payments", dict(PAYMENT, amount="5"))
    response = admin.post(f"/merchant/invoices/{invoice.id}/void", htmx=True)
    assert response.status_code == 422 and "has payments applied" in response.get_data(as_text=True)


def test_email_queues_a_delivery_shown_with_its_status(admin, db):
    invoice = make_october_invoice()
    db.session.query(EmailDelivery).delete()  # the billing run queued one already
    db.session.commit()
    response = admin.post(f"/merchant/invoices/{invoice.id}/email", {"to_address": ""}, follow_redirects=True)
    assert "queued for e-mail" in response.get_data(as_text=True)
    delivery = db.session.query(EmailDelivery).one()
    assert delivery.to_address == "jane@acme.example" and delivery.status == "pending"
    other = admin.post(f"/merchant/invoices/{invoice.id}/email", {"to_address": "ap@acme.example"})
    assert other.status_code == 302
    deliveries = admin.get(f"/merchant/invoices/{invoice.id}/deliveries", htmx=True).get_data(as_text=True)
    assert "ap@acme.example" in deliveries and "pending" in deliveries and 'hx-trigger="every 5s"' in deliveries


def test_email_without_address_is_refused(admin, db):
    invoice = make_october_invoice()
    customer = invoice.customer_id
    from portal.models import Contact, Customer

    db.session.query(Contact).filter_by(customer_id=customer).delete()
    db.session.get(Customer, customer).superuser_email = None
    db.session.commit()
    response = admin.post(f"/merchant/invoices/{invoice.id}/email", {"to_address": ""})
    assert response.status_code == 422 and "has no billing e-mail address" in response.get_data(as_text=True)


def test_actions_need_the_csrf_token(admin, db):
    invoice = make_october_invoice()
    assert admin.post(f"/merchant/invoices/{invoice.id}/payments", PAYMENT, csrf=False).status_code == 400
    assert admin.post(f"/merchant/invoices/{invoice.id}/void", csrf=False).status_code == 400
    db.session.expire_all()
    assert invoice.status == "open-unpaid"
