"""Importing orders and bills from the files providers send (CSV or JSON), all or nothing.

One row per bill (period); the order and customer columns repeat on every row of the order. CSV
files have a header row (UTF-8, an Excel BOM is fine); JSON files hold a list of objects with the
same keys. The columns are defined once, in ``COLUMNS`` (name, required, meaning, how a value is
read): validation reads them, and ``python bot.py import --help`` prints them with an example
(``file_format_help``). Money is in yuan with at most 2 decimals, stored in fen.

Rules:

* Every row is validated before anything is written, and **all** problems are reported with their
  row numbers (the CSV line, header = 1; or the 1-based index of the JSON record) in one
  ``ImportFailed``, so a file is fixed in one round. Each value is read on its own and each check
  runs whenever the values it needs are valid: a bad value hides no other problem of its row, and
  the checks across rows and against the database run on whatever the rows had valid. Amounts in
  the messages are in yuan, like the file. When it is raised the session is unchanged.
* Customers, orders and bills are matched on natural keys (``customer_ref``, ``order_no``,
  ``order_no`` + ``period``), so re-importing a file updates rows instead of duplicating them.
* A file may hold only some periods of an order (a payments file, say). When every period of an
  order is known — from the file and the database together — their principals must add up to the
  price.
* Payments only ever go up: a later file recording a payment marks the bill paid, and re-importing
  an older file that shows it unpaid does not undo that. (Reversed payments need a manual fix.)
* The caller owns the transaction: commit after ``import_file`` returns, roll back on any error.
  Run ``bot.ledger.sync_providers`` first so the operator's providers and plans are known.

SQLAlchemy and the models are imported inside the functions that use the database: the command
line builds ``import --help`` from ``COLUMNS`` for every command, and loading them would cost every
command's start-up about half a second.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.clock import SHOP_ZONE, Clock, SystemClock
from bot.errors import ImportFailed, RowError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.models import Customer, InstallmentOrder, Plan

_CHUNK = 500
Values = dict[str, Any]
"""A row's valid values by column name; money in fen, a blank optional column at its default."""


# --- reading one value ----------------------------------------------------------------------------


class _Invalid(ValueError):
    pass


def _text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _Invalid(f"not text: {value!r}")
        if len(value.strip()) > limit:
            raise _Invalid(f"longer than {limit} characters")
        return value.strip()

    return parse


