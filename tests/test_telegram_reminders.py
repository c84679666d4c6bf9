"""Reminders on Telegram, end to end against the fake Bot API: what a user receives, the bill button,
/reminders and /lang, blocked users, flood control, the daily job, and the ``remind`` command."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import Forbidden, TimedOut
from telegram.ext import ExtBot, Job, JobQueue

from bot import phrases
from bot.accounts import DatabaseDesk
from bot.cli import main
from bot.clock import SHOP_ZONE, FixedClock
from bot.db import make_engine, make_session_factory, upgrade
from bot.dialogue import Dialogue
from bot.ledger import customer_for_chat
from bot.linking import create_link_code
from bot.models import ChatPreference, Customer, DeliveryStatus, ReminderDelivery
from bot.reminders import DueReminder, ReminderKind
from bot.telegram_app import build_application
from bot.reminder_store import claim, select_due
from bot.telegram_reminders import JOB_NAME, RETRY_JOB_NAME, ReminderService, TelegramSender, reminder_bot
from fakebotapi import FakeBotApi
from intents.catalogue import IntentId
from knowledge.operator import OperatorData
from knowledge.text import Lang
from test_reminders import DAYS_BEFORE, MORNING, TIMEOUT, TODAY, add_bills, days
from test_telegram import StartBot, api, labels, say, start_bot  # noqa: F401  (fixtures)

CHAT = 4100


def service(sessions: async_sessionmaker[AsyncSession], at: datetime = MORNING, send_at: time = time(9, 0)) -> ReminderService:
    return ReminderService(sessions, FixedClock(at), send_at, DAYS_BEFORE, TIMEOUT, retry_delays=(0.0,))


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[ExtBot[None]]:  # noqa: F811
    """A bot as ``remind`` builds it (with the rate limiter), on the fake server."""
    sender = reminder_bot(api.token, api.base_url, f"{api.address}/file/bot")
    await sender.initialize()
    yield sender
    await sender.shutdown()


async def test_the_reminder_arrives_in_the_chosen_language_and_its_button_shows_the_bill(
    session_factory: async_sessionmaker[AsyncSession],  # first, so the bot stops before its database closes
    api: FakeBotApi,  # noqa: F811
    start_bot: StartBot,  # noqa: F811
    dialogue: Dialogue,
    operator_data: OperatorData,
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, CHAT, days(3, 33))
    reminders = service(session_factory, send_at=time(10, 0))  # not yet time: nothing goes out at start
    desk = DatabaseDesk(session_factory, dialogue.knowledge.operator, reminders.clock)
    dialogue.desk = desk
    application = await start_bot(dialogue, reminders=reminders)
    user = api.private_chat(CHAT)
    assert (await say(api, user, "/lang en"))["text"].startswith("OK")
    async with session_factory() as session:
        preference = await session.get(ChatPreference, CHAT)
    assert preference is not None and preference.language is Lang.EN

    assert (await reminders.run(application.bot)).sent == 1
    [_, reminder] = await api.wait_for_messages(CHAT, 2)
    assert reminder["text"].startswith("Payment reminder:") and "in 3 days" in reminder["text"] and "¥374.92" in reminder["text"]
    assert labels(reminder) == [phrases.REMINDER_BUTTON[Lang.EN]]

    api.press(user, reminder, api.button(reminder, phrases.REMINDER_BUTTON[Lang.EN]))
    [*_, bill] = await api.wait_for_messages(CHAT, 3)
    expected = await desk.lookup(CHAT, IntentId.NEXT_DUE, Lang.EN)
    assert expected is not None and bill["text"] == expected.text


async def test_linking_from_an_english_client_gets_english_reminders(
    session_factory: async_sessionmaker[AsyncSession],
    api: FakeBotApi,  # noqa: F811
    start_bot: StartBot,  # noqa: F811
    dialogue: Dialogue,
    operator_data: OperatorData,
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, None, days(1))
        customer = await session.scalar(select(Customer.id))
        assert customer is not None
        code = await create_link_code(session, customer, MORNING)
        await session.commit()
    reminders = service(session_factory, send_at=time(10, 0))
    dialogue.desk = DatabaseDesk(session_factory, dialogue.knowledge.operator, reminders.clock)
    application = await start_bot(dialogue, reminders=reminders)
    user = api.private_chat(CHAT, language_code="en")
    assert (await say(api, user, code))["text"] == phrases.LINK_OK[Lang.EN]
    assert (await reminders.run(application.bot)).sent == 1
    [_, reminder] = await api.wait_for_messages(CHAT, 2)
    assert reminder["text"].startswith("Payment reminder:") and "in 1 day" in reminder["text"]


async def test_reminders_command_switches_them_off_and_on(
    session_factory: async_sessionmaker[AsyncSession],  # first, so the bot stops before its database closes
    api: FakeBotApi,  # noqa: F811
    start_bot: StartBot,  # noqa: F811
    dialogue: Dialogue,
    operator_data: OperatorData,
) -> None:
    reminders = service(session_factory, send_at=time(10, 0))
    application = await start_bot(dialogue, reminders=reminders)
    stranger = api.private_chat(CHAT + 1)
    status = (await say(api, stranger, "/reminders"))["text"]
    assert status.startswith("还款提醒已开启") and phrases.REMINDERS_NEED_LINK[Lang.ZH] in status

    async with session_factory() as session:
        await add_bills(session, operator_data, CHAT, days(1))
    user = api.private_chat(CHAT)
    assert (await say(api, user, "/reminders off"))["text"] == phrases.REMINDERS_OFF[Lang.ZH]
    assert (await reminders.run(application.bot)).sent == 0
    on = (await say(api, user, "/reminders on"))["text"]
    assert on.startswith("还款提醒已开启") and "10:00" in on and phrases.REMINDERS_NEED_LINK[Lang.ZH] not in on
    assert (await reminders.run(application.bot)).sent == 1
    group = api.group_chat(-100700, user_id=CHAT)
    api.send_text(group, "/reminders off")
    [notice] = await api.wait_for_messages(group.chat_id, 1)
    assert "私聊" in notice["text"]  # a group cannot switch anyone's reminders


async def test_a_user_who_blocked_the_bot_is_unlinked_and_not_tried_again(
    api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
    session_factory: async_sessionmaker[AsyncSession],
    operator_data: OperatorData,
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, CHAT, days(0, 1))
        await add_bills(session, operator_data, CHAT + 1, days(0))
    for chat_id in (CHAT, CHAT + 1):
        api.send_text(api.private_chat(chat_id), "你好")  # they talked to the bot once
    api.blocked.add(CHAT)
    report = await service(session_factory).run(bot)
    assert (report.sent, report.blocked) == (1, 1)
    assert len(api.requests("sendMessage", CHAT)) == 1 and len(api.messages(CHAT + 1)) == 1
    async with session_factory() as session:
        assert await customer_for_chat(session, CHAT) is None
        assert await customer_for_chat(session, CHAT + 1) is not None
    for later in (MORNING + 2 * TIMEOUT, MORNING + timedelta(days=1)):
        await service(session_factory, later).run(bot)
    assert len(api.requests("sendMessage", CHAT)) == 1


async def test_flood_control_is_waited_out_and_the_reminder_sent_once(
    api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
    session_factory: async_sessionmaker[AsyncSession],
    operator_data: OperatorData,
) -> None:
    async with session_factory() as session:
        await add_bills(session, operator_data, CHAT, days(0))
    api.send_text(api.private_chat(CHAT), "你好")
    api.flood_once[CHAT] = 0
    assert (await service(session_factory).run(bot)).sent == 1
    assert len(api.requests("sendMessage", CHAT)) == 2 and len(api.messages(CHAT)) == 1


class FlakyBot:
    """A bot whose first ``failures`` sends time out, as on a bad network."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise TimedOut()


