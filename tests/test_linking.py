"""One-time link codes: hashing, expiry, reuse, rate limiting, relinking and unlinking."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import linking, phrases
from bot.accounts import DatabaseDesk
from bot.clock import FixedClock
from bot.conversation import Conversation
from bot.conversation_log import DatabaseLog
from bot.dialogue import Dialogue
from bot.errors import CustomerNotFound, InvalidLinkCode, LinkRateLimited
from bot.ledger import customer_for_chat
from bot.linking import create_link_code, looks_like_link_code, redeem_link_code, unlink
from bot.models import ChatLink, ConversationLogEntry, Customer, FailedLinkAttempt, LinkCode
from intents.matcher import Matcher
from knowledge.model import KnowledgeBase
from knowledge.text import Lang

NOW = datetime(2025, 3, 10, 1, 30, tzinfo=UTC)
CHAT = 1001


async def add_customers(session: AsyncSession, *refs: str) -> list[int]:
    customers = [Customer(ref=ref, name=ref, created_at=NOW) for ref in refs]
    session.add_all(customers)
    await session.flush()
    return [customer.id for customer in customers]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K7PX3M9Q", True),
        ("k7px3m9q", True),
        (" K7PX-3M9Q ", True),
        ("K7PX 3M9Q", True),
        ("PAYMENTS", False),  # an ordinary word: codes always contain a digit
        ("23456789", False),  # and a letter
        ("K7PX3M9", False),
        ("K7PX3M9QA", False),
        ("K7PX3M0Q", False),  # 0 is not in the alphabet (nor O, 1, I, L)
        ("K7PX3MIQ", False),
        ("我下期什么时候还", False),
        ("", False),
    ],
)
def test_looks_like_link_code(text: str, expected: bool) -> None:
    assert looks_like_link_code(text) is expected


async def test_code_is_typeable_and_stored_only_hashed(session: AsyncSession) -> None:
    (customer,) = await add_customers(session, "C-1")
    codes = [await create_link_code(session, customer, NOW) for _ in range(30)]
    assert all(looks_like_link_code(code) and code == code.upper() and len(code) == 8 for code in codes)
    assert len(set(codes)) == len(codes)
    stored = (await session.scalars(select(LinkCode))).all()
    assert {row.code_hash for row in stored} == {hashlib.sha256(code.encode()).hexdigest() for code in codes}
    assert {row.expires_at - row.created_at for row in stored} == {timedelta(hours=24)}


@pytest.mark.parametrize("typed", [str.upper, str.lower, lambda code: f" {code[:4]}-{code[4:]} "])
async def test_redeem_links_the_chat(session: AsyncSession, typed: Callable[[str], str]) -> None:
    (customer,) = await add_customers(session, "C-1")
    code = await create_link_code(session, customer, NOW)
    assert await redeem_link_code(session, CHAT, typed(code), NOW + timedelta(minutes=5)) == customer
    assert await customer_for_chat(session, CHAT) == customer


@pytest.mark.parametrize(("age", "valid"), [(timedelta(hours=23, minutes=59), True), (timedelta(hours=24), False)])
async def test_codes_expire_after_24_hours(session: AsyncSession, age: timedelta, valid: bool) -> None:
    (customer,) = await add_customers(session, "C-1")
    code = await create_link_code(session, customer, NOW)
    if valid:
        assert await redeem_link_code(session, CHAT, code, NOW + age) == customer
    else:
        with pytest.raises(InvalidLinkCode):
            await redeem_link_code(session, CHAT, code, NOW + age)
        assert await customer_for_chat(session, CHAT) is None


async def test_a_code_works_once(session: AsyncSession) -> None:
    (customer,) = await add_customers(session, "C-1")
    code = await create_link_code(session, customer, NOW)
    await redeem_link_code(session, CHAT, code, NOW)
    with pytest.raises(InvalidLinkCode):
        await redeem_link_code(session, 2002, code, NOW + timedelta(minutes=1))
    assert await customer_for_chat(session, 2002) is None
    row = await session.scalar(select(LinkCode))
    assert row is not None and row.used_at == NOW and row.attempts == 2


async def test_wrong_codes_are_rate_limited_per_chat(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        (customer,) = await add_customers(session, "C-1")
        code = await create_link_code(session, customer, NOW)
    for minute in range(linking.MAX_FAILURES):
        async with session_factory() as session, session.begin():  # each message in its own session
            with pytest.raises(InvalidLinkCode):
                await redeem_link_code(session, CHAT, "WRNG2345", NOW + timedelta(minutes=minute))
    async with session_factory() as session, session.begin():
        with pytest.raises(LinkRateLimited) as limited:
            await redeem_link_code(session, CHAT, code, NOW + timedelta(minutes=30))  # even the right code
        assert limited.value.retry_at == NOW + timedelta(hours=1)
        assert await redeem_link_code(session, 2002, code, NOW + timedelta(minutes=30)) == customer  # other chats
    async with session_factory() as session, session.begin():
        with pytest.raises(InvalidLinkCode):  # the code was used meanwhile; but the chat may try again
            await redeem_link_code(session, CHAT, code, NOW + timedelta(hours=1, seconds=1))


async def test_relinking_replaces_the_old_link(session: AsyncSession) -> None:
    first, second = await add_customers(session, "C-1", "C-2")
    await redeem_link_code(session, CHAT, await create_link_code(session, first, NOW), NOW)
    await redeem_link_code(session, CHAT, await create_link_code(session, second, NOW), NOW + timedelta(minutes=1))
    assert await customer_for_chat(session, CHAT) == second
    links = (await session.scalars(select(ChatLink).order_by(ChatLink.id))).all()
    assert [(link.customer_id, link.active) for link in links] == [(first, False), (second, True)]


async def test_unlink(session: AsyncSession) -> None:
    (customer,) = await add_customers(session, "C-1")
    await redeem_link_code(session, CHAT, await create_link_code(session, customer, NOW), NOW)
    assert await unlink(session, CHAT) is True
    assert await customer_for_chat(session, CHAT) is None
    assert await unlink(session, CHAT) is False


async def test_bad_arguments(session: AsyncSession) -> None:
    with pytest.raises(CustomerNotFound):
        await create_link_code(session, 9999, NOW)
    (customer,) = await add_customers(session, "C-1")
    with pytest.raises(ValueError):
        await create_link_code(session, customer, NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("我的绑定码是 K7PX3M9Q", "K7PX3M9Q"),
        ("我的绑定码是k7px-3m9q，帮我绑一下", "k7px-3m9q"),
        ("my link code is k7px 3m9q", "k7px 3m9q"),
        ("please link K7PX3M9Q thanks", "K7PX3M9Q"),  # written as printed: upper case
        ("3999yuan over 12 months", None),  # lower case, no code spoken of: an amount with its unit
        ("小米15 Ultra 多少钱", None),
        ("订单号 K7PX3M9QA", None),  # nine characters: not a code
    ],
)
def test_find_link_code_in_a_sentence(text: str, found: str | None) -> None:
    assert linking.find_link_code(text) == found


async def test_one_code_sent_by_many_chats_at_once_links_exactly_one(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        (customer,) = await add_customers(session, "C-1")
        code = await create_link_code(session, customer, NOW)

    async def send(chat_id: int) -> int | None:
        async with session_factory() as session, session.begin():
            try:
                return await redeem_link_code(session, chat_id, code, NOW + timedelta(minutes=1))
            except InvalidLinkCode:
                return None

    results = await asyncio.gather(*(send(3000 + chat) for chat in range(8)))
    assert results.count(customer) == 1 and results.count(None) == 7
    async with session_factory() as session:
        links = (await session.scalars(select(ChatLink))).all()
        assert len(links) == 1


async def test_wrong_guesses_from_all_chats_spoil_a_code(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Each chat stays under its own limit, yet together they use up the code's budget."""
    async with session_factory() as session, session.begin():
        (customer,) = await add_customers(session, "C-1")
        code = await create_link_code(session, customer, NOW)
        session.add_all(
            FailedLinkAttempt(chat_id=5000 + n, attempted_at=NOW + timedelta(seconds=n))
            for n in range(linking.MAX_GUESSES_PER_CODE)
        )
    async with session_factory() as session, session.begin():
        with pytest.raises(InvalidLinkCode):
            await redeem_link_code(session, CHAT, code, NOW + timedelta(hours=1))


