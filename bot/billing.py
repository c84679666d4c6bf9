"""The installment arithmetic and the figures account answers are built from. Pure: no database, no I/O.

Conventions a reader must know:

* **Money** is an ``int`` number of fen (1 yuan = 100 fen). Rates are ``Decimal`` fractions. Every
  product of a rate and an amount is computed exactly and rounded once, half-up, to the fen.
* **Splitting** (``split``): the total fee is ``price × rate per period × term`` rounded once; principal
  and fee are each divided evenly and **period 1 carries the remainder** of both, so every later period
  is the same amount and the periods always sum exactly to the price and to the total fee.
* **Due dates** (``due_date``): period *n* falls due *n − 1* months after the first due date, on the same
  day of the month, clamped to the month's last day. The day always comes from the first due date, so a
  schedule starting on 31 January runs 31 Jan → 28 (or 29) Feb → 31 Mar → 30 Apr.
* **Status** (``BillStatus``) is derived from the amounts, the due date and *today* (a date in
  Asia/Shanghai, see ``bot.clock``), never stored. A bill paid in full is ``paid`` however late it was
  paid; a partly paid bill is still upcoming, due today or overdue.
* **Partial payments** pay the period's fee first, then its principal.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from knowledge.operator import LateFeeRule
from knowledge.text import Localized


def round_fen(amount: Decimal) -> int:
    """Round an exact amount of fen half-up (0.5 fen → 1 fen), as fees are rounded in China."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def due_date(first_due: date, number: int) -> date:
    """The due date of period ``number`` (1-based); see the module docstring for month ends."""
    if number < 1:
        raise ValueError(f"period numbers start at 1, got {number}")
    months = first_due.month - 1 + number - 1
    year, month = first_due.year + months // 12, months % 12 + 1
    return date(year, month, min(first_due.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """One period of a split: what the customer owes for it, before any payment."""

    number: int
    principal_fen: int
    fee_fen: int

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.fee_fen


def split(price_fen: int, term: int, fee_rate_per_period: Decimal) -> list[Period]:
    """Split a price over ``term`` periods; period 1 carries the rounding remainder (module docstring).

    >>> [p.amount_fen for p in split(10000, 3, Decimal("0.006"))]
    [3394, 3393, 3393]
    """
    if term < 1:
        raise ValueError(f"term must be at least 1, got {term}")
    if price_fen < 0 or fee_rate_per_period < 0:
        raise ValueError("price and fee rate must not be negative")
    total_fee = round_fen(Decimal(price_fen) * fee_rate_per_period * term)
    principal, principal_rest = divmod(price_fen, term)
    fee, fee_rest = divmod(total_fee, term)
    return [
        Period(number, principal + (principal_rest if number == 1 else 0), fee + (fee_rest if number == 1 else 0))
        for number in range(1, term + 1)
    ]


class BillStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PAID = "paid"


@dataclass(frozen=True)
class Bill:
    number: int
    due_date: date
    principal_fen: int
    fee_fen: int
    amount_due_fen: int
    amount_paid_fen: int
    paid_at: datetime | None

    @property
    def is_paid(self) -> bool:
        return self.amount_paid_fen >= self.amount_due_fen

    @property
    def unpaid_fen(self) -> int:
        return max(0, self.amount_due_fen - self.amount_paid_fen)

    @property
    def unpaid_fee_fen(self) -> int:
        """Payments cover the fee first, so the fee is the last thing still owed only if nothing was paid."""
        return max(0, self.fee_fen - self.amount_paid_fen)

    @property
    def unpaid_principal_fen(self) -> int:
        return self.unpaid_fen - self.unpaid_fee_fen

    def status(self, today: date) -> BillStatus:
        if self.is_paid:
            return BillStatus.PAID
        if self.due_date == today:
            return BillStatus.DUE_TODAY
        return BillStatus.OVERDUE if self.due_date < today else BillStatus.UPCOMING


@dataclass(frozen=True)
class Order:
    """An installment order as the customer sees it; ``bills`` are ordered by period number."""

    order_no: str
    product: str
    price_fen: int
    provider_id: str
    provider_name: Localized
    term: int
    fee_rate_per_period: Decimal
    interest_free: bool
    early_repayment_fee_rate: Decimal
    first_due_date: date
    bills: tuple[Bill, ...]

    @property
    def unpaid_bills(self) -> tuple[Bill, ...]:
        return tuple(bill for bill in self.bills if not bill.is_paid)

    @property
    def is_paid_off(self) -> bool:
        return not self.unpaid_bills


@dataclass(frozen=True)
class Account:
    customer_id: int
    customer_ref: str
    name: str
    orders: tuple[Order, ...]

    def unpaid(self) -> Iterator[tuple[Order, Bill]]:
        for order in self.orders:
            for bill in order.unpaid_bills:
                yield order, bill

    @property
    def is_paid_off(self) -> bool:
        return all(order.is_paid_off for order in self.orders)


# --- next due ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    order: Order
    bill: Bill

    @property
    def amount_fen(self) -> int:
        return self.bill.unpaid_fen


@dataclass(frozen=True)
class NextDue:
    """The next due date and everything falling due on it, across orders (``items``)."""

    due_date: date
    days_left: int
    items: tuple[DueItem, ...]

    @property
    def amount_fen(self) -> int:
        return sum(item.amount_fen for item in self.items)


def next_due(account: Account, today: date) -> NextDue | None:
    """The earliest unpaid bill due today or later, combined with any other due the same day.

    Overdue bills are not "next": ``overdue_status`` reports them. ``None`` when nothing is left
    to pay on or after today.
    """
    pending = [(order, bill) for order, bill in account.unpaid() if bill.due_date >= today]
    if not pending:
        return None
    when = min(bill.due_date for _, bill in pending)
    items = tuple(DueItem(order, bill) for order, bill in pending if bill.due_date == when)
    return NextDue(due_date=when, days_left=(when - today).days, items=items)


# --- progress and outstanding -------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    paid: int
    total: int

    def __str__(self) -> str:
        return f"{self.paid}/{self.total}"


def progress(order: Order) -> Progress:
    """How many of the order's periods are paid in full ("3/12")."""
    return Progress(paid=sum(bill.is_paid for bill in order.bills), total=len(order.bills))


@dataclass(frozen=True)
class OrderOutstanding:
    order: Order
    principal_fen: int
    fee_fen: int
    periods_left: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.fee_fen


@dataclass(frozen=True)
class Outstanding:
    """What is left to pay on the regular schedule (principal plus scheduled fees, no late fees)."""

    orders: tuple[OrderOutstanding, ...]
    overdue_fen: int

    @property
    def principal_fen(self) -> int:
        return sum(item.principal_fen for item in self.orders)

    @property
    def fee_fen(self) -> int:
        return sum(item.fee_fen for item in self.orders)

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.fee_fen

    @property
    def periods_left(self) -> int:
        return sum(item.periods_left for item in self.orders)


def outstanding(account: Account, today: date) -> Outstanding:
    """Per order with anything unpaid; ``overdue_fen`` is the part already past its due date."""
    orders = tuple(
        OrderOutstanding(
            order=order,
            principal_fen=sum(bill.unpaid_principal_fen for bill in order.unpaid_bills),
            fee_fen=sum(bill.unpaid_fee_fen for bill in order.unpaid_bills),
            periods_left=len(order.unpaid_bills),
        )
        for order in account.orders
        if not order.is_paid_off
    )
    overdue = sum(bill.unpaid_fen for _, bill in account.unpaid() if bill.due_date < today)
    return Outstanding(orders=orders, overdue_fen=overdue)


# --- overdue and late fees ----------------------------------------------------------------------


def late_fee(amount_fen: int, days_overdue: int, rule: LateFeeRule) -> int:
    """``daily_rate × amount × days after the grace period``, at most ``cap_rate × amount``; rounded once."""
    days = max(0, days_overdue - rule.grace_days)
    fee = min(rule.daily_rate * amount_fen * days, rule.cap_rate * amount_fen)
    return round_fen(fee)


@dataclass(frozen=True)
class OverdueBill:
    order: Order
    bill: Bill
    days_overdue: int
    late_fee_fen: int

    @property
    def amount_fen(self) -> int:
        return self.bill.unpaid_fen


@dataclass(frozen=True)
class OverdueStatus:
    """Unpaid bills past their due date, oldest first, each with its estimated late fee."""

    bills: tuple[OverdueBill, ...]

    @property
    def is_overdue(self) -> bool:
        return bool(self.bills)

    @property
    def days_overdue(self) -> int:
        """Days since the oldest overdue due date (0 when nothing is overdue)."""
        return max((item.days_overdue for item in self.bills), default=0)

    @property
    def amount_fen(self) -> int:
        return sum(item.amount_fen for item in self.bills)

    @property
    def late_fee_fen(self) -> int:
        return sum(item.late_fee_fen for item in self.bills)


def _overdue_bills(order: Order, today: date, rule: LateFeeRule) -> list[OverdueBill]:
    overdue = []
    for bill in order.unpaid_bills:
        days = (today - bill.due_date).days
        if days > 0:
            overdue.append(OverdueBill(order, bill, days, late_fee(bill.unpaid_fen, days, rule)))
    return overdue


def overdue_status(account: Account, today: date, rule: LateFeeRule) -> OverdueStatus:
    """Late fees are estimated per bill by the operator's rule; they are not stored anywhere."""
    bills = [item for order in account.orders for item in _overdue_bills(order, today, rule)]
    bills.sort(key=lambda item: (item.bill.due_date, item.order.order_no))
    return OverdueStatus(bills=tuple(bills))


# --- payoff quote -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPayoff:
    """What settling one order today costs, and why.

    * ``principal_fen`` — all unpaid principal.
    * ``fee_fen`` — unpaid fees of the overdue periods and of the **current period**: the earliest
      unpaid period due today or later (its month has begun, so its fee is owed). The fees of all
      later periods are not charged (``waived_fee_fen``).
    * ``early_fee_fen`` — the plan's early-repayment rate × ``early_principal_fen``, the principal of
      periods due after today (overdue and due-today principal is not being repaid early).
    * ``late_fee_fen`` — late fees of the overdue periods by the operator's rule.
    """

    order: Order
    principal_fen: int
    fee_fen: int
    waived_fee_fen: int
    early_principal_fen: int
    early_fee_fen: int
    late_fee_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.fee_fen + self.early_fee_fen + self.late_fee_fen


@dataclass(frozen=True)
class PayoffQuote:
    orders: tuple[OrderPayoff, ...]

    @property
    def principal_fen(self) -> int:
        return sum(item.principal_fen for item in self.orders)

    @property
    def fee_fen(self) -> int:
        return sum(item.fee_fen for item in self.orders)

    @property
    def waived_fee_fen(self) -> int:
        return sum(item.waived_fee_fen for item in self.orders)

    @property
    def early_fee_fen(self) -> int:
        return sum(item.early_fee_fen for item in self.orders)

    @property
    def late_fee_fen(self) -> int:
        return sum(item.late_fee_fen for item in self.orders)

    @property
    def total_fen(self) -> int:
        return sum(item.total_fen for item in self.orders)


def order_payoff(order: Order, today: date, rule: LateFeeRule) -> OrderPayoff:
    """The payoff of one order; see ``OrderPayoff`` for what is and is not charged."""
    unpaid = order.unpaid_bills
    current = next((bill.number for bill in unpaid if bill.due_date >= today), None)
    charged = {bill.number for bill in unpaid if bill.due_date < today or bill.number == current}
    early_principal = sum(bill.unpaid_principal_fen for bill in unpaid if bill.due_date > today)
    return OrderPayoff(
        order=order,
        principal_fen=sum(bill.unpaid_principal_fen for bill in unpaid),
        fee_fen=sum(bill.unpaid_fee_fen for bill in unpaid if bill.number in charged),
        waived_fee_fen=sum(bill.unpaid_fee_fen for bill in unpaid if bill.number not in charged),
        early_principal_fen=early_principal,
        early_fee_fen=round_fen(order.early_repayment_fee_rate * early_principal),
        late_fee_fen=sum(item.late_fee_fen for item in _overdue_bills(order, today, rule)),
    )


def payoff_quote(account: Account, today: date, rule: LateFeeRule) -> PayoffQuote:
    """Settling every order that still has unpaid periods, today."""
    return PayoffQuote(tuple(order_payoff(order, today, rule) for order in account.orders if not order.is_paid_off))