REMINDER = DueReminder(CHAT, 1, ReminderKind.DUE, TODAY, Lang.ZH, TODAY, 37_492, "XM-1", "小米15", 4, 12)


@pytest.mark.parametrize(("failures", "outcome", "attempts"), [(0, DeliveryStatus.SENT, 1), (2, DeliveryStatus.SENT, 3), (5, None, 3)])
async def test_network_errors_are_retried_then_left_for_a_later_run(failures: int, outcome: DeliveryStatus | None, attempts: int) -> None:
    flaky = FlakyBot(failures)
    assert await TelegramSender(flaky, delays=(0.0, 0.0))(REMINDER) is outcome  # type: ignore[arg-type]
    assert flaky.attempts == attempts


async def test_forbidden_means_blocked() -> None:
    class BlockedBot:
        async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
            raise Forbidden("Forbidden: user is deactivated")

    assert await TelegramSender(BlockedBot())(REMINDER) is DeliveryStatus.BLOCKED  # type: ignore[arg-type]


async def planned(jobs: JobQueue[Any], name: str) -> Job[Any]:
    """The job called ``name``, once a running job has planned it (within about 5 s)."""
    for _ in range(500):
        if found := [job for job in jobs.jobs() if job.name == name]:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no job {name!r} among {[job.name for job in jobs.jobs()]}")


