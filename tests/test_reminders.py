"""Due-date reminders: which fall on a day (pure), and that each is sent exactly once (database),
on SQLite and (with TEST_DATABASE_URL) PostgreSQL. The clock is a FixedClock; sending is a recorder."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import ledger, phrases, preferences
from bot.clock import SHOP_ZONE, FixedClock
from bot.db import make_engine, make_session_factory
from bot.models import Bill, ChatLink, Customer, DeliveryStatus, InstallmentOrder, Plan, ReminderDelivery
from bot.reminder_store import claim, deliver, select_due
from bot.reminders import DueReminder, ReminderKind, compose, describe_schedule, due_dates_on, reminder_on
from bot.replies import topic_action
from intents.catalogue import IntentId
from knowledge.operator import OperatorData
from knowledge.text import Lang

TODAY = date(2025, 3, 10)
MORNING = datetime(2025, 3, 10, 9, 0, tzinfo=SHOP_ZONE)
TIMEOUT = timedelta(minutes=10)
DAYS_BEFORE = (3, 1)

# --- which reminder falls on which day (pure) ------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "paid", "expected"),
    [
        (date(2025, 3, 13), False, ReminderKind.BEFORE),  # 3 days ahead
        (date(2025, 3, 12), False, None),  # 2 days ahead: not a reminder day
        (date(2025, 3, 11), False, ReminderKind.BEFORE),  # tomorrow
        (date(2025, 3, 10), False, ReminderKind.DUE),
        (date(2025, 3, 9), False, ReminderKind.OVERDUE),  # first day overdue
        (date(2025, 3, 8), False, None),  # second day overdue: no more reminders
        (date(2025, 3, 14), False, None),
        (date(2025, 3, 13), True, None),  # paid: never
        (date(2025, 3, 10), True, None),
        (date(2025, 3, 9), True, None),
    ],
)
def test_reminder_on(due: date, paid: bool, expected: ReminderKind | None) -> None:
    assert reminder_on(due, TODAY, paid, DAYS_BEFORE) is expected


def test_days_before_are_configurable_and_cross_months() -> None:
    assert reminder_on(date(2025, 3, 3), date(2025, 2, 26), False, (5,)) is ReminderKind.BEFORE
    assert reminder_on(date(2025, 3, 1), date(2025, 2, 28), False, (7, 1)) is ReminderKind.BEFORE
    assert reminder_on(date(2025, 2, 28), date(2025, 3, 1), False, (7, 1)) is ReminderKind.OVERDUE
    assert sorted(due_dates_on(TODAY, (1, 3, 3))) == [TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=3)]
    with pytest.raises(ValueError):
        due_dates_on(TODAY, (0,))


def _reminder(kind: ReminderKind, lang: Lang, due: date, chat_id: int = 7, bill_id: int = 1) -> DueReminder:
    return DueReminder(chat_id, bill_id, kind, TODAY, lang, due, 37_492, "XM-1", "小米15", 4, 12)


@pytest.mark.parametrize(
    ("kind", "due", "lang", "fragments", "button"),
    [
        (ReminderKind.BEFORE, date(2025, 3, 13), Lang.ZH, ["¥374.92", "小米15", "XM-1", "第 4/12 期", "3 天后"], IntentId.NEXT_DUE),
        (ReminderKind.BEFORE, date(2025, 3, 11), Lang.EN, ["¥374.92", "XM-1", "period 4 of 12", "in 1 day", "Tue, 11 Mar"], IntentId.NEXT_DUE),
        (ReminderKind.DUE, date(2025, 3, 10), Lang.ZH, ["今天", "¥374.92", "3月10日"], IntentId.NEXT_DUE),
        (ReminderKind.DUE, date(2025, 3, 10), Lang.EN, ["due today", "¥374.92"], IntentId.NEXT_DUE),
        (ReminderKind.OVERDUE, date(2025, 3, 9), Lang.ZH, ["逾期", "¥374.92", "3月9日"], IntentId.OUTSTANDING),
        (ReminderKind.OVERDUE, date(2025, 3, 9), Lang.EN, ["overdue", "¥374.92", "Sun, 9 Mar"], IntentId.OUTSTANDING),
    ],
)
def test_reminder_texts_carry_amount_order_and_a_bill_button(
    kind: ReminderKind, due: date, lang: Lang, fragments: list[str], button: IntentId
) -> None:
    reply = compose(_reminder(kind, lang, due))
    assert all(fragment in reply.text for fragment in fragments), reply.text
    [see_bill] = reply.buttons
    assert (see_bill.label, see_bill.action) == (phrases.REMINDER_BUTTON[lang], topic_action(button))


def test_schedule_in_words() -> None:
    assert describe_schedule((1, 3), time(9, 0), Lang.ZH).startswith("到期前 3、1 天")
    assert "09:30 (Beijing time) 7, 3 and 1 days before" in describe_schedule((7, 3, 1), time(9, 30), Lang.EN)


# --- selection and exactly once (database) ---------------------------------------------------------


class Recorder:
    """Stands in for Telegram: records every reminder "sent" and answers with a fixed outcome."""

    def __init__(self, outcome: DeliveryStatus | None = DeliveryStatus.SENT) -> None:
        self.sent: list[DueReminder] = []
        self.outcome = outcome

    async def __call__(self, reminder: DueReminder) -> DeliveryStatus | None:
        await asyncio.sleep(0)  # let concurrent runs interleave here, between claim and mark
        self.sent.append(reminder)
        return self.outcome

    def keys(self) -> Counter[tuple[int, int, ReminderKind]]:
        return Counter((r.chat_id, r.bill_id, r.kind) for r in self.sent)


async def add_bills(
    session: AsyncSession, operator_data: OperatorData, chat_id: int | None, due_dates: Sequence[date], paid: Sequence[date] = ()
) -> list[int]:
    """A customer with one order whose periods fall due on ``due_dates``, linked to ``chat_id``."""
    await ledger.sync_providers(session, operator_data)
    plan = await session.scalar(select(Plan).where(Plan.provider_id == "provider_a", Plan.term == 12))
    assert plan is not None
    customer = Customer(ref=f"C-{chat_id}-{len(due_dates)}", name="张伟", created_at=MORNING)
    bills = [
        Bill(number=n, due_date=due, principal_fen=37_000, fee_fen=492, amount_due_fen=37_492,
             amount_paid_fen=37_492 if due in paid else 0, paid_at=MORNING if due in paid else None)
        for n, due in enumerate(due_dates, start=1)
    ]
    order = InstallmentOrder(order_no=f"XM-{chat_id}-{len(due_dates)}", customer=customer, product="小米15", price_fen=449_900,
                             provider_id="provider_a", plan=plan, first_due_date=due_dates[0], created_at=MORNING, bills=bills)
    session.add(order)
    await session.flush()
    if chat_id is not None:
        session.add(ChatLink(chat_id=chat_id, customer_id=customer.id, active=True, linked_at=MORNING))
    await session.commit()
    return [bill.id for bill in bills]


def days(*offsets: int) -> list[date]:
    return [TODAY + timedelta(days=offset) for offset in offsets]


async def run(sessions: async_sessionmaker[AsyncSession], send: Recorder, at: datetime = MORNING) -> int:
    report = await deliver(sessions, FixedClock(at), DAYS_BEFORE, TIMEOUT, send)
    return report.sent


async def test_the_right_reminders_on_the_right_days(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        bills = await add_bills(session, operator_data, 7, days(-2, -1, 0, 1, 2, 3, 4))
        await add_bills(session, operator_data, None, days(0))  # not linked to any chat
        await preferences.save_language(session, 7, Lang.EN)
        await session.commit()
    sent = Recorder()
    assert await run(session_factory, sent) == 4
    assert [(r.bill_id, r.kind, r.due_date) for r in sent.sent] == [
        (bills[1], ReminderKind.OVERDUE, TODAY - timedelta(days=1)),
        (bills[2], ReminderKind.DUE, TODAY),
        (bills[3], ReminderKind.BEFORE, TODAY + timedelta(days=1)),
        (bills[5], ReminderKind.BEFORE, TODAY + timedelta(days=3)),
    ]
    assert {r.lang for r in sent.sent} == {Lang.EN} and {r.amount_fen for r in sent.sent} == {37_492}

    tomorrow = Recorder()  # the next morning: the bills one day further on
    assert await run(session_factory, tomorrow, MORNING + timedelta(days=1)) == 4
    assert [(r.bill_id, r.kind) for r in tomorrow.sent] == [
        (bills[2], ReminderKind.OVERDUE), (bills[3], ReminderKind.DUE), (bills[4], ReminderKind.BEFORE), (bills[6], ReminderKind.BEFORE)
    ]


async def test_a_paid_bill_and_a_chat_with_reminders_off_get_none(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, 7, days(1, 3), paid=days(1))
        await add_bills(session, operator_data, 8, days(0))
        await preferences.save_reminders(session, 8, False, Lang.ZH)
        await session.commit()
    sent = Recorder()
    assert await run(session_factory, sent) == 1
    assert [(r.chat_id, r.due_date) for r in sent.sent] == [(7, TODAY + timedelta(days=3))]


async def test_a_second_run_the_same_day_sends_nothing(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, 7, days(-1, 0, 1))
    assert await run(session_factory, Recorder()) == 3
    again = Recorder()
    assert await run(session_factory, again, MORNING + timedelta(hours=12)) == 0 and again.sent == []
    async with session_factory() as session:
        statuses = (await session.scalars(select(ReminderDelivery.status))).all()
    assert statuses == [DeliveryStatus.SENT] * 3


async def test_a_crash_between_claim_and_send_is_sent_once_after_the_timeout(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, 7, days(0, 1))
    async with session_factory() as session, session.begin():  # the run that crashed: claimed, never sent
        [crashed, _] = await select_due(session, TODAY, DAYS_BEFORE, MORNING - TIMEOUT)
        assert await claim(session, crashed, MORNING, MORNING - TIMEOUT) is not None

    restarted = Recorder()  # a restart within the timeout: the claim may still be being sent
    report = await deliver(session_factory, FixedClock(MORNING + timedelta(minutes=2)), DAYS_BEFORE, TIMEOUT, restarted)
    assert [r.bill_id for r in restarted.sent] != [crashed.bill_id] and report.sent == 1 and report.in_flight == 1

    later = Recorder()
    assert await run(session_factory, later, MORNING + TIMEOUT + timedelta(minutes=1)) == 1
    assert [r.bill_id for r in later.sent] == [crashed.bill_id]
    assert await run(session_factory, Recorder(), MORNING + 3 * TIMEOUT) == 0
    async with session_factory() as session:
        delivery = await session.scalar(select(ReminderDelivery).where(ReminderDelivery.bill_id == crashed.bill_id))
    assert delivery is not None and (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


async def test_a_send_that_failed_for_now_is_retried_after_the_timeout(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, 7, days(0))
    report = await deliver(session_factory, FixedClock(MORNING), DAYS_BEFORE, TIMEOUT, Recorder(outcome=None))
    assert (report.sent, report.retry_later, report.in_flight) == (0, 1, 1)
    assert await run(session_factory, Recorder(), MORNING + TIMEOUT + timedelta(seconds=1)) == 1


@pytest.fixture
async def second_instance(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of another bot instance: its own engine (and connections) on the same database."""
    engine = make_engine(session_factory.kw["bind"].url.render_as_string(hide_password=False))
    yield make_session_factory(engine)
    await engine.dispose()


