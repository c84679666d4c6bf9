"""The Telegram front end: a thin layer that feeds messages and button presses to the dialogue engine
and sends its replies back. All the wording of answers comes from the engine; the few words here are
about Telegram itself (expired buttons, stickers, private chats).

Safety rules that live here, because only here is it known what kind of chat a message comes from:

- Account data only in private chats, where the chat id is the user's own id (what the engine's
  ``AccountDesk`` looks bills up by). Groups are served by a second engine *without* a desk, so no
  bill can reach a group even by mistake, and account topics there get "ask me in a private chat".
- In groups the bot speaks only when addressed: a command, a mention of its username, or a reply to
  one of its messages.
- Updates of different chats are processed concurrently, those of one chat one at a time in the order
  they came (``PerChatOrder``), so the per-chat ``Conversation`` needs no further locking.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import signal
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    Chat,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.conversation import Conversation
from bot.dialogue import MENU_TOPICS, Dialogue
from bot.replies import Action, Button, Reply, topic_action
from bot.telegram_admin import KnowledgeReloader, KnowledgeSource
from bot.telegram_reminders import ReminderService, rate_limiter
from bot.telegram_render import (
    CANCELLED,
    COMMANDS,
    EDITED,
    EXPIRED,
    FAILED,
    LANGUAGE_SET,
    NOT_TEXT,
    PRIVATE_CHAT_ONLY,
    REMINDERS_UNAVAILABLE,
    STEP_ACTIONS,
    TOPIC_COMMANDS,
    UNKNOWN_COMMAND,
    UNLINK_WORD,
    decode_callback,
    render,
)
from intents.catalogue import IntentId
from intents.matcher import MAX_MESSAGE_CHARS, Matcher
from knowledge.model import KnowledgeBase
from knowledge.text import Lang

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,100}")
"""What @BotFather hands out: the bot's numeric id, a colon and a secret of 35 URL-safe characters."""
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
MAX_CHATS = 100_000
"""Conversations kept in memory; the least recently active beyond this are forgotten."""
MAX_TEXT_CHARS = 2 * MAX_MESSAGE_CHARS
"""Longer messages are cut before the engine sees them: the matcher reads only the first
``MAX_MESSAGE_CHARS`` anyway, and the rest would only cost time while other chats wait."""
PRIVATE_ONLY = frozenset(intent for intent in IntentId if intent.is_account_lookup) | {IntentId.LINK}
CONCURRENT_HANDLERS = 16
"""Updates handled at the same moment. 16 replies in flight keep Telegram's 30 messages a second
flowing over round trips of up to half a second. More is slower, not faster: httpcore (1.0) checks
every idle keep-alive connection, two system calls each, whenever a request starts or ends, and hands
one idle connection to several waiting requests, all but one of which go round again. In
``python -m benchmarks telegram`` that bookkeeping took 45 % of the bot's CPU at 64 (the former
value), 25 % at 16 and 6 % at 4, and 16 handled 15-25 % more updates a second than 64."""


class BotStartError(Exception):
    """The bot cannot start (no token, a malformed one, one Telegram refuses, a bad webhook URL)."""


# --- configuration -------------------------------------------------------------------------------


def bot_token(token: SecretStr | None) -> str:
    """The token, checked for shape so a typo gives one clear line instead of a failed request."""
    if token is None or not token.get_secret_value().strip():
        raise BotStartError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and set its token")
    value = token.get_secret_value().strip()
    if not TOKEN_PATTERN.fullmatch(value):
        raise BotStartError("TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:AAE… that @BotFather gives")
    return value


