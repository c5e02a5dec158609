"""One billing contact per customer: edited in the portal or through the API's superuser_*,
it is where invoice e-mails go, what the contacts table and the API show (issue 9 item 3)."""
import pytest

from support.api_client import body
from support.factories import make_customer, make_package, utc
from portal.models import Contact, Customer, EmailDelivery
from portal.services.billing import run_billing
from portal.services.mail import send_due_deliveries

GLOBEX = {"company": "Globex", "currency": "USD", "bill_addr1": "5 Rue Haute", "bill_city": "Lyon",
          "superuser_name": "Hank Scorpio", "superuser_email": "hank@globex.example"}


def _create_in_portal(admin, db) -> Customer:
    assert admin.post("/merchant/customers", GLOBEX).status_code == 302
    return db.session.query(Customer).filter_by(company="Globex").one()


def test_edited_main_contact_email_receives_the_invoice(admin, api, db, smtp_server):
    customer = _create_in_portal(admin, db)
    edited = dict(GLOBEX, superuser_email="h.scorpio@globex.example")
    assert admin.post(f"/merchant/customers/{customer.id}", edited).status_code == 302
    make_package(customer=customer)
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    assert send_due_deliveries() == {"sent": 2}
    assert {m["To"] for m in smtp_server} == {"h.scorpio@globex.example"}
    page = admin.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)
    contacts = page[page.index('id="contacts"'):]
    assert "h.scorpio@globex.example" in contacts and "hank@globex.example" not in page
    got = body(api.get(f"/api/v3/customer/{customer.id}"))["response"]
    assert got["superuser_email"] == "h.scorpio@globex.example"
    users = body(api.get(f"/api/v3/user?where=customer_id:EQUALS:{customer.id}"))["response"]
    assert [u["email"] for u in users] == ["h.scorpio@globex.example"]
    assert got["superuser_id"] == users[0]["user_id"]


def test_api_superuser_email_moves_the_billing_contact(admin, api, db):
    customer = _create_in_portal(admin, db)
    assert api.put(f"/api/v3/customer/{customer.id}",
                   json={"superuser_email": "ap@globex.example"}).status_code == 202
    db.session.expire_all()
    contact = db.session.query(Contact).filter_by(customer_id=customer.id).one()
    assert contact.email == "ap@globex.example" and contact.is_billing_contact
    assert "ap@globex.example" in admin.get(f"/merchant/customers/{customer.id}").get_data(as_text=True)


def test_edit_a_contact_with_htmx_updates_the_main_contact(admin, api, db):
    customer = make_customer()
    db.session.commit()
    contact = customer.contacts[0]
    form = admin.get(f"/merchant/contacts/{contact.id}/edit", htmx=True)
    assert form.status_code == 200 and "<html" not in form.get_data(as_text=True)
    assert 'value="jane@acme.example"' in form.get_data(as_text=True)
    response = admin.post(f"/merchant/contacts/{contact.id}", {
        "first_name": "Janet", "last_name": "Doe", "email": "janet@acme.example"}, htmx=True)
    assert response.status_code == 200 and "janet@acme.example" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    got = body(api.get(f"/api/v3/customer/{customer.id}"))["response"]
    assert got["superuser_email"] == "janet@acme.example" and got["superuser_name"] == "Janet Doe"
    bad = admin.post(f"/merchant/contacts/{contact.id}", {"email": "nope"}, htmx=True)
    assert bad.status_code == 422 and "must be an e-mail address" in bad.get_data(as_text=True)


def test_another_contact_can_become_the_billing_contact(admin, db):
    customer = make_customer()
    db.session.commit()
    assert admin.post(f"/merchant/customers/{customer.id}/contacts",
                      {"first_name": "Bob", "email": "bob@acme.example"}).status_code == 302
    bob = db.session.query(Contact).filter_by(email="bob@acme.example").one()
    assert not bob.is_billing_contact  # the first contact stays the billing contact
    assert admin.post(f"/merchant/contacts/{bob.id}/billing").status_code == 302
    db.session.expire_all()
    assert bob.is_billing_contact and customer.superuser_email == "bob@acme.example"
    assert [c.email for c in customer.contacts if c.is_billing_contact] == ["bob@acme.example"]


def test_deleting_the_billing_contact_picks_another_or_is_refused(admin, db):
    customer = make_customer()
    db.session.commit()
    jane = customer.contacts[0]
    alone = admin.post(f"/merchant/contacts/{jane.id}/delete", follow_redirects=True)
    assert alone.status_code == 422 and "add another contact" in alone.get_data(as_text=True)
    admin.post(f"/merchant/customers/{customer.id}/contacts", {"first_name": "Bob", "email": "bob@acme.example"})
    response = admin.post(f"/merchant/contacts/{jane.id}/delete", htmx=True)
    assert response.status_code == 200 and "bob@acme.example" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [c.email for c in customer.contacts] == ["bob@acme.example"]
    assert customer.contacts[0].is_billing_contact and customer.superuser_email == "bob@acme.example"


def test_contact_changes_need_admin_and_csrf(admin, viewer, db):
    customer = make_customer()
    db.session.commit()
    contact_id = customer.contacts[0].id
    assert viewer.post(f"/merchant/contacts/{contact_id}", {"email": "x@acme.example"}).status_code == 403
    assert viewer.post(f"/merchant/contacts/{contact_id}/delete").status_code == 403
    assert admin.post(f"/merchant/contacts/{contact_id}/delete", csrf=False).status_code == 400
    assert admin.post(f"/merchant/contacts/{contact_id}", {"email": "x@acme.example"}, csrf=False).status_code == 400
    assert "Edit" not in viewer.get(f"/merchant/customers/{customer.id}").get_data(as_text=True).split('id="contacts"')[1]
    assert db.session.get(Contact, contact_id).email == "jane@acme.example"


@pytest.mark.parametrize("portal", ["merchant", "customer"])
def test_invoice_page_shows_where_its_email_goes(admin, db, portal, app):
    from support.factories import make_october_invoice
    from portal.services.contact_access import set_contact_password
    from support.logins import CONTACT_PASSWORD as PASSWORD
    from support.portal_client import PortalClient

    invoice = make_october_invoice()
    contact = db.session.query(Contact).filter_by(customer_id=invoice.customer_id).one()
    admin.post(f"/merchant/contacts/{contact.id}", {"first_name": "Jane", "last_name": "Doe",
                                                    "email": "billing@acme.example"})
    if portal == "merchant":
        page = admin.get(f"/merchant/invoices/{invoice.id}").get_data(as_text=True)
    else:
        set_contact_password(db.session.get(Contact, contact.id), PASSWORD)
        db.session.commit()
        client = PortalClient(app.test_client())
        client.login("billing@acme.example")
        page = client.get(f"/portal/invoices/{invoice.id}").get_data(as_text=True)
    assert 'data-recipient="billing@acme.example"' in page
    delivery = db.session.query(EmailDelivery).filter_by(invoice_id=invoice.id).one()
    assert delivery.to_address == "jane@acme.example"  # queued at issue, shown as sent there
    assert "jane@acme.example" in page
