"""The flask commands: seed-demo, users create, billing run."""
from decimal import Decimal

from portal.models import Customer, Invoice, Item, Package, StaffUser, UsageRecord
from portal.services.demo import DEMO_PASSWORD, DEMO_STAFF_EMAIL


def _invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_seed_demo_loads_the_voip_example_once(app, db):
    first = _invoke(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert f"{DEMO_STAFF_EMAIL} / {DEMO_PASSWORD}" in first.output
    usage_count = db.session.query(UsageRecord).count()
    assert usage_count >= 28  # at least a month of daily usage
    item = db.session.query(Item).one()
    assert (item.name, item.is_metered, item.tierset.base) == ("VoIP minutes", True, Decimal("10.00"))
    assert item.tierset.tiers[0].amount == Decimal("0.05")
    package = db.session.query(Package).one()
    assert package.paycycle == "mon" and package.customer.contacts[0].email == "jane@acme.example"
    assert db.session.get(StaffUser, 1).check_password(DEMO_PASSWORD)

    second = _invoke(app, "seed-demo")
    assert second.exit_code == 0
    assert "already present" in second.output
    assert db.session.query(Customer).count() == 1
    assert db.session.query(UsageRecord).count() == usage_count


def test_users_create_hashes_the_password(app, db):
    result = _invoke(app, "users", "create", "--email", "Ops@Example.com", "--role", "viewer",
                     "--password", "s3cret-pass")
    assert result.exit_code == 0, result.output
    user = db.session.query(StaffUser).one()
    assert (user.email, user.role) == ("ops@example.com", "viewer")
    assert user.password_hash != "s3cret-pass" and user.check_password("s3cret-pass")


def test_users_create_refuses_a_short_password_and_duplicates(app, db):
    short = _invoke(app, "users", "create", "--email", "a@b.c", "--password", "short")
    assert short.exit_code != 0 and "password" in short.output
    _invoke(app, "users", "create", "--email", "a@b.c", "--password", "long-enough")
    again = _invoke(app, "users", "create", "--email", "a@b.c", "--password", "long-enough")
    assert again.exit_code != 0 and "already has a login" in again.output


def test_billing_run_parses_now_in_merchant_time(app, db):
    from support.factories import make_package

    make_package()
    db.session.commit()
    early = _invoke(app, "billing", "run", "--now", "2015-08-01 00:00:00")
    assert "0 package(s) due, 0 invoice(s) created" in early.output
    result = _invoke(app, "billing", "run", "--now", "2015-10-01 00:00:00")
    assert result.exit_code == 0, result.output
    assert "As of 2015-10-01 00:00:00: 1 package(s) due, 2 invoice(s) created" in result.output
    assert db.session.query(Invoice).count() == 2


def test_billing_run_rejects_a_bad_now(app, db):
    result = _invoke(app, "billing", "run", "--now", "tomorrow")
    assert result.exit_code == 2
    assert "--now" in result.output


def test_jobs_dunning_and_plan_pulls_commands(app, db):
    from support.factories import make_october_invoice

    make_october_invoice()
    result = _invoke(app, "jobs", "dunning", "--now", "2015-11-20 12:00:00")
    assert result.exit_code == 0, result.output
    assert "2 invoice(s) became overdue, 2 reminder(s) queued, 0 stopped." in result.output
    assert "0 pull(s) queued." in _invoke(app, "jobs", "plan-pulls").output
    assert _invoke(app, "jobs", "dunning", "--now", "yesterday").exit_code != 0