async def test_two_instances_at_once_send_each_reminder_once(
    session_factory: async_sessionmaker[AsyncSession],
    second_instance: async_sessionmaker[AsyncSession],
    operator_data: OperatorData,
) -> None:
    async with session_factory() as session:
        for chat in range(10):
            await add_bills(session, operator_data, 100 + chat, days(-1, 0, 1, 3))
    one, other = Recorder(), Recorder()
    await asyncio.gather(run(session_factory, one), run(second_instance, other))
    both = one.keys() + other.keys()
    assert len(both) == 40 and set(both.values()) == {1}
    assert await run(session_factory, Recorder(), MORNING + 2 * TIMEOUT) == 0


async def test_a_blocked_chat_loses_its_link_and_gets_no_more_attempts(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, 7, days(0, 1, 3))
        await add_bills(session, operator_data, 8, days(0))
    blocked = Recorder(outcome=DeliveryStatus.BLOCKED)
    report = await deliver(session_factory, FixedClock(MORNING), DAYS_BEFORE, TIMEOUT, blocked)
    assert (report.blocked, len(blocked.sent)) == (2, 2)  # one attempt per chat, then it stops
    async with session_factory() as session:
        assert await ledger.customer_for_chat(session, 7) is None
    assert await run(session_factory, Recorder(), MORNING + 2 * TIMEOUT) == 0
    assert await run(session_factory, Recorder(), MORNING + timedelta(days=1)) == 0
