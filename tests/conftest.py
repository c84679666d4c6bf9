"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot import models  # noqa: F401  (registers the tables snapshot reads)
from bot.db import Base, make_engine, make_session_factory, upgrade
from bot.dialogue import Dialogue
from bot.settings import Settings
from intents.matcher import Matcher
from knowledge.loader import DEFAULT_DIR, load_knowledge_base
from knowledge.model import KnowledgeBase
from knowledge.operator import LateFeeRule, OperatorData, Plan, Provider
from knowledge.text import Localized

# --- conversation core (knowledge base, matcher, dialogue) -----------------------------------------


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def matcher(knowledge: KnowledgeBase) -> Matcher:
    return Matcher(knowledge, Settings().confidence_threshold)


@pytest.fixture
def dialogue(knowledge: KnowledgeBase, matcher: Matcher) -> Dialogue:
    return Dialogue(knowledge, matcher)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge base to break or edit."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


# --- bill data (bot.db, bot.ledger, bot.linking, bot.demo, bot.importer) --------------------------
#
# Every test using ``session`` or ``session_factory`` gets a fresh, migrated database: an SQLite file
# under tmp_path always, and PostgreSQL too when TEST_DATABASE_URL is set (the test runs once per
# backend). Migrations run once per backend and run: SQLite tests get a copy of a migrated file,
# PostgreSQL tests a migrated private database whose tables are emptied before each test.
# ``database_url`` is an empty, unmigrated database for the tests of ``upgrade`` itself. The private
# PostgreSQL databases are created next to the one in the URL (so parallel runs and other suites do
# not collide) and dropped at the end.

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


async def _execute_autocommit(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class PostgresDatabases:
    empty: str
    migrated: str


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_databases() -> AsyncIterator[PostgresDatabases | None]:
    """Two private databases on the TEST_DATABASE_URL server, or None without one."""
    if "postgresql" not in BACKENDS:
        yield None
        return
    server = make_url(os.environ["TEST_DATABASE_URL"])
    prefix = f"bills_{os.getpid()}_{uuid4().hex[:8]}"
    admin = server.render_as_string(hide_password=False)
    await _execute_autocommit(admin, f'CREATE DATABASE "{prefix}_empty"', f'CREATE DATABASE "{prefix}_migrated"')
    databases = PostgresDatabases(
        *(server.set(database=f"{prefix}_{kind}").render_as_string(hide_password=False) for kind in ("empty", "migrated"))
    )
    try:
        await upgrade(databases.migrated)
        yield databases
    finally:
        await _execute_autocommit(
            admin, f'DROP DATABASE "{prefix}_empty" WITH (FORCE)', f'DROP DATABASE "{prefix}_migrated" WITH (FORCE)'
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bills") / "migrated.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path, postgres_databases: PostgresDatabases | None) -> str:
    """An empty database, not yet migrated (for SQLite, not even its folder exists yet)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/data/bills.sqlite3"
    assert postgres_databases is not None
    await _execute_autocommit(postgres_databases.empty, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    return postgres_databases.empty


@pytest.fixture
async def session_factory(
    backend: str, tmp_path: Path, sqlite_template: Path, postgres_databases: PostgresDatabases | None
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh, migrated database; the engine is disposed after the test."""
    if backend == "sqlite":
        path = tmp_path / "data" / "bills.sqlite3"
        path.parent.mkdir()
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        assert postgres_databases is not None
        url = postgres_databases.migrated
    engine = make_engine(url)
    try:
        if backend == "postgresql":
            async with engine.begin() as connection:
                tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


Snapshot = Callable[[AsyncSession], Awaitable[dict[str, list[tuple[object, ...]]]]]


async def _snapshot(session: AsyncSession) -> dict[str, list[tuple[object, ...]]]:
    rows = {}
    for table in Base.metadata.sorted_tables:
        result = await session.execute(select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(row) for row in result]
    return rows


@pytest.fixture
def snapshot() -> Snapshot:
    """Every row of every table in primary-key order, to show that something changed nothing."""
    return _snapshot


@pytest.fixture(scope="session")
def operator_data() -> OperatorData:
    """Fixed operator figures (the sample file's), so bill tests do not move when the YAML is edited."""
    return OperatorData(
        sample=True,
        hotline="400-000-0000",
        service_hours=Localized(zh="每天 9:00–21:00", en="daily 9:00–21:00"),
        providers=(
            Provider(
                id="provider_a",
                name=Localized(zh="示例消费金融 A", en="Sample Consumer Finance A"),
                plans=(
                    Plan(3, Decimal("0"), True),
                    Plan(6, Decimal("0"), True),
                    Plan(12, Decimal("0.0060"), False),
                    Plan(24, Decimal("0.0060"), False),
                ),
                early_repayment_fee_rate=Decimal("0.03"),
            ),
            Provider(
                id="provider_b",
                name=Localized(zh="示例银行分期 B", en="Sample Bank Installments B"),
                plans=(
                    Plan(3, Decimal("0.0050"), False),
                    Plan(6, Decimal("0.0050"), False),
                    Plan(12, Decimal("0.0055"), False),
                ),
                early_repayment_fee_rate=Decimal("0"),
            ),
        ),
        late_fee=LateFeeRule(daily_rate=Decimal("0.0005"), grace_days=0, cap_rate=Decimal("0.10")),
    )
