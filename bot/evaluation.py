"""Measuring understanding on labelled message sets (the format of ``shared/eval/sample.yaml``)."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from intents.catalogue import IntentId

OUT = IntentId.OUT_OF_SCOPE.value


class EvalSetError(Exception):
    """A labelled set that cannot be read; the message names the file and the item."""


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str
    kind: str
    lang: str


def read_sets(paths: Sequence[Path]) -> list[Labelled]:
    items: list[Labelled] = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise EvalSetError(f"{path}: cannot read: {error}") from error
        if not isinstance(data, list):
            raise EvalSetError(f"{path}: expected a list of {{text, intent, kind?, lang?}}")
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str) or "intent" not in item:
                raise EvalSetError(f"{path}: item {number} needs text and intent")
            if item["intent"] not in IntentId.__members__.values():
                raise EvalSetError(f"{path}: item {number}: unknown intent {item['intent']!r}")
            items.append(Labelled(item["text"], item["intent"], str(item.get("kind", "plain")), str(item.get("lang", "zh"))))
    return items


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, correct: bool) -> None:
        self.right += correct
        self.total += 1

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%} ({self.right}/{self.total})"


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    in_scope: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_intent: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    confusion_example: dict[tuple[str, str], str] = field(default_factory=dict)
    oos_predicted: int = 0
    oos_correct: int = 0
    oos_total: int = 0
    in_scope_rejected: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def oos_precision(self) -> float:
        return self.oos_correct / self.oos_predicted if self.oos_predicted else 0.0

    @property
    def oos_recall(self) -> float:
        return self.oos_correct / self.oos_total if self.oos_total else 0.0

    @property
    def false_rejection(self) -> float:
        return self.in_scope_rejected / self.in_scope.total if self.in_scope.total else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


def evaluate(items: Sequence[Labelled], classify: Callable[[str], str]) -> Report:
    """Runs ``classify`` over every item, timing each call."""
    report = Report()
    for item in items:
        start = time.perf_counter()
        predicted = classify(item.text)
        report.seconds.append(time.perf_counter() - start)
        correct = predicted == item.intent
        report.overall.add(correct)
        report.by_kind[item.kind].add(correct)
        report.by_intent[item.intent].add(correct)
        if item.intent == OUT:
            report.oos_total += 1
        else:
            report.in_scope.add(correct)
            report.in_scope_rejected += predicted == OUT
        if predicted == OUT:
            report.oos_predicted += 1
            report.oos_correct += item.intent == OUT
        if not correct:
            pair = (item.intent, predicted)
            report.confusions[pair] += 1
            report.confusion_example.setdefault(pair, item.text)
    return report


def format_report(report: Report, *, confusions: int = 10) -> str:
    lines = [
        f"overall accuracy   {report.overall}",
        f"in-scope accuracy  {report.in_scope}",
        f"out-of-scope       precision {report.oos_precision:.1%}  recall {report.oos_recall:.1%}  "
        f"in-scope wrongly rejected {report.false_rejection:.1%}",
        f"time per message   median {statistics.median(report.seconds) * 1000:.2f} ms  "
        f"p99 {report.percentile_ms(0.99):.2f} ms" if report.seconds else "time per message   -",
        "",
        "by kind:",
        *(f"  {kind:<14}{tally}" for kind, tally in sorted(report.by_kind.items())),
        "",
        "by intent:",
        *(f"  {intent:<30}{tally}" for intent, tally in sorted(report.by_intent.items())),
    ]
    if report.confusions:
        lines += ["", "most frequent confusions (expected → got ×count: example):"]
        for (expected, got), count in report.confusions.most_common(confusions):
            lines.append(f"  {expected} → {got} ×{count}: {report.confusion_example[(expected, got)]}")
    return "\n".join(lines)
