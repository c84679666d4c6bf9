"""Reminders on Telegram: the daily job, sending with Telegram's realities, and the /reminders switch.

- **Pacing.** Messages go through python-telegram-bot's ``AIORateLimiter`` (30 a second overall), as
  every request of the running bot does, so a batch of thousands stays under Telegram's flood limits;
  should Telegram still answer 429, the limiter waits the ``retry_after`` it names and tries again.
- **Blocked users.** ``Forbidden`` (blocked, deactivated account) ends the chat's link: no further
  attempts, today or later, until the customer links again.
- **Transient errors.** Network errors and time-outs are retried with growing pauses
  (``RETRY_DELAYS``); if they persist, the reminder stays claimed and a later run sends it after the
  claim timeout (``bot.reminder_store``), so the pauses together must stay well below that timeout.
- **When.** ``run_daily`` at ``REMINDER_TIME`` in the shop's zone; at start-up once more if that time
  has already passed today (a restart must not skip the day), and again after the claim timeout
  whenever a run leaves claims unfinished (a crash, another instance, a send that failed for now).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, ContextTypes, ExtBot, JobQueue

from bot import phrases
from bot.clock import Clock, today
from bot.ledger import customer_for_chat
from bot.models import DeliveryStatus
from bot.preferences import reminders_on, save_language, save_reminders
from bot.reminder_store import BatchReport, deliver, select_due
from bot.reminders import DueReminder, compose, describe_schedule
from bot.replies import Reply
from bot.settings import Settings
from bot.telegram_render import keyboard
from knowledge.text import Lang

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 8.0, 30.0)
"""Seconds to wait before each retry after a network error: 40 s at most, far below the claim timeout."""
JOB_NAME = "reminders"
CATCH_UP_JOB_NAME = f"{JOB_NAME}: catch up after start"
RETRY_JOB_NAME = f"{JOB_NAME}: retry claims left unfinished"


def rate_limiter() -> AIORateLimiter:
    """The pacing every bot of this project sends through: Telegram's limits, and two retries on 429."""
    return AIORateLimiter(max_retries=2)


class TelegramSender:
    """Sends one reminder (``bot.reminder_store.Send``) and says how it ended."""

    def __init__(self, bot: Bot, delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.bot = bot
        self.delays = delays

    async def __call__(self, reminder: DueReminder) -> DeliveryStatus | None:
        reply = compose(reminder)
        for delay in (*self.delays, None):
            try:
                await self.bot.send_message(reminder.chat_id, reply.text, reply_markup=keyboard(reply.buttons))
                return DeliveryStatus.SENT
            except Forbidden as error:
                log.info("bill %s: its chat cannot receive reminders (%s): unlinking it", reminder.bill_id, error.message)
                return DeliveryStatus.BLOCKED
            except RetryAfter:
                log.warning("bill %s: flood limit still hit after retries: leaving it for a later run", reminder.bill_id)
                return None
            except BadRequest as error:  # before NetworkError, which it subclasses: this one is for good
                log.warning("bill %s: Telegram refused the reminder: %s", reminder.bill_id, error.message)
                return DeliveryStatus.FAILED
            except NetworkError as error:
                if delay is None:
                    log.warning("bill %s: reminder not sent (%s): leaving it for a later run", reminder.bill_id, error.message)
                    return None
                log.info("bill %s: reminder not sent (%s); retrying in %s s", reminder.bill_id, error.message, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns")


@dataclass(frozen=True)
class ReminderService:
    """Everything reminders need from the running bot or the ``remind`` command."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    at: time
    """Time of day in the clock's zone (Asia/Shanghai)."""
    days_before: tuple[int, ...]
    claim_timeout: timedelta
    retry_delays: Sequence[float] = RETRY_DELAYS

    @classmethod
    def from_settings(cls, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> ReminderService:
        return cls(sessions, clock, settings.reminder_time, settings.reminder_days_before, settings.reminder_claim_timeout)

    # --- a batch ---

    async def preview(self) -> list[DueReminder]:
        """What a run now would send; claims nothing."""
        async with self.sessions() as session:
            return await select_due(session, today(self.clock), self.days_before, self.clock.now() - self.claim_timeout)

    async def run(self, bot: Bot) -> BatchReport:
        report = await deliver(
            self.sessions, self.clock, self.days_before, self.claim_timeout, TelegramSender(bot, self.retry_delays)
        )
        log.info("reminders %s", report)
        return report

    # --- the job ---

    def schedule(self, job_queue: JobQueue[ContextTypes.DEFAULT_TYPE]) -> None:
        job_queue.run_daily(self._job, self.at.replace(tzinfo=self.clock.zone), name=JOB_NAME)
        if self.clock.now().astimezone(self.clock.zone).time() >= self.at:
            job_queue.run_once(self._job, 0, name=CATCH_UP_JOB_NAME)

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One run; another after the claim timeout if it left claims unfinished or failed (the
        database was away, say), so that nothing of the day is lost."""
        again = True
        try:
            again = (await self.run(context.bot)).in_flight > 0
        finally:
            if again and context.job_queue is not None:
                context.job_queue.run_once(self._job, self.claim_timeout + timedelta(seconds=5), name=RETRY_JOB_NAME)

    # --- the chat's switches ---

    async def command(self, chat_id: int, lang: Lang, args: Sequence[str]) -> Reply:
        """/reminders [on|off]: switch, then say how things stand (and that an unlinked chat gets none)."""
        word = args[0].lower() if args else ""
        async with self.sessions() as session, session.begin():
            if word in phrases.ON_WORDS | phrases.OFF_WORDS:
                await save_reminders(session, chat_id, word in phrases.ON_WORDS, lang)
            on = await reminders_on(session, chat_id)
            linked = await customer_for_chat(session, chat_id) is not None
        if not on:
            return Reply(phrases.REMINDERS_OFF[lang])
        text = phrases.REMINDERS_ON[lang].format(schedule=describe_schedule(self.days_before, self.at, lang))
        return Reply(text if linked else f"{text}\n{phrases.REMINDERS_NEED_LINK[lang]}")

    async def save_language(self, chat_id: int, lang: Lang) -> None:
        """/lang: reminders are written in the chosen language from now on."""
        async with self.sessions() as session, session.begin():
            await save_language(session, chat_id, lang)


def reminder_bot(token: str, base_url: str | None = None, base_file_url: str | None = None) -> ExtBot[None]:
    """A bot for one batch from the command line, paced like the running bot."""
    urls = {"base_url": base_url, "base_file_url": base_file_url} if base_url and base_file_url else {}
    return ExtBot(token, rate_limiter=rate_limiter(), **urls)
