"""Per-chat preferences kept across restarts: the reply language and whether reminders are sent.

The Telegram layer keeps a conversation's language in memory and follows each message; what a chat
chose explicitly (/lang, /reminders) is stored here, because the reminder run, which has no
conversation at hand, writes in it. A chat without a row gets reminders, in Chinese.
Functions take the caller's session and never commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatPreference
from knowledge.text import Lang

DEFAULT_LANGUAGE = Lang.ZH


async def _preference(session: AsyncSession, chat_id: int, lang: Lang) -> ChatPreference:
    preference = await session.get(ChatPreference, chat_id)
    if preference is None:
        preference = ChatPreference(chat_id=chat_id, language=lang, reminders=True)
        session.add(preference)
    return preference


async def save_language(session: AsyncSession, chat_id: int, lang: Lang) -> None:
    (await _preference(session, chat_id, lang)).language = lang
    await session.flush()


async def save_reminders(session: AsyncSession, chat_id: int, on: bool, lang: Lang) -> None:
    """Switch reminders on or off; ``lang`` (the conversation's) is stored too if the chat has no row yet."""
    (await _preference(session, chat_id, lang)).reminders = on
    await session.flush()


async def reminders_on(session: AsyncSession, chat_id: int) -> bool:
    preference = await session.get(ChatPreference, chat_id)
    return preference is None or preference.reminders
