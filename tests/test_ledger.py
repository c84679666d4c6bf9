"""Storage and the ledger queries, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import ledger
from bot.db import Base, make_engine, upgrade
from bot.errors import CustomerNotFound, NotLinked
from bot.models import Bill, ChatLink, ChatPreference, Customer, InstallmentOrder, Plan, Provider
from knowledge.operator import OperatorData
from knowledge.text import Lang

NOW = datetime(2025, 3, 10, 9, 30, tzinfo=timezone(timedelta(hours=8)))


async def add_customer(session: AsyncSession, ref: str = "C-1", name: str = "张伟") -> Customer:
    customer = Customer(ref=ref, name=name, created_at=NOW)
    session.add(customer)
    await session.flush()
    return customer


def _differences(connection: Connection) -> list[object]:
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_migrations_match_the_models(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)  # at head: nothing to do
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_sqlite_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "assistant.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert path.is_file()


async def test_datetimes_come_back_aware_and_rates_exact(session: AsyncSession) -> None:
    session.add(Provider(id="p", name_zh="甲", name_en="A", early_repayment_fee_rate=Decimal("0.0333")))
    session.add(Plan(provider_id="p", term=12, fee_rate_per_period=Decimal("0.0055"), interest_free=False))
    await add_customer(session)
    await session.commit()
    session.expunge_all()
    customer = await session.scalar(select(Customer))
    plan = await session.scalar(select(Plan))
    provider = await session.get(Provider, "p")
    assert customer is not None and plan is not None and provider is not None
    assert customer.created_at == NOW and customer.created_at.tzinfo is not None
    assert plan.fee_rate_per_period == Decimal("0.0055")
    assert provider.early_repayment_fee_rate == Decimal("0.0333")


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    session.add(Customer(ref="C-1", name="x", created_at=datetime(2025, 3, 10, 9, 30)))
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


async def test_one_active_link_per_chat(session: AsyncSession) -> None:
    customer = await add_customer(session)
    session.add(ChatLink(chat_id=42, customer_id=customer.id, active=False, linked_at=NOW))
    session.add(ChatLink(chat_id=42, customer_id=customer.id, active=True, linked_at=NOW))
    await session.flush()
    session.add(ChatLink(chat_id=42, customer_id=customer.id, active=True, linked_at=NOW))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_chat_preferences_store_the_language(session: AsyncSession) -> None:
    session.add(ChatPreference(chat_id=2**40, language=Lang.EN, reminders=False))
    await session.commit()
    session.expunge_all()
    preference = await session.get(ChatPreference, 2**40)
    assert preference is not None and (preference.language, preference.reminders) == (Lang.EN, False)


async def test_an_unlinked_chat_gets_no_customer(session: AsyncSession) -> None:
    customer = await add_customer(session)
    session.add(ChatLink(chat_id=7, customer_id=customer.id, active=False, linked_at=NOW))
    await session.flush()
    assert await ledger.customer_for_chat(session, 99) is None
    assert await ledger.customer_for_chat(session, 7) is None  # unlinked earlier
    with pytest.raises(NotLinked):
        await ledger.account_for_chat(session, 7)


async def test_load_account(session: AsyncSession, operator_data: OperatorData) -> None:
    await ledger.sync_providers(session, operator_data)
    customer = await add_customer(session)
    plan = await session.scalar(select(Plan).where(Plan.provider_id == "provider_a", Plan.term == 3))
    assert plan is not None
    order = InstallmentOrder(
        order_no="XM-1",
        customer=customer,
        product="小米15",
        price_fen=30001,
        provider_id="provider_a",
        plan=plan,
        first_due_date=date(2025, 1, 31),
        created_at=NOW,
        bills=[
            Bill(number=1, due_date=date(2025, 1, 31), principal_fen=10001, fee_fen=0, amount_due_fen=10001,
                 amount_paid_fen=10001, paid_at=NOW),
            Bill(number=2, due_date=date(2025, 2, 28), principal_fen=10000, fee_fen=0, amount_due_fen=10000),
            Bill(number=3, due_date=date(2025, 3, 31), principal_fen=10000, fee_fen=0, amount_due_fen=10000),
        ],
    )
    session.add(order)
    session.add(ChatLink(chat_id=7, customer_id=customer.id, active=True, linked_at=NOW))
    await session.commit()

    assert await ledger.customer_for_chat(session, 7) == customer.id
    account = await ledger.account_for_chat(session, 7)
    assert (account.customer_id, account.customer_ref, account.name) == (customer.id, "C-1", "张伟")
    (loaded,) = account.orders
    assert (loaded.order_no, loaded.term, loaded.early_repayment_fee_rate) == ("XM-1", 3, Decimal("0.03"))
    assert loaded.provider_name.en == "Sample Consumer Finance A"
    assert [bill.number for bill in loaded.bills] == [1, 2, 3]
    assert loaded.bills[0].paid_at == NOW and loaded.bills[1].paid_at is None
    assert [bill.due_date for bill in loaded.bills] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


async def test_unknown_customers(session: AsyncSession) -> None:
    customer = await add_customer(session, ref="DEMO-2DAYS")
    assert await ledger.resolve_customer(session, "DEMO-2DAYS") == customer.id
    assert await ledger.resolve_customer(session, str(customer.id)) == customer.id
    for key in ("nobody", "9999"):
        with pytest.raises(CustomerNotFound):
            await ledger.resolve_customer(session, key)
    with pytest.raises(CustomerNotFound):
        await ledger.load_account(session, 9999)


async def test_sync_providers_updates_in_place(
    session_factory: async_sessionmaker[AsyncSession], operator_data: OperatorData
) -> None:
    async with session_factory() as session, session.begin():
        await ledger.sync_providers(session, operator_data)
    async with session_factory() as session, session.begin():
        await ledger.sync_providers(session, operator_data)
        assert not session.dirty and not session.new
    async with session_factory() as session:
        plans = (await session.scalars(select(Plan).order_by(Plan.provider_id, Plan.term))).all()
        assert [(plan.provider_id, plan.term, plan.fee_rate_per_period) for plan in plans] == [
            ("provider_a", 3, 0), ("provider_a", 6, 0), ("provider_a", 12, Decimal("0.006")),
            ("provider_a", 24, Decimal("0.006")), ("provider_b", 3, Decimal("0.005")),
            ("provider_b", 6, Decimal("0.005")), ("provider_b", 12, Decimal("0.0055")),
        ]
