"""Properties: pricing laws, order independence of billing, periods tiling time."""
from dataclasses import replace
from datetime import date, timedelta, timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.billing.aggregation import USAGE_TYPES, UsageSample, aggregate
from portal.billing.cycles import (
    history_instants, lifetime_instants, line_advance_periods, line_usage_periods,
)
from portal.billing.invoicing import (
    BilledCharge, InvoiceRequest, LineSpec, QuantityChange, compute_invoice_lines,
)
from portal.billing.money import (
    from_micro, from_minor, parse_usage_value, quantize_money, to_micro, to_minor,
)
from portal.billing.periods import PAYCYCLES, period_at, period_containing
from portal.billing.pricing import (
    PriceModel, Tier, price_quantity, usage_charge, validate_pricemodel,
)

SETTINGS = settings(max_examples=150, deadline=None)
UTC = timezone.utc
ZONES = [UTC, ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Sydney")]
SEP = period_at(date(2015, 9, 1), "mon", 0, UTC)

rates = st.integers(0, 10**6).map(lambda n: D(n).scaleb(-4))  # 0 .. 100.0000
quantities = st.integers(0, 3 * 10**9).map(from_micro)  # 0 .. 3000, 6 decimals


@st.composite
def tiersets(draw, monotone_steps=False):
    """A valid tierset in either unit_from style; optionally with non-decreasing step prices."""
    ends = sorted(draw(st.sets(st.integers(1, 2000), max_size=3)))
    plus_one = draw(st.booleans())
    amounts = draw(st.lists(rates, min_size=len(ends) + 1, max_size=len(ends) + 1))
    flats = draw(st.lists(rates, min_size=len(ends) + 1, max_size=len(ends) + 1))
    if monotone_steps:
        amounts, flats = sorted(amounts), sorted(flats)
    starts = [D(draw(st.sampled_from([0, 1])))] + [D(e + 1 if plus_one else e) for e in ends]
    uppers = [D(e) for e in ends] + [None]
    return tuple(Tier(s, u, a, f) for s, u, a, f in zip(starts, uppers, amounts, flats))


@st.composite
def price_models(draw, models=("uni", "tie", "vol", "stp", "pkg")):
    pricemodel = draw(st.sampled_from(models))
    tiers = draw(tiersets(monotone_steps=pricemodel == "stp"))
    if pricemodel in ("uni", "pkg"):
        tiers = (Tier(tiers[0].unit_from, None, tiers[0].amount, tiers[0].flat),)
    block = draw(st.integers(1, 500).map(lambda n: D(n) / 4)) if pricemodel == "pkg" else None
    minimum = draw(st.none() | rates)
    pm = PriceModel(pricemodel, minimum=minimum, block_size=block, tiers=tiers)
    validate_pricemodel(pm)
    return pm


@SETTINGS
@given(amount=rates, flat=rates, start=st.sampled_from([D(0), D(1)]), q=quantities)
def test_tiered_and_volume_agree_with_one_tier(amount, flat, start, q):
    tiers = (Tier(start, None, amount, flat),)
    tiered, volume = PriceModel("tie", tiers=tiers), PriceModel("vol", tiers=tiers)
    assert price_quantity(tiered, q) == price_quantity(volume, q)


@SETTINGS
@given(pm=price_models(models=("uni", "tie", "stp", "pkg")), a=quantities, b=quantities)
def test_price_is_monotone(pm, a, b):
    low, high = sorted((a, b))
    assert price_quantity(pm, low) <= price_quantity(pm, high)
    assert usage_charge(pm, low) <= usage_charge(pm, high)


def as_billed(lines):
    return tuple(BilledCharge(l.line_item_id, l.period.start, l.kind, l.amount, l.quantity)
                 for l in lines)


def metered_line(pm):
    return LineSpec(7, 3, "Meter", "unit", "units", pm, True, SEP.start, None, None, ())


def settle(pm, quantity, invoices):
    """One billing run for September's usage, given the invoices so far (void ones are None)."""
    billed = tuple(charge for invoice in invoices if invoice for charge in invoice)
    usage = {(7, SEP.start): quantity}
    req = InvoiceRequest("USD", UTC, (metered_line(pm),), (), (SEP,), usage, billed)
    return as_billed(compute_invoice_lines(req))


@SETTINGS
@given(
    pm=price_models(),
    usage_type=st.sampled_from(USAGE_TYPES),
    records=st.lists(st.tuples(quantities, st.integers(0, 29 * 86400)), max_size=12),
    data=st.data(),
)
def test_billing_is_order_independent(pm, usage_type, records, data):
    arrival = data.draw(st.permutations(range(len(records))))
    samples = [UsageSample(records[i][0], SEP.start + timedelta(seconds=records[i][1]), seq)
               for seq, i in enumerate(arrival)]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(samples)), max_size=5)))
    invoices: list = []
    for stop in cuts + [len(samples)]:  # the last run follows the last arrival
        if invoices and data.draw(st.booleans()):
            invoices[data.draw(st.integers(0, len(invoices) - 1))] = None  # void an invoice
        invoices.append(settle(pm, aggregate(usage_type, samples[:stop]), invoices))
    billed = sum((c.amount for invoice in invoices if invoice for c in invoice), D(0))
    expected = quantize_money(usage_charge(pm, aggregate(usage_type, samples)), "USD")
    assert billed == expected


