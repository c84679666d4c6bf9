"""Start-up: from process start to the first reply of ``bot.py ask``, and resident memory once the
knowledge base and matcher are loaded. Each run is a fresh interpreter, as a user would start it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.measure import Row

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
_MEMORY = """
from pathlib import Path
from bot.cli import build_dialogue
from bot.settings import Settings
dialogue = build_dialogue(Settings())
dialogue.matcher.match("分期怎么买")
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
"""
"""Resident set size now, from /proc: a child's ``ru_maxrss`` on Linux can include the parent's
memory at the fork, which would charge the assistant with the benchmark's own matchers."""


def _first_reply() -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "bot.py", "ask"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin and process.stdout
    process.stdin.write("分期怎么买\n")
    process.stdin.flush()
    process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.stdin.close()
    process.wait()
    return elapsed


def run() -> list[Row]:
    times = [_first_reply() for _ in range(RUNS)]
    seconds = statistics.median(times)
    kilobytes = int(subprocess.run([sys.executable, "-c", _MEMORY], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    megabytes = kilobytes / 1024
    return [
        Row(f"start-up to first reply ({RUNS} runs)", seconds * 1000, max(times) * 1000, f"{seconds:.2f} s", "≤ 1.5 s", seconds <= 1.5),
        Row("resident memory after loading", None, None, f"{megabytes:.0f} MB", "≤ 150 MB", megabytes <= 150),
    ]
