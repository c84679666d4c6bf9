"""Alembic environment. ``bot.db.upgrade`` passes an open connection in ``config.attributes``;
the ``alembic`` command line (with ``-x url=…`` or ``DATABASE_URL``) gets an async engine here."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from bot import models  # noqa: F401  (registers the tables on Base.metadata)
from bot.db import Base, make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("pass -x url=… or set DATABASE_URL")
    asyncio.run(_run_with_own_engine(url))


main()