def _fen(value: Any) -> int:
    """Yuan with at most two decimals → fen, exactly."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _Invalid(f"not an amount: {value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise _Invalid(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise _Invalid(f"not an amount: {value!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise _Invalid(f"more than 2 decimals: {value!r}")
    return int(fen)


def _yuan(fen: int) -> str:
    """Fen → the file's own notation (``4499.00``), so a message can be compared with the file."""
    return f"{Decimal(fen).scaleb(-2):.2f}"


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid(f"not a whole number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _Invalid(f"not a whole number: {value!r}")


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise _Invalid(f"not a date (YYYY-MM-DD): {value!r}") from None


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise _Invalid(f"not a date or datetime: {value!r}") from None
    return moment.replace(tzinfo=SHOP_ZONE) if moment.tzinfo is None else moment


def _plain(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- the columns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import file: validation reads ``parse``, ``import --help`` prints the rest."""

    name: str
    meaning: str
    parse: Callable[[Any], Any]
    required: bool = True
    default: Any = None
    """The value of a blank optional column."""
    show: Callable[[Any], str] = _plain
    """A valid value as a message quotes it: money back in yuan."""


COLUMNS: tuple[Column, ...] = (
    Column("customer_ref", "the operator's customer reference (natural key of the customer)", _text(64)),
    Column("customer_name", "the customer's name", _text(200)),
    Column("order_no", "the shop's order number (natural key of the order)", _text(64)),
    Column("product", "product name, e.g. 小米15 12GB+256GB", _text(200)),
    Column("price", "order price in yuan, at most 2 decimals: 4499.00", _fen, show=_yuan),
    Column("provider_id", "a provider id of the operator data, e.g. provider_a", _text(64)),
    Column("term", "number of periods; the provider must offer a plan with this term", _integer),
    Column("first_due_date", "ISO date of period 1's due date", _date),
    Column("period", "this row's period number, 1 … term", _integer),
    Column("due_date", "ISO date this period falls due", _date),
    Column("principal", "principal of this period in yuan", _fen, show=_yuan),
    Column("fee", "fee of this period in yuan", _fen, show=_yuan),
    Column("amount_paid", "paid so far in yuan (default 0)", _fen, required=False, default=0, show=_yuan),
    Column(
        "paid_at",
        "ISO date or datetime of the (last) payment; required when amount_paid is above 0. "
        "Without an offset it is China time (Asia/Shanghai).",
        _moment,
        required=False,
    ),
)
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
OPTIONAL = tuple(column.name for column in COLUMNS if not column.required)
_BY_NAME = {column.name: column for column in COLUMNS}
_EXAMPLE_ROWS = (  # one interest-free order of three periods, the first one paid
    "C-1,张伟,XM-1001,小米15 12GB+256GB,4499.00,provider_a,3,2025-01-31,1,2025-01-31,1499.68,0.00,1499.68,2025-01-30 20:15",
    "C-1,张伟,XM-1001,小米15 12GB+256GB,4499.00,provider_a,3,2025-01-31,2,2025-02-28,1499.66,0.00,,",
    "C-1,张伟,XM-1001,小米15 12GB+256GB,4499.00,provider_a,3,2025-01-31,3,2025-03-31,1499.66,0.00,,",
)


def file_format_help() -> str:
    """The columns and an example CSV, for ``import --help``: printed from ``COLUMNS``, the table
    validation reads, so the help cannot drift from what is checked."""
    width = max(len(column.name) for column in COLUMNS)
    lines = ["columns (one row per bill; the order and customer columns repeat on every row of the order):"]
    for column in COLUMNS:
        lead = f"  {column.name:<{width}}  {'required' if column.required else 'optional'}  "
        lines += textwrap.wrap(column.meaning, 100, initial_indent=lead, subsequent_indent=" " * len(lead))
    lines += ["", "example (CSV, UTF-8, header first; JSON: a list of objects with the same keys):"]
    lines += [f"  {line}" for line in (",".join(column.name for column in COLUMNS), *_EXAMPLE_ROWS)]
    return "\n".join(lines)


# --- reading the file -----------------------------------------------------------------------------


@dataclass
class _Contents:
    """A file's records as (row number, raw record), and the problems found while reading them."""

    records: list[tuple[int, dict[str, Any]]]
    errors: list[RowError]
    absent: frozenset[str] = frozenset()
    """Required columns the CSV header lacks: reported once for the file, not on every row."""


def _read(path: Path) -> _Contents:
    """Only a file that cannot be read at all raises ImportFailed here; any other problem is
    collected so that the rows are still checked."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".json"}:
        raise ImportFailed([RowError(None, f"{path.name}: expected a .csv or .json file")])
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFailed([RowError(None, f"cannot read {path}: {error}")]) from error
    return _read_csv(content) if suffix == ".csv" else _read_json(content)


def _read_csv(content: str) -> _Contents:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    columns = set(reader.fieldnames or ())
    absent = frozenset(REQUIRED) - columns
    errors = [RowError(None, f"missing column {name}") for name in REQUIRED if name in absent]
    errors += [RowError(None, f"unknown column {name}") for name in sorted(columns - set(_BY_NAME))]
    records = [(reader.line_num, record) for record in reader]
    errors += [RowError(line, "more values than columns") for line, record in records if None in record]
    return _Contents(records, errors, absent)


def _read_json(content: str) -> _Contents:
    try:
        data = json.loads(content, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ImportFailed([RowError(None, f"invalid JSON: {error}")]) from error
    if not isinstance(data, list):
        raise ImportFailed([RowError(None, "a JSON import file must be a list of objects")])
    contents = _Contents([], [])
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            contents.records.append((number, item))
            unknown = sorted(set(item) - set(_BY_NAME))
            contents.errors += [RowError(number, f"unknown column {name}") for name in unknown]
        else:
            contents.errors.append(RowError(number, "not an object"))
    return contents


# --- checking each row on its own -----------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    """One row as far as it could be read: ``values`` holds only its valid values."""

    row: int
    values: Values = field(default_factory=dict)

    def has(self, *columns: str) -> bool:
        return all(column in self.values for column in columns)

    def show(self, column: str) -> str:
        return _BY_NAME[column].show(self.values[column])


def _read_values(row: int, raw: dict[str, Any], absent: frozenset[str]) -> tuple[_Record, list[RowError]]:
    """Every column is read on its own, so one bad value hides none of the others."""
    record, errors = _Record(row), []
    for column in COLUMNS:
        value = raw.get(column.name)
        if _blank(value):
            if not column.required:
                record.values[column.name] = column.default
            elif column.name not in absent:
                errors.append(RowError(row, "required", column.name))
            continue
        try:
            record.values[column.name] = column.parse(value)
        except _Invalid as problem:
            errors.append(RowError(row, str(problem), column.name))
    return record, errors


@dataclass(frozen=True)
class _Rule:
    """A check within one row, reported at ``column``. It runs whenever the columns it ``reads`` are
    valid, whatever else is wrong with the row."""

    column: str
    reads: tuple[str, ...]
    broken: Callable[[Values], bool]
    message: str
    """Filled with the values it reads as messages quote them (money in yuan)."""


_ROW_RULES = (
    _Rule("price", ("price",), lambda v: v["price"] == 0, "must be above 0"),
    _Rule("term", ("term",), lambda v: v["term"] < 1, "must be at least 1"),
    _Rule(
        "period",
        ("period", "term"),
        lambda v: not 1 <= v["period"] <= max(v["term"], 1),
        "must be between 1 and the term ({term})",
    ),
    _Rule(
        "amount_paid",
        ("amount_paid", "principal", "fee"),
        lambda v: v["amount_paid"] > v["principal"] + v["fee"],
        "{amount_paid} is more than principal + fee ({principal} + {fee})",
    ),
    _Rule(
        "paid_at",
        ("amount_paid", "paid_at"),
        lambda v: v["amount_paid"] > 0 and v["paid_at"] is None,
        "required when amount_paid is above 0",
    ),
    _Rule(
        "paid_at",
        ("amount_paid", "paid_at"),
        lambda v: v["amount_paid"] == 0 and v["paid_at"] is not None,
        "given but amount_paid is 0",
    ),
    _Rule(
        "due_date",
        ("period", "due_date", "first_due_date"),
        lambda v: v["period"] == 1 and v["due_date"] != v["first_due_date"],
        "period 1 must fall due on first_due_date ({first_due_date})",
    ),
)


def _check_row(record: _Record) -> list[RowError]:
    errors = []
    for rule in _ROW_RULES:
        if record.has(*rule.reads) and rule.broken(record.values):
            message = rule.message.format(**{column: record.show(column) for column in rule.reads})
            errors.append(RowError(record.row, message, rule.column))
    return errors


# --- checking rows against each other -------------------------------------------------------------

_REPEATED = (  # (key column, what it names, the columns every row with that key must repeat)
    ("order_no", "order", ("customer_ref", "product", "price", "provider_id", "term", "first_due_date")),
    ("customer_ref", "customer", ("customer_name",)),
)


def _check_repeats(records: list[_Record]) -> list[RowError]:
    """Each repeated value is compared with the first valid one of its order (or customer), so an
    unreadable first row hides no difference."""
    errors = []
    first: dict[tuple[str, Any, str], _Record] = {}
    for record in records:
        for key, noun, columns in _REPEATED:
            for column in columns:
                if not record.has(key, column):
                    continue
                earlier = first.setdefault((key, record.values[key], column), record)
                if earlier.values[column] != record.values[column]:
                    where = f"row {earlier.row} of {noun} {record.values[key]}"
                    message = f"{record.show(column)}, but {where} has {earlier.show(column)}"
                    errors.append(RowError(record.row, message, column))
    return errors


def _check_duplicates(records: list[_Record]) -> list[RowError]:
    errors = []
    seen: dict[tuple[str, int], _Record] = {}
    for record in records:
        if not record.has("order_no", "period"):
            continue
        order_no, period = record.values["order_no"], record.values["period"]
        earlier = seen.setdefault((order_no, period), record)
        if earlier is not record:
            errors.append(RowError(record.row, f"period {period} of order {order_no} is already on row {earlier.row}"))
    return errors


def _by_order(records: list[_Record]) -> dict[str, list[_Record]]:
    orders: dict[str, list[_Record]] = {}
    for record in records:
        if record.has("order_no"):
            orders.setdefault(record.values["order_no"], []).append(record)
    return orders


def _first(records: Iterable[_Record], column: str) -> Any:
    """The first valid value of ``column``, None if no record has one."""
    return next((record.values[column] for record in records if record.has(column)), None)


def _check_principals(records: list[_Record], orders: dict[str, InstallmentOrder]) -> list[RowError]:
    """Where every period of an order is known (file and database together), the principals must add
    up to the price. An order with a row whose period or principal is unreadable is skipped: its sum
    is unknown, and that row has its own error."""
    errors = []
    for order_no, rows in _by_order(records).items():
        price, term = _first(rows, "price"), _first(rows, "term")
        if price is None or term is None or not all(row.has("period", "principal") for row in rows):
            continue
        existing = orders.get(order_no)
        principals = {bill.number: bill.principal_fen for bill in existing.bills} if existing else {}
        principals |= {row.values["period"]: row.values["principal"] for row in rows}
        total = sum(principals.values())
        if set(principals) == set(range(1, term + 1)) and total != price:
            message = f"principals of order {order_no} add up to {_yuan(total)}, price is {_yuan(price)}"
            errors.append(RowError(rows[0].row, message))
    return errors


# --- checking rows against the database -----------------------------------------------------------


def _check_plan(record: _Record, terms: dict[str, list[int]]) -> list[RowError]:
    """The provider must exist and offer a plan with the row's term."""
    if not record.has("provider_id"):
        return []
    provider = record.values["provider_id"]
    if provider not in terms:
        known = ", ".join(sorted(terms)) or "none: sync the operator data first"
        return [RowError(record.row, f"unknown provider {provider!r} (known: {known})", "provider_id")]
    term = record.values.get("term")
    if term is not None and term not in terms[provider]:
        offered = ", ".join(str(offer) for offer in terms[provider])
        return [RowError(record.row, f"{provider} has no {term}-period plan (it offers {offered})", "term")]
    return []


def _check_existing(record: _Record, orders: dict[str, InstallmentOrder]) -> list[RowError]:
    """A row of an order already in the database may not move it to another customer, provider or
    term, nor lower a bill below what was already paid on it."""
    existing = orders.get(record.values.get("order_no"))
    if existing is None:
        return []
    errors = []
    held = {  # column → (the database's value, how a message states it)
        "customer_ref": (existing.customer.ref, "order {order} belongs to {value}"),
        "provider_id": (existing.provider_id, "order {order} is on {value}"),
        "term": (existing.plan.term, "order {order} has {value} periods"),
    }
    for column, (value, statement) in held.items():
        if record.has(column) and record.values[column] != value:
            errors.append(RowError(record.row, statement.format(order=existing.order_no, value=value), column))
    if record.has("period", "principal", "fee"):
        bill = next((bill for bill in existing.bills if bill.number == record.values["period"]), None)
        due = record.values["principal"] + record.values["fee"]
        if bill is not None and bill.amount_paid_fen > due:
            message = f"principal + fee ({_yuan(due)}) is less than the {_yuan(bill.amount_paid_fen)} already paid"
            errors.append(RowError(record.row, message, "principal"))
    return errors


async def _load(session: AsyncSession, model: Any, column: Any, keys: set[str], *options: Any) -> dict[str, Any]:
    from sqlalchemy import select

    found = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        statement = select(model).where(column.in_(ordered[start : start + _CHUNK])).options(*options)
        for item in await session.scalars(statement):
            found[getattr(item, column.key)] = item
    return found


# --- importing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    rows: int
    customers_created: int = 0
    customers_updated: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    bills_created: int = 0
    bills_updated: int = 0
    bills_paid: int = 0
    """Bills this import turned from unpaid to paid in full."""

    def __str__(self) -> str:
        return (
            f"{self.rows} rows: customers +{self.customers_created} ~{self.customers_updated}, "
            f"orders +{self.orders_created} ~{self.orders_updated}, "
            f"bills +{self.bills_created} ~{self.bills_updated}, newly paid {self.bills_paid}"
        )


@dataclass(frozen=True)
class _Row:
    """A row that passed every check, ready to write; money in fen."""

    row: int
    customer_ref: str
    customer_name: str
    order_no: str
    product: str
    price_fen: int
    provider_id: str
    term: int
    first_due_date: date
    period: int
    due_date: date
    principal_fen: int
    fee_fen: int
    amount_paid_fen: int
    paid_at: datetime | None

    @classmethod
    def of(cls, record: _Record) -> _Row:
        v = record.values
        return cls(
            row=record.row,
            customer_ref=v["customer_ref"],
            customer_name=v["customer_name"],
            order_no=v["order_no"],
            product=v["product"],
            price_fen=v["price"],
            provider_id=v["provider_id"],
            term=v["term"],
            first_due_date=v["first_due_date"],
            period=v["period"],
            due_date=v["due_date"],
            principal_fen=v["principal"],
            fee_fen=v["fee"],
            amount_paid_fen=v["amount_paid"],
            paid_at=v["paid_at"],
        )


def _in_file_order(errors: list[RowError]) -> list[RowError]:
    """By row (the file's own problems first), within a row by column as the file has them."""
    position = {name: index for index, name in enumerate(_BY_NAME)}
    return sorted(errors, key=lambda error: (error.row or 0, position.get(error.field or "", len(position))))


async def import_file(session: AsyncSession, path: str | Path, *, clock: Clock = SystemClock()) -> ImportReport:
    """Validate then import ``path`` into the caller's session (see the module docstring)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from bot.models import Customer, InstallmentOrder, Plan

    contents = _read(Path(path))
    if not contents.records and not contents.errors:
        raise ImportFailed([RowError(None, "no rows")])
    errors, records = contents.errors, []
    for number, raw in contents.records:
        record, value_errors = _read_values(number, raw, contents.absent)
        records.append(record)
        errors += value_errors + _check_row(record)
    errors += _check_repeats(records) + _check_duplicates(records)

    plans = {(plan.provider_id, plan.term): plan for plan in await session.scalars(select(Plan).order_by(Plan.term))}
    terms: dict[str, list[int]] = {}
    for provider, term in plans:
        terms.setdefault(provider, []).append(term)
    orders: dict[str, InstallmentOrder] = await _load(
        session,
        InstallmentOrder,
        InstallmentOrder.order_no,
        {record.values["order_no"] for record in records if record.has("order_no")},
        selectinload(InstallmentOrder.bills),
        selectinload(InstallmentOrder.plan),
        selectinload(InstallmentOrder.customer),
    )
    for record in records:
        errors += _check_plan(record, terms) + _check_existing(record, orders)
    errors += _check_principals(records, orders)
    if errors:
        raise ImportFailed(_in_file_order(errors))

    rows = [_Row.of(record) for record in records]
    customers: dict[str, Customer] = await _load(session, Customer, Customer.ref, {row.customer_ref for row in rows})
    now, tally = clock.now(), Counter[str]()
    for row in rows:
        _write(session, row, customers, orders, plans[(row.provider_id, row.term)], now, tally)
    await session.flush()
    return ImportReport(rows=len(rows), **tally)


# --- writing --------------------------------------------------------------------------------------


def _assign(target: Any, **values: Any) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _write(
    session: AsyncSession,
    row: _Row,
    customers: dict[str, Customer],
    orders: dict[str, InstallmentOrder],
    plan: Plan,
    now: datetime,
    tally: Counter[str],
) -> None:
    """Create or update the customer, order and bill of one validated row; ``tally`` counts changes."""
    from bot.models import Bill, Customer, InstallmentOrder

    customer = customers.get(row.customer_ref)
    if customer is None:
        customer = customers[row.customer_ref] = Customer(ref=row.customer_ref, name=row.customer_name, created_at=now)
        session.add(customer)
        tally["customers_created"] += 1
    elif _assign(customer, name=row.customer_name):
        tally["customers_updated"] += 1

    order = orders.get(row.order_no)
    if order is None:
        order = orders[row.order_no] = InstallmentOrder(
            order_no=row.order_no,
            customer=customer,
            product=row.product,
            price_fen=row.price_fen,
            provider_id=row.provider_id,
            plan=plan,
            first_due_date=row.first_due_date,
            created_at=now,
            bills=[],
        )
        session.add(order)
        tally["orders_created"] += 1
    elif _assign(order, product=row.product, price_fen=row.price_fen, first_due_date=row.first_due_date):
        tally["orders_updated"] += 1

    amounts = {
        "due_date": row.due_date,
        "principal_fen": row.principal_fen,
        "fee_fen": row.fee_fen,
        "amount_due_fen": row.principal_fen + row.fee_fen,
    }
    bill = next((bill for bill in order.bills if bill.number == row.period), None)
    was_paid = bill is not None and bill.amount_paid_fen >= bill.amount_due_fen
    if bill is None:
        bill = Bill(number=row.period, amount_paid_fen=row.amount_paid_fen, paid_at=row.paid_at, **amounts)
        order.bills.append(bill)
        tally["bills_created"] += 1
    else:
        if row.amount_paid_fen > bill.amount_paid_fen:  # payments only go up
            amounts |= {"amount_paid_fen": row.amount_paid_fen, "paid_at": row.paid_at}
        if _assign(bill, **amounts):
            tally["bills_updated"] += 1
    if not was_paid and bill.amount_paid_fen >= bill.amount_due_fen > 0:
        tally["bills_paid"] += 1