@SETTINGS
@given(
    base=rates,
    offsets=st.lists(st.integers(0, 120 * 86400), min_size=1, max_size=4),
    counts=st.lists(st.integers(0, 50), min_size=4, max_size=4),
    cancel=st.none() | st.integers(0, 120 * 86400),
    tz=st.sampled_from(ZONES),
)
def test_advance_reconciliation_is_idempotent(base, offsets, counts, cancel, tz):
    anchor = date(2015, 9, 1)
    start = period_at(anchor, "mon", 0, tz).start
    changes = tuple(QuantityChange(start + timedelta(seconds=s), D(c))
                    for s, c in zip(sorted(offsets), counts))
    cancel_at = None if cancel is None else start + timedelta(seconds=cancel)
    line = LineSpec(8, 4, "Seats", "seat", "seats", PriceModel("fla", base=base), False,
                    changes[0].effective_at, cancel_at, None, changes)
    periods = tuple(period_at(anchor, "mon", k, tz) for k in range(5))
    req = InvoiceRequest("USD", tz, (line,), periods, (), {}, ())
    lines = compute_invoice_lines(req)
    billed = as_billed(lines)
    assert compute_invoice_lines(InvoiceRequest("USD", tz, (line,), periods, (), {}, billed)) == []
    for draft in lines:  # never more than the full period at the largest quantity
        assert 0 <= draft.amount <= quantize_money(base * max(D(c) for c in counts), "USD")


@SETTINGS
@given(base=rates, quantity=st.integers(0, 100), tz=st.sampled_from(ZONES), k=st.integers(0, 40),
       paycycle=st.sampled_from(list(PAYCYCLES)))
def test_a_full_period_is_never_prorated(base, quantity, tz, k, paycycle):
    anchor = date(2016, 1, 31)
    period = period_at(anchor, paycycle, k, tz)
    line = LineSpec(8, 4, "Seats", "seat", "seats", PriceModel("fla", base=base), False,
                    period_at(anchor, paycycle, 0, tz).start, None, None,
                    (QuantityChange(period_at(anchor, paycycle, 0, tz).start, D(quantity)),))
    (draft,) = compute_invoice_lines(InvoiceRequest("USD", tz, (line,), (period,), (), {}, ()))
    assert draft.amount == quantize_money(base * quantity, "USD")


@settings(max_examples=200, deadline=None)
@given(
    paycycle=st.sampled_from(list(PAYCYCLES)),
    anchor=st.dates(date(1990, 1, 1), date(2040, 12, 31)),
    tz=st.sampled_from(ZONES),
    first=st.integers(-30, 300),
    count=st.integers(1, 4),
    fraction=st.integers(0, 999),
)
def test_periods_tile_time(paycycle, anchor, tz, first, count, fraction):
    periods = [period_at(anchor, paycycle, k, tz) for k in range(first, first + count + 1)]
    for current, following in zip(periods, periods[1:]):
        assert current.end == following.start
    for period in periods:
        assert period.start < period.end
        local = period.start.astimezone(tz)
        assert (local.hour, local.minute, local.second) == (0, 0, 0)
        inside = period.start + (period.end - period.start) * fraction // 1000
        for instant in (period.start, inside, period.end - timedelta(microseconds=1)):
            assert period_containing(anchor, paycycle, instant, tz) == period


