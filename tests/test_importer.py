"""Importing provider files: validation with row numbers, all-or-nothing, natural keys, later payments."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot import billing
from bot.clock import FixedClock
from bot.errors import ImportFailed
from bot.importer import OPTIONAL, REQUIRED, import_file
from bot.ledger import load_account, resolve_customer, sync_providers
from knowledge.operator import OperatorData

if TYPE_CHECKING:
    from tests.conftest import Snapshot

CLOCK = FixedClock(datetime(2025, 3, 10, 2, tzinfo=UTC))
COLUMNS = REQUIRED + OPTIONAL


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def order_rows(
    order_no: str = "XM-1001",
    customer_ref: str = "C-1",
    price_fen: int = 449900,
    term: int = 12,
    rate: str = "0.0060",
    provider_id: str = "provider_a",
    first_due: date = date(2025, 1, 31),
    paid: int = 0,
) -> list[dict[str, str]]:
    """The rows a provider would send for one order, periods 1..paid paid on their due dates."""
    rows = []
    for period in billing.split(price_fen, term, Decimal(rate)):
        due = billing.due_date(first_due, period.number)
        is_paid = period.number <= paid
        rows.append(
            {
                "customer_ref": customer_ref,
                "customer_name": "张伟",
                "order_no": order_no,
                "product": "小米15 12GB+256GB",
                "price": yuan(price_fen),
                "provider_id": provider_id,
                "term": str(term),
                "first_due_date": first_due.isoformat(),
                "period": str(period.number),
                "due_date": due.isoformat(),
                "principal": yuan(period.principal_fen),
                "fee": yuan(period.fee_fen),
                "amount_paid": yuan(period.amount_fen) if is_paid else "",
                "paid_at": f"{due.isoformat()} 10:00" if is_paid else "",
            }
        )
    return rows


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.fixture
async def providers(session: AsyncSession, operator_data: OperatorData) -> AsyncSession:
    await sync_providers(session, operator_data)
    await session.commit()
    return session


@pytest.mark.parametrize("suffix", [".csv", ".json"])
async def test_import_creates_customers_orders_and_bills(providers: AsyncSession, tmp_path: Path, suffix: str) -> None:
    session = providers
    rows = order_rows(paid=2) + order_rows("XM-1002", price_fen=139900, term=6, rate="0", first_due=date(2025, 2, 28))
    report = await import_file(session, write(tmp_path / f"bills{suffix}", rows), clock=CLOCK)
    await session.commit()
    assert (report.rows, report.customers_created, report.orders_created, report.bills_created) == (18, 1, 2, 18)
    assert report.bills_paid == 2

    account = await load_account(session, await resolve_customer(session, "C-1"))
    phone, second = account.orders
    assert str(billing.progress(phone)) == "2/12"
    assert sum(bill.principal_fen for bill in phone.bills) == 449900
    assert [bill.due_date for bill in phone.bills[:3]] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    assert phone.bills[0].paid_at == datetime(2025, 1, 31, 2, tzinfo=UTC)  # 10:00 in Shanghai
    assert (second.term, second.interest_free, second.price_fen) == (6, True, 139900)


async def test_reimport_is_idempotent(providers: AsyncSession, tmp_path: Path, snapshot: Snapshot) -> None:
    session = providers
    path = write(tmp_path / "bills.csv", order_rows(paid=3))
    await import_file(session, path, clock=CLOCK)
    await session.commit()
    before = await snapshot(session)
    report = await import_file(session, path, clock=CLOCK)
    await session.commit()
    assert report.rows == 12
    assert (report.customers_created, report.orders_created, report.bills_created) == (0, 0, 0)
    assert (report.customers_updated, report.orders_updated, report.bills_updated, report.bills_paid) == (0, 0, 0, 0)
    assert await snapshot(session) == before


async def test_a_later_payment_file_marks_the_bill_paid(providers: AsyncSession, tmp_path: Path) -> None:
    session = providers
    statement = write(tmp_path / "statement.csv", order_rows(paid=1))
    await import_file(session, statement, clock=CLOCK)
    await session.commit()
    payment = order_rows(paid=2)[1]  # only period 2, now paid — five days late
    payment["paid_at"] = "2025-03-05T09:15:00+08:00"
    report = await import_file(session, write(tmp_path / "payments.json", [payment]), clock=CLOCK)
    await session.commit()
    assert (report.rows, report.bills_updated, report.bills_paid, report.bills_created) == (1, 1, 1, 0)

    account = await load_account(session, await resolve_customer(session, "C-1"))
    late = account.orders[0].bills[1]
    assert late.status(date(2025, 3, 10)) is billing.BillStatus.PAID  # paid late is paid, not overdue
    assert late.paid_at == datetime(2025, 3, 5, 1, 15, tzinfo=UTC)

    await import_file(session, statement, clock=CLOCK)  # the older statement again
    account = await load_account(session, await resolve_customer(session, "C-1"))
    assert account.orders[0].bills[1].is_paid  # payments are never undone by an import


def broken_rows() -> tuple[list[dict[str, str]], set[tuple[int, str | None]]]:
    """A file with one problem on most rows, and the (CSV line, field) each must be reported at."""
    rows = order_rows(term=6, rate="0", price_fen=60000) + order_rows("XM-2", "C-2", 30000, 3, "0.0050", "provider_b")
    rows += order_rows("XM-3", "C-3", 30000, 3, "0")
    rows[0]["price"] = "abc"  # line 2
    rows[1]["customer_name"] = ""  # line 3
    rows[2]["period"] = "7"  # line 4: beyond the term
    rows[3]["amount_paid"] = "100.00"  # line 5: no paid_at
    rows[4]["due_date"] = "2025-02-30"  # line 6
    rows[5]["principal"] = "100.001"  # line 7: more than two decimals
    rows[6]["provider_id"] = "provider_x"  # line 8: unknown; lines 9 and 10 of the order now differ
    rows[7]["period"], rows[7]["due_date"] = "1", rows[6]["due_date"]  # line 9: period 1 is on line 8 already
    rows[8]["product"] = "Redmi"  # line 10: differs from the order's first row
    rows[11]["price"] = "301.00"  # line 13: likewise
    expected = {
        (2, "price"),
        (3, "customer_name"),
        (4, "period"),
        (5, "paid_at"),
        (6, "due_date"),
        (7, "principal"),
        (8, "provider_id"),
        (9, None),
        (9, "provider_id"),
        (10, "product"),
        (10, "provider_id"),
        (13, "price"),
    }
    return rows, expected


async def test_a_malformed_file_reports_every_bad_row_and_changes_nothing(
    providers: AsyncSession, tmp_path: Path, snapshot: Snapshot
) -> None:
    session = providers
    await import_file(session, write(tmp_path / "good.csv", order_rows("XM-OLD", "C-OLD")), clock=CLOCK)
    await session.commit()
    before = await snapshot(session)
    rows, expected = broken_rows()
    with pytest.raises(ImportFailed) as failed:
        await import_file(session, write(tmp_path / "broken.csv", rows), clock=CLOCK)
    assert {(error.row, error.field) for error in failed.value.errors} == expected
    assert not session.new and not session.dirty
    await session.commit()
    assert await snapshot(session) == before
    assert "row 2, price: not an amount: 'abc'" in str(failed.value)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bills.txt", "", "expected a .csv or .json file"),
        ("bills.json", "{not json", "invalid JSON"),
        ("bills.json", '{"rows": []}', "must be a list of objects"),
        ("bills.json", "[]", "no rows"),
        ("bills.csv", "customer_ref,order_no\nC-1,XM-1\n", "missing column customer_name"),
        ("bills.csv", ",".join(COLUMNS) + ",amount_payed\n", "unknown column amount_payed"),
    ],
)
async def test_unreadable_files(providers: AsyncSession, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFailed, match=message):
        await import_file(providers, path, clock=CLOCK)


async def test_json_records_with_problems_of_their_own(providers: AsyncSession, tmp_path: Path) -> None:
    rows: list[object] = list(order_rows(term=3, rate="0", price_fen=30000))
    del rows[0]["fee"]  # type: ignore[attr-defined]
    rows[1]["note"] = "x"  # type: ignore[index]
    rows.append("not a record")
    path = tmp_path / "bills.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        await import_file(providers, path, clock=CLOCK)
    assert [(error.row, error.field, error.message) for error in failed.value.errors] == [
        (1, "fee", "required"),
        (2, None, "unknown column note"),
        (4, None, "not an object"),
    ]


async def test_checks_against_the_database(providers: AsyncSession, tmp_path: Path) -> None:
    session = providers
    await import_file(session, write(tmp_path / "first.csv", order_rows(term=3, rate="0", price_fen=30000)), clock=CLOCK)

    moved = order_rows(customer_ref="C-2", term=24, price_fen=30000)[0]  # same order: another customer and term
    with pytest.raises(ImportFailed) as failed:
        await import_file(session, write(tmp_path / "moved.csv", [moved]), clock=CLOCK)
    assert {(error.row, error.field) for error in failed.value.errors} == {(2, "customer_ref"), (2, "term")}

    last = order_rows(term=3, rate="0", price_fen=30000)[2]  # periods 1–2 come from the database
    last["principal"] = "99.00"
    with pytest.raises(ImportFailed, match="row 2: principals of order XM-1001 add up to 29900 fen, price is 30000"):
        await import_file(session, write(tmp_path / "last.csv", [last]), clock=CLOCK)