async def test_the_daily_job_is_scheduled_and_a_late_start_catches_up(
    session_factory: async_sessionmaker[AsyncSession],  # first, so the bot stops before its database closes
    api: FakeBotApi,  # noqa: F811
    start_bot: StartBot,  # noqa: F811
    dialogue: Dialogue,
    operator_data: OperatorData,
) -> None:
    started = MORNING + timedelta(minutes=30)
    async with session_factory() as session:
        await add_bills(session, operator_data, CHAT, days(0))
        await add_bills(session, operator_data, CHAT + 1, days(0))
        [elsewhere] = [r for r in await select_due(session, TODAY, DAYS_BEFORE, started) if r.chat_id == CHAT + 1]
        assert await claim(session, elsewhere, started, started - TIMEOUT)  # another instance is sending it
        await session.commit()
    api.send_text(api.private_chat(CHAT), "你好")
    application = await start_bot(dialogue, reminders=service(session_factory, started))
    jobs = application.job_queue
    assert jobs is not None
    [daily] = [job for job in jobs.jobs() if job.name == JOB_NAME]
    assert "hour='9', minute='0'" in str(daily.trigger) and "Asia/Shanghai" in str(daily.trigger.timezone)
    messages = await api.wait_for_messages(CHAT, 2)
    assert sum(message["text"].startswith("今天是还款日") for message in messages) == 1
    retry = await planned(jobs, RETRY_JOB_NAME)  # the catch-up run left a claim in flight
    assert retry.next_t is not None and api.requests("sendMessage", CHAT + 1) == []


# --- the remind command ---------------------------------------------------------------------------


@pytest.fixture
def seeded_database(tmp_path: Path, operator_data: OperatorData, monkeypatch: pytest.MonkeyPatch) -> str:
    """An SQLite file with a linked customer (bills due on TODAY and 3 days later), as DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path}/bills.sqlite3"

    async def seed() -> None:
        await upgrade(url)
        engine = make_engine(url)
        async with make_session_factory(engine)() as session:
            await add_bills(session, operator_data, CHAT, days(0, 3))
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return url


def test_remind_dry_run_prints_what_would_be_sent_and_claims_nothing(seeded_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", "--dry-run", "--today", TODAY.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"chat {CHAT} [zh] due") and lines[1].startswith(f"chat {CHAT} [zh] before")
    assert lines[2] == "2 reminder(s) due on 2025-03-10; dry run: nothing sent, nothing claimed"

    async def deliveries() -> int:
        engine = make_engine(seeded_database)
        async with make_session_factory(engine)() as session:
            count = len((await session.scalars(select(ReminderDelivery))).all())
        await engine.dispose()
        return count

    assert asyncio.run(deliveries()) == 0
    assert main(["remind", "--dry-run", "--today", TODAY.isoformat()]) == 0  # still all there to send
    assert capsys.readouterr().out.splitlines() == lines


def test_remind_without_a_token_is_one_line_and_exit_2(seeded_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", "--today", date(2025, 3, 10).isoformat()]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN is not set" in err


@pytest.fixture
def api_in_thread() -> Iterator[FakeBotApi]:
    """The fake Bot API on its own event loop in a thread, for commands that run their own loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeBotApi()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_remind_sends_one_batch_once(
    seeded_database: str, api_in_thread: FakeBotApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_in_thread.send_text(api_in_thread.private_chat(CHAT), "你好")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api_in_thread.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", api_in_thread.address)
    assert main(["remind", "--today", TODAY.isoformat()]) == 0
    assert main(["remind", "--today", TODAY.isoformat()]) == 0  # cron fired twice: nothing more
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("2025-03-10: sent 2,") and second.startswith("2025-03-10: sent 0,")
    assert [m["text"][:6] for m in api_in_thread.messages(CHAT)] == ["今天是还款日", "还款提醒：您"]


async def test_a_run_that_fails_is_logged_and_tried_again_later(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    def database_away() -> AsyncSession:
        raise ConnectionRefusedError("the database is away")

    broken = ReminderService(database_away, FixedClock(MORNING), time(9, 0), DAYS_BEFORE, TIMEOUT)  # type: ignore[arg-type]
    application = await start_bot(dialogue, reminders=broken)  # after 09:00: the catch-up run fails at once
    jobs = application.job_queue
    assert jobs is not None
    assert (await planned(jobs, RETRY_JOB_NAME)).next_t is not None
    assert any(record.exc_info and record.exc_info[0] is ConnectionRefusedError for record in caplog.records)