@SETTINGS
@given(minor=st.integers(-10**15, 10**15), currency=st.sampled_from(["USD", "JPY", "BHD"]),
       micro=st.integers(0, 10**18))
def test_exact_round_trips(minor, currency, micro):
    assert to_minor(from_minor(minor, currency), currency) == minor
    assert to_micro(from_micro(micro)) == micro
    assert parse_usage_value(str(from_micro(micro))) == from_micro(micro)


# --- Reconciliation over any history (issue 11): the service's period choice, simulated. ---

ANCHOR = date(2015, 9, 1)
MONTH = [period_at(ANCHOR, "mon", k, UTC) for k in range(16)]
HORIZON = 14  # the final run at MONTH[14].start bills usage up to MONTH[13]
moments = st.tuples(st.integers(0, 12), st.sampled_from([0, 0, 11]))  # month, day (0: boundary)
history_ops = st.lists(st.one_of(
    st.tuples(st.just("usage"), st.integers(0, 2), moments, st.integers(0, 5000)),
    st.tuples(st.just("run"), moments),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("quantity"), st.integers(0, 4), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("add"), st.booleans()),
    st.tuples(st.just("price"), st.integers(1, 9)),
    # A suspension: starts j months after the last invoiced boundary (+ days, + hours; 0, 0:
    # exactly on a boundary), ends never, on a later boundary, or days (and hours) later.
    st.tuples(st.just("pause"), st.integers(0, 2), st.sampled_from([0, 0, 11]),
              st.sampled_from([0, 0, 15]),
              st.none() | st.tuples(st.just("boundary"), st.integers(1, 3))
              | st.tuples(st.just("days"), st.integers(1, 70), st.sampled_from([0, 9]))),
    # Unsuspend d days (+ hours) after the last invoiced boundary (maybe withdrawing it).
    st.tuples(st.just("resume"), st.sampled_from([0, 0, 11, 40]), st.sampled_from([0, 0, 9])),
), max_size=25)


def _moment(month_day):
    return MONTH[month_day[0]].start + timedelta(days=month_day[1])


def _models_of(k):
    """The catalog's models after k price changes: metered (with a minimum), seats, yearly."""
    return (PriceModel("tie", base=D(k), minimum=D(k) / 2, tiers=(
                Tier(D(0), D(10), D(k) / 10), Tier(D(10), None, D(k) / 100))),
            PriceModel("fla", base=D(8 * k)),
            PriceModel("fla", base=D(100 * k), paycycle="yrl"))


