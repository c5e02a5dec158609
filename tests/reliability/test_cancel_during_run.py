"""A cancel that arrives while a billing run holds the package must not lose its final
invoice date (seen as deployed on PostgreSQL: the run's new next date overwrote it)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from support.factories import make_package, utc
from portal.extensions import db as _db
from portal.models import Package
from portal.services.packages import cancel_package


def test_cancel_waits_for_the_run_and_keeps_its_date(app, db):
    """The run (another connection) holds the row and moves next_invoice_at from Oct 1 to
    Nov 1; a cancel at Oct 10 made meanwhile must end with next_invoice_at = Oct 10, so the
    final invoice comes at the cancel, not a month later."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has one writer at a time")
    package = make_package(start=utc(2015, 9, 1))
    package.next_invoice_at = utc(2015, 10, 1)
    db.session.commit()
    package_id = package.id
    run = _db.engine.connect()
    run_tx = run.begin()
    run.execute(text("SELECT id FROM packages WHERE id = :id FOR UPDATE"), {"id": package_id})
    run.execute(text("UPDATE packages SET next_invoice_at = :at WHERE id = :id"),
                {"at": utc(2015, 11, 1), "id": package_id})
    done = threading.Event()

    def cancel():
        with app.app_context():
            cancel_package(_db.session.get(Package, package_id), at=utc(2015, 10, 10))
            _db.session.commit()
            _db.session.remove()
        done.set()

    worker = threading.Thread(target=cancel)
    worker.start()
    time.sleep(0.5)  # the cancel is now waiting on the run's row lock (or, unfixed, done)
    run_tx.commit()
    run.close()
    worker.join(timeout=30)
    assert done.is_set()
    db.session.expire_all()
    stored = db.session.get(Package, package_id)
    assert stored.cancel_at == utc(2015, 10, 10)
    assert stored.next_invoice_at == utc(2015, 10, 10)
