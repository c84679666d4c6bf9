"""Telegram's side of the Telegram-path benchmark, in a process of its own: the fake Bot API server
and the chats that write to the bot.

In production Telegram's servers are not in the bot's process, so neither is this: the bot measured
in ``benchmarks.telegram_path`` has its core to itself. This process records what happened and hands
it back over a pipe; the benchmark judges it. Both sides' times are ``time.monotonic()``, but they
are all taken here anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from tests.fakebotapi import FakeBotApi

START_TIMEOUT = 60.0
"""Seconds the bot has to start polling."""
RUN_TIMEOUT = 600.0
"""Seconds it has to answer everything."""


@dataclass(frozen=True)
class Traffic:
    """What the chats sent and what the bot replied, as recorded by the fake server."""

    elapsed: float
    """Seconds from the first message sent to the last reply received."""
    sent: dict[tuple[int, int], float]
    """When each (chat id, round) message was queued for the bot."""
    replies: list[tuple[int, float]]
    """Each sendMessage's chat id and arrival time, in the order they arrived."""


def serve(connection: Connection, chat_ids: list[int], texts: tuple[str, ...]) -> None:
    """The child process's entry: sends ``(token, address)``, waits for the bot to poll, has every
    chat send ``texts`` (round by round, all at once), sends the ``Traffic`` once every message has a
    reply and the bot has gone quiet, and keeps serving until the parent sends anything (so the bot's
    last long poll is not cut off)."""
    asyncio.run(_serve(connection, chat_ids, texts))


async def _serve(connection: Connection, chat_ids: list[int], texts: tuple[str, ...]) -> None:
    api = FakeBotApi()
    await api.start()
    try:
        connection.send((api.token, api.address))
        await api.wait_for(lambda: bool(api.requests("getUpdates")), timeout=START_TIMEOUT)
        chats = [api.private_chat(chat_id) for chat_id in chat_ids]
        sent: dict[tuple[int, int], float] = {}
        begin = time.monotonic()
        for round_, text in enumerate(texts):
            for chat in chats:
                api.send_text(chat, text)
                sent[(chat.chat_id, round_)] = time.monotonic()
        total = len(chats) * len(texts)
        await api.wait_for(lambda: len(api.requests("sendMessage")) >= total, timeout=RUN_TIMEOUT)
        elapsed = time.monotonic() - begin
        await api.settled()
        replies = [(call.params["chat_id"], call.at) for call in api.requests("sendMessage")]
        connection.send(Traffic(elapsed, sent, replies))
        with contextlib.suppress(EOFError):  # the parent is gone: nothing left to serve
            await asyncio.to_thread(connection.recv)
    finally:
        await api.stop()
