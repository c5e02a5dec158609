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
    return next_numbers(name, 1)


def next_numbers(name: str, count: int) -> int:
    """Advance the sequence `name` by `count` and return its new value: the caller's numbers
    are the `count` values ending there (a chunk of invoices numbered with one statement).

    :param name: the sequence, e.g. "invoice_refnumber".
    :param count: how many numbers to draw (at least 1).
    """
    for _ in range(3):
        value = db.session.execute(
            update(Counter).where(Counter.name == name)
            .values(value=Counter.value + count).returning(Counter.value)
        ).scalar()
        if value is not None:
            return int(value)
        try:
            with db.session.begin_nested():  # two first draws may race to create the row
                db.session.add(Counter(name=name, value=count))
            return count
        except IntegrityError:
            continue
    raise RuntimeError(f"could not advance counter {name}")
