"""The dialogue's ConversationLog over the SQL database, and the queries operators run on it.

What is stored is already safe to keep: the dialogue hands over redacted text (``bot.privacy``), and
the chat id is replaced here by a keyed pseudonym (``PSEUDONYM_SECRET``), so the table can count and
group chats without saying which Telegram chat is which. Entries older than the retention period
(``LOG_RETENTION_DAYS``) are deleted by ``python bot.py log prune``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dialogue import Exchange
from bot.models import ConversationLogEntry
from bot.privacy import pseudonym
from bot.report import LoggedMessage
from intents.analysis import MAX_MESSAGE_CHARS

log = logging.getLogger(__name__)


class DatabaseLog:
    """Records each exchange in its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], secret: str, clock: Clock) -> None:
        self.sessions = sessions
        self.secret = secret
        self.clock = clock

    async def record(self, exchange: Exchange) -> None:
        """Stores one exchange. A database failure is logged as an error and the customer still gets
        the answer: a missing log line costs less than a customer left without a reply."""
        entry = ConversationLogEntry(
            logged_at=self.clock.now(),
            chat=pseudonym(exchange.chat_id, self.secret),
            language=exchange.lang.value,
            text=exchange.text[:MAX_MESSAGE_CHARS],  # all the matcher reads of a message
            intent=exchange.intent.value,
            confidence=exchange.confidence,
            alternatives=[{"intent": c.intent.value, "confidence": c.confidence} for c in exchange.alternatives],
            fallback=exchange.fallback,
        )
        try:
            async with self.sessions() as session, session.begin():
                session.add(entry)
        except SQLAlchemyError:
            log.error("could not record an exchange in the conversation log", exc_info=True)


async def logged_since(session: AsyncSession, since: datetime) -> list[LoggedMessage]:
    """Every entry logged at or after ``since``, oldest first."""
    rows = await session.scalars(
        select(ConversationLogEntry).where(ConversationLogEntry.logged_at >= since).order_by(ConversationLogEntry.logged_at)
    )
    return [
        LoggedMessage(
            logged_at=row.logged_at,
            chat=row.chat,
            text=row.text,
            intent=row.intent,
            confidence=row.confidence,
            closest=str(row.alternatives[0]["intent"]) if row.alternatives else None,
            fallback=row.fallback,
        )
        for row in rows
    ]


async def prune(session: AsyncSession, now: datetime, retention: timedelta) -> int:
    """Deletes the entries older than ``retention``; returns how many."""
    result = await session.execute(delete(ConversationLogEntry).where(ConversationLogEntry.logged_at < now - retention))
    return int(result.rowcount)  # type: ignore[attr-defined]
