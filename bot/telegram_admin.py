"""Reloading the knowledge base while the bot runs: on SIGHUP, and on ``/reload`` from an admin.

The new knowledge base and its matcher are built completely (in a worker thread, so other chats keep
being answered) before the bot switches to them in one step; an invalid edit is refused with the
loader's file:line problems and the bot keeps serving the last good version. ``/reload`` works only
in a private chat with a user listed in ``ADMIN_USER_IDS``; to anyone else it is an unknown command.
Its replies are for operators and in English only.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram_render import split_text
from intents.matcher import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.model import KnowledgeBase
from knowledge.yamlnodes import KnowledgeBaseError

if TYPE_CHECKING:
    from bot.telegram_handlers import Assistant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeSource:
    """Where the running bot reloads its knowledge base from, and who may ask it to."""

    directory: Path
    threshold: float
    admins: frozenset[int]


class KnowledgeReloader:
    def __init__(self, assistant: Assistant, source: KnowledgeSource) -> None:
        self.assistant = assistant
        self.source = source
        self._pending: set[asyncio.Task[None]] = set()

    async def reload(self) -> KnowledgeBase:
        """Builds the knowledge base and matcher anew, then switches to them. Raises
        ``KnowledgeBaseError`` (and changes nothing) when the files are invalid."""
        knowledge, matcher = await asyncio.to_thread(self._build)
        self.assistant.use_knowledge(knowledge, matcher)
        return knowledge

    def _build(self) -> tuple[KnowledgeBase, Matcher]:
        knowledge = load_knowledge_base(self.source.directory)
        return knowledge, Matcher(knowledge, self.source.threshold)

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/reload``: the admin sees the outcome, with every problem of a refused edit."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.id not in self.source.admins:
            await self.assistant.unknown_command(update, context)
            return
        log.warning("knowledge base reload requested by an admin")
        try:
            knowledge = await self.reload()
        except KnowledgeBaseError as error:
            text = f"Reload refused; still serving the previous knowledge base.\n{error}"
        else:
            text = f"Knowledge base reloaded from {self.source.directory}: {describe(knowledge)}."
        for part in split_text(text):
            await context.bot.send_message(chat.id, part)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reloads on SIGHUP (where the platform has it), logging the outcome."""
        if hasattr(signal, "SIGHUP"):
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        if hasattr(signal, "SIGHUP"):
            loop.remove_signal_handler(signal.SIGHUP)

    def _on_sighup(self) -> None:
        task = asyncio.get_running_loop().create_task(self._reload_logged())
        self._pending.add(task)  # a reference, so the task is not collected before it ends
        task.add_done_callback(self._pending.discard)

    async def _reload_logged(self) -> None:
        try:
            knowledge = await self.reload()
        except KnowledgeBaseError as error:
            log.error("SIGHUP: reload refused, still serving the previous knowledge base: %s", error)
        else:
            log.warning("SIGHUP: knowledge base reloaded from %s: %s", self.source.directory, describe(knowledge))


def describe(knowledge: KnowledgeBase) -> str:
    examples = sum(len(texts) for intent in knowledge.intents.values() for texts in intent.examples.values())
    return f"{len(knowledge.intents)} intents, {examples} examples"
