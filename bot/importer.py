"""Importing orders and bills from the files providers send (CSV or JSON), all or nothing.

One row per bill (period); the order and customer columns repeat on every row of the order. CSV
files have a header row (UTF-8, an Excel BOM is fine); JSON files hold a list of objects with the
same keys. Columns:

==============  ========  ========================================================================
column          required  meaning
==============  ========  ========================================================================
customer_ref    yes       the operator's customer reference (natural key of the customer)
customer_name   yes       the customer's name
order_no        yes       the shop's order number (natural key of the order)
product         yes       product name, e.g. 小米15 12GB+256GB
price           yes       order price in yuan, at most 2 decimals: ``4499.00``
provider_id     yes       a provider id of the operator data, e.g. ``provider_a``
term            yes       number of periods; the provider must offer a plan with this term
first_due_date  yes       ISO date of period 1's due date
period          yes       this row's period number, 1 … term
due_date        yes       ISO date this period falls due
principal       yes       principal of this period in yuan
fee             yes       fee of this period in yuan
amount_paid     no        paid so far in yuan (default 0)
paid_at         no        ISO date or datetime of the (last) payment; required when amount_paid
                          is above 0. Without an offset it is China time (Asia/Shanghai).
==============  ========  ========================================================================

Rules:

* Every row is validated before anything is written, and **all** problems are reported with their
  row numbers (the CSV line, header = 1; or the 1-based index of the JSON record) in one
  ``ImportFailed``. When it is raised the session is unchanged.
* Customers, orders and bills are matched on natural keys (``customer_ref``, ``order_no``,
  ``order_no`` + ``period``), so re-importing a file updates rows instead of duplicating them.
* A file may hold only some periods of an order (a payments file, say). When every period of an
  order is known — from the file and the database together — their principals must add up to the
  price.
* Payments only ever go up: a later file recording a payment marks the bill paid, and re-importing
  an older file that shows it unpaid does not undo that. (Reversed payments need a manual fix.)
* The caller owns the transaction: commit after ``import_file`` returns, roll back on any error.
  Run ``bot.ledger.sync_providers`` first so the operator's providers and plans are known.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import SHOP_ZONE, Clock, SystemClock
from bot.errors import ImportFailed, RowError
from bot.models import Bill, Customer, InstallmentOrder, Plan

REQUIRED = (
    "customer_ref",
    "customer_name",
    "order_no",
    "product",
    "price",
    "provider_id",
    "term",
    "first_due_date",
    "period",
    "due_date",
    "principal",
    "fee",
)
OPTIONAL = ("amount_paid", "paid_at")
_KNOWN = frozenset(REQUIRED + OPTIONAL)
_ORDER_COLUMNS = {  # _Row attribute → column: the values every row of an order must repeat
    "customer_ref": "customer_ref",
    "product": "product",
    "price_fen": "price",
    "provider_id": "provider_id",
    "term": "term",
    "first_due_date": "first_due_date",
}
_CHUNK = 500


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


# --- reading --------------------------------------------------------------------------------------


def _read(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """(row number, raw record) pairs and problems with columns. A file that cannot be read at all,
    or a CSV header that lacks or misspells a column, raises ImportFailed at once."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".json"}:
        raise ImportFailed([RowError(None, f"{path.name}: expected a .csv or .json file")])
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFailed([RowError(None, f"cannot read {path}: {error}")]) from error
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(content, newline=""))
        columns = set(reader.fieldnames or ())
        header = [RowError(None, f"missing column {name}") for name in REQUIRED if name not in columns]
        header += [RowError(None, f"unknown column {name}") for name in sorted(columns - _KNOWN)]
        if header:
            raise ImportFailed(header)
        records = [(reader.line_num, record) for record in reader]
        return records, [RowError(line, "more values than columns") for line, record in records if None in record]
    try:
        data = json.loads(content, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ImportFailed([RowError(None, f"invalid JSON: {error}")]) from error
    if not isinstance(data, list):
        raise ImportFailed([RowError(None, "a JSON import file must be a list of objects")])
    records, errors = [], []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            records.append((number, item))
            errors += [RowError(number, f"unknown column {name}") for name in sorted(set(item) - _KNOWN)]
        else:
            errors.append(RowError(number, "not an object"))
    return records, errors


# --- parsing one row ------------------------------------------------------------------------------


class _Invalid(ValueError):
    pass


def _text(value: Any, limit: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Invalid(f"not text: {value!r}")
    if len(value.strip()) > limit:
        raise _Invalid(f"longer than {limit} characters")
    return value.strip()


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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(row: int, raw: dict[str, Any]) -> tuple[_Row | None, list[RowError]]:
    parsers = {
        "customer_ref": lambda v: _text(v, 64),
        "customer_name": lambda v: _text(v, 200),
        "order_no": lambda v: _text(v, 64),
        "product": lambda v: _text(v, 200),
        "price": _fen,
        "provider_id": lambda v: _text(v, 64),
        "term": _integer,
        "first_due_date": _date,
        "period": _integer,
        "due_date": _date,
        "principal": _fen,
        "fee": _fen,
    }
    values: dict[str, Any] = {}
    errors = []
    for name, parse in parsers.items():
        if _blank(raw.get(name)):
            errors.append(RowError(row, "required", name))
            continue
        try:
            values[name] = parse(raw[name])
        except _Invalid as problem:
            errors.append(RowError(row, str(problem), name))
    try:
        values["amount_paid"] = 0 if _blank(raw.get("amount_paid")) else _fen(raw["amount_paid"])
    except _Invalid as problem:
        errors.append(RowError(row, str(problem), "amount_paid"))
    try:
        values["paid_at"] = None if _blank(raw.get("paid_at")) else _moment(raw["paid_at"])
    except _Invalid as problem:
        errors.append(RowError(row, str(problem), "paid_at"))
    if errors:
        return None, errors

    if values["price"] == 0:
        errors.append(RowError(row, "must be above 0", "price"))
    if values["term"] < 1:
        errors.append(RowError(row, "must be at least 1", "term"))
    if not 1 <= values["period"] <= max(values["term"], 1):
        errors.append(RowError(row, f"must be between 1 and the term ({values['term']})", "period"))
    if values["amount_paid"] > values["principal"] + values["fee"]:
        errors.append(RowError(row, "more than principal + fee", "amount_paid"))
    if values["amount_paid"] and values["paid_at"] is None:
        errors.append(RowError(row, "required when amount_paid is above 0", "paid_at"))
    if not values["amount_paid"] and values["paid_at"] is not None:
        errors.append(RowError(row, "given but amount_paid is 0", "paid_at"))
    if values["period"] == 1 and values["due_date"] != values["first_due_date"]:
        errors.append(RowError(row, "period 1 must fall due on first_due_date", "due_date"))
    if errors:
        return None, errors
    return (
        _Row(
            row=row,
            customer_ref=values["customer_ref"],
            customer_name=values["customer_name"],
            order_no=values["order_no"],
            product=values["product"],
            price_fen=values["price"],
            provider_id=values["provider_id"],
            term=values["term"],
            first_due_date=values["first_due_date"],
            period=values["period"],
            due_date=values["due_date"],
            principal_fen=values["principal"],
            fee_fen=values["fee"],
            amount_paid_fen=values["amount_paid"],
            paid_at=values["paid_at"],
        ),
        [],
    )


# --- checking rows against each other and the database --------------------------------------------


def _check_consistency(rows: list[_Row]) -> list[RowError]:
    errors = []
    orders: dict[str, _Row] = {}
    customers: dict[str, _Row] = {}
    periods: dict[tuple[str, int], _Row] = {}
    for row in rows:
        first = orders.setdefault(row.order_no, row)
        for attribute, column in _ORDER_COLUMNS.items():
            if getattr(row, attribute) != getattr(first, attribute):
                errors.append(RowError(row.row, f"differs from row {first.row} of order {row.order_no}", column))
        named = customers.setdefault(row.customer_ref, row)
        if row.customer_name != named.customer_name:
            errors.append(RowError(row.row, f"differs from row {named.row} for {row.customer_ref}", "customer_name"))
        earlier = periods.setdefault((row.order_no, row.period), row)
        if earlier is not row:
            message = f"period {row.period} of order {row.order_no} is already on row {earlier.row}"
            errors.append(RowError(row.row, message))
    return errors


async def _load(session: AsyncSession, model: Any, column: Any, keys: set[str], *options: Any) -> dict[str, Any]:
    found = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        statement = select(model).where(column.in_(ordered[start : start + _CHUNK])).options(*options)
        for item in await session.scalars(statement):
            found[getattr(item, column.key)] = item
    return found


def _check_database(
    rows: list[_Row],
    plans: dict[tuple[str, int], Plan],
    provider_ids: set[str],
    orders: dict[str, InstallmentOrder],
) -> list[RowError]:
    errors = []
    principals: dict[str, dict[int, int]] = {}
    for row in rows:
        if row.provider_id not in provider_ids:
            known = ", ".join(sorted(provider_ids)) or "none: sync the operator data first"
            errors.append(RowError(row.row, f"unknown provider {row.provider_id!r} (known: {known})", "provider_id"))
        elif (row.provider_id, row.term) not in plans:
            errors.append(RowError(row.row, f"{row.provider_id} has no {row.term}-period plan", "term"))
        existing = orders.get(row.order_no)
        if existing is not None:
            if existing.customer.ref != row.customer_ref:
                message = f"order {row.order_no} belongs to {existing.customer.ref}"
                errors.append(RowError(row.row, message, "customer_ref"))
            if (existing.provider_id, existing.plan.term) != (row.provider_id, row.term):
                message = f"order {row.order_no} is on {existing.provider_id}, {existing.plan.term} periods"
                errors.append(RowError(row.row, message, "term"))
            bill = next((bill for bill in existing.bills if bill.number == row.period), None)
            if bill is not None and bill.amount_paid_fen > row.principal_fen + row.fee_fen:
                errors.append(RowError(row.row, "less than the amount already paid", "principal"))
        if row.order_no not in principals:
            principals[row.order_no] = {bill.number: bill.principal_fen for bill in existing.bills} if existing else {}
        principals[row.order_no][row.period] = row.principal_fen
    first_rows: dict[str, _Row] = {}
    for row in rows:
        first_rows.setdefault(row.order_no, row)
    for order_no, by_period in principals.items():
        row = first_rows[order_no]
        total = sum(by_period.values())
        if set(by_period) == set(range(1, row.term + 1)) and total != row.price_fen:
            message = f"principals of order {order_no} add up to {total} fen, price is {row.price_fen}"
            errors.append(RowError(row.row, message))
    return errors


# --- writing --------------------------------------------------------------------------------------


def _assign(target: Any, **values: Any) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


async def import_file(session: AsyncSession, path: str | Path, *, clock: Clock = SystemClock()) -> ImportReport:
    """Validate then import ``path`` into the caller's session (see the module docstring)."""
    records, errors = _read(Path(path))
    if not records and not errors:
        raise ImportFailed([RowError(None, "no rows")])
    parsed = [_parse(number, raw) for number, raw in records]
    errors += [error for _, row_errors in parsed for error in row_errors]
    rows = [row for row, _ in parsed if row is not None]
    errors += _check_consistency(rows)

    plans = {(plan.provider_id, plan.term): plan for plan in await session.scalars(select(Plan))}
    customers: dict[str, Customer] = await _load(session, Customer, Customer.ref, {row.customer_ref for row in rows})
    orders: dict[str, InstallmentOrder] = await _load(
        session,
        InstallmentOrder,
        InstallmentOrder.order_no,
        {row.order_no for row in rows},
        selectinload(InstallmentOrder.bills),
        selectinload(InstallmentOrder.plan),
        selectinload(InstallmentOrder.customer),
    )
    errors += _check_database(rows, plans, {provider for provider, _ in plans}, orders)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda error: (error.row or 0)))

    now, tally = clock.now(), Counter[str]()
    for row in rows:
        _write(session, row, customers, orders, plans[(row.provider_id, row.term)], now, tally)
    await session.flush()
    return ImportReport(rows=len(rows), **tally)


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
