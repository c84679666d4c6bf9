"""Linking a Telegram chat to a customer with a one-time code, so a chat sees only its own bills.

An operator creates a code for a customer (``create_link_code``) and gives it to them; the customer
sends it to the assistant (``redeem_link_code``). Codes are 8 characters from an alphabet without
look-alikes (no 0/O, 1/I/L), always with at least one letter and one digit, so that an ordinary word
is never mistaken for one. Users may type them in lower case or with a space or dash in the middle, alone or inside a sentence
("我的绑定码是 K7PX-3M9Q").

Only the SHA-256 of a code is stored. Codes expire after 24 hours and work once: redeeming is one
conditional ``UPDATE`` whose returned row decides, so the same code sent by several chats at once
links exactly one of them, on SQLite and PostgreSQL alike.

Guessing is limited twice. A chat that sends ``MAX_FAILURES`` wrong codes within ``FAILURE_WINDOW`` is
refused until the oldest of them ages out; and a code stops working once ``MAX_GUESSES_PER_CODE`` wrong
codes have been sent, from all chats together, since it was issued, so a thousand chats do not get a
thousand budgets. With 31⁸ ≈ 8.5 × 10¹¹ possible codes, the chance that guessing finds a given code
stays below 10⁻⁸; the customer whose code was spoiled that way asks for a new one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import CustomerNotFound, InvalidLinkCode, LinkRateLimited
from bot.models import ChatLink, Customer, FailedLinkAttempt, LinkCode

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
MAX_GUESSES_PER_CODE = 1000

_SEPARATORS = re.compile(r"[\s\-]")
_DIGITS = frozenset("23456789")
_IN_SENTENCE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{4}[ \-]?[A-Za-z0-9]{4}(?![A-Za-z0-9])")
"""Eight letters and digits standing on their own, perhaps split in two halves as codes are printed."""
_CODE_WORD = re.compile(r"码|code", re.IGNORECASE)


def _normalise(text: str) -> str:
    return _SEPARATORS.sub("", text.strip()).upper()


def _is_code(candidate: str) -> bool:
    return (
        len(candidate) == CODE_LENGTH
        and set(candidate) <= set(ALPHABET)
        and bool(set(candidate) & _DIGITS)
        and bool(set(candidate) - _DIGITS)
    )


def looks_like_link_code(text: str) -> bool:
    """Whether a whole message is a link code (so the dialogue tries to redeem it instead of matching)."""
    return _is_code(_normalise(text))


def find_link_code(text: str) -> str | None:
    """The link code in a message, as typed, or None.

    A whole message that is a code counts as typed in any case. Inside a sentence, eight letters and
    digits can also be a model name or an amount with its unit ("3999yuan"), so a candidate counts
    only when it is written as codes are printed (upper case) or the sentence speaks of a code.
    """
    if looks_like_link_code(text):
        return text.strip()
    speaks_of_a_code = _CODE_WORD.search(text) is not None
    for candidate in _IN_SENTENCE.finditer(text):
        typed = candidate.group()
        if _is_code(_normalise(typed)) and (speaks_of_a_code or typed == typed.upper()):
            return typed
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")


async def create_link_code(session: AsyncSession, customer_id: int, now: datetime) -> str:
    """A new code for the customer, valid for 24 hours from ``now``; shown once, stored hashed."""
    _require_aware(now)
    if await session.get(Customer, customer_id) is None:
        raise CustomerNotFound(customer_id)
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        taken = await session.scalar(select(LinkCode.id).where(LinkCode.code_hash == _hash(code)))
        if _is_code(code) and taken is None:
            break
    expires_at = now + CODE_LIFETIME
    session.add(LinkCode(code_hash=_hash(code), customer_id=customer_id, created_at=now, expires_at=expires_at))
    await session.flush()
    return code


async def redeem_link_code(session: AsyncSession, chat_id: int, code: str, now: datetime) -> int:
    """Link the chat to the code's customer and return the customer id.

    Raises ``LinkRateLimited`` when the chat sent too many wrong codes recently (checked first, so a
    right code does not help a guesser), and ``InvalidLinkCode`` for an unknown, expired or used code,
    or one that too many wrong guesses were aimed at.
    A wrong code is recorded in the session before the error is raised: **commit even when you
    catch** ``InvalidLinkCode``, or the rate limit forgets the attempt. A chat already linked (to
    anyone) is relinked: the old link stays as inactive history.
    """
    _require_aware(now)
    await _check_chat_budget(session, chat_id, now)
    code_hash = _hash(code)
    guesses_since_issued = (
        select(func.count(FailedLinkAttempt.id))
        .where(FailedLinkAttempt.attempted_at >= LinkCode.created_at)
        .correlate(LinkCode)
        .scalar_subquery()
    )
    customer_id = await session.scalar(
        update(LinkCode)
        .where(
            LinkCode.code_hash == code_hash,
            LinkCode.used_at.is_(None),
            LinkCode.expires_at > now,
            guesses_since_issued < MAX_GUESSES_PER_CODE,
        )
        .values(used_at=now, attempts=LinkCode.attempts + 1)
        .returning(LinkCode.customer_id)
        .execution_options(synchronize_session="fetch")
    )
    if customer_id is None:
        await session.execute(
            update(LinkCode)
            .where(LinkCode.code_hash == code_hash)
            .values(attempts=LinkCode.attempts + 1)
            .execution_options(synchronize_session="fetch")
        )
        session.add(FailedLinkAttempt(chat_id=chat_id, attempted_at=now))
        await session.flush()
        raise InvalidLinkCode()

    await _deactivate(session, chat_id)
    session.add(ChatLink(chat_id=chat_id, customer_id=customer_id, active=True, linked_at=now))
    await session.flush()
    return customer_id


async def _check_chat_budget(session: AsyncSession, chat_id: int, now: datetime) -> None:
    """Raises ``LinkRateLimited`` when the chat sent ``MAX_FAILURES`` wrong codes within the window."""
    failures = (
        await session.scalars(
            select(FailedLinkAttempt.attempted_at)
            .where(FailedLinkAttempt.chat_id == chat_id, FailedLinkAttempt.attempted_at > now - FAILURE_WINDOW)
            .order_by(FailedLinkAttempt.attempted_at)
        )
    ).all()
    if len(failures) >= MAX_FAILURES:
        raise LinkRateLimited(retry_at=failures[-MAX_FAILURES] + FAILURE_WINDOW)


async def _deactivate(session: AsyncSession, chat_id: int) -> int:
    result = await session.execute(
        update(ChatLink).where(ChatLink.chat_id == chat_id, ChatLink.active).values(active=False)
    )
    return result.rowcount


async def unlink(session: AsyncSession, chat_id: int) -> bool:
    """Stop the chat from seeing bill data; ``False`` if it was not linked."""
    return await _deactivate(session, chat_id) > 0
