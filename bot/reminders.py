"""Which due-date reminders fall on a day, and what they say. Pure: no database, no Telegram.

An unpaid bill is reminded of ``days_before`` days before its due date (default 3 and 1), on the due
day, and on the first day overdue (the day after); a paid bill never. "Today" is the date in
Asia/Shanghai (``bot.clock.today``). Each kind falls on exactly one due date counted from today, so
the bills to remind on a day have one of a handful of due dates (``due_dates_on``): the database
selects them with one set-based query (``bot.reminder_store``) instead of looking at every bill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from bot import phrases
from bot.formatting import day, days, money
from bot.replies import Button, Reply, topic_action
from intents.catalogue import IntentId
from knowledge.text import Lang

DEFAULT_DAYS_BEFORE = (3, 1)


class ReminderKind(StrEnum):
    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"


def check_days_before(values: Iterable[int]) -> tuple[int, ...]:
    """The days-before list, largest first; each must be a positive whole number of days, once."""
    given = list(values)
    if any(value < 1 for value in given):
        raise ValueError(f"days before a due date must be at least 1, got {given}")
    return tuple(sorted(set(given), reverse=True))


def due_dates_on(today: date, days_before: Iterable[int] = DEFAULT_DAYS_BEFORE) -> dict[date, ReminderKind]:
    """The due dates whose bills are reminded on ``today``, and of what."""
    dates = {today + timedelta(days=n): ReminderKind.BEFORE for n in check_days_before(days_before)}
    dates[today] = ReminderKind.DUE
    dates[today - timedelta(days=1)] = ReminderKind.OVERDUE
    return dates


def reminder_on(
    due_date: date, today: date, paid: bool, days_before: Iterable[int] = DEFAULT_DAYS_BEFORE
) -> ReminderKind | None:
    """The reminder a bill gets on ``today``, if any; a bill gets at most one a day."""
    if paid:
        return None
    return due_dates_on(today, days_before).get(due_date)


@dataclass(frozen=True)
class DueReminder:
    """One reminder to send: to which chat, about which bill, in which language. Money in fen."""

    chat_id: int
    bill_id: int
    kind: ReminderKind
    on_date: date
    """The day it is for (today in Asia/Shanghai): part of its once-only key."""
    lang: Lang
    due_date: date
    amount_fen: int
    """What is still unpaid of the bill."""
    order_no: str
    product: str
    period: int
    term: int


_TEXTS = {
    ReminderKind.BEFORE: phrases.REMINDER_BEFORE,
    ReminderKind.DUE: phrases.REMINDER_DUE,
    ReminderKind.OVERDUE: phrases.REMINDER_OVERDUE,
}
_BILL_ANSWER = {
    ReminderKind.BEFORE: IntentId.NEXT_DUE,
    ReminderKind.DUE: IntentId.NEXT_DUE,
    ReminderKind.OVERDUE: IntentId.OUTSTANDING,
}
"""What the "see the bill" button answers: an overdue bill is no longer "next", so it shows what is owed."""


def compose(reminder: DueReminder) -> Reply:
    """The message, in the chat's language, with one button that opens the account answer."""
    lang = reminder.lang
    text = _TEXTS[reminder.kind][lang].format(
        product=reminder.product,
        order_no=reminder.order_no,
        period=reminder.period,
        term=reminder.term,
        amount=money(reminder.amount_fen, lang),
        date=day(reminder.due_date, reminder.on_date, lang),
        days=days((reminder.due_date - reminder.on_date).days, lang),
    )
    intent = _BILL_ANSWER[reminder.kind]
    return Reply(text, (Button(phrases.REMINDER_BUTTON[lang], topic_action(intent)),), intent=intent)


def describe_schedule(days_before: Iterable[int], at: time, lang: Lang) -> str:
    """The reminder rule in words, for /reminders: when, and at what time of day."""
    *rest, last = [str(n) for n in check_days_before(days_before)]
    if lang is Lang.ZH:
        listed = "、".join([*rest, last])
    else:
        listed = f"{', '.join(rest)} and {last}" if rest else last
    return phrases.REMINDERS_SCHEDULE[lang].format(days=listed, time=at.strftime("%H:%M"))
