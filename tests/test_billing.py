"""The pure installment arithmetic: due dates, splits, statuses, late fees and the account figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot import billing
from bot.billing import Account, Bill, BillStatus, Order, due_date, late_fee, round_fen, split
from knowledge.operator import LateFeeRule
from knowledge.text import Localized

RULE = LateFeeRule(daily_rate=Decimal("0.0005"), grace_days=0, cap_rate=Decimal("0.10"))


def make_order(
    order_no: str = "O-1",
    price_fen: int = 120000,
    term: int = 12,
    rate: str = "0",
    first_due: date = date(2025, 1, 15),
    paid: int = 0,
    early_rate: str = "0.03",
) -> Order:
    """An order billed by ``split`` with periods 1..paid paid on their due dates."""
    bills = tuple(
        Bill(
            number=period.number,
            due_date=due_date(first_due, period.number),
            principal_fen=period.principal_fen,
            fee_fen=period.fee_fen,
            amount_due_fen=period.amount_fen,
            amount_paid_fen=period.amount_fen if period.number <= paid else 0,
            paid_at=datetime(2025, 1, 1, tzinfo=UTC) if period.number <= paid else None,
        )
        for period in split(price_fen, term, Decimal(rate))
    )
    return Order(
        order_no=order_no,
        product="小米15",
        price_fen=price_fen,
        provider_id="provider_a",
        provider_name=Localized(zh="示例消费金融 A", en="Sample Consumer Finance A"),
        term=term,
        fee_rate_per_period=Decimal(rate),
        interest_free=rate == "0",
        early_repayment_fee_rate=Decimal(early_rate),
        first_due_date=first_due,
        bills=bills,
    )


def account(*orders: Order) -> Account:
    return Account(customer_id=1, customer_ref="C-1", name="测试", orders=orders)


# --- due dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_due", "number", "expected"),
    [
        (date(2025, 1, 15), 1, date(2025, 1, 15)),
        (date(2025, 11, 15), 3, date(2026, 1, 15)),  # across the year end
        (date(2025, 1, 31), 2, date(2025, 2, 28)),  # clamped to February's end
        (date(2025, 1, 31), 3, date(2025, 3, 31)),  # back to the 31st, not stuck on the 28th
        (date(2025, 1, 31), 4, date(2025, 4, 30)),
        (date(2023, 12, 31), 3, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 2, date(2024, 3, 29)),
        (date(2024, 2, 29), 13, date(2025, 2, 28)),  # no 29 February in 2025
        (date(2024, 2, 29), 49, date(2028, 2, 29)),
        (date(2025, 8, 30), 7, date(2026, 2, 28)),
    ],
)
def test_due_date_keeps_the_first_due_day_clamped_to_month_end(first_due: date, number: int, expected: date) -> None:
    assert due_date(first_due, number) == expected


def test_due_date_periods_start_at_one() -> None:
    with pytest.raises(ValueError):
        due_date(date(2025, 1, 31), 0)


# --- splitting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("32392.8", 32393), ("0", 0)],
)
def test_round_fen_is_half_up(amount: str, expected: int) -> None:
    assert round_fen(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("price_fen", "term", "rate", "first", "rest"),
    [
        (139900, 6, "0", (23320, 0), (23316, 0)),  # 139900 = 5 × 23316 + 23320
        (449900, 12, "0.0060", (37499, 2704), (37491, 2699)),  # fee 449900 × 0.072 = 32392.8 → 32393
        (120000, 12, "0.0060", (10000, 720), (10000, 720)),  # divides evenly
        (100, 3, "0.0055", (34, 2), (33, 0)),  # fee 1.65 → 2 fen, all in period 1
        (99999, 24, "0.0060", (4181, 600), (4166, 600)),  # fee 14399.856 → 14400
    ],
)
def test_split_puts_the_remainder_in_period_one(
    price_fen: int, term: int, rate: str, first: tuple[int, int], rest: tuple[int, int]
) -> None:
    periods = split(price_fen, term, Decimal(rate))
    assert [p.number for p in periods] == list(range(1, term + 1))
    assert (periods[0].principal_fen, periods[0].fee_fen) == first
    assert {(p.principal_fen, p.fee_fen) for p in periods[1:]} == {rest}


@pytest.mark.parametrize("term", [1, 3, 6, 7, 12, 24, 36])
@pytest.mark.parametrize("rate", ["0", "0.0050", "0.0055", "0.0060", "0.0123"])
def test_split_sums_exactly(term: int, rate: str) -> None:
    for price_fen in (1, 99, 100, 139900, 299900, 449900, 1234567, 99999999):
        periods = split(price_fen, term, Decimal(rate))
        assert sum(p.principal_fen for p in periods) == price_fen
        assert sum(p.fee_fen for p in periods) == round_fen(Decimal(price_fen) * Decimal(rate) * term)
        assert max(p.amount_fen for p in periods[1:] or periods) <= periods[0].amount_fen


@pytest.mark.parametrize(("price_fen", "term", "rate"), [(100, 0, "0"), (-1, 3, "0"), (100, 3, "-0.01")])
def test_split_rejects_nonsense(price_fen: int, term: int, rate: str) -> None:
    with pytest.raises(ValueError):
        split(price_fen, term, Decimal(rate))


# --- status ---------------------------------------------------------------------------------------

TODAY = date(2025, 3, 10)
PAID_AT = datetime(2025, 3, 14, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "paid_fen", "paid_at", "status"),
    [
        (date(2025, 3, 20), 0, None, BillStatus.UPCOMING),
        (date(2025, 3, 10), 0, None, BillStatus.DUE_TODAY),
        (date(2025, 3, 10), 500, PAID_AT, BillStatus.DUE_TODAY),  # partly paid is not paid
        (date(2025, 3, 10), 1000, PAID_AT, BillStatus.PAID),
        (date(2025, 3, 9), 0, None, BillStatus.OVERDUE),
        (date(2025, 2, 10), 999, PAID_AT, BillStatus.OVERDUE),
        (date(2025, 2, 10), 1000, PAID_AT, BillStatus.PAID),  # paid late is paid, not overdue
        (date(2025, 4, 10), 1000, PAID_AT, BillStatus.PAID),  # paid in advance
    ],
)
def test_status_is_derived_from_payments_and_today(due: date, paid_fen: int, paid_at: datetime | None, status: BillStatus) -> None:
    bill = Bill(1, due, principal_fen=900, fee_fen=100, amount_due_fen=1000, amount_paid_fen=paid_fen, paid_at=paid_at)
    assert bill.status(TODAY) is status


@pytest.mark.parametrize(("paid", "fee_left", "principal_left"), [(0, 100, 900), (60, 40, 900), (100, 0, 900), (400, 0, 600), (1000, 0, 0)])
def test_partial_payments_cover_the_fee_first(paid: int, fee_left: int, principal_left: int) -> None:
    bill = Bill(1, TODAY, principal_fen=900, fee_fen=100, amount_due_fen=1000, amount_paid_fen=paid, paid_at=None)
    assert (bill.unpaid_fee_fen, bill.unpaid_principal_fen) == (fee_left, principal_left)


# --- late fees ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "days", "rule", "expected"),
    [
        (100000, 0, RULE, 0),
        (100000, 1, RULE, 50),
        (100000, 5, RULE, 250),
        (100000, 199, RULE, 9950),
        (100000, 200, RULE, 10000),  # reaches the cap
        (100000, 365, RULE, 10000),  # capped at 10 % of the overdue amount
        (41667, 1, RULE, 21),  # 20.8335 fen, half-up
        (41670, 1, RULE, 21),  # 20.835 → 21
        (100000, 2, LateFeeRule(Decimal("0.0005"), 3, Decimal("0.10")), 0),  # within the grace period
        (100000, 5, LateFeeRule(Decimal("0.0005"), 3, Decimal("0.10")), 100),  # 2 days after grace
        (3333, 400, LateFeeRule(Decimal("0.0005"), 0, Decimal("0.15")), 500),  # cap 499.95 → 500
    ],
)
def test_late_fee(amount: int, days: int, rule: LateFeeRule, expected: int) -> None:
    assert late_fee(amount, days, rule) == expected


# --- figures --------------------------------------------------------------------------------------


def test_next_due_combines_orders_due_the_same_day() -> None:
    phone = make_order("PHONE", 139900, 6, first_due=date(2025, 1, 12), paid=2)  # period 3 due 12 Mar
    robot = make_order("ROBOT", 299900, 12, "0.0060", first_due=date(2025, 3, 12))  # period 1 due 12 Mar
    tv = make_order("TV", 499900, 12, "0.0055", first_due=date(2025, 3, 20))
    result = billing.next_due(account(phone, robot, tv), TODAY)
    assert result is not None
    assert (result.due_date, result.days_left) == (date(2025, 3, 12), 2)
    assert [(item.order.order_no, item.bill.number) for item in result.items] == [("PHONE", 3), ("ROBOT", 1)]
    assert result.amount_fen == 23316 + (24999 + 1804)  # robot fee 21592.8 → 21593 = 11 × 1799 + 1804


def test_next_due_today_and_skipping_overdue_bills() -> None:
    order = make_order(first_due=date(2025, 1, 10), paid=1)  # 10 Feb overdue, 10 Mar due today
    result = billing.next_due(account(order), TODAY)
    assert result is not None
    assert (result.due_date, result.days_left, [item.bill.number for item in result.items]) == (TODAY, 0, [3])


def test_next_due_is_none_when_everything_is_paid() -> None:
    assert billing.next_due(account(make_order(term=3, paid=3)), TODAY) is None
    assert billing.next_due(account(), TODAY) is None


def test_progress_and_outstanding() -> None:
    order = make_order("O-1", 120000, 12, "0.0060", first_due=date(2025, 1, 10), paid=1)  # 10000 + 720 a period
    paid_off = make_order("O-2", 30000, 3, paid=3)
    assert str(billing.progress(order)) == "1/12"
    assert str(billing.progress(paid_off)) == "3/3"
    result = billing.outstanding(account(order, paid_off), TODAY)
    assert [item.order.order_no for item in result.orders] == ["O-1"]
    assert (result.principal_fen, result.fee_fen, result.total_fen) == (110000, 7920, 117920)
    assert result.periods_left == 11
    assert result.overdue_fen == 10720  # 10 Feb; 10 Mar is due today, not overdue


def test_overdue_status_caps_each_late_fee() -> None:
    old = make_order("OLD", 30000, 3, first_due=date(2024, 7, 3))  # 3 × 10000, all unpaid
    late_payer = make_order("LATE", 30000, 3, first_due=date(2024, 12, 1), paid=3)
    result = billing.overdue_status(account(late_payer, old), TODAY, RULE)
    assert [(item.bill.number, item.days_overdue, item.late_fee_fen) for item in result.bills] == [
        (1, 250, 1000),  # 1250 capped at 10 % of 10000
        (2, 219, 1000),  # 1095 capped
        (3, 188, 940),
    ]
    assert (result.is_overdue, result.days_overdue, result.amount_fen, result.late_fee_fen) == (True, 250, 30000, 2940)


def test_not_overdue() -> None:
    result = billing.overdue_status(account(make_order(first_due=date(2025, 3, 10))), TODAY, RULE)
    assert (result.is_overdue, result.days_overdue, result.amount_fen, result.late_fee_fen) == (False, 0, 0, 0)


def test_payoff_with_an_overdue_and_a_due_today_period() -> None:
    order = make_order("O-1", 120000, 12, "0.0060", first_due=date(2025, 1, 10), paid=1)
    quote = billing.payoff_quote(account(order), TODAY, RULE)
    (item,) = quote.orders
    assert item.principal_fen == 110000  # periods 2–12
    assert item.fee_fen == 1440  # period 2 (overdue) and period 3 (due today)
    assert item.waived_fee_fen == 6480  # periods 4–12
    assert (item.early_principal_fen, item.early_fee_fen) == (90000, 2700)  # 3 % of periods 4–12
    assert item.late_fee_fen == 150  # 10720 × 0.05 % × 28 days = 150.08
    assert quote.total_fen == 110000 + 1440 + 2700 + 150 == 114290


def test_payoff_between_due_dates_charges_the_current_period_fee() -> None:
    order = make_order("O-1", 120000, 12, "0.0060", first_due=date(2025, 1, 10), paid=2)
    quote = billing.payoff_quote(account(order), date(2025, 3, 5), RULE)
    assert (quote.principal_fen, quote.fee_fen, quote.waived_fee_fen) == (100000, 720, 6480)
    assert (quote.early_fee_fen, quote.late_fee_fen, quote.total_fen) == (3000, 0, 103720)


def test_payoff_sums_orders_and_skips_paid_off_ones() -> None:
    free = make_order("FREE", 139900, 6, first_due=date(2025, 3, 12), paid=0, early_rate="0")
    done = make_order("DONE", 30000, 3, paid=3)
    quote = billing.payoff_quote(account(free, done), TODAY, RULE)
    assert [item.order.order_no for item in quote.orders] == ["FREE"]
    assert (quote.principal_fen, quote.fee_fen, quote.early_fee_fen, quote.total_fen) == (139900, 0, 0, 139900)
    assert billing.payoff_quote(account(done), TODAY, RULE).orders == ()