async def test_guesses_made_before_a_code_was_issued_do_not_count(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        session.add_all(
            FailedLinkAttempt(chat_id=5000 + n, attempted_at=NOW - timedelta(seconds=n + 1))
            for n in range(linking.MAX_GUESSES_PER_CODE)
        )
        (customer,) = await add_customers(session, "C-1")
        code = await create_link_code(session, customer, NOW)
    async with session_factory() as session, session.begin():
        assert await redeem_link_code(session, CHAT, code, NOW + timedelta(minutes=1)) == customer


async def test_a_code_inside_a_sentence_is_redeemed_and_never_logged(
    session_factory: async_sessionmaker[AsyncSession], knowledge: KnowledgeBase, matcher: Matcher
) -> None:
    async with session_factory() as session, session.begin():
        (customer,) = await add_customers(session, "C-1")
        code = await create_link_code(session, customer, NOW)
    clock = FixedClock(NOW)
    dialogue = Dialogue(
        knowledge,
        matcher,
        DatabaseDesk(session_factory, knowledge.operator, clock),
        DatabaseLog(session_factory, "test-secret", clock),
    )
    reply = await dialogue.handle(Conversation(CHAT), f"你好，我的绑定码是 {code.lower()}")
    assert reply.text == phrases.LINK_OK[Lang.ZH]
    await dialogue.handle(Conversation(CHAT), "我下期什么时候还")
    async with session_factory() as session:
        assert await customer_for_chat(session, CHAT) == customer
        logged = (await session.scalars(select(ConversationLogEntry.text))).all()
    assert logged == ["我下期什么时候还"]