class Simulation:
    """The billing service's choice of periods, over pure data (see portal.services.billing)."""

    def __init__(self, pm):
        start = MONTH[0].start
        self.models = _models_of(1)
        self.lines = [LineSpec(1, 1, "Meter", "unit", "units", pm, True, start, None, None, ()),
                      LineSpec(2, 2, "Seats", "seat", "seats", self.models[1], False, start, None,
                               None, (QuantityChange(start, D(1)),)),
                      LineSpec(3, 3, "Yearly", "plan", "plans", self.models[2], False, start, None,
                               None, (), (ANCHOR, "yrl"))]
        self.usage, self.log, self.invoices = [], [], []
        self.next_index, self.now = 0, start
        self.pauses = ()  # the package's suspensions: every line has them as its `pauses`

    def priced(self):
        """Lines with the catalog's current models (the metered line keeps its own shape)."""
        return [replace(line, pricing=replace(self.models[line.item_id - 1],
                                              minimum=line.pricing.minimum if line.is_metered
                                              else None))
                if line.item_id > 1 else line for line in self.lines]

    def billed_through(self):
        return MONTH[self.next_index - 1].start if self.next_index else MONTH[0].start

    def suspend(self, pauses):
        """The package's suspensions become `pauses`: every line is rebuilt with them."""
        self.pauses = tuple(sorted(pauses, key=lambda pause: pause[0]))
        self.lines = [replace(line, pauses=self.pauses) for line in self.lines]

    def aggregates(self, lines, periods, instant):
        totals = {}
        for line in lines:
            for period in line_usage_periods(line, periods, instant, UTC):
                end = period.end if line.cancel_at is None else min(period.end, line.cancel_at)
                totals[(line.line_item_id, period.start)] = sum(
                    (v for i, at, v in self.usage if i == line.line_item_id
                     and period.start <= at < end), D(0))
        return totals

    def run(self, now):
        while self.next_index < len(MONTH) and MONTH[self.next_index].start <= now:
            current = MONTH[self.next_index]
            instant = current.start
            changed = [period_containing(ANCHOR, "mon", at, UTC) for at in self.log if at < instant]
            self.log = [at for at in self.log if at >= instant]
            lines = self.priced()
            history = [period_containing(ANCHOR, "mon", i, UTC) for line in lines
                       for i in history_instants(line)]
            lifetime = [period_containing(ANCHOR, "mon", i, UTC) for line in lines
                        for i in lifetime_instants(line)]
            advance = {p.start: p for p in changed + history + [current] if p.index <= current.index}
            ended = MONTH[max(0, current.index - 1):current.index]
            usage = {p.start: p for p in changed + lifetime + ended if p.index < current.index}
            billed = tuple(c for invoice in self.invoices if invoice for c in invoice)
            req = InvoiceRequest("USD", UTC, tuple(lines), tuple(advance.values()),
                                 tuple(usage.values()),
                                 self.aggregates(lines, usage.values(), instant), billed, instant)
            self.invoices.append(tuple(
                BilledCharge(d.line_item_id, d.period.start, d.kind, d.amount, d.quantity, d.pricing)
                for d in compute_invoice_lines(req)))
            self.next_index += 1

    def apply(self, op):
        kind = op[0]
        change_at = self.billed_through() if op[-1] is True else self.now + timedelta(days=3)
        if kind == "usage":
            self.usage.append((op[1] + 1, _moment(op[2]), D(op[3]) / 100))
            self.log.append(_moment(op[2]))
        elif kind == "run":
            self.now = max(self.now, _moment(op[1]))
            self.run(self.now)
        elif kind == "void" and self.invoices:
            k = op[1] % len(self.invoices)
            self.log += [c.period_start for c in self.invoices[k] or ()]
            self.invoices[k] = None
        elif kind == "quantity":
            line = self.lines[1]
            if line.cancel_at is None:
                changes = tuple(c for c in line.quantities if c.effective_at != change_at)
                self.lines[1] = replace(line, quantities=tuple(sorted(
                    changes + (QuantityChange(change_at, D(op[1])),), key=lambda c: c.effective_at)))
        elif kind == "cancel":
            line = self.lines[op[1] % len(self.lines)]
            if line.cancel_at is None and change_at >= line.subscribe_at:
                self.lines[self.lines.index(line)] = replace(line, cancel_at=change_at)
        elif kind == "add":
            self.lines.append(LineSpec(len(self.lines) + 1, 2, "Seats", "seat", "seats",
                                       self.models[1], False, change_at, None, None,
                                       (QuantityChange(change_at, D(2)),), pauses=self.pauses))
        elif kind == "price":
            self.models = _models_of(op[1])
        elif kind == "pause":
            self.pause(*op[1:])
        elif kind == "resume":
            self.resume(*op[1:])

    def pause(self, months, days, hours, until):
        """Suspend from a start not before the last invoiced boundary (as the service
        requires), so possibly inside the already billed current period."""
        first = max(self.next_index - 1, 0) + months
        start = MONTH[first].start + timedelta(days=days, hours=hours)
        if until is None:
            end = None
        elif until[0] == "boundary":
            end = MONTH[min(first + until[1], len(MONTH) - 1)].start
        else:
            end = start + timedelta(days=until[1], hours=until[2])
        clash = any((e is None or e > start) and (end is None or s < end) for s, e in self.pauses)
        if not clash:  # the service refuses overlapping suspensions
            self.suspend(self.pauses + ((start, end),))

    def resume(self, days, hours):
        """Unsuspend at an instant not before the last invoiced boundary, as the service
        does: the suspension in force now (else the next scheduled one) ends then, or is
        withdrawn if it would end before it starts; the instants leaving the history are
        logged, so the next invoice reconciles their periods again."""
        at = self.billed_through() + timedelta(days=days, hours=hours)
        pending = sorted((p for p in self.pauses if p[1] is None or p[1] > self.now),
                         key=lambda p: p[0])
        if not pending:
            return
        start, end = pending[0]
        others = tuple(p for p in self.pauses if p != pending[0])
        if at <= start:
            self.log += [i for i in (start, end) if i is not None]
            self.suspend(others)
        else:
            self.log += [end] if end is not None else []
            self.suspend(others + ((start, at),))

    def first_models(self):
        models = {}
        for invoice in self.invoices:
            for c in invoice or ():
                models.setdefault((c.line_item_id, c.period_start), c.pricing)
        return models


