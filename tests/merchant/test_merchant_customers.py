"""Customer pages: searchable list with HTMX pagination, detail, create/edit, contacts."""
from support.factories import make_customer
from support.factories import make_october_invoice
from portal.models import Contact, Customer
from portal.services.customers import create_customer

NEW_CUSTOMER = {"company": "Globex", "external_key": "globex-1", "currency": "EUR",
                "bill_addr1": "5 Rue Haute", "bill_city": "Lyon", "bill_country": "France",
                "superuser_name": "Hank Scorpio", "superuser_email": "hank@globex.example"}


def test_empty_list_explains_what_to_do(admin):
    page = admin.get("/merchant/customers").get_data(as_text=True)
    assert "No customers yet" in page and "flask seed-demo" in page


def test_search_by_company_email_and_key(admin, db):
    make_customer("Acme Telephony", external_key="acme-key")
    make_customer("Initech", email="bill@initech.example")
    db.session.commit()
    for query, found, hidden in (("acme", "Acme Telephony", "Initech"), ("INITECH.EX", "Initech", "Acme"),
                                 ("acme-key", "Acme Telephony", "Initech")):
        page = admin.get(f"/merchant/customers?q={query}").get_data(as_text=True)
        assert found in page and hidden not in page, query
    assert "No customer matches" in admin.get("/merchant/customers?q=100%25").get_data(as_text=True)


def test_htmx_request_gets_the_table_only(admin, db):
    make_customer()
    db.session.commit()
    response = admin.get("/merchant/customers?q=acme", htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and 'id="customer-table"' in page
    assert "Acme Telephony" in page and "HX-Request" in response.headers["Vary"]
    full = admin.get("/merchant/customers?q=acme")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]


def test_history_restore_gets_the_full_page(admin, db):
    response = admin.client.get("/merchant/customers", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_pagination(admin, db):
    for n in range(25):
        create_customer(company=f"Company {n:02d}")
    db.session.commit()
    first = admin.get("/merchant/customers").get_data(as_text=True)
    assert "Company 19" in first and "Company 20" not in first and "Page 1 of 2" in first
    second = admin.get("/merchant/customers?page=2", htmx=True).get_data(as_text=True)
    assert "Company 24" in second and "Company 00" not in second and 'hx-push-url="true"' in second


def test_create_customer_with_main_contact(admin, db):
    response = admin.post("/merchant/customers", NEW_CUSTOMER)
    customer = db.session.query(Customer).filter_by(company="Globex").one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/customers/{customer.id}")
    assert customer.currency == "EUR" and customer.bill_city == "Lyon"
    assert [c.email for c in customer.contacts] == ["hank@globex.example"]


def test_create_refuses_missing_company_and_duplicate_key(admin, db):
    make_customer(external_key="globex-1")
    db.session.commit()
    missing = admin.post("/merchant/customers", dict(NEW_CUSTOMER, company=""))
    assert missing.status_code == 422 and "is required" in missing.get_data(as_text=True)
    duplicate = admin.post("/merchant/customers", NEW_CUSTOMER)
    assert duplicate.status_code == 422 and "is already used by customer" in duplicate.get_data(as_text=True)
    assert db.session.query(Customer).count() == 1


def test_detail_shows_balance_invoices_and_contacts(admin, db):
    invoice = make_october_invoice()
    page = admin.get(f"/merchant/customers/{invoice.customer_id}").get_data(as_text=True)
    assert "Acme Telephony" in page and "28.05 USD" in page and "jane@acme.example" in page
    assert f"/merchant/invoices/{invoice.id}" in page and f"/merchant/packages/{invoice.package_id}" in page


def test_edit_customer(admin, db):
    customer = make_customer()
    db.session.commit()
    assert 'value="Acme Telephony"' in admin.get(f"/merchant/customers/{customer.id}/edit").get_data(as_text=True)
    response = admin.post(f"/merchant/customers/{customer.id}", dict(NEW_CUSTOMER, company="Acme Corp"))
    assert response.status_code == 302
    db.session.expire_all()
    assert customer.company == "Acme Corp" and customer.external_key == "globex-1"


def test_add_contact_and_refuse_a_taken_email(admin, db):
    customer = make_customer()
    db.session.commit()
    response = admin.post(f"/merchant/customers/{customer.id}/contacts",
                          {"first_name": "Bob", "email": "bob@acme.example"})
    assert response.status_code == 302 and db.session.query(Contact).filter_by(email="bob@acme.example").one()
    taken = admin.post(f"/merchant/customers/{customer.id}/contacts", {"email": "jane@acme.example"})
    assert taken.status_code == 422 and "is already used by contact" in taken.get_data(as_text=True)
    bad = admin.post(f"/merchant/customers/{customer.id}/contacts", {"email": "not-an-email"})
    assert bad.status_code == 422 and "must be an e-mail address" in bad.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(admin, db):
    assert admin.post("/merchant/customers", NEW_CUSTOMER, csrf=False).status_code == 400
    assert db.session.query(Customer).count() == 0


def test_unknown_customer_is_404(admin, db):
    assert admin.get("/merchant/customers/999").status_code == 404


def test_delete_customer_without_invoices_only(admin, db):
    spare = make_customer("Spare Ltd", email="spare@spare.example")
    invoice = make_october_invoice()
    spare_id = spare.id
    assert admin.post(f"/merchant/customers/{spare_id}/delete").status_code == 302
    assert db.session.get(Customer, spare_id) is None
    refused = admin.post(f"/merchant/customers/{invoice.customer_id}/delete")
    assert refused.status_code == 422 and "Not deleted" in refused.get_data(as_text=True)
    assert db.session.get(Customer, invoice.customer_id) is not None


def test_admin_sees_the_invite_button_and_viewer_does_not(app, db, admin, viewer):
    from support.factories import make_customer

    customer = make_customer()
    db.session.commit()
    page = admin.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)
    assert "Invite to portal" in page and f"/merchant/contacts/{customer.contacts[0].id}/invite" in page
    assert "Invite to portal" not in viewer.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)
    assert admin.post(f"/merchant/contacts/{customer.contacts[0].id}/invite").status_code in (302, 303)
