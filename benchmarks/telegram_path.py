"""The Telegram path: the real Application, long polling a fake Bot API server on loopback, 200 chats
sending 10 messages each at once. Counts updates handled per second, the time from an update being
queued to its reply arriving, and checks that every message got exactly one reply.

The server and the chats run in a child process (``benchmarks.telegram_side``), as Telegram runs
elsewhere in production, so the figure is what the bot does with its own core.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from telegram.ext import AIORateLimiter

from benchmarks.measure import Row, percentile
from benchmarks.telegram_side import RUN_TIMEOUT, Traffic, serve as serve_telegram
from bot.cli import build_dialogue
from bot.settings import Settings
from bot.telegram_app import build_application, serve

CHATS = 200
MESSAGES_PER_CHAT = 10
TEXTS = ("分期怎么买", "怎么还款", "逾期了怎么办", "3999分12期每期多少", "提前还款有手续费吗", "帐单在哪看", "thanks", "会影响征信吗", "how do I repay early", "那6期呢")


async def _measure() -> tuple[float, list[float], int, int]:
    chat_ids = [100_000 + n for n in range(CHATS)]
    # spawn, not fork: the child starts clean instead of inheriting whatever this process has loaded.
    context = multiprocessing.get_context("spawn")
    connection, child_end = context.Pipe()
    telegram = context.Process(target=serve_telegram, args=(child_end, chat_ids, TEXTS[:MESSAGES_PER_CHAT]), daemon=True)
    telegram.start()
    child_end.close()
    try:
        token, address = await _receive(connection, 60)
        # Without the overall 30 messages/s that Telegram allows in bulk (the production limiter), so
        # the figure is the bot's own capacity; per-chat order and the retry on 429 are unchanged.
        unpaced = AIORateLimiter(overall_max_rate=0, max_retries=2)
        application = build_application(token, build_dialogue(Settings()), address, limiter=unpaced)
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(application, stop, None, token, started.set))
        await asyncio.wait_for(started.wait(), 10)
        traffic: Traffic = await _receive(connection, RUN_TIMEOUT + 10)
        stop.set()
        await asyncio.wait_for(task, 10)
        connection.send("done")
    finally:
        connection.close()
        telegram.join(10)
        if telegram.is_alive():
            telegram.terminate()
    return _judge(traffic, chat_ids)


async def _receive(connection: Connection, timeout: float) -> Any:
    """The child's next message, waited for off the event loop so the bot keeps serving meanwhile."""
    if not await asyncio.to_thread(connection.poll, timeout):
        raise TimeoutError(f"the fake Telegram process sent nothing for {timeout} s")
    return connection.recv()


def _judge(traffic: Traffic, chat_ids: list[int]) -> tuple[float, list[float], int, int]:
    """Updates per second, each reply's latency, lost and duplicated replies. The n-th reply in a chat
    is taken as the answer to its n-th message (the bot answers each chat in order)."""
    latencies = []
    per_chat: dict[int, int] = {}
    for chat_id, at in traffic.replies:
        round_ = per_chat.get(chat_id, 0)
        per_chat[chat_id] = round_ + 1
        if (chat_id, round_) in traffic.sent:
            latencies.append(at - traffic.sent[(chat_id, round_)])
    lost = sum(max(0, MESSAGES_PER_CHAT - per_chat.get(chat_id, 0)) for chat_id in chat_ids)
    duplicated = sum(max(0, count - MESSAGES_PER_CHAT) for count in per_chat.values())
    return len(traffic.sent) / traffic.elapsed, latencies, lost, duplicated


def run() -> list[Row]:
    rate, latencies, lost, duplicated = asyncio.run(_measure())
    return [
        Row(
            f"Telegram path, {CHATS} chats × {MESSAGES_PER_CHAT} (update → reply)",
            percentile(latencies, 0.5) * 1000,
            percentile(latencies, 0.99) * 1000,
            f"{rate:,.0f} updates/s, {lost} lost, {duplicated} duplicated",
            "≥ 300 updates/s, none lost",
            rate >= 300 and lost == 0 and duplicated == 0,
        )
    ]
