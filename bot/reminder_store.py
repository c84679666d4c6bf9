"""The database side of reminders: which are due today, and sending each exactly once.

**Exactly once.** Every reminder has a key: chat, bill, kind and day (``ReminderDelivery``, unique).
A run *claims* a reminder before sending it, by inserting its row (``INSERT … ON CONFLICT DO
NOTHING``), in its own committed transaction; only the run whose insert went in sends. After
sending it marks the row ``sent`` (or ``blocked`` / ``failed``). So a second run the same day, a
restarted bot or a second instance finds the row and sends nothing. A run that crashed between claim
and mark leaves the row ``claimed``: once ``claimed_at`` is older than the claim timeout, the next
run takes it over with one conditional ``UPDATE … WHERE status = 'claimed' AND claimed_at < cutoff``
(atomic on SQLite and PostgreSQL, so only one run wins) and sends it. Hence the two rules a deployment
must keep: the claim timeout is longer than one send may take (with its retries), and the only window
for a duplicate is a crash after Telegram accepted a message and before the row was marked.

The selection is one set-based query over the handful of due dates ``bot.reminders.due_dates_on``
gives (bills' ``due_date`` is indexed), never a loop over all bills.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, today
from bot.linking import unlink
from bot.models import Bill, ChatLink, ChatPreference, DeliveryStatus, InstallmentOrder, Plan, ReminderDelivery
from bot.preferences import DEFAULT_LANGUAGE
from bot.reminders import DueReminder, due_dates_on

Send = Callable[[DueReminder], Awaitable[DeliveryStatus | None]]
"""Sends one reminder: ``SENT``, ``BLOCKED`` (the user blocked the bot), ``FAILED`` (refused for
good), or None when it could not be sent for now (it stays claimed and is retried after the timeout)."""


# --- selection -----------------------------------------------------------------------------------


def _delivery_key(reminder_kind: ColumnElement[str], on_date: date) -> ColumnElement[bool]:
    return and_(
        ReminderDelivery.chat_id == ChatLink.chat_id,
        ReminderDelivery.bill_id == Bill.id,
        ReminderDelivery.kind == reminder_kind,
        ReminderDelivery.on_date == on_date,
    )


async def select_due(
    session: AsyncSession, on_date: date, days_before: Iterable[int], stale_before: datetime
) -> list[DueReminder]:
    """The reminders for ``on_date`` not yet sent: unpaid bills of the day's due dates, for every
    active link whose chat has reminders on, without a delivery row, or with a claim older than
    ``stale_before``. Ordered by chat, then due date."""
    dates = due_dates_on(on_date, days_before)
    reminder_kind = case({due: kind.value for due, kind in dates.items()}, value=Bill.due_date)
    handled = _delivery_key(reminder_kind, on_date) & or_(
        ReminderDelivery.status != DeliveryStatus.CLAIMED, ReminderDelivery.claimed_at >= stale_before
    )
    rows = await session.execute(
        select(
            ChatLink.chat_id,
            Bill.id,
            Bill.due_date,
            Bill.amount_due_fen - Bill.amount_paid_fen,
            Bill.number,
            ChatPreference.language,
            InstallmentOrder.order_no,
            InstallmentOrder.product,
            Plan.term,
        )
        .join(InstallmentOrder, Bill.order_id == InstallmentOrder.id)
        .join(Plan, InstallmentOrder.plan_id == Plan.id)
        .join(ChatLink, and_(ChatLink.customer_id == InstallmentOrder.customer_id, ChatLink.active))
        .outerjoin(ChatPreference, ChatPreference.chat_id == ChatLink.chat_id)
        .where(
            Bill.due_date.in_(list(dates)),
            Bill.amount_paid_fen < Bill.amount_due_fen,
            or_(ChatPreference.reminders.is_(None), ChatPreference.reminders),
            ~exists().where(handled),
        )
        .order_by(ChatLink.chat_id, Bill.due_date, Bill.id)
    )
    return [
        DueReminder(
            chat_id=chat_id,
            bill_id=bill_id,
            kind=dates[due_date],
            on_date=on_date,
            lang=language or DEFAULT_LANGUAGE,
            due_date=due_date,
            amount_fen=unpaid,
            order_no=order_no,
            product=product,
            period=number,
            term=term,
        )
        for chat_id, bill_id, due_date, unpaid, number, language, order_no, product, term in rows
    ]


async def claims_in_flight(session: AsyncSession, on_date: date) -> int:
    """Reminders of the day claimed but not marked: being sent elsewhere, or left by a crash."""
    return await session.scalar(
        select(func.count()).where(ReminderDelivery.on_date == on_date, ReminderDelivery.status == DeliveryStatus.CLAIMED)
    ) or 0


# --- claim and mark ------------------------------------------------------------------------------


def _key(reminder: DueReminder) -> ColumnElement[bool]:
    return and_(
        ReminderDelivery.chat_id == reminder.chat_id,
        ReminderDelivery.bill_id == reminder.bill_id,
        ReminderDelivery.kind == reminder.kind,
        ReminderDelivery.on_date == reminder.on_date,
    )


async def claim(session: AsyncSession, reminder: DueReminder, now: datetime, stale_before: datetime) -> int | None:
    """The delivery id if this caller may send the reminder, None if another run has it or it is done.

    Commit right after, before sending: the claim must be visible to every other run first.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in {"sqlite", "postgresql"}:
        raise NotImplementedError(f"reminder claims need SQLite or PostgreSQL, not {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "chat_id": reminder.chat_id,
        "bill_id": reminder.bill_id,
        "kind": reminder.kind,
        "on_date": reminder.on_date,
        "status": DeliveryStatus.CLAIMED,
        "attempts": 1,
        "claimed_at": now,
    }
    claimed = await session.scalar(
        insert(ReminderDelivery).values(values).on_conflict_do_nothing().returning(ReminderDelivery.id)
    )
    if claimed is not None:
        return claimed
    return await session.scalar(
        update(ReminderDelivery)
        .where(_key(reminder), ReminderDelivery.status == DeliveryStatus.CLAIMED, ReminderDelivery.claimed_at < stale_before)
        .values(claimed_at=now, attempts=ReminderDelivery.attempts + 1)
        .returning(ReminderDelivery.id)
    )


