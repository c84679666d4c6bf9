"""What every benchmark shares: timing a call many times, and one row of the printed table."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, its figures in milliseconds, the target and verdict."""

    name: str
    median_ms: float | None
    p99_ms: float | None
    figure: str
    """The headline figure besides the times (throughput, memory, growth…)."""
    target: str
    met: bool


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_each(call: Callable[[str], object], items: Iterable[str]) -> list[float]:
    """Seconds per call, one call per item, measured with the process's monotonic clock."""
    times = []
    for item in items:
        start = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    """Median and 99th percentile in milliseconds."""
    return statistics.median(times) * 1000, percentile(times, 0.99) * 1000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{date.today().isoformat()} · {cpu} · {os.cpu_count()} cores · Python {sys.version.split()[0]} · {platform.system()}"


def format_table(rows: list[Row]) -> str:
    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.2f} ms"

    header = ("benchmark", "median", "p99", "figure", "target", "")
    lines = [header] + [(r.name, ms(r.median_ms), ms(r.p99_ms), r.figure, r.target, "ok" if r.met else "MISSED") for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)
