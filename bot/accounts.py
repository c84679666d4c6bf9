"""The dialogue's AccountDesk over the SQL database: one session per call, committed or rolled back whole."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.account_answers import AccountAnswer, render_account_answer
from bot.clock import Clock, today
from bot.dialogue import LinkOutcome
from bot.errors import InvalidLinkCode, LinkRateLimited
from bot.ledger import customer_for_chat, load_account
from bot.linking import find_link_code, redeem_link_code, unlink
from bot.preferences import save_language
from intents.catalogue import IntentId
from knowledge.operator import OperatorData
from knowledge.text import Lang


class DatabaseDesk:
    """Answers account questions for the customer a chat is linked to.

    ``acting_as`` makes every chat speak for one customer: the operator's and tester's view used by
    ``chat --customer`` and ``ask --customer``, never by the Telegram bot.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        operator: OperatorData,
        clock: Clock,
        acting_as: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.operator = operator
        self.clock = clock
        self.acting_as = acting_as

    def find_code(self, text: str) -> str | None:
        return find_link_code(text)

    async def linked(self, chat_id: int) -> bool:
        async with self.sessions() as session:
            return await self._customer(session, chat_id) is not None

    async def lookup(self, chat_id: int, intent: IntentId, lang: Lang) -> AccountAnswer | None:
        async with self.sessions() as session:
            customer_id = await self._customer(session, chat_id)
            if customer_id is None:
                return None
            account = await load_account(session, customer_id)
        return render_account_answer(intent, account, today(self.clock), lang, self.operator)

    async def _customer(self, session: AsyncSession, chat_id: int) -> int | None:
        return self.acting_as or await customer_for_chat(session, chat_id)

    async def link(self, chat_id: int, code: str, lang: Lang) -> LinkOutcome:
        """Redeem ``code``; the chat's language (``lang``, the conversation's) is stored with the link,
        so reminders, which have no conversation at hand, are written in it."""
        # A wrong code is recorded for the rate limit, so the session commits in every case.
        async with self.sessions() as session, session.begin():
            try:
                await redeem_link_code(session, chat_id, code, self.clock.now())
            except InvalidLinkCode:
                return LinkOutcome.INVALID
            except LinkRateLimited:
                return LinkOutcome.RATE_LIMITED
            await save_language(session, chat_id, lang)
        return LinkOutcome.LINKED

    async def unlink(self, chat_id: int) -> bool:
        async with self.sessions() as session, session.begin():
            return await unlink(session, chat_id)