def _final_targets(sim):
    """Target per (line, period, kind) from the final history, each period priced with the
    model of its first non-void billing (else the current one)."""
    models, targets = sim.first_models(), {}
    for line in sim.priced():
        for period in MONTH[:HORIZON + 1]:
            own = line_advance_periods(line, [period], UTC)
            ended = period.index < HORIZON
            used = line_usage_periods(line, [period], MONTH[HORIZON].start, UTC) if ended else []
            for p in {q.start: q for q in own + used}.values():
                model = models.get((line.line_item_id, p.start))
                marker = () if model is None else (
                    BilledCharge(line.line_item_id, p.start, "model", D(0), D(0), model),)
                end = MONTH[HORIZON].start
                req = InvoiceRequest("USD", UTC, (line,), (p,) if p in own else (),
                                     (p,) if p in used else (), sim.aggregates([line], [p], end),
                                     marker, end)
                for draft in compute_invoice_lines(req):
                    targets[(line.line_item_id, p.start, draft.kind)] = draft.amount
    return targets


@settings(max_examples=40, deadline=None)
@given(pm=price_models(), ops=history_ops)
def test_billed_equals_target_after_any_history(pm, ops):
    sim = Simulation(pm)
    for op in ops:
        sim.apply(op)
    sim.run(MONTH[HORIZON].start)  # the final run, after the last change
    billed, models = {}, {}
    for invoice in sim.invoices:
        for c in invoice or ():
            key = (c.line_item_id, c.period_start, c.kind)
            billed[key] = billed.get(key, D(0)) + c.amount
            models.setdefault(key[:2], set()).add(c.pricing)
    targets = _final_targets(sim)
    for key in set(billed) | set(targets):
        assert billed.get(key, D(0)) == targets.get(key, D(0)), key
    assert all(len(used) == 1 for used in models.values())  # one model per billed period
    _check_whole_period_pauses(sim, pm, targets)


def _wholly_paused(pauses, start, end):
    """Whether one suspension covers [start, end) (whole UTC days here)."""
    return any(s <= start and (e is None or e >= end) for s, e in pauses)


def _check_whole_period_pauses(sim, pm, targets):
    """A line suspended for a whole period has no in-advance charge for it; its usage is
    billed all the same, at its price and without the (wholly prorated out) minimum."""
    end = MONTH[HORIZON].start
    for line in sim.priced():
        for period in line_advance_periods(line, MONTH[:HORIZON + 1], UTC):
            if _wholly_paused(sim.pauses, period.start, period.end):
                assert targets.get((line.line_item_id, period.start, "base"), D(0)) == 0
                assert targets.get((line.line_item_id, period.start, "quantity"), D(0)) == 0
        if line.is_metered:
            for period in MONTH[:HORIZON]:
                if _wholly_paused(sim.pauses, period.start, period.end):
                    quantity = sim.aggregates([line], [period], end)[(line.line_item_id,
                                                                     period.start)]
                    usage = targets.get((line.line_item_id, period.start, "usage"), D(0))
                    assert usage == quantize_money(price_quantity(pm, quantity), "USD")
