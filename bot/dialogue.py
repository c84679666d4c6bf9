"""The dialogue engine: one message in, one reply out, with the state a conversation needs.

It knows nothing of Telegram or of the terminal: front ends pass text (or a pressed button's action)
and render the Reply. Account data comes through the ``AccountDesk`` port and the record of what was
asked goes to the ``ConversationLog`` port, so the engine itself does no I/O and tests can drive it
with in-memory stand-ins.

Every typed message is redacted first (``bot.privacy``): ID numbers, bank cards, phone numbers and
e-mail addresses never reach the matcher, the log or any other store, and the reply starts with a
warning not to send them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum, auto
from typing import Protocol

from bot import phrases
from bot.account_answers import AccountAnswer
from bot.calculator import render_quotes
from bot.conversation import Conversation
from bot.privacy import Redacted, redact
from bot.replies import TOPIC_PREFIX, Action, Button, Reply, topic_action
from intents.catalogue import IntentId
from intents.entities import extract_entities
from intents.matcher import Candidate, Match, Matcher
from intents.normalize import is_cjk, normalize
from knowledge.model import KnowledgeBase
from knowledge.text import Lang

CONFIRM_MARGIN = 0.08
"""Matches this close above the out-of-scope threshold are answered with "did you mean…" buttons."""
MENU_TOPICS = (
    IntentId.CHECKOUT_FLOW,
    IntentId.INSTALLMENT_OPTION,
    IntentId.VIEW_BILLS,
    IntentId.EARLY,
    IntentId.OVERDUE,
    IntentId.NEXT_DUE,
    IntentId.CALCULATOR,
    IntentId.HUMAN,
)
_LATIN = re.compile(r"[a-zA-Z]")


class LinkOutcome(Enum):
    LINKED = auto()
    INVALID = auto()
    RATE_LIMITED = auto()


class AccountDesk(Protocol):
    """Live bill data for a chat. ``lookup`` returns None when the chat is not linked to a customer."""

    def find_code(self, text: str) -> str | None:
        """The link code in ``text`` as typed (the whole message, or inside a sentence), or None."""
        ...

    async def linked(self, chat_id: int) -> bool: ...

    async def lookup(self, chat_id: int, intent: IntentId, lang: Lang) -> AccountAnswer | None: ...

    async def link(self, chat_id: int, code: str, lang: Lang) -> LinkOutcome: ...

    async def unlink(self, chat_id: int) -> bool: ...


@dataclass(frozen=True)
class Exchange:
    """One typed message and how it was understood, as operators review it. ``text`` is redacted."""

    chat_id: int
    lang: Lang
    text: str
    intent: IntentId
    confidence: float
    alternatives: tuple[Candidate, ...]
    fallback: bool


class ConversationLog(Protocol):
    """Where exchanges are recorded; the implementation decides how the chat is pseudonymised and
    timestamped."""

    async def record(self, exchange: Exchange) -> None: ...


class Dialogue:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        matcher: Matcher,
        desk: AccountDesk | None = None,
        log: ConversationLog | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self.desk = desk
        self.log = log
        self.confirm_below = matcher.threshold + CONFIRM_MARGIN

    def use_knowledge(self, knowledge: KnowledgeBase, matcher: Matcher) -> None:
        """Switches to another (fully built) knowledge base and matcher at once: no await in between,
        so every message is answered by one version or the other, never a mix."""
        self.knowledge, self.matcher = knowledge, matcher
        self.confirm_below = matcher.threshold + CONFIRM_MARGIN

    async def handle(self, conversation: Conversation, text: str) -> Reply:
        """Answers one typed message; personal data in it is masked before anything reads it."""
        redacted = redact(text)
        code = self.desk.find_code(redacted.blank) if self.desk is not None else None
        if code is not None:  # a link code is a secret: redeemed, never matched or recorded
            return await self._link(conversation, redacted.blank, code)
        if redacted.found and not normalize(redacted.blank):  # nothing but the personal data
            lang = self._language(conversation, redacted.blank)
            reply = Reply(phrases.PII_WARNING[lang], self._menu(lang), fallback=True)
        else:
            reply = await self._understand(conversation, redacted.blank)
            if redacted.found:
                reply = replace(reply, text=f"{phrases.PII_WARNING[conversation.lang]}\n\n{reply.text}")
        await self._record(conversation, redacted, reply)
        return reply

    async def _understand(self, conversation: Conversation, text: str) -> Reply:
        command = normalize(text)
        if command in phrases.NEXT_WORDS | phrases.BACK_WORDS | phrases.ALL_WORDS and (
            conversation.step is not None or command not in {"n", "b", "all"}
        ):  # navigation words keep the language the walkthrough is in
            return self._walk(conversation, conversation.lang, command)
        lang = self._language(conversation, text)
        if not command:
            return Reply(phrases.EMPTY[lang], self._menu(lang))
        if command in phrases.UNLINK_WORDS and self.desk is not None:
            done = await self.desk.unlink(conversation.chat_id)
            return Reply((phrases.UNLINKED if done else phrases.NOT_LINKED)[lang], intent=IntentId.LINK, confidence=1.0)

        entities = extract_entities(text)
        if conversation.awaiting_amount and entities.amount_fen is not None:
            return self._calculate(conversation, lang, entities.amount_fen, entities.term)
        match = self.matcher.match(text)
        if (
            entities.term is not None
            and entities.amount_fen is None
            and conversation.last_topic is IntentId.CALCULATOR
            and conversation.last_amount_fen is not None
            and match.intent in {IntentId.CALCULATOR, IntentId.OUT_OF_SCOPE, IntentId.INSTALLMENT_OPTION}
        ):
            return self._calculate(conversation, lang, conversation.last_amount_fen, entities.term)
        conversation.awaiting_amount = False
        if match.intent is IntentId.CALCULATOR:
            amount = entities.amount_fen or conversation.last_amount_fen
            if amount is None:
                conversation.awaiting_amount = True
                conversation.last_topic = IntentId.CALCULATOR
                return self._reply(match, phrases.ASK_AMOUNT[lang])
            return self._calculate(conversation, lang, amount, entities.term, match)
        if match.intent is not IntentId.OUT_OF_SCOPE and match.confidence < self.confirm_below:
            return self._did_you_mean(match, lang)
        return await self._answer(conversation, lang, match.intent, match)

    async def press(self, conversation: Conversation, action: str) -> Reply:
        """Answers a pressed button. Unknown actions (old or forged buttons) get the menu."""
        lang = conversation.lang
        if action in {Action.STEP_NEXT, Action.STEP_BACK, Action.STEP_ALL}:
            word = {Action.STEP_NEXT: "next", Action.STEP_BACK: "back", Action.STEP_ALL: "all"}[Action(action)]
            return self._walk(conversation, lang, word)
        if action.startswith(TOPIC_PREFIX) and action[len(TOPIC_PREFIX):] in IntentId.__members__.values():
            intent = IntentId(action[len(TOPIC_PREFIX):])
            return await self._answer(conversation, lang, intent, None)
        return await self._answer(conversation, lang, IntentId.HELP, None)

    def set_language(self, conversation: Conversation, lang: Lang) -> None:
        conversation.lang, conversation.lang_fixed = lang, True

    # --- answers -------------------------------------------------------------------------------

    async def _answer(self, conversation: Conversation, lang: Lang, intent: IntentId, match: Match | None) -> Reply:
        conversation.last_topic = intent
        if intent is IntentId.CHECKOUT_FLOW:
            conversation.step = None
            intro = self.knowledge[intent].answer[lang]
            step = self._walk(conversation, lang, "next")
            return self._reply(match, f"{intro}\n\n{step.text}", step.buttons, intent)
        if intent is IntentId.CALCULATOR:
            conversation.awaiting_amount = True
            return self._reply(match, phrases.ASK_AMOUNT[lang], intent=intent)
        if intent.is_account_lookup and self.desk is not None:
            answer = await self.desk.lookup(conversation.chat_id, intent, lang)
            if answer is not None:
                return self._reply(match, answer.text, self._follow_ups(intent, lang), intent, answer.figures)
        buttons = self._menu(lang) if intent in {IntentId.OUT_OF_SCOPE, IntentId.HELP, IntentId.GREETING} else self._follow_ups(intent, lang)
        text = self.knowledge[intent].answer[lang]
        if intent is IntentId.LINK and self.desk is not None:  # "am I linked?" is asked as often as "how?"
            status = phrases.LINKED if await self.desk.linked(conversation.chat_id) else phrases.NOT_LINKED
            text = f"{status[lang]}\n\n{text}"
        return self._reply(match, text, buttons, intent)

    def _calculate(
        self, conversation: Conversation, lang: Lang, amount_fen: int, term: int | None, match: Match | None = None
    ) -> Reply:
        conversation.awaiting_amount = False
        conversation.last_topic = IntentId.CALCULATOR
        conversation.last_amount_fen = amount_fen
        text, figures = render_quotes(amount_fen, term, self.knowledge.operator, lang)
        return self._reply(match, text, self._follow_ups(IntentId.CALCULATOR, lang), IntentId.CALCULATOR, figures)

    async def _link(self, conversation: Conversation, text: str, code: str) -> Reply:
        """Redeems ``code``, found in ``text``. A bare code says nothing of the language; the words
        around one do ("我的绑定码是 …")."""
        assert self.desk is not None
        around = text.replace(code, " ")
        lang = self._language(conversation, around) if normalize(around) else conversation.lang
        outcome = await self.desk.link(conversation.chat_id, code, lang)
        text = {
            LinkOutcome.LINKED: phrases.LINK_OK,
            LinkOutcome.INVALID: phrases.LINK_INVALID,
            LinkOutcome.RATE_LIMITED: phrases.LINK_LIMITED,
        }[outcome][lang]
        return Reply(text, intent=IntentId.LINK, confidence=1.0)

    def _walk(self, conversation: Conversation, lang: Lang, word: str) -> Reply:
        steps = self.knowledge.walkthrough
        conversation.last_topic = IntentId.CHECKOUT_FLOW
        if word in phrases.ALL_WORDS:
            conversation.step = None
            text = "\n\n".join(self._step_text(i, lang) for i in range(len(steps)))
            return Reply(text, self._follow_ups(IntentId.CHECKOUT_FLOW, lang), IntentId.CHECKOUT_FLOW, 1.0)
        current = conversation.step
        if word in phrases.BACK_WORDS:
            position = max((current if current is not None else 1) - 1, 0)
        else:
            position = 0 if current is None else current + 1
        if position >= len(steps):
            conversation.step = None
            return Reply(phrases.WALKTHROUGH_DONE[lang], self._follow_ups(IntentId.CHECKOUT_FLOW, lang), IntentId.CHECKOUT_FLOW, 1.0)
        conversation.step = position
        buttons = []
        if position > 0:
            buttons.append(Button(phrases.STEP_BACK[lang], Action.STEP_BACK))
        if position < len(steps) - 1:
            buttons.append(Button(phrases.STEP_NEXT[lang], Action.STEP_NEXT))
        buttons.append(Button(phrases.STEP_ALL[lang], Action.STEP_ALL))
        return Reply(self._step_text(position, lang), tuple(buttons), IntentId.CHECKOUT_FLOW, 1.0)

    def _step_text(self, position: int, lang: Lang) -> str:
        steps = self.knowledge.walkthrough
        step = steps[position]
        header = phrases.STEP_HEADER[lang].format(number=position + 1, total=len(steps), title=step.title[lang])
        return f"{header}\n{step.text[lang]}"

    def _did_you_mean(self, match: Match, lang: Lang) -> Reply:
        buttons = tuple(
            Button(self.knowledge[candidate.intent].title[lang], topic_action(candidate.intent))
            for candidate in match.alternatives
        )
        return self._reply(match, phrases.DID_YOU_MEAN[lang], buttons, fallback=True)

    # --- helpers -------------------------------------------------------------------------------

    def _reply(
        self,
        match: Match | None,
        text: str,
        buttons: tuple[Button, ...] = (),
        intent: IntentId | None = None,
        figures: dict[str, object] | None = None,
        fallback: bool = False,
    ) -> Reply:
        intent = intent or (match.intent if match else IntentId.OUT_OF_SCOPE)
        return Reply(
            text=text,
            buttons=buttons,
            intent=intent,
            confidence=match.confidence if match else 1.0,
            alternatives=match.alternatives if match else (),
            figures=figures or {},
            fallback=fallback or intent is IntentId.OUT_OF_SCOPE,
        )

    async def _record(self, conversation: Conversation, redacted: Redacted, reply: Reply) -> None:
        if self.log is None:
            return
        exchange = Exchange(
            chat_id=conversation.chat_id,
            lang=conversation.lang,
            text=redacted.text,
            intent=reply.intent,
            confidence=reply.confidence,
            alternatives=reply.alternatives,
            fallback=reply.fallback,
        )
        await self.log.record(exchange)

    def _follow_ups(self, intent: IntentId, lang: Lang) -> tuple[Button, ...]:
        topics = self.knowledge[intent].follow_up
        return tuple(Button(self.knowledge[t].title[lang], topic_action(t)) for t in topics) + (
            Button(phrases.MENU[lang], Action.MENU),
        )

    def _menu(self, lang: Lang) -> tuple[Button, ...]:
        return tuple(Button(self.knowledge[t].title[lang], topic_action(t)) for t in MENU_TOPICS)

    def _language(self, conversation: Conversation, text: str) -> Lang:
        """The reply language follows the message: Chinese (or pinyin) → zh, other Latin text → en."""
        if not conversation.lang_fixed:
            if any(is_cjk(char) for char in self.matcher.analyzer.prepare(text)):
                conversation.lang = Lang.ZH
            elif _LATIN.search(text):
                conversation.lang = Lang.EN
        return conversation.lang
