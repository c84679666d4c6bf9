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
from bot.cli import main
from bot.importer import COLUMNS, OPTIONAL, REQUIRED, import_file
from bot.ledger import load_account, resolve_customer, sync_providers
from knowledge.operator import OperatorData

if TYPE_CHECKING:
    from tests.conftest import Snapshot

CLOCK = FixedClock(datetime(2025, 3, 10, 2, tzinfo=UTC))
HEADER = REQUIRED + OPTIONAL


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
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else HEADER)
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


def nineteen_problems() -> tuple[list[dict[str, str]], dict[tuple[int, str | None], str]]:
    """A file with 19 problems of every kind, several on one row, and the message expected at each
    (CSV line, column). Before one-pass validation the first run showed 14 of them."""
    a = order_rows(term=6, rate="0", price_fen=60000)  # lines 2–7
    b = order_rows("XM-2", "C-2", 30000, 3, "0.0050", "provider_x")[:1]  # line 8
    c = order_rows("XM-3", "C-3", 30000, 3, "0")  # lines 9–11, and line 12 repeats line 9
    d = order_rows("XM-4", "C-4", 30000, 24, "0.0050", "provider_b")[:1]  # line 13
    e = order_rows("XM-5", "C-5", 30000, 3, "0")  # lines 14–16
    old = order_rows("XM-OLD", "C-1")[:1]  # line 17: the order is C-OLD's in the database
    a[0] |= {"price": "abc", "amount_paid": "100.00"}
    a[1]["customer_name"] = ""
    a[2] |= {"period": "7", "due_date": "2025-02-30"}
    a[3]["principal"] = "100.001"
    a[4]["first_due_date"] = "2025/01/31"
    a[5] |= {"amount_paid": "999.00", "paid_at": "2025-07-31"}
    b[0]["paid_at"] = "yesterday"
    c[1]["product"] = "Redmi"
    c[2]["price"] = "301.00"
    d[0]["due_date"] = "2025-02-01"
    e[0]["principal"] = "99.00"
    e[1]["paid_at"] = "2025-02-28 10:00"
    e[2]["customer_name"] = "张三"
    expected = {
        (2, "price"): "not an amount: 'abc'",
        (2, "paid_at"): "required when amount_paid is above 0",
        (3, "customer_name"): "required",
        (4, "due_date"): "not a date (YYYY-MM-DD): '2025-02-30'",
        (4, "period"): "must be between 1 and the term (6)",
        (5, "principal"): "more than 2 decimals: '100.001'",
        (6, "first_due_date"): "not a date (YYYY-MM-DD): '2025/01/31'",
        (7, "amount_paid"): "999.00 is more than principal + fee (100.00 + 0.00)",
        (8, "provider_id"): "unknown provider 'provider_x' (known: provider_a, provider_b)",
        (8, "paid_at"): "not a date or datetime: 'yesterday'",
        (10, "product"): "'Redmi', but row 9 of order XM-3 has '小米15 12GB+256GB'",
        (11, "price"): "301.00, but row 9 of order XM-3 has 300.00",
        (12, None): "period 1 of order XM-3 is already on row 9",
        (13, "term"): "provider_b has no 24-period plan (it offers 3, 6, 12)",
        (13, "due_date"): "period 1 must fall due on first_due_date (2025-01-31)",
        (14, None): "principals of order XM-5 add up to 299.00, price is 300.00",
        (15, "paid_at"): "given but amount_paid is 0",
        (16, "customer_name"): "'张三', but row 14 of customer C-5 has '张伟'",
        (17, "customer_ref"): "order XM-OLD belongs to C-OLD",
    }
    return a + b + c + c[:1] + d + e + old, expected


