"""Demo customers whose bills are always "live": due dates are placed relative to ``today``.

Four customers, one per situation the assistant must handle:

==============  ======  ===================================================================
ref             name    situation on ``today``
==============  ======  ===================================================================
DEMO-ONTIME     张伟     小米15 on 12 periods, 3 paid, next bill due in 14 days
DEMO-2DAYS      李娜     two orders (Redmi Note, 扫地机器人) both due in 2 days — combined
DEMO-OVERDUE    王芳     小米电视 on 12 periods, 5 paid (one of them late), next 5 days overdue
DEMO-PAIDOFF    刘洋     小米平板 on 3 periods, all paid
==============  ======  ===================================================================

The terminal chat acts as ``DEMO_CUSTOMER_REF`` (DEMO-2DAYS): a payment two days away, spread over
two orders, shows the most of the account answers.

Plans come from the operator data: each demo order asks for a term (and whether it should carry a
fee) and takes the first provider offering it, else the first provider's longest plan. Exact day
offsets are kept by paying fewer periods when a month end makes the exact date impossible (a
schedule cannot put a period on 30 March if it started in February); the due-in-2-days and
overdue situations are always exact.

``seed_demo`` is idempotent: it makes the demo customers' data exactly the situation for ``today``,
so running it twice on a day changes nothing, while running it on a later day moves the demo
forward. Other customers are never touched.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import billing
from bot.clock import SHOP_ZONE
from bot.ledger import sync_providers
from bot.models import Bill, Customer, InstallmentOrder, Plan
from knowledge.operator import OperatorData

DEMO_CUSTOMER_REF = "DEMO-2DAYS"


class DemoSituation(StrEnum):
    ON_TIME = "on_time"
    DUE_IN_TWO_DAYS = "due_in_two_days"
    OVERDUE = "overdue"
    PAID_OFF = "paid_off"


@dataclass(frozen=True)
class DemoCustomer:
    ref: str
    name: str
    customer_id: int
    situation: DemoSituation


@dataclass(frozen=True)
class _DemoOrder:
    order_no: str
    product: str
    price_fen: int
    term: int
    with_fee: bool
    periods_paid: int
    """Periods paid before the one falling due on ``today + next_due_in_days`` (all, when paid off)."""
    next_due_in_days: int
    paid_late_days: dict[int, int] = field(default_factory=dict)
    """Period number → days after its due date it was paid."""


@dataclass(frozen=True)
class _DemoCustomer:
    ref: str
    name: str
    situation: DemoSituation
    orders: tuple[_DemoOrder, ...]


_CUSTOMERS = (
    _DemoCustomer(
        "DEMO-ONTIME",
        "张伟",
        DemoSituation.ON_TIME,
        (
            _DemoOrder(
                "XM-DEMO-1001", "小米15 12GB+256GB", 449900, term=12, with_fee=True, periods_paid=3, next_due_in_days=14
            ),
        ),
    ),
    _DemoCustomer(
        DEMO_CUSTOMER_REF,
        "李娜",
        DemoSituation.DUE_IN_TWO_DAYS,
        (
            _DemoOrder(
                "XM-DEMO-2001",
                "Redmi Note 14 Pro 8GB+256GB",
                139900,
                term=6,
                with_fee=False,
                periods_paid=2,
                next_due_in_days=2,
            ),
            _DemoOrder("XM-DEMO-2002", "米家扫地机器人", 299900, term=12, with_fee=True, periods_paid=0, next_due_in_days=2),
        ),
    ),
    _DemoCustomer(
        "DEMO-OVERDUE",
        "王芳",
        DemoSituation.OVERDUE,
        (
            _DemoOrder(
                "XM-DEMO-3001",
                "小米电视 S Pro 65英寸",
                499900,
                term=12,
                with_fee=True,
                periods_paid=5,
                next_due_in_days=-5,
                paid_late_days={4: 3},
            ),
        ),
    ),
    _DemoCustomer(
        "DEMO-PAIDOFF",
        "刘洋",
        DemoSituation.PAID_OFF,
        (
            _DemoOrder(
                "XM-DEMO-4001", "小米平板 7 8GB+256GB", 199900, term=3, with_fee=False, periods_paid=3, next_due_in_days=-40
            ),
        ),
    ),
)


def _pick_plan(operator: OperatorData, term: int, with_fee: bool) -> tuple[str, int]:
    """(provider id, term) of the plan a demo order uses; see the module docstring."""
    offers = [(provider.id, plan) for provider in operator.providers for plan in provider.plans]
    for wanted in (lambda p: p.term == term and p.interest_free != with_fee, lambda p: p.term == term):
        match = next(((provider_id, plan.term) for provider_id, plan in offers if wanted(plan)), None)
        if match:
            return match
    first = operator.providers[0]
    return first.id, max(plan.term for plan in first.plans)


def _months_back(day: date, months: int) -> tuple[int, int]:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return year, month + 1


def _schedule(target: date, period: int) -> tuple[date, int]:
    """A first due date putting some period ``n ≤ period`` exactly on ``target``, and that ``n``."""
    for number in range(period, 0, -1):
        year, month = _months_back(target, number - 1)
        if target.day <= calendar.monthrange(year, month)[1]:
            return date(year, month, target.day), number
    raise AssertionError("period 1 always fits")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHOP_ZONE)


def _bills(spec: _DemoOrder, term: int, rate: Decimal, today: date) -> tuple[date, list[billing.Bill]]:
    """The first due date and the bills of a demo order, as they stand on ``today``."""
    paid = min(spec.periods_paid, term)
    target = today + timedelta(days=spec.next_due_in_days)
    if paid == term:  # paid off: put the last period on a day every month has
        target -= timedelta(days=max(0, target.day - 28))
        first_due, _ = _schedule(target, term)
    else:
        first_due, number = _schedule(target, paid + 1)
        paid = number - 1
    bills = []
    for period in billing.split(spec.price_fen, term, rate):
        due = billing.due_date(first_due, period.number)
        is_paid = period.number <= paid
        paid_on = due + timedelta(days=spec.paid_late_days.get(period.number, -1))
        bills.append(
            billing.Bill(
                number=period.number,
                due_date=due,
                principal_fen=period.principal_fen,
                fee_fen=period.fee_fen,
                amount_due_fen=period.amount_fen,
                amount_paid_fen=period.amount_fen if is_paid else 0,
                paid_at=_at(paid_on, 10) if is_paid else None,
            )
        )
    return first_due, bills


async def seed_demo(session: AsyncSession, operator: OperatorData, today: date) -> list[DemoCustomer]:
    """Create or refresh the demo customers for ``today`` (idempotent; see the module docstring).

    Also copies the operator's providers and plans into the database. Flushes, never commits.
    """
    await sync_providers(session, operator)
    plans = {(plan.provider_id, plan.term): plan for plan in await session.scalars(select(Plan))}
    seeded = []
    for spec in _CUSTOMERS:
        customer = await session.scalar(select(Customer).where(Customer.ref == spec.ref))
        if customer is None:
            customer = Customer(ref=spec.ref, created_at=_at(today - timedelta(days=400), 9))
            session.add(customer)
        customer.name = spec.name
        for order_spec in spec.orders:
            plan = plans[_pick_plan(operator, order_spec.term, order_spec.with_fee)]
            await _seed_order(session, customer, order_spec, plan, today)
        await session.flush()
        seeded.append(DemoCustomer(spec.ref, spec.name, customer.id, spec.situation))
    return seeded


async def _seed_order(session: AsyncSession, customer: Customer, spec: _DemoOrder, plan: Plan, today: date) -> None:
    order = await session.scalar(
        select(InstallmentOrder)
        .where(InstallmentOrder.order_no == spec.order_no)
        .options(selectinload(InstallmentOrder.bills))
    )
    if order is None:
        order = InstallmentOrder(order_no=spec.order_no, bills=[])
        session.add(order)
    first_due, bills = _bills(spec, plan.term, plan.fee_rate_per_period, today)
    order.customer = customer
    order.product = spec.product
    order.price_fen = spec.price_fen
    order.provider_id = plan.provider_id
    order.plan = plan
    order.first_due_date = first_due
    order.created_at = _at(first_due - timedelta(days=30), 20)
    existing = {row.number: row for row in order.bills}
    order.bills = [existing.get(bill.number) or Bill() for bill in bills]
    for row, bill in zip(order.bills, bills, strict=True):
        for column in fields(bill):
            setattr(row, column.name, getattr(bill, column.name))