async def finish(session: AsyncSession, delivery_id: int, status: DeliveryStatus, chat_id: int, now: datetime) -> None:
    """Record how a claimed reminder ended; a chat that blocked the bot loses its link, so no run
    tries it again (relinking with a new code turns reminders back on)."""
    await session.execute(
        update(ReminderDelivery).where(ReminderDelivery.id == delivery_id).values(status=status, finished_at=now)
    )
    if status is DeliveryStatus.BLOCKED:
        await unlink(session, chat_id)


# --- a batch -------------------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What one run did. ``in_flight`` counts the day's claims still unmarked after it (another
    instance sending, a crashed run, or sends here that failed for now): worth another run later."""

    day: date
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retry_later: int = 0
    in_flight: int = 0

    def __str__(self) -> str:
        return (
            f"{self.day}: sent {self.sent}, blocked {self.blocked}, failed {self.failed}, "
            f"to retry {self.retry_later}, claimed and unfinished {self.in_flight}"
        )


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    days_before: Iterable[int],
    claim_timeout: timedelta,
    send: Send,
    concurrency: int = 8,
) -> BatchReport:
    """One run: select the day's reminders, then claim, send and mark each.

    Chats are served ``concurrency`` at a time (the sender paces requests to Telegram's limits); the
    reminders of one chat go one after another, and stop at the first that finds the bot blocked.
    An unexpected error cancels the rest of the run: what it claimed and did not mark is retried
    after the claim timeout.
    """
    day = today(clock)
    report = BatchReport(day)
    async with sessions() as session:
        due = await select_due(session, day, days_before, clock.now() - claim_timeout)
    slots = asyncio.Semaphore(concurrency)

    async def serve_chat(reminders: list[DueReminder]) -> None:
        async with slots:
            for reminder in reminders:
                if await _deliver_one(sessions, clock, claim_timeout, send, reminder, report) is DeliveryStatus.BLOCKED:
                    return

    async with asyncio.TaskGroup() as tasks:
        for _, reminders in groupby(due, key=lambda reminder: reminder.chat_id):  # select_due orders by chat
            tasks.create_task(serve_chat(list(reminders)))
    async with sessions() as session:
        report.in_flight = await claims_in_flight(session, day)
    return report


async def _deliver_one(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    claim_timeout: timedelta,
    send: Send,
    reminder: DueReminder,
    report: BatchReport,
) -> DeliveryStatus | None:
    async with sessions() as session, session.begin():
        now = clock.now()
        delivery_id = await claim(session, reminder, now, now - claim_timeout)
    if delivery_id is None:
        return None
    status = await send(reminder)
    if status is None:
        report.retry_later += 1
        return None
    async with sessions() as session, session.begin():
        await finish(session, delivery_id, status, reminder.chat_id, clock.now())
    if status is DeliveryStatus.SENT:
        report.sent += 1
    elif status is DeliveryStatus.BLOCKED:
        report.blocked += 1
    else:
        report.failed += 1
    return status
