"""What the logs may hold: a conversation through the real Telegram stack at DEBUG level leaves no
token, chat id, customer text or link code in them."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.accounts import DatabaseDesk
from bot.clock import SystemClock
from bot.conversation_log import DatabaseLog
from bot.dialogue import Dialogue
from bot.linking import create_link_code
from bot.logs import SecretFilter, configure_logging
from bot.models import Customer
from bot.telegram_app import build_application, serve
from fakebotapi import FakeBotApi
from intents.matcher import Matcher
from knowledge.model import KnowledgeBase

CHAT_ID = 7734219905
TEXTS = ("我下期什么时候还", "我的手机号是13812345678，帮我看看账单", "提前还款要手续费吗")


@pytest.fixture
async def debug_log() -> AsyncIterator[io.StringIO]:
    """The assistant's own logging configuration at DEBUG, written to a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level, library_levels = root.level, {name: logging.getLogger(name).level for name in ("httpx", "telegram")}
    handler = configure_logging("DEBUG", [FakeBotApi().token], stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for name, library_level in library_levels.items():
        logging.getLogger(name).setLevel(library_level)


async def test_a_conversation_at_debug_level_logs_no_token_chat_id_or_text(
    debug_log: io.StringIO,
    session_factory: async_sessionmaker[AsyncSession],
    knowledge: KnowledgeBase,
    matcher: Matcher,
) -> None:
    clock = SystemClock()
    async with session_factory() as session, session.begin():
        customer = Customer(ref="C-LOG", name="Log", created_at=clock.now())
        session.add(customer)
        await session.flush()
        code = await create_link_code(session, customer.id, clock.now())
    dialogue = Dialogue(
        knowledge, matcher, DatabaseDesk(session_factory, knowledge.operator, clock), DatabaseLog(session_factory, "k", clock)
    )
    api = FakeBotApi()
    await api.start()
    application = build_application(api.token, dialogue, api.address)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(application, stop, None, api.token, started.set))
    try:
        await asyncio.wait_for(started.wait(), 5)
        chat = api.private_chat(CHAT_ID)
        for number, text in enumerate((f"我的绑定码是 {code}", *TEXTS), start=1):
            api.send_text(chat, text)
            await api.wait_for_messages(CHAT_ID, number)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await api.stop()

    logged = debug_log.getvalue()
    assert "DEBUG bot.telegram_handlers: answering as" in logged  # the level took effect: there is something to search
    for secret in (api.token, api.token.split(":")[1], str(CHAT_ID), code, *TEXTS, "13812345678"):
        assert secret not in logged


def test_the_secret_filter_masks_secrets_in_messages_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "calling %s", ("https://api/bot123:SECRET/getMe",), None)
    try:
        raise RuntimeError("bad URL https://api/bot123:SECRET/getMe")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    SecretFilter(["123:SECRET"]).filter(record)
    assert "SECRET" not in record.getMessage() and "<secret>" in record.getMessage()
    assert "RuntimeError" in record.getMessage()