async def test_every_problem_of_a_file_is_reported_in_one_run_and_changes_nothing(
    providers: AsyncSession, tmp_path: Path, snapshot: Snapshot
) -> None:
    session = providers
    await import_file(session, write(tmp_path / "good.csv", order_rows("XM-OLD", "C-OLD")), clock=CLOCK)
    await session.commit()
    before = await snapshot(session)
    rows, expected = nineteen_problems()
    with pytest.raises(ImportFailed) as failed:
        await import_file(session, write(tmp_path / "broken.csv", rows), clock=CLOCK)
    assert {(error.row, error.field): error.message for error in failed.value.errors} == expected
    assert len(failed.value.errors) == 19
    assert [error.row for error in failed.value.errors] == sorted(error.row or 0 for error in failed.value.errors)
    assert not session.new and not session.dirty
    await session.commit()
    assert await snapshot(session) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bills.txt", "", "expected a .csv or .json file"),
        ("bills.json", "{not json", "invalid JSON"),
        ("bills.json", '{"rows": []}', "must be a list of objects"),
        ("bills.json", "[]", "no rows"),
        ("bills.csv", "customer_ref,order_no\nC-1,XM-1\n", "missing column customer_name"),
        ("bills.csv", ",".join(HEADER) + ",amount_payed\n", "unknown column amount_payed"),
    ],
)
async def test_unreadable_files(providers: AsyncSession, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFailed, match=message):
        await import_file(providers, path, clock=CLOCK)


async def test_header_problems_do_not_stop_the_row_checks(providers: AsyncSession, tmp_path: Path) -> None:
    rows = order_rows(term=3, rate="0", price_fen=30000)
    for row in rows:
        row["amount_payed"] = row.pop("fee")  # misspelt in the header: the fee is missing on every row
    rows[1]["price"] = "300"  # ok: the example shows 2 decimals, but yuan need none
    rows[2]["price"] = "3O0.00"
    with pytest.raises(ImportFailed) as failed:
        await import_file(providers, write(tmp_path / "bills.csv", rows), clock=CLOCK)
    assert [str(error) for error in failed.value.errors] == [
        "file: missing column fee",
        "file: unknown column amount_payed",
        "row 4, price: not an amount: '3O0.00'",
    ]


def import_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["import", "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_import_help_lists_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    lines = import_help(capsys).splitlines()
    for column in COLUMNS:
        need = "required" if column.required else "optional"
        assert any(line.split()[:3] == [column.name, need, column.meaning.split()[0]] for line in lines if line.strip())
    assert "  " + ",".join(HEADER) in lines  # the example's header


async def test_the_help_example_imports_as_it_is(
    providers: AsyncSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = import_help(capsys).splitlines()
    header = lines.index("  " + ",".join(HEADER))
    example = tmp_path / "example.csv"
    example.write_text("\n".join(line.strip() for line in lines[header:]) + "\n", encoding="utf-8")
    report = await import_file(providers, example, clock=CLOCK)
    assert (report.rows, report.orders_created, report.bills_paid) == (3, 1, 1)


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
    first = order_rows(term=3, rate="0", price_fen=30000, paid=1)
    await import_file(session, write(tmp_path / "first.csv", first), clock=CLOCK)

    moved = order_rows(customer_ref="C-2", term=24, price_fen=30000)[0]  # same order: another customer and term
    moved |= {"principal": "50.00", "fee": "0.00", "amount_paid": "", "paid_at": ""}  # period 1 was paid 100.00
    with pytest.raises(ImportFailed) as failed:
        await import_file(session, write(tmp_path / "moved.csv", [moved]), clock=CLOCK)
    assert [(error.row, error.field, error.message) for error in failed.value.errors] == [
        (2, "customer_ref", "order XM-1001 belongs to C-1"),
        (2, "term", "order XM-1001 has 3 periods"),
        (2, "principal", "principal + fee (50.00) is less than the 100.00 already paid"),
    ]

    last = order_rows(term=3, rate="0", price_fen=30000)[2]  # periods 1–2 come from the database
    last["principal"] = "99.00"
    with pytest.raises(ImportFailed, match=r"row 2: principals of order XM-1001 add up to 299\.00, price is 300\.00"):
        await import_file(session, write(tmp_path / "last.csv", [last]), clock=CLOCK)
