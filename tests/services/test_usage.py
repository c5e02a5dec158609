"""The usage ingest service: validation, idempotency, and the period rule's inputs."""
from decimal import Decimal

import pytest

from support.factories import make_package, make_voip_item, utc
from portal.billing.errors import ValidationError
from portal.models import UsageRecord
from portal.services.usage import UsageConflict, record_usage


@pytest.fixture
def line(db):
    return make_package().line_items[0]


def _usage(line, **fields):
    raw = {"line_item_id": line.id, "usage_value": "361", "from": "2015-09-15 00:00:00"}
    raw.update(fields)
    return raw


def test_records_value_and_naive_dates_in_merchant_time(db, line, app):
    app.config["TIMEZONE"] = "America/New_York"
    try:
        result = record_usage(_usage(line, to="2015-09-15 08:00:00"))
    finally:
        app.config["TIMEZONE"] = "UTC"
    assert result.created
    assert result.record.usage_value == Decimal("361")
    assert result.record.from_at == utc(2015, 9, 15, 4)  # EDT is UTC-4
    assert result.record.to_at == utc(2015, 9, 15, 12)


def test_missing_to_is_from_and_iso_offsets_are_accepted(db, line):
    record = record_usage(_usage(line, **{"from": "2015-09-15T10:00:00+02:00"})).record
    assert record.from_at == record.to_at == utc(2015, 9, 15, 8)


def test_line_found_by_external_key(db):
    package = make_package()
    package.line_items[0].external_key = "acme-voip"
    record = record_usage({"line_item_external_key": "acme-voip", "usage_value": 5}).record
    assert record.line_item_id == package.line_items[0].id


def test_retry_with_same_key_and_content_counts_once(db, line):
    first = record_usage(_usage(line, external_key="call-1"))
    again = record_usage(_usage(line, external_key="call-1"))
    assert first.created and not again.created
    assert again.record.id == first.record.id
    assert db.session.query(UsageRecord).count() == 1


def test_same_key_with_other_content_is_a_conflict(db, line):
    record_usage(_usage(line, external_key="call-1"))
    with pytest.raises(UsageConflict, match="call-1"):
        record_usage(_usage(line, external_key="call-1", usage_value="362"))
    assert db.session.query(UsageRecord).count() == 1


def test_same_key_on_another_line_is_independent(db, line):
    other = make_package(customer=line.package.customer,
                         item=make_voip_item(name="Other")).line_items[0]
    record_usage(_usage(line, external_key="k"))
    assert record_usage(_usage(other, external_key="k")).created


@pytest.mark.parametrize("fields, field, message", [
    ({"usage_value": "-1"}, "usage_value", "negative"),
    ({"usage_value": "abc"}, "usage_value", "number"),
    ({"usage_value": "1.1234567"}, "usage_value", "6 decimal"),
    ({"usage_value": None}, "usage_value", "number"),
    ({"from": "yesterday"}, "from", "date-time"),
    ({"to": "2015-09-14 00:00:00"}, "to", "before from"),
    ({"type": "max"}, "type", "'add'"),
    ({"line_item_id": 999999}, "line_item_id", "no line item"),
    ({"line_item_id": "x1"}, "line_item_id", "integer"),
])
def test_bad_input_names_the_field(db, line, fields, field, message):
    with pytest.raises(ValidationError) as error:
        record_usage(_usage(line, **fields))
    assert error.value.field == field
    assert message in error.value.message
    assert db.session.query(UsageRecord).count() == 0


def test_cancelled_line_refuses_usage_after_the_cancel(db, line):
    line.cancel_at = utc(2015, 9, 10)
    with pytest.raises(ValidationError, match="cancelled"):
        record_usage(_usage(line))
    assert record_usage(_usage(line, **{"from": "2015-09-09 23:00:00"})).created


def test_unmetered_line_refuses_usage(db):
    from portal.billing.pricing import PriceModel

    flat = make_voip_item(name="Support", is_metered=False,
                          pricing=PriceModel(pricemodel="fla", base=Decimal("99")))
    line = make_package(item=flat).line_items[0]
    with pytest.raises(ValidationError, match="not metered"):
        record_usage(_usage(line))


def test_a_cancelled_package_refuses_usage_from_its_cancel_on(db, line):
    line.package.cancel_at = utc(2015, 9, 20)
    with pytest.raises(ValidationError, match="cancelled"):
        record_usage(_usage(line, **{"from": "2015-09-20 00:00:00"}))
    assert record_usage(_usage(line)).created


def test_validate_usage_takes_an_already_loaded_line(db, line):
    from portal.services.usage import validate_usage

    usage = validate_usage({"usage_value": "2.50", "external_key": "k"}, line=line)
    assert (usage.line.id, usage.value, usage.external_key) == (line.id, Decimal("2.5"), "k")


def test_ingest_batch_dry_run_sorts_out_duplicates_and_stores_nothing(db, line):
    from portal.services.usage import ingest_batch

    record_usage(_usage(line, external_key="old"))
    outcomes = ingest_batch([_usage(line, external_key="new"), _usage(line, external_key="new"),
                             _usage(line, external_key="old"), _usage(line, usage_value="-1"),
                             _usage(line, external_key="old", usage_value="1")], dry_run=True)
    assert [(o.code, o.id) for o in outcomes][:3] == [(201, None), (200, None), (200, 1)]
    assert [o.code for o in outcomes][3:] == [400, 409]
    assert db.session.query(UsageRecord).count() == 1
