"""What the bot shows on Telegram: the engine's plain replies turned into what the Bot API takes,
button presses turned back into actions, the command menu, and the few words of the bot's own.

Replies are sent as plain text (no ``parse_mode``), so nothing a user types and the engine echoes back
can ever be read as markup: there is nothing to escape. Telegram takes at most 4096 characters per
message, counted in UTF-16 code units; longer replies are split on line boundaries, and a single
longer line is cut where it must be.

Callback data is ``v1|<action>`` or, for walkthrough buttons, ``v1|<action>|<step>``: the version lets
a later release retire old buttons, and the step is the walkthrough position the pressed message
shows, so that pressing "next" on an older message moves on from what that message shows rather than
from wherever the conversation is now. Anything else (an old version, an unknown action, a step out of
range, data longer than Telegram's 64 bytes) decodes to None: "this button has expired".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import TOPIC_PREFIX, Action, Button, Reply
from intents.catalogue import IntentId
from knowledge.text import Localized

MESSAGE_LIMIT = 4096
"""Telegram's maximum message length, in UTF-16 code units."""
CALLBACK_LIMIT = 64
"""Telegram's maximum callback data length, in bytes."""
CALLBACK_VERSION = "v1"
STEP_ACTIONS = frozenset({Action.STEP_NEXT, Action.STEP_BACK, Action.STEP_ALL})
BUTTONS_PER_ROW = 2
_SEPARATOR = "|"


@dataclass(frozen=True)
class Pressed:
    """A decoded, valid button press."""

    action: str
    step: int | None = None
    """For walkthrough buttons: the step (0-based) the pressed message shows."""


@dataclass(frozen=True)
class Rendered:
    """A reply ready to send: one or more texts, the keyboard going with the last one."""

    texts: tuple[str, ...]
    markup: InlineKeyboardMarkup | None


# --- the bot's own words: about Telegram itself, not answers (those come from the engine) ---------

EXPIRED = Localized(
    zh="这个按钮已过期，请重新输入您的问题或发送 /start。",
    en="This button has expired. Please ask again or send /start.",
)
PRIVATE_CHAT_ONLY = Localized(
    zh="为保护您的隐私，账单和账户绑定只在私聊中提供，请私聊我：@{username}",
    en="To protect your privacy, bills and account linking are only available in a private chat: @{username}",
)
NOT_TEXT = Localized(
    zh="我只能看懂文字消息。请直接输入您的问题，或选择下面的话题：",
    en="I can only read text messages. Type your question, or pick a topic below:",
)
EDITED = Localized(
    zh="我只回答新消息，请把修改后的问题重新发送一次。",
    en="I only answer new messages. Please send your corrected question again.",
)
REMINDERS_UNAVAILABLE = Localized(
    zh="这里没有开通还款提醒。您可以随时发送 /due 查看下一期还款。",
    en="Payment reminders are not available here. Send /due any time to see your next payment.",
)
"""/reminders when the bot runs without a database (reminders need one)."""
LANGUAGE_SET = Localized(zh="好的，以后我用中文回答。", en="OK, I'll answer in English from now on.")
CANCELLED = Localized(zh="好的，已重新开始。", en="OK, let's start over.")
UNKNOWN_COMMAND = Localized(
    zh="没有这个命令。请直接输入您的问题，或发送 /help 看看我能做什么。",
    en="I don't know that command. Type your question, or send /help to see what I can do.",
)
FAILED = Localized(
    zh="抱歉，处理您的消息时出了点问题，请稍后再试。",
    en="Sorry, something went wrong with your message. Please try again in a moment.",
)
UNLINK_WORD = Localized(zh="解绑", en="unlink")
"""What /unlink sends to the engine, in the conversation's language so the reply stays in it."""


@dataclass(frozen=True)
class Command:
    name: str
    description: Localized
    in_groups: bool = False
    """Shown in the command menu of group chats (guide commands only; account commands are private)."""


