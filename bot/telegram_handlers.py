"""The Telegram handlers: they feed messages and button presses to the dialogue engine and send its
replies back. All the wording of answers comes from the engine; the few words here are about
Telegram itself (expired buttons, stickers, private chats).

Safety rules that live here, because only here is it known what kind of chat a message comes from:

- Account data only in private chats, where the chat id is the user's own id (what the engine's
  ``AccountDesk`` looks bills up by). Groups are served by a second engine *without* a desk, so no
  bill can reach a group even by mistake, and account topics there get "ask me in a private chat".
- In groups the bot speaks only when addressed: a command, a mention of its username, or a reply to
  one of its messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import Chat, Message, MessageEntity, ReplyParameters, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.conversation import Conversation
from bot.dialogue import MENU_TOPICS, Dialogue
from bot.replies import Action, Button, Reply, topic_action
from bot.telegram_reminders import ReminderService
from bot.telegram_render import (
    CANCELLED,
    EDITED,
    EXPIRED,
    FAILED,
    LANGUAGE_SET,
    NOT_TEXT,
    PRIVATE_CHAT_ONLY,
    REMINDERS_UNAVAILABLE,
    STEP_ACTIONS,
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

MAX_CHATS = 100_000
"""Conversations kept in memory; the least recently active beyond this are forgotten."""
MAX_TEXT_CHARS = 2 * MAX_MESSAGE_CHARS
"""Longer messages are cut before the engine sees them: the matcher reads only the first
``MAX_MESSAGE_CHARS`` anyway, and the rest would only cost time while other chats wait."""
PRIVATE_ONLY = frozenset(intent for intent in IntentId if intent.is_account_lookup) | {IntentId.LINK}


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
        if self.private.desk is not None and self.private.desk.find_code(text) is not None:
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
        if chat.type == ChatType.PRIVATE and payload and self.private.desk and self.private.desk.find_code(payload):
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
            log.info("cannot edit a message (%s); sending anew", error.message)
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
            log.warning("could not tell the chat that update %s failed", update_id, exc_info=True)

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
        # What an operator needs to follow the bot, and nothing of who said what.
        log.debug("answering as %s (confidence %.2f) in %d message(s)", reply.intent.value, reply.confidence, len(rendered.texts))
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
