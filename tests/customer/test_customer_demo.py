"""The demo data lets its customer's contact log into the portal after `make run`."""
from __future__ import annotations

from support.portal_client import PortalClient
from portal.models import Contact
from portal.services.demo import DEMO_CONTACT_EMAIL, DEMO_CONTACT_PASSWORD


def _seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_demo_prints_and_sets_the_customer_login(app, db):
    output = _seed(app)
    assert f"Customer portal login (/portal): {DEMO_CONTACT_EMAIL} / {DEMO_CONTACT_PASSWORD}" in output
    client = PortalClient(app.test_client())
    assert client.login(DEMO_CONTACT_EMAIL, DEMO_CONTACT_PASSWORD).status_code == 302
    page = client.get("/portal/packages").get_data(as_text=True)
    assert "VoIP plan" in page and "VoIP minutes" in page


def test_seed_demo_stays_idempotent_and_never_overwrites_a_password(app, db):
    _seed(app)
    contact = db.session.query(Contact).filter_by(email=DEMO_CONTACT_EMAIL).one()
    first_hash = contact.password_hash
    assert "already present" in _seed(app)
    db.session.refresh(contact)
    assert contact.password_hash == first_hash
    contact.password_hash = None  # demo data seeded before the portal existed
    db.session.commit()
    _seed(app)
    db.session.refresh(contact)
    assert contact.password_hash is not None
