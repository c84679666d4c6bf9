"""Database plumbing: the declarative base, the column types money and time need, engines, migrations.

Any SQLAlchemy async URL works (``sqlite+aiosqlite:///data/assistant.sqlite3``,
``postgresql+asyncpg://…``). Two column types exist because SQLite has no native type for them:

* ``AwareDateTime`` — every timestamp is timezone-aware in Python. PostgreSQL stores
  ``timestamptz``; SQLite stores naive UTC text. Either way it reads back as an aware UTC datetime,
  and storing a naive datetime is an error rather than a silent guess of its zone.
* ``ExactDecimal`` — fee rates are ``Decimal``. PostgreSQL stores ``NUMERIC``; SQLite stores the
  decimal as text, because its NUMERIC affinity would turn ``0.0060`` into a binary float.

Money is ``Money``: an integer number of fen (1 yuan = 100 fen) in a ``BIGINT``, never a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import BigInteger, Connection, DateTime, Dialect, MetaData, Numeric, String, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class AwareDateTime(TypeDecorator[datetime]):
    """An aware datetime on every backend; see the module docstring."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` stored without loss on every backend; see the module docstring."""

    impl = Numeric(12, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(12, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


Money = Annotated[int, mapped_column(BigInteger)]
"""An amount in fen (1/100 yuan)."""

Rate = Annotated[Decimal, mapped_column(ExactDecimal())]
"""A fraction such as 0.006 (0.6 %)."""


class Base(DeclarativeBase):
    # Named constraints, so later migrations (batch mode on SQLite) can drop or alter them by name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: AwareDateTime()}


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; for an SQLite file, its folder is created on first use.

    SQLite gets foreign keys switched on (it ignores them otherwise). Errors never quote a statement's
    parameters: they are customers' texts and figures, which must not reach a log. The caller disposes
    the engine at shutdown (``await engine.dispose()``).
    """
    _ensure_sqlite_folder(url)
    engine = create_async_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit, so answers can be rendered after it."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configured in code: no ``alembic.ini`` is needed anywhere."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade_on(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the latest migration (creating an SQLite file if needed).

    Runs inside one transaction on its own short-lived engine, so it is safe to call at every
    start-up: at head it does nothing.
    """
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on)
    finally:
        await engine.dispose()


async def schema_revisions(engine: AsyncEngine) -> tuple[str | None, str]:
    """The database's migration revision (None before the first) and the latest the code has; reaching
    the database for it is also the check that it can be reached at all."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        revision = await connection.run_sync(current)
    return revision, ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