def api_urls(address: str) -> tuple[str, str]:
    """python-telegram-bot's ``base_url`` and ``base_file_url`` for a Bot API server.

    ``address`` is the server, e.g. ``http://127.0.0.1:8081``; the form python-telegram-bot itself
    takes (ending in ``/bot``) is accepted too.
    """
    parts = urlsplit(address.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise BotStartError(f"TELEGRAM_API_BASE_URL is not an http(s) URL: {address!r}")
    root = address.strip().rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


@dataclass(frozen=True)
class Webhook:
    """Receiving updates on an HTTPS endpoint instead of polling (e.g. behind a load balancer)."""

    url: str
    """The public URL Telegram posts to; its path is the path the local server listens on."""
    listen: str = "0.0.0.0"
    port: int = 8443

    def check(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise BotStartError(f"--webhook needs an http(s) URL, got {self.url!r}")

    def secret(self, token: str) -> str:
        """The secret Telegram sends with every update, derived from the token: every replica of a
        deployment computes the same one, and nobody without the token can forge updates."""
        return hmac.new(token.encode(), b"webhook secret", hashlib.sha256).hexdigest()


# --- state ---------------------------------------------------------------------------------------


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


class Conversations:
    """Each chat's ``Conversation``, in memory, the least recently active forgotten beyond ``limit``."""

    def __init__(self, limit: int = MAX_CHATS) -> None:
        self.limit = limit
        self._chats: OrderedDict[int, Conversation] = OrderedDict()

    def get(self, chat: Chat, user: User | None) -> Conversation:
        conversation = self._chats.get(chat.id)
        if conversation is None:
            # Until the first message shows the language, answer in the one the user's Telegram is in.
            code = (user.language_code or "zh") if user else "zh"
            conversation = Conversation(chat.id, lang=Lang.ZH if code.lower().startswith("zh") else Lang.EN)
            self._chats[chat.id] = conversation
            while len(self._chats) > self.limit:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat.id)
        return conversation

    def reset(self, chat: Chat) -> Conversation:
        old = self._chats.pop(chat.id, None)
        fresh = self.get(chat, None)
        if old is not None:
            fresh.lang, fresh.lang_fixed = old.lang, old.lang_fixed
        return fresh


# --- the handlers --------------------------------------------------------------------------------

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Assistant:
    """The handlers, over one engine for private chats (with the account desk) and one for groups
    (without it)."""

    def __init__(self, dialogue: Dialogue, reminders: ReminderService | None = None) -> None:
        self.private = dialogue
        self.reminders_service = reminders
        self.group = Dialogue(dialogue.knowledge, dialogue.matcher, desk=None, log=dialogue.log)
        self.conversations = Conversations()
        self.steps = len(dialogue.knowledge.walkthrough)

    def use_knowledge(self, knowledge: KnowledgeBase, matcher: Matcher) -> None:
        """Both engines switch together, with no await in between (see ``bot.telegram_admin``)."""
        self.private.use_knowledge(knowledge, matcher)
        self.group.use_knowledge(knowledge, matcher)
        self.steps = len(knowledge.walkthrough)

    # --- messages ---

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = _message(update), _chat(update)
        conversation = self.conversations.get(chat, update.effective_user)
        if chat.type == ChatType.PRIVATE:
            reply = await self.private.handle(conversation, _text(message)[:MAX_TEXT_CHARS])
            await self._send(context, chat, conversation, reply)
            return
        text = _addressed_text(message, context.bot.username, context.bot.id)
        if text is None:
            return
        if self.private.desk is not None and self.private.desk.looks_like_code(text):
            reply = self._private_only(conversation, context)
        else:
            reply = self._guard(chat, conversation, context, await self.group.handle(conversation, text[:MAX_TEXT_CHARS]))
        await self._send(context, chat, conversation, reply, reply_to=message)

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = _message(update), _chat(update)
        if chat.type != ChatType.PRIVATE and not _replies_to(message, context.bot.id):
            return
        conversation = self.conversations.get(chat, update.effective_user)
        reply = Reply(NOT_TEXT[conversation.lang], self._menu(conversation.lang))
        await self._send(context, chat, conversation, reply, reply_to=message)

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = _chat(update)
        if chat.type != ChatType.PRIVATE:
            return
        conversation = self.conversations.get(chat, update.effective_user)
        await self._send(context, chat, conversation, Reply(EDITED[conversation.lang]), reply_to=_message(update))

    # --- commands ---

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = _chat(update)
        conversation = self.conversations.get(chat, update.effective_user)
        payload = " ".join(context.args or [])
        if chat.type == ChatType.PRIVATE and payload and self.private.desk and self.private.desk.looks_like_code(payload):
            reply = await self.private.handle(conversation, payload)  # t.me/<bot>?start=<link code>
        else:
            reply = await self._engine(chat).press(conversation, topic_action(IntentId.GREETING))
        await self._send(context, chat, conversation, reply)

    def topic(self, intent: IntentId) -> Callback:
        """A command that opens one topic, as if its button were pressed."""

        async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat = _chat(update)
            conversation = self.conversations.get(chat, update.effective_user)
            if chat.type != ChatType.PRIVATE and intent in PRIVATE_ONLY:
                reply = self._private_only(conversation, context)
            else:
                engine = self._engine(chat)
                reply = await engine.press(conversation, topic_action(intent))
                if intent is IntentId.CALCULATOR and context.args:  # /calc 3999 12期
                    reply = await engine.handle(conversation, " ".join(context.args)[:MAX_TEXT_CHARS])
            await self._send(context, chat, conversation, reply)

        return command

    async def unlink(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._private_command(update, context, lambda c: self.private.handle(c, UNLINK_WORD[c.lang]))

    async def reminders(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reminders shows whether reminders are on; /reminders on|off switches them (stored per chat)."""

        async def answer(conversation: Conversation) -> Reply:
            if self.reminders_service is None:
                return Reply(REMINDERS_UNAVAILABLE[conversation.lang])
            return await self.reminders_service.command(conversation.chat_id, conversation.lang, context.args or [])

        await self._private_command(update, context, answer)

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/lang toggles; /lang zh and /lang en choose."""
        chat = _chat(update)
        conversation = self.conversations.get(chat, update.effective_user)
        wanted = (context.args or [""])[0].lower()
        if wanted.startswith(("zh", "中")):
            lang = Lang.ZH
        elif wanted.startswith("en"):
            lang = Lang.EN
        else:
            lang = Lang.EN if conversation.lang is Lang.ZH else Lang.ZH
        engine = self._engine(chat)
        engine.set_language(conversation, lang)
        if self.reminders_service is not None:
            await self.reminders_service.save_language(chat.id, lang)
        menu = await engine.press(conversation, Action.MENU)
        await self._send(context, chat, conversation, replace(menu, text=f"{LANGUAGE_SET[lang]}\n\n{menu.text}"))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = _chat(update)
        conversation = self.conversations.reset(chat)
        menu = await self._engine(chat).press(conversation, Action.MENU)
        await self._send(context, chat, conversation, replace(menu, text=f"{CANCELLED[conversation.lang]}\n\n{menu.text}"))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = _chat(update)
        conversation = self.conversations.get(chat, update.effective_user)
        await self._send(context, chat, conversation, Reply(UNKNOWN_COMMAND[conversation.lang], self._menu(conversation.lang)))

    # --- buttons ---

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Walkthrough buttons edit their message in place; every other button sends a new message."""
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        pressed = decode_callback(query.data, self.steps)
        if pressed is None or chat is None:
            lang = self.conversations.get(chat, query.from_user).lang if chat else Lang.ZH
            await query.answer(EXPIRED[lang])
            return
        await query.answer()
        conversation = self.conversations.get(chat, query.from_user)
        if pressed.step is not None:
            conversation.step = pressed.step
        reply = self._guard(chat, conversation, context, await self._engine(chat).press(conversation, pressed.action))
        message = query.message
        rendered = render(reply, conversation.step)
        if pressed.action not in STEP_ACTIONS or not isinstance(message, Message) or not rendered.texts:
            await self._send(context, chat, conversation, reply)
            return
        first, rest = rendered.texts[0], rendered.texts[1:]
        try:
            await message.edit_text(first, reply_markup=None if rest else rendered.markup)
        except BadRequest as error:
            if "not modified" in error.message.lower():  # the same button pressed twice
                return
            log.info("cannot edit message %s in chat %s (%s); sending anew", message.message_id, chat.id, error.message)
            await self._send(context, chat, conversation, reply)
            return
        for number, text in enumerate(rest, start=1):
            await context.bot.send_message(chat.id, text, reply_markup=rendered.markup if number == len(rest) else None)

    # --- errors ---

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        chat = update.effective_chat
        lang = self.conversations.get(chat, update.effective_user).lang
        try:
            if update.callback_query is not None:
                with contextlib.suppress(TelegramError):  # it may have been answered already
                    await update.callback_query.answer()
            await context.bot.send_message(chat.id, FAILED[lang])
        except TelegramError:
            log.warning("could not tell chat %s that update %s failed", chat.id, update_id, exc_info=True)

    # --- helpers ---

    def _engine(self, chat: Chat) -> Dialogue:
        return self.private if chat.type == ChatType.PRIVATE else self.group

    def _menu(self, lang: Lang) -> tuple[Button, ...]:
        return tuple(Button(self.private.knowledge[t].title[lang], topic_action(t)) for t in MENU_TOPICS)

    def _guard(self, chat: Chat, conversation: Conversation, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> Reply:
        """In a group, an account topic becomes "ask me in private" (the group engine has no desk anyway)."""
        if chat.type != ChatType.PRIVATE and reply.intent in PRIVATE_ONLY:
            return self._private_only(conversation, context)
        return reply

    def _private_only(self, conversation: Conversation, context: ContextTypes.DEFAULT_TYPE) -> Reply:
        return Reply(PRIVATE_CHAT_ONLY[conversation.lang].format(username=context.bot.username), intent=IntentId.LINK)

    async def _private_command(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, answer: Callable[[Conversation], Awaitable[Reply]]
    ) -> None:
        chat = _chat(update)
        conversation = self.conversations.get(chat, update.effective_user)
        reply = await answer(conversation) if chat.type == ChatType.PRIVATE else self._private_only(conversation, context)
        await self._send(context, chat, conversation, reply)

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat: Chat,
        conversation: Conversation,
        reply: Reply,
        reply_to: Message | None = None,
    ) -> None:
        rendered = render(reply, conversation.step)
        # In groups the answer quotes the question, so it is clear whom it answers.
        quote = reply_to if reply_to is not None and chat.type != ChatType.PRIVATE else None
        for number, text in enumerate(rendered.texts, start=1):
            await context.bot.send_message(
                chat.id,
                text,
                reply_markup=rendered.markup if number == len(rendered.texts) else None,
                reply_parameters=(
                    ReplyParameters(quote.message_id, allow_sending_without_reply=True) if quote and number == 1 else None
                ),
            )


def _message(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


def _chat(update: Update) -> Chat:
    assert update.effective_chat is not None
    return update.effective_chat


def _text(message: Message) -> str:
    return message.text or ""


def _replies_to(message: Message, bot_id: int) -> bool:
    original = message.reply_to_message
    return original is not None and original.from_user is not None and original.from_user.id == bot_id


def _addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The text of a group message meant for the bot, without the mention; None if not meant for it."""
    text = _text(message)
    addressed = _replies_to(message, bot_id)
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower():
            addressed = True
            text = text.replace(value, " ")
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            addressed = True
    return text.strip() if addressed else None


# --- the application -----------------------------------------------------------------------------


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
    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(PerChatOrder())
        .rate_limiter(limiter or rate_limiter())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if api_address:
        base_url, base_file_url = api_urls(api_address)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    application = builder.build()
    assistant = Assistant(dialogue, reminders)
    reloader = KnowledgeReloader(assistant, source) if source is not None else None
    register_handlers(application, assistant, reloader)
    if reminders is not None:
        assert application.job_queue is not None  # the job-queue extra is a dependency
        reminders.schedule(application.job_queue)
    return application, reloader


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
        assert application.updater is not None
        if webhook is None:
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=_polling_failed)
        else:
            await application.updater.start_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=urlsplit(webhook.url).path.lstrip("/"),
                webhook_url=webhook.url,
                secret_token=webhook.secret(token),
                allowed_updates=ALLOWED_UPDATES,
            )
        if started is not None:
            started()
        try:
            await stop.wait()
        finally:
            await application.updater.stop()
            await application.stop()


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
