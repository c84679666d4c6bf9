"""Matching alone: time per message over the project's evaluation set, and how it grows with the
knowledge base (synthetic variants of every example at 1×, 4× and 16×)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from benchmarks.measure import Row, summary, time_each
from bot.evaluation import read_sets
from intents.matcher import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.model import KnowledgeBase
from knowledge.text import Lang

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "eval" / "own.yaml"
THRESHOLD = 0.42
PASSES = 3
_AFFIXES = {
    Lang.ZH: (("请问", ""), ("我想知道", ""), ("麻烦问下", "呢"), ("", "啊"), ("那个", "吗"), ("你好，", "")),
    Lang.EN: (("please tell me ", ""), ("hey, ", ""), ("quick question: ", ""), ("", " please"), ("", " thanks")),
}


def messages() -> list[str]:
    return [item.text for item in read_sets([EVAL_SET])]


def time_matching(matcher: Matcher, texts: list[str]) -> list[float]:
    """Seconds per message over a few passes, each message analysed afresh (the repair cache cleared)."""
    times: list[float] = []
    for _ in range(PASSES):
        matcher.analyzer.repair.cache_clear()
        times += time_each(matcher.match, texts)
    return times


def matching(knowledge: KnowledgeBase, texts: list[str]) -> Row:
    matcher = Matcher(knowledge, THRESHOLD)
    time_matching(matcher, texts[:50])  # warm-up: imports, numpy buffers
    times = time_matching(matcher, texts)
    median, p99 = summary(times)
    rate = len(times) / sum(times)
    return Row(
        f"matching ({len(texts)} messages × {PASSES})",
        median,
        p99,
        f"{rate:,.0f} msg/s on one core",
        "p99 ≤ 3 ms, ≥ 1,000 msg/s",
        p99 <= 3 and rate >= 1000,
    )


def _variant(text: str, lang: Lang, rng: random.Random) -> str:
    """The example reworded the way users pad a question, with one neighbouring pair swapped."""
    prefix, suffix = rng.choice(_AFFIXES[lang])
    chars = list(text)
    if len(chars) > 3:
        i = rng.randrange(len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return prefix + "".join(chars) + suffix


def scaled(knowledge: KnowledgeBase, factor: int, seed: int = 7) -> KnowledgeBase:
    rng = random.Random(seed)
    return knowledge.with_examples(
        lambda _, lang, texts: tuple(
            dict.fromkeys([*texts, *(_variant(text, lang, rng) for text in texts for _ in range(factor - 1))])
        )
    )


def scaling(knowledge: KnowledgeBase, texts: list[str], factors: tuple[int, ...] = (1, 4, 16)) -> list[Row]:
    rows, base = [], 0.0
    for factor in factors:
        bigger = scaled(knowledge, factor)
        examples = sum(len(t) for intent in bigger.intents.values() for t in intent.examples.values())
        start = time.perf_counter()
        matcher = Matcher(bigger, THRESHOLD)
        built = time.perf_counter() - start
        time_matching(matcher, texts[:50])
        times = time_matching(matcher, texts)
        median, p99 = summary(times)
        mean = sum(times) / len(times)
        base = base or mean
        growth = mean / base
        rows.append(
            Row(
                f"knowledge base {factor}× ({examples:,} examples)",
                median,
                p99,
                f"{growth:.1f}× the time of 1×; built in {built:.1f} s",
                "16× ≤ 8× the time of 1×" if factor == factors[-1] else "",
                growth <= 8 if factor == factors[-1] else True,
            )
        )
    return rows


def run() -> list[Row]:
    knowledge = load_knowledge_base(ROOT / "knowledge")
    texts = messages()
    return [matching(knowledge, texts), *scaling(knowledge, texts)]
