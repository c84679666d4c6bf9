"""How long selecting the day's reminders takes over many bills (target: under 2 s for 100,000 on SQLite).

Seeds a temporary, migrated SQLite file: one customer, chat link and 12-period order per 12 bills, first
due dates spread over a year around today so every day has its share of due bills, periods before
today paid; half of today's reminders already sent (so the "not yet delivered" check has rows to look
at). Then times ``bot.reminder_store.select_due`` (median of a few runs, each in a fresh session).

    .venv/bin/python -m benchmarks.reminder_selection
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from bot.billing import due_date
from bot.db import make_engine, make_session_factory, upgrade
from bot.models import Bill, ChatLink, Customer, DeliveryStatus, InstallmentOrder, Plan, Provider, ReminderDelivery
from bot.reminder_store import select_due
from bot.reminders import DEFAULT_DAYS_BEFORE

TODAY = date(2025, 3, 10)
TERM = 12
RUNS = 5


def _rows(bills: int, now: datetime) -> dict[type, list[dict[str, object]]]:
    orders = -(-bills // TERM)
    customers = [{"id": n, "ref": f"BENCH-{n}", "name": "张伟", "created_at": now} for n in range(1, orders + 1)]
    links = [{"chat_id": 10_000 + n, "customer_id": n, "active": True, "linked_at": now} for n in range(1, orders + 1)]
    order_rows, bill_rows = [], []
    for n in range(1, orders + 1):
        first = TODAY - timedelta(days=180) + timedelta(days=n % 365)
        order_rows.append({"id": n, "order_no": f"XM-{n}", "customer_id": n, "product": "小米15", "price_fen": 449_900,
                           "provider_id": "bench", "plan_id": 1, "first_due_date": first, "created_at": now})
        for number in range(1, TERM + 1):
            if len(bill_rows) == bills:
                break
            due = due_date(first, number)
            paid = 37_492 if due < TODAY else 0
            bill_rows.append({"order_id": n, "number": number, "due_date": due, "principal_fen": 37_000, "fee_fen": 492,
                              "amount_due_fen": 37_492, "amount_paid_fen": paid, "paid_at": now if paid else None})
    return {Customer: customers, InstallmentOrder: order_rows, Bill: bill_rows, ChatLink: links}


async def _measure(bills: int, folder: Path) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    await upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
    try:
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            session.add(Provider(id="bench", name_zh="示例", name_en="Sample", early_repayment_fee_rate=Decimal("0.03")))
            session.add(Plan(id=1, provider_id="bench", term=TERM, fee_rate_per_period=Decimal("0.006"), interest_free=False))
            await session.flush()
            for model, rows in _rows(bills, now).items():
                await session.execute(insert(model), rows)
        async with sessions() as session, session.begin():
            due = await select_due(session, TODAY, DEFAULT_DAYS_BEFORE, now)
            await session.execute(insert(ReminderDelivery), [
                {"chat_id": r.chat_id, "bill_id": r.bill_id, "kind": r.kind, "on_date": TODAY, "status": DeliveryStatus.SENT,
                 "attempts": 1, "claimed_at": now, "finished_at": now}
                for r in due[::2]
            ])
        seeded = time.perf_counter() - started
        timings, selected = [], 0
        for _ in range(RUNS):
            async with sessions() as session:
                started = time.perf_counter()
                selected = len(await select_due(session, TODAY, DEFAULT_DAYS_BEFORE, now))
                timings.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return {"bills": float(bills), "selected": float(selected), "seed_s": seeded, "median_s": statistics.median(timings)}


def measure(bills: int = 100_000) -> dict[str, float]:
    """Seconds to select one day's reminders over ``bills`` bills (``median_s``), and what it found."""
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_measure(bills, Path(folder)))


if __name__ == "__main__":
    figures = measure()
    print(
        f"reminder selection over {figures['bills']:,.0f} bills (SQLite): {figures['median_s'] * 1000:.1f} ms median of {RUNS}, "
        f"{figures['selected']:,.0f} reminders due (seeding took {figures['seed_s']:.1f} s)"
    )
