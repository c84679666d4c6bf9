"""The Telegram path: the real Application, long polling a local fake Bot API server on loopback,
200 chats sending 10 messages each at once. Counts updates handled per second, the time from an
update being queued to its reply arriving, and checks that every message got exactly one reply."""

from __future__ import annotations

import asyncio
import time

from benchmarks.measure import Row, percentile
from bot.cli import build_dialogue
from bot.settings import Settings
from telegram.ext import AIORateLimiter

from bot.telegram_app import build_application, serve
from tests.fakebotapi import FakeBotApi

CHATS = 200
MESSAGES_PER_CHAT = 10
TEXTS = ("分期怎么买", "怎么还款", "逾期了怎么办", "3999分12期每期多少", "提前还款有手续费吗", "帐单在哪看", "thanks", "会影响征信吗", "how do I repay early", "那6期呢")


async def _measure() -> tuple[float, list[float], int, int]:
    api = FakeBotApi()
    await api.start()
    # Without the overall 30 messages/s that Telegram allows in bulk (the production limiter), so the
    # figure is the bot's own capacity; per-chat order and the retry on 429 are unchanged.
    unpaced = AIORateLimiter(overall_max_rate=0, max_retries=2)
    application = build_application(api.token, build_dialogue(Settings()), api.address, limiter=unpaced)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(application, stop, None, api.token, started.set))
    await asyncio.wait_for(started.wait(), 10)
    chats = [api.private_chat(100_000 + n) for n in range(CHATS)]
    sent: dict[tuple[int, int], float] = {}
    begin = time.perf_counter()
    for round_ in range(MESSAGES_PER_CHAT):
        for chat in chats:
            api.send_text(chat, TEXTS[round_])
            sent[(chat.chat_id, round_)] = time.monotonic()
    total = CHATS * MESSAGES_PER_CHAT
    await api.wait_for(lambda: len(api.requests("sendMessage")) >= total, timeout=600)
    elapsed = time.perf_counter() - begin
    await api.settled()
    replies = api.requests("sendMessage")
    latencies = []
    per_chat: dict[int, int] = {}
    for call in replies:
        chat_id = call.params["chat_id"]
        round_ = per_chat.get(chat_id, 0)
        per_chat[chat_id] = round_ + 1
        if (chat_id, round_) in sent:
            latencies.append(call.at - sent[(chat_id, round_)])
    lost = sum(max(0, MESSAGES_PER_CHAT - per_chat.get(chat.chat_id, 0)) for chat in chats)
    duplicated = sum(max(0, count - MESSAGES_PER_CHAT) for count in per_chat.values())
    stop.set()
    await asyncio.wait_for(task, 10)
    await api.stop()
    return total / elapsed, latencies, lost, duplicated


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
