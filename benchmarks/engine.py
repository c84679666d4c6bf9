"""The whole engine for one message: normalise, match, dialogue, account lookup in SQLite with the
demo data, and the Telegram rendering of the reply (text split and keyboard)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks.measure import Row, summary
from benchmarks.understanding import messages
from bot.cli import attach_desk, build_dialogue, database
from bot.conversation import Conversation
from bot.demo import DEMO_CUSTOMER_REF, seed_demo
from bot.clock import SystemClock, today
from bot.settings import Settings
from bot.telegram_render import render

ACCOUNT_QUESTIONS = ("我下期什么时候还", "还剩多少没还", "我逾期了吗", "全部还清要多少钱", "when is my next payment due")


async def _measure(data_dir: Path) -> list[float]:
    settings = Settings(data_dir=data_dir, database_url=None, telegram_bot_token=None)
    dialogue = build_dialogue(settings)
    texts = messages() + list(ACCOUNT_QUESTIONS) * 40
    async with database(settings) as sessions:
        async with sessions() as session, session.begin():
            await seed_demo(session, dialogue.knowledge.operator, today(SystemClock(settings.zone)))
        await attach_desk(dialogue, settings, sessions, DEMO_CUSTOMER_REF)
        for text in texts[:50]:  # warm-up: connection pool, statement caches
            render(await dialogue.handle(Conversation(1), text))
        times = []
        for number, text in enumerate(texts):
            start = time.perf_counter()
            render(await dialogue.handle(Conversation(number), text))
            times.append(time.perf_counter() - start)
    return times


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        times = asyncio.run(_measure(Path(folder)))
    median, p99 = summary(times)
    rate = len(times) / sum(times)
    return [
        Row(
            f"whole engine ({len(times)} messages, {len(ACCOUNT_QUESTIONS) * 40} from bills)",
            median,
            p99,
            f"{rate:,.0f} msg/s",
            "p99 ≤ 10 ms",
            p99 <= 10,
        )
    ]
