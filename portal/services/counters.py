"""Gap-free named sequences (invoice refnumbers), advanced inside the caller's transaction.

The UPDATE takes a row lock that is held until the invoice's transaction commits, so two
concurrent runs can never draw the same number, and a rolled-back invoice returns its number.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Counter


def next_number(name: str) -> int:
    """Advance the sequence `name` and return its new value (1 for a new sequence).

    :param name: the sequence, e.g. "invoice_refnumber".
    """
    for _ in range(3):
        value = db.session.execute(
            update(Counter).where(Counter.name == name)
            .values(value=Counter.value + 1).returning(Counter.value)
        ).scalar()
        if value is not None:
            return int(value)
        try:
            with db.session.begin_nested():  # two first draws may race to create the row
                db.session.add(Counter(name=name, value=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not advance counter {name}")
