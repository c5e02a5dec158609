"""Words for stored codes and the state an invoice is in (paid, partly paid, overdue, ...)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from portal.presentation.labels import VOCABULARIES, invoice_state, label


def _invoice(status="open-unpaid", paid=0, due=date(2015, 10, 31)):
    return SimpleNamespace(status=status, paid_minor=paid, due_date=due)


@pytest.mark.parametrize("invoice, today, state", [
    (_invoice(), date(2015, 10, 31), "unpaid"),  # due today is not late yet
    (_invoice(), date(2015, 11, 1), "overdue"),
    (_invoice(paid=500), date(2015, 10, 15), "partly-paid"),
    (_invoice(paid=500), date(2015, 11, 1), "overdue-partly-paid"),
    (_invoice("closed-paid", paid=2805), date(2016, 1, 1), "paid"),
    (_invoice("closed-void"), date(2016, 1, 1), "void"),
])
def test_invoice_state(invoice, today, state):
    assert invoice_state(invoice, today) == state
    assert label(state, "invoice_state") in ("Unpaid", "Overdue", "Partly paid", "Overdue, partly paid", "Paid", "Void")


def test_labels_of_codes():
    assert label("ach", "payment_method") == "Bank transfer (ACH)"
    assert label("mon", "paycycle") == "Monthly" and label("mon", "paycycle_unit") == "month"
    assert label(None, "paycycle") == "" and label("zzz", "paycycle") == "zzz"  # unknown: shown as is
    assert all(all(words for words in vocabulary.values()) for vocabulary in VOCABULARIES.values())
