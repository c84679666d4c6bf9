"""Alembic environment. Migrations run through ``bot.db.upgrade`` (``python bot.py db upgrade``),
which passes an open connection in ``config.attributes``; there is no ``alembic.ini``.

To write the next migration, autogenerate it against a database at head the same way::

    config = bot.db.alembic_config(); config.attributes["connection"] = sync_connection
    alembic.command.revision(config, message="…", autogenerate=True, rev_id="0002")

then tidy it by hand (SQLite needs batch operations: ``render_as_batch`` is on for it).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot import models  # noqa: F401  (registers the tables on Base.metadata)
from bot.db import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run the migrations with `python bot.py db upgrade` (bot.db.upgrade)")
run(connection)
