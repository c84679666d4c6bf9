"""Secrets the assistant makes for itself, kept in the database so that every worker and every restart
uses the same one.

The conversation log replaces chat ids by a keyed hash (``bot.privacy.pseudonym``). A key shipped with
the code would let anyone who reads the code trace log entries back to chats, so when the operator sets
no ``PSEUDONYM_SECRET``, a random one is generated on first start and stored here.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import InstanceSecret

PSEUDONYM_KEY = "pseudonym"


async def instance_secret(sessions: async_sessionmaker[AsyncSession], name: str, now: datetime) -> str:
    """The stored secret ``name``, generated (256 random bits) the first time it is asked for. Two
    workers starting together may both generate one: the first insert wins and both read it back."""
    async with sessions() as session:
        stored = await session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    if stored is not None:
        return stored
    try:
        async with sessions() as session, session.begin():
            session.add(InstanceSecret(name=name, value=secrets.token_hex(32), created_at=now))
    except IntegrityError:
        pass  # another worker stored it first
    async with sessions() as session:
        return (await session.scalars(select(InstanceSecret.value).where(InstanceSecret.name == name))).one()
