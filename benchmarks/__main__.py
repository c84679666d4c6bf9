"""``python -m benchmarks``: every benchmark, printed as one table with the machine it ran on.

``python -m benchmarks matching engine`` runs only the named ones.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import engine, reminder_selection, startup, telegram_path, understanding
from benchmarks.measure import Row, format_table, machine


def reminders() -> list[Row]:
    figures = reminder_selection.measure()
    seconds = figures["median_s"]
    return [
        Row(
            f"reminder selection over {figures['bills']:,.0f} bills (SQLite)",
            seconds * 1000,
            None,
            f"{figures['selected']:,.0f} reminders due",
            "≤ 2 s",
            seconds <= 2,
        )
    ]


BENCHMARKS: dict[str, Callable[[], list[Row]]] = {
    "matching": understanding.run,
    "engine": engine.run,
    "startup": startup.run,
    "telegram": telegram_path.run,
    "reminders": reminders,
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(machine())
    rows = [row for name in names or BENCHMARKS for row in BENCHMARKS[name]()]
    print(format_table(rows))
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
