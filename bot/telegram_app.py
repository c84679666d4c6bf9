"""The Telegram application: python-telegram-bot's Application wired to the handlers in
``bot.telegram_handlers``, started by long polling or on a webhook, stopped by a signal.

Updates of different chats are processed concurrently, those of one chat one at a time in the order
they came (``PerChatOrder``), so the per-chat ``Conversation`` needs no further locking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from telegram import BotCommand, BotCommandScopeAllGroupChats, LinkPreviewOptions, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)

from bot.dialogue import Dialogue
from bot.telegram_admin import KnowledgeReloader, KnowledgeSource
from bot.telegram_config import BotStartError, Webhook, api_urls, bot_token
from bot.telegram_handlers import Assistant
from bot.telegram_reminders import ReminderService, rate_limiter
from bot.telegram_render import COMMANDS, TOPIC_COMMANDS
from bot.telegram_updates import TolerantBot, webhook_server
from knowledge.text import Lang

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_HANDLERS = 16
"""Updates handled at the same moment. 16 replies in flight keep Telegram's 30 messages a second
flowing over round trips of up to half a second. More is slower, not faster: httpcore (1.0) checks
every idle keep-alive connection, two system calls each, whenever a request starts or ends, and hands
one idle connection to several waiting requests, all but one of which go round again. In
``python -m benchmarks telegram`` that bookkeeping took 45 % of the bot's CPU at 64 (the former
value), 25 % at 16 and 6 % at 4, and 16 handled 15-25 % more updates a second than 64."""


class PerChatOrder(BaseUpdateProcessor):
    """Runs updates of different chats concurrently, and those of one chat one after another.

    Updates arrive here in the order Telegram numbered them; each takes its chat's lock before it
    runs, and asyncio locks are granted first come, first served. Updates that belong to no chat run
    at once. ``handlers`` caps how many run at the same moment (the base class's limit only caps how
    many wait).
    """

    def __init__(self, waiting: int = 4096, handlers: int = CONCURRENT_HANDLERS) -> None:
        super().__init__(waiting)
        self._running = asyncio.Semaphore(handlers)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] = self._queued.get(chat.id, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:
                del self._queued[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def register_handlers(application: Application, assistant: Assistant, reloader: KnowledgeReloader | None = None) -> None:
    """Every handler, in the order they are tried; the first that matches an update handles it."""
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    new = filters.UpdateType.MESSAGE

    # Edited messages first, so that an edited command is not run again.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, assistant.edited))

    # Commands (in groups only those addressed to this bot: /help or /help@this_bot).
    application.add_handler(CommandHandler("start", assistant.start, filters=new))
    for name, intent in TOPIC_COMMANDS.items():
        application.add_handler(CommandHandler(name, assistant.topic(intent), filters=new))
    application.add_handler(CommandHandler("unlink", assistant.unlink, filters=new))
    application.add_handler(CommandHandler("reminders", assistant.reminders, filters=new))
    application.add_handler(CommandHandler("lang", assistant.language, filters=new))
    application.add_handler(CommandHandler("cancel", assistant.cancel, filters=new))

    # Admin commands, private chats only (they check the user themselves).
    if reloader is not None:
        application.add_handler(CommandHandler("reload", reloader.command, filters=new & private))

    # Inline buttons: every press is answered, a stale or forged one with "this button has expired".
    application.add_handler(CallbackQueryHandler(assistant.button))

    # Free text: all of it in private chats; in groups only what mentions or replies to the bot.
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & (private | groups), assistant.text))

    # Anything else: unknown commands (private chats), then stickers, photos, voice, files, … (private
    # chats, and in groups when they reply to the bot).
    application.add_handler(MessageHandler(new & filters.COMMAND & private, assistant.unknown_command))
    application.add_handler(MessageHandler(new & ~filters.TEXT & (private | groups), assistant.not_text))

    # Last: the error handler, which logs and tells the user; the others keep being served.
    application.add_error_handler(assistant.error)


def build_application(
    token: str,
    dialogue: Dialogue,
    api_address: str | None = None,
    *,
    reminders: ReminderService | None = None,
    source: KnowledgeSource | None = None,
    limiter: AIORateLimiter | None = None,
) -> Application:
    """The Application for ``dialogue`` (with its account desk attached, if any), sending the daily
    ``reminders`` when given (they need the database); with ``source``, admins can reload the
    knowledge base from it. ``limiter`` replaces Telegram's pacing, e.g. to measure the bot's own
    capacity against a local server."""
    return _assemble(token, dialogue, api_address, reminders, source, limiter)[0]


def _assemble(
    token: str,
    dialogue: Dialogue,
    api_address: str | None,
    reminders: ReminderService | None,
    source: KnowledgeSource | None,
    limiter: AIORateLimiter | None = None,
) -> tuple[Application, KnowledgeReloader | None]:
    bot = _bot(token, api_address, limiter or rate_limiter())
    application = ApplicationBuilder().bot(bot).concurrent_updates(PerChatOrder()).build()
    assistant = Assistant(dialogue, reminders)
    reloader = KnowledgeReloader(assistant, source) if source is not None else None
    register_handlers(application, assistant, reloader)
    if reminders is not None:
        assert application.job_queue is not None  # the job-queue extra is a dependency
        reminders.schedule(application.job_queue)
    return application, reloader


def _bot(token: str, api_address: str | None, limiter: AIORateLimiter) -> TolerantBot:
    """The bot that reads each update on its own, with python-telegram-bot's default connections
    (those ApplicationBuilder would make)."""
    defaults = Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True))
    if not api_address:
        return TolerantBot(token, defaults=defaults, rate_limiter=limiter)
    base_url, base_file_url = api_urls(api_address)
    return TolerantBot(token, base_url, base_file_url, defaults=defaults, rate_limiter=limiter)


async def register_commands(application: Application) -> None:
    """The command menus: English by default, Chinese for Chinese Telegram clients; groups get the
    guide commands only."""
    bot = application.bot
    for scope, commands in ((None, COMMANDS), (BotCommandScopeAllGroupChats(), [c for c in COMMANDS if c.in_groups])):
        for lang, language_code in ((Lang.EN, None), (Lang.ZH, "zh")):
            await bot.set_my_commands(
                [BotCommand(c.name, c.description[lang]) for c in commands], scope=scope, language_code=language_code
            )


async def serve(
    application: Application,
    stop: asyncio.Event,
    webhook: Webhook | None = None,
    token: str = "",
    started: Callable[[], None] | None = None,
) -> None:
    """Runs ``application`` until ``stop`` is set: initialises it (getMe), registers the commands and
    receives updates by long polling, or on ``webhook`` (``token`` gives its secret)."""
    try:
        await application.initialize()
    except Exception:
        await application.bot.shutdown()  # python-telegram-bot leaves its connections open when getMe fails
        raise
    async with application:
        await register_commands(application)
        await application.start()
        try:
            async with _polling(application) if webhook is None else _on_webhook(application, webhook, token):
                if started is not None:
                    started()
                await stop.wait()
        finally:
            await application.stop()


@contextlib.asynccontextmanager
async def _polling(application: Application) -> AsyncIterator[None]:
    """Receives updates by long polling while the block runs."""
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=_polling_failed)
    try:
        yield
    finally:
        await application.updater.stop()


@contextlib.asynccontextmanager
async def _on_webhook(application: Application, webhook: Webhook, token: str) -> AsyncIterator[None]:
    """Receives updates on ``webhook`` while the block runs: serves it, then tells Telegram where it is."""
    secret = webhook.secret(token)
    async with webhook_server(application, webhook.listen, webhook.port, urlsplit(webhook.url).path or "/", secret):
        await application.bot.set_webhook(webhook.url, allowed_updates=ALLOWED_UPDATES, secret_token=secret)
        yield


def _polling_failed(error: TelegramError) -> None:
    """One line per failed poll (the updater retries with back-off) instead of a traceback each time."""
    log.warning("polling for updates failed, retrying: %s", error)


@contextlib.contextmanager
def start_errors(api_address: str | None) -> Iterator[None]:
    """Telegram refusing the token or being out of reach, as one ``BotStartError`` without the token."""
    try:
        yield
    except InvalidToken as error:
        # Not error.message: it quotes the token.
        raise BotStartError("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather") from error
    except BadRequest:
        raise
    except NetworkError as error:  # the token stays out of the message: it is part of the request URL
        where = api_address or "https://api.telegram.org"
        raise BotStartError(f"cannot reach the Telegram Bot API at {where}: {error.message}") from error


async def run_bot(
    dialogue: Dialogue,
    token: SecretStr | None,
    api_address: str | None = None,
    webhook: Webhook | None = None,
    reminders: ReminderService | None = None,
    source: KnowledgeSource | None = None,
) -> None:
    """``python bot.py run``: serves until SIGINT or SIGTERM; with ``source``, SIGHUP reloads the
    knowledge base. Raises ``BotStartError`` for a missing, malformed or refused token, an
    unreachable Bot API, a bad API address or webhook URL."""
    value = bot_token(token)
    if webhook is not None:
        webhook.check()
    application, reloader = _assemble(value, dialogue, api_address, reminders, source)
    mode = f"webhook {webhook.url}, listening on {webhook.listen}:{webhook.port}" if webhook else "long polling"

    def started() -> None:
        print(f"@{application.bot.username} is answering on Telegram ({mode}); Ctrl+C stops", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises KeyboardInterrupt instead
            loop.add_signal_handler(signum, stop.set)
    if reloader is not None:
        reloader.install(loop)
    try:
        with start_errors(api_address):
            await serve(application, stop, webhook, value, started)
    except OSError as error:
        raise BotStartError(f"cannot listen on {webhook.listen}:{webhook.port}: {error}" if webhook else str(error)) from error
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
        if reloader is not None:
            reloader.uninstall(loop)
