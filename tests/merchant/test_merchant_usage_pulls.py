"""A line's pulled usage URL in the merchant portal: set it, see a waiting pull's error."""
from __future__ import annotations

from sqlalchemy import select

from support.factories import make_package, utc
from portal.jobs import run_pending
from portal.jobs.usage_pulls import plan_usage_pulls
from portal.models import Job, UsagePull
from portal.jobs.billing import run_billing
from portal.services.usage_pulls import pull_url


def test_admin_sets_the_url_and_the_package_shows_the_waiting_invoice(app, db, admin, viewer):
    package = make_package()
    db.session.commit()
    line_id, package_id = package.line_items[0].id, package.id
    assert viewer.post(f"/merchant/lines/{line_id}/pull-url", {"usage_url": "http://x.example/u"}).status_code == 403
    bad = admin.post(f"/merchant/lines/{line_id}/pull-url", {"usage_url": "mailto:me@example.com"})
    assert bad.status_code == 422 and "must be an http:// or https:// URL" in bad.get_data(as_text=True)
    # Port 9 (discard) on loopback: nothing listens, the pull fails fast.
    assert admin.post(f"/merchant/lines/{line_id}/pull-url", {"usage_url": "http://127.0.0.1:9/usage"}).status_code == 302
    token = pull_url(line_id).security_token
    page = admin.get(f"/merchant/lines/{line_id}/pull-url").get_data(as_text=True)
    assert token in page and token not in viewer.get(f"/merchant/lines/{line_id}/pull-url").get_data(as_text=True)
    run_billing(utc(2015, 9, 1))
    plan_usage_pulls(utc(2015, 10, 1))
    run_pending(app, "w1")
    assert run_billing(utc(2015, 10, 1)).invoice_ids == []
    html = admin.get(f"/merchant/packages/{package_id}").get_data(as_text=True)
    assert "Invoice of 2015-10-01 waits for this line's usage URL: the usage URL could not be reached" in html
    pulls = viewer.get(f"/merchant/lines/{line_id}/pull-url").get_data(as_text=True)
    assert "waiting: the invoice is held" in pulls and "could not be reached" in pulls
    assert admin.post(f"/merchant/lines/{line_id}/pull-url/retry").status_code == 302
    waiting = db.session.scalars(select(Job).where(Job.kind == "usage_pull", Job.status == "waiting")).all()
    assert len(waiting) == 2  # the backoff's attempt and the one asked for now
    assert db.session.scalars(select(UsagePull)).one().status == "pending"


def test_the_add_line_form_takes_a_pulled_usage_url(app, db, admin):
    package = make_package()
    db.session.commit()
    item_id, package_id = package.line_items[0].item_id, package.id
    bad = admin.post(f"/merchant/packages/{package_id}/lines",
                     {"item_id": item_id, "line_quantity": "1", "usage_url": "ftp://x"})
    assert bad.status_code == 422 and "must be an http:// or https:// URL" in bad.get_data(as_text=True)
    added = admin.post(f"/merchant/packages/{package_id}/lines",
                       {"item_id": item_id, "line_quantity": "1", "usage_url": "https://merchant.example/usage"})
    assert added.status_code in (302, 303)
    db.session.expire_all()
    new_line = max(db.session.get(type(package), package_id).line_items, key=lambda line: line.id)
    assert pull_url(new_line.id).url == "https://merchant.example/usage"
