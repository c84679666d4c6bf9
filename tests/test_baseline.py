"""The TF-IDF baseline of ``eval --baseline``: it learns the knowledge base, and the report shows both systems."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.cli import main
from intents.catalogue import IntentId
from knowledge.model import KnowledgeBase

if TYPE_CHECKING:
    from bot.baseline import Baseline

TINY_SET = """\
- {text: "我想提前还款", intent: repay.early, kind: plain, lang: zh}
- {text: "How do I pay off early?", intent: repay.early, kind: english, lang: en}
- {text: "今天天气怎么样", intent: out_of_scope, kind: oos, lang: zh}
"""


@pytest.fixture(scope="module")
def baseline(knowledge: KnowledgeBase) -> Baseline:
    pytest.importorskip("sklearn")
    from bot.baseline import train

    return train(knowledge)


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SET, encoding="utf-8")
    return path


def test_trained_on_exactly_the_knowledge_base_examples(knowledge: KnowledgeBase, baseline: Baseline) -> None:
    from bot.baseline import training_data

    texts, labels = training_data(knowledge)
    assert baseline.examples == len(texts) == sum(len(e) for i in knowledge.intents.values() for e in i.examples.values())
    assert set(labels) == {intent.value for intent in knowledge.intents}
    assert set(baseline.model.classes_) == set(labels)


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("我想提前还款", IntentId.EARLY),
        ("怎么设置自动扣款", IntentId.AUTO_DEBIT),
        ("逾期了会怎么样", IntentId.OVERDUE),
        ("where can I see my bills", IntentId.VIEW_BILLS),
        ("转人工客服", IntentId.HUMAN),
        ("谢谢", IntentId.THANKS),
        ("今天天气怎么样", IntentId.OUT_OF_SCOPE),
        ("What is the weather today?", IntentId.OUT_OF_SCOPE),
    ],
)
def test_classifies_unambiguous_messages(baseline: Baseline, message: str, intent: IntentId) -> None:
    assert baseline.classify(message) == intent.value


def test_eval_baseline_prints_both_columns(
    baseline: Baseline, tiny_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("bot.baseline.train", lambda knowledge: baseline)  # trained once per module, for speed
    assert main(["eval", "--baseline", str(tiny_set)]) == 0
    out = capsys.readouterr().out
    assert any("matcher" in line and "TF-IDF baseline" in line for line in out.splitlines())
    for row in ("overall accuracy", "in-scope accuracy", "OOS precision", "OOS recall", "in-scope rejected"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert line.count("%") == 2, line
    for row in ("median time/message", "p99 time/message"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert line.count(" ms") == 2, line
    assert any(line.strip().startswith("english") for line in out.splitlines())
    assert "ahead overall:" in out and "kinds where the matcher is not ahead:" in out


def test_eval_without_baseline_keeps_the_single_report(tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tiny_set)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("overall accuracy") and "TF-IDF baseline" not in out


def test_eval_baseline_without_scikit_learn_says_how_to_install(
    tiny_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes ``import sklearn`` raise ImportError
    assert main(["eval", "--baseline", str(tiny_set)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "error: --baseline needs scikit-learn; install the dev extras: pip install -e '.[dev]'"
    ]