COMMANDS = (
    Command("start", Localized(zh="开始并显示菜单", en="Start and show the menu"), in_groups=True),
    Command("help", Localized(zh="我能做什么", en="What I can do"), in_groups=True),
    Command("guide", Localized(zh="分期购买步骤", en="How to buy in installments, step by step"), in_groups=True),
    Command("bills", Localized(zh="我的分期账单", en="My installment plans")),
    Command("due", Localized(zh="我的下一期还款", en="My next payment")),
    Command("calc", Localized(zh="分期计算器", en="Installment calculator"), in_groups=True),
    Command("link", Localized(zh="绑定小米账号", en="Link your account")),
    Command("unlink", Localized(zh="解除绑定", en="Unlink your account")),
    Command("reminders", Localized(zh="还款提醒", en="Payment reminders")),
    Command("lang", Localized(zh="切换语言 中文/English", en="Switch language English/中文")),
    Command("cancel", Localized(zh="重新开始", en="Start over")),
)
TOPIC_COMMANDS = {
    "help": IntentId.HELP,
    "guide": IntentId.CHECKOUT_FLOW,
    "bills": IntentId.BILLS,
    "due": IntentId.NEXT_DUE,
    "calc": IntentId.CALCULATOR,
    "link": IntentId.LINK,
}


# --- callback data -------------------------------------------------------------------------------


def encode_callback(action: str, step: int | None = None) -> str:
    parts = [CALLBACK_VERSION, action] + ([str(step)] if step is not None and action in STEP_ACTIONS else [])
    data = _SEPARATOR.join(parts)
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data longer than {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def decode_callback(data: object, steps: int) -> Pressed | None:
    """The press ``data`` stands for, or None when it is not a button this release made.

    ``steps`` is the number of walkthrough steps, the bound for a step position.
    """
    if not isinstance(data, str) or len(data.encode()) > CALLBACK_LIMIT:
        return None
    version, _, rest = data.partition(_SEPARATOR)
    if version != CALLBACK_VERSION:
        return None
    action, _, step_text = rest.partition(_SEPARATOR)
    if not _known_action(action):
        return None
    if not step_text:
        return Pressed(action)
    if action not in STEP_ACTIONS or not step_text.isascii() or not step_text.isdigit():
        return None
    step = int(step_text)
    return Pressed(action, step) if step < steps else None


def _known_action(action: str) -> bool:
    if action in Action.__members__.values():
        return True
    return action.startswith(TOPIC_PREFIX) and action[len(TOPIC_PREFIX) :] in IntentId.__members__.values()


# --- replies -------------------------------------------------------------------------------------


def render(reply: Reply, step: int | None = None) -> Rendered:
    """``step`` is the conversation's walkthrough position after the reply (goes into step buttons)."""
    return Rendered(tuple(split_text(reply.text)), keyboard(reply.buttons, step))


def keyboard(buttons: Sequence[Button], step: int | None = None) -> InlineKeyboardMarkup | None:
    """Walkthrough navigation in one row; other buttons two to a row."""
    if not buttons:
        return None
    navigation = [b for b in buttons if b.action in STEP_ACTIONS]
    others = [b for b in buttons if b.action not in STEP_ACTIONS]
    rows = [navigation] if navigation else []
    rows += [others[i : i + BUTTONS_PER_ROW] for i in range(0, len(others), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=encode_callback(b.action, step)) for b in row] for row in rows]
    )


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units, cut after a newline wherever possible.

    Blank pieces are dropped (Telegram refuses empty messages); a blank text gives no pieces.
    """
    pieces: list[str] = []
    current = ""
    for line in _cut_long_lines(text.splitlines(keepends=True), limit):
        if utf16_length(current) + utf16_length(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _cut_long_lines(lines: Sequence[str], limit: int) -> Iterator[str]:
    for line in lines:
        if utf16_length(line) <= limit:
            yield line
            continue
        start, size = 0, 0
        for index, char in enumerate(line):
            width = 2 if ord(char) > 0xFFFF else 1  # characters outside the BMP count twice
            if size + width > limit:
                yield line[start:index]
                start, size = index, 0
            size += width
        yield line[start:]
