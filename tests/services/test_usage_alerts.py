"""Usage alerts: evaluated by the background check (never in the usage request), fired
once per threshold per period, by e-mail and webhook event."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from support.factories import make_customer, make_package, utc
from portal.billing.errors import ValidationError
from portal.models import EmailDelivery, UsageAlert, WebhookEndpoint, WebhookEvent
from portal.services.settings import ensure_settings
from portal.services.usage import record_usage
from portal.services.usage_alerts import check_usage_alerts, save_alert

SEPT = utc(2015, 9, 20)


@pytest.fixture
def package(db):
    package = make_package(start=utc(2015, 9, 1))
    ensure_settings().email = "billing@merchant.example"
    db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/", events=["usage_alert.crossed"],
                                   secret="k", enabled=True))
    db.session.commit()
    return package


def use(package, value, day, key):
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": value,
                  "from": f"2015-{day} 12:00:00", "external_key": key})


def mails(db) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(EmailDelivery).where(EmailDelivery.kind == "message")
                              .order_by(EmailDelivery.id))
    return [(m.to_address, m.subject) for m in rows]


def test_a_line_quantity_alert_fires_once_per_period(app, db, package):
    line = package.line_items[0]
    alert = save_alert(None, package, line_item_id=line.id, metric="quantity", threshold="100",
                       notify_merchant=True, notify_customer=True, now=SEPT)
    db.session.commit()
    use(package, "60", "09-10", "a")
    db.session.commit()
    assert alert.fired_at is None  # ingestion evaluates nothing
    assert check_usage_alerts(SEPT) == 0
    use(package, "50", "09-11", "b")
    db.session.commit()
    assert check_usage_alerts(SEPT) == 1
    db.session.commit()
    assert (alert.fired_value, alert.fired_period_start) == (Decimal("110"), utc(2015, 9, 1))
    subject = f"Usage alert: VoIP minutes (package {package.id}) reached its threshold"
    assert mails(db) == [("billing@merchant.example", subject), ("jane@acme.example", subject)]
    body = db.session.scalars(select(EmailDelivery)).first().body_text
    assert "usage 110 minutes (threshold 100)" in body and "from 2015-09-01" in body
    event = db.session.scalars(select(WebhookEvent)).one()
    assert (event.context, event.event, event.context_id) == ("usage_alert", "crossed", alert.id)
    assert event.data["usage_alert"]["fired_value"] == Decimal("110")
    assert event.data["customer"]["customer_id"] == package.customer_id
    use(package, "5", "09-12", "c")
    db.session.commit()
    assert check_usage_alerts(SEPT) == 0  # once per period
    use(package, "120", "10-02", "d")
    db.session.commit()
    assert check_usage_alerts(utc(2015, 10, 5)) == 1  # the next period fires again
    db.session.commit()
    assert alert.fired_period_start == utc(2015, 10, 1) and len(mails(db)) == 4


def test_a_package_cost_alert_counts_every_metered_line(app, db, package):
    alert = save_alert(None, package, metric="cost", threshold="18.00", notify_merchant=False,
                       notify_customer=False, now=SEPT)
    use(package, "361", "09-15", "a")  # 361 minutes × $0.05 = $18.05
    db.session.commit()
    assert check_usage_alerts(SEPT) == 1
    db.session.commit()
    assert alert.fired_value == Decimal("18.05") and mails(db) == []


def test_saving_an_alert_evaluates_it_and_a_new_threshold_fires_again(app, db, package):
    use(package, "361", "09-15", "a")
    db.session.commit()
    alert = save_alert(None, package, metric="quantity", threshold="300", now=SEPT)
    db.session.commit()
    assert alert.fired_value == Decimal("361")
    save_alert(alert, package, metric="quantity", threshold="350", now=SEPT)
    db.session.commit()
    assert len(mails(db)) == 2  # each threshold once in the period


def test_bad_alerts_name_the_field(app, db, package):
    other = make_package(customer=make_customer(company="Other", email="o@other.example"),
                         start=utc(2015, 9, 1))
    db.session.commit()
    cases = [({"threshold": "0"}, "threshold"), ({"threshold": "abc"}, "threshold"),
             ({"threshold": "5", "metric": "calls"}, "metric"),
             ({"threshold": "5", "line_item_id": other.line_items[0].id}, "line_item_id")]
    for fields, field in cases:
        with pytest.raises(ValidationError) as error:
            save_alert(None, package, **fields)
        assert error.value.field == field
        db.session.rollback()
    assert db.session.scalars(select(UsageAlert)).all() == []
