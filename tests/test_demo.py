"""Demo customers: the four situations hold on any day, and seeding is idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import billing
from bot.demo import DEMO_CUSTOMER_REF, DemoSituation, seed_demo
from bot.ledger import load_account
from knowledge.model import KnowledgeBase
from knowledge.operator import OperatorData

if TYPE_CHECKING:
    from tests.conftest import Snapshot

TODAY = date(2025, 3, 10)


@pytest.mark.parametrize(
    "today",
    [
        TODAY,
        date(2025, 1, 29),  # due in two days = 31 January
        date(2025, 4, 28),  # due in two days = 30 April: no 30 February, so fewer periods paid
        date(2024, 2, 27),  # due in two days = 29 February (leap year)
        date(2025, 12, 30),  # across the year end
        date(2025, 3, 3),  # overdue since 26 February
    ],
)
async def test_each_demo_customer_is_in_its_situation(session: AsyncSession, operator_data: OperatorData, today: date) -> None:
    customers = await seed_demo(session, operator_data, today)
    assert {customer.situation for customer in customers} == set(DemoSituation)
    rule = operator_data.late_fee
    for customer in customers:
        account = await load_account(session, customer.customer_id)
        upcoming = billing.next_due(account, today)
        overdue = billing.overdue_status(account, today, rule)
        for order in account.orders:
            assert sum(bill.principal_fen for bill in order.bills) == order.price_fen
            assert [bill.due_date for bill in order.bills] == [
                billing.due_date(order.first_due_date, n) for n in range(1, order.term + 1)
            ]
        if customer.situation is DemoSituation.ON_TIME:
            assert upcoming is not None and upcoming.days_left == 14 and not overdue.is_overdue
        elif customer.situation is DemoSituation.DUE_IN_TWO_DAYS:
            assert customer.ref == DEMO_CUSTOMER_REF
            assert upcoming is not None and upcoming.days_left == 2 and len(upcoming.items) == 2
            assert not overdue.is_overdue
        elif customer.situation is DemoSituation.OVERDUE:
            assert overdue.days_overdue == 5 and len(overdue.bills) == 1
            paid_late = [b for o in account.orders for b in o.bills if b.paid_at and b.paid_at.date() > b.due_date]
            assert len(paid_late) == 1 and paid_late[0].status(today) is billing.BillStatus.PAID
        else:
            assert account.orders and account.is_paid_off and upcoming is None


async def test_seeding_twice_changes_nothing(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData, snapshot: Snapshot
) -> None:
    async with session_factory() as session, session.begin():
        first = await seed_demo(session, operator_data, TODAY)
    async with session_factory() as session:
        before = await snapshot(session)
    async with session_factory() as session, session.begin():
        second = await seed_demo(session, operator_data, TODAY)
        assert not session.dirty and not session.new and not session.deleted
    async with session_factory() as session:
        assert await snapshot(session) == before
    assert first == second


async def test_seeding_on_a_later_day_moves_the_demo_forward(
    session: AsyncSession, operator_data: OperatorData, snapshot: Snapshot
) -> None:
    await seed_demo(session, operator_data, TODAY)
    counts = {name: len(rows) for name, rows in (await snapshot(session)).items()}
    later = TODAY + timedelta(days=20)
    customers = await seed_demo(session, operator_data, later)
    assert {name: len(rows) for name, rows in (await snapshot(session)).items()} == counts
    (terminal,) = [customer for customer in customers if customer.ref == DEMO_CUSTOMER_REF]
    upcoming = billing.next_due(await load_account(session, terminal.customer_id), later)
    assert upcoming is not None and upcoming.days_left == 2


async def test_seeding_with_the_knowledge_base_operator_data(session: AsyncSession, knowledge: KnowledgeBase) -> None:
    customers = await seed_demo(session, knowledge.operator, TODAY)
    assert DEMO_CUSTOMER_REF in {customer.ref for customer in customers}
