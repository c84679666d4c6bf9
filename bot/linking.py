"""Linking a Telegram chat to a customer with a one-time code, so a chat sees only its own bills.

An operator creates a code for a customer (``create_link_code``) and gives it to them; the customer
sends it to the assistant (``redeem_link_code``). Codes are 8 characters from an alphabet without
look-alikes (no 0/O, 1/I/L), always with at least one letter and one digit, so that an ordinary word
is never mistaken for one. Users may type them in lower case or with a space or dash in the middle.

Only the SHA-256 of a code is stored. Codes expire after 24 hours and work once. A chat that sends
``MAX_FAILURES`` wrong codes within ``FAILURE_WINDOW`` is refused until the oldest of them ages out;
with 31⁸ ≈ 8.5 × 10¹¹ possible codes, guessing is hopeless at that rate.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import CustomerNotFound, InvalidLinkCode, LinkRateLimited
from bot.models import ChatLink, Customer, FailedLinkAttempt, LinkCode

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)

_SEPARATORS = re.compile(r"[\s\-]")
_DIGITS = frozenset("23456789")


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
    right code does not help a guesser), and ``InvalidLinkCode`` for an unknown, expired or used code.
    A wrong code is recorded in the session before the error is raised: **commit even when you
    catch** ``InvalidLinkCode``, or the rate limit forgets the attempt. A chat already linked (to
    anyone) is relinked: the old link stays as inactive history.
    """
    _require_aware(now)
    window_start = now - FAILURE_WINDOW
    failures = (
        await session.scalars(
            select(FailedLinkAttempt.attempted_at)
            .where(FailedLinkAttempt.chat_id == chat_id, FailedLinkAttempt.attempted_at > window_start)
            .order_by(FailedLinkAttempt.attempted_at)
        )
    ).all()
    if len(failures) >= MAX_FAILURES:
        raise LinkRateLimited(retry_at=failures[-MAX_FAILURES] + FAILURE_WINDOW)

    link_code = await session.scalar(select(LinkCode).where(LinkCode.code_hash == _hash(code)))
    if link_code is not None:
        link_code.attempts += 1
    if link_code is None or link_code.used_at is not None or link_code.expires_at <= now:
        session.add(FailedLinkAttempt(chat_id=chat_id, attempted_at=now))
        await session.flush()
        raise InvalidLinkCode()

    link_code.used_at = now
    await _deactivate(session, chat_id)
    session.add(ChatLink(chat_id=chat_id, customer_id=link_code.customer_id, active=True, linked_at=now))
    await session.flush()
    return link_code.customer_id


async def _deactivate(session: AsyncSession, chat_id: int) -> int:
    result = await session.execute(
        update(ChatLink).where(ChatLink.chat_id == chat_id, ChatLink.active).values(active=False)
    )
    return result.rowcount


async def unlink(session: AsyncSession, chat_id: int) -> bool:
    """Stop the chat from seeing bill data; ``False`` if it was not linked."""
    return await _deactivate(session, chat_id) > 0
