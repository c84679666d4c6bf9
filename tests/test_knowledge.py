"""The knowledge base as shipped is complete, and a broken one is refused with a precise error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intents.catalogue import IntentId
from knowledge.loader import load_knowledge_base
from knowledge.text import Lang
from knowledge.yamlnodes import KnowledgeBaseError

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"
CATALOGUE = Path(__file__).resolve().parents[2] / "shared" / "spec" / "intents.md"
_CATALOGUE_ROW = re.compile(r"^\|\s*`([a-z_]+(?:\.[a-z_]+)?)`\s*\|", re.MULTILINE)


def test_every_catalogue_intent_has_examples_and_answers_in_both_languages(knowledge) -> None:
    assert set(knowledge.intents) == set(IntentId)
    for intent in knowledge.intents.values():
        assert len(intent.examples[Lang.ZH]) >= 20, intent.id
        assert len(intent.examples[Lang.EN]) >= 6, intent.id
        assert intent.answer.zh and intent.answer.en
        assert intent.title.zh and intent.title.en


@pytest.mark.skipif(not CATALOGUE.exists(), reason="the intent catalogue lives in ../shared")
def test_every_id_of_the_catalogue_file_has_an_entry_with_examples_in_both_languages(knowledge) -> None:
    """The catalogue file, not the enum, is the product spec: a topic it adds needs an entry here."""
    ids = _CATALOGUE_ROW.findall(CATALOGUE.read_text(encoding="utf-8"))
    assert len(ids) >= len(IntentId), "the catalogue's tables were not read"
    entries = {intent.value: entry for intent, entry in knowledge.intents.items()}
    missing = [intent for intent in ids if intent not in entries]
    assert missing == [], f"catalogue ids without a knowledge-base entry: {missing}"
    for intent in ids:
        examples = entries[intent].examples
        assert examples[Lang.ZH] and examples[Lang.EN], intent


def test_walkthrough_has_the_five_checkout_steps_of_the_guide(knowledge) -> None:
    titles = [step.title.zh for step in knowledge.walkthrough]
    assert len(titles) == 5
    for title, keyword in zip(titles, ["商品", "购物车", "分期", "身份", "机构"]):
        assert keyword in title


def test_answers_take_figures_from_operator_data_not_prose(knowledge) -> None:
    hotline = knowledge.operator.hotline
    assert hotline in knowledge[IntentId.HUMAN].answer.zh
    assert hotline in knowledge[IntentId.HUMAN].answer.en
    for intent in knowledge.intents.values():
        for lang in Lang:
            assert "{" not in intent.answer[lang], f"unfilled placeholder in {intent.id}"


@pytest.mark.skipif(not SEED.exists(), reason="the guide article lives in ../shared")
def test_answers_use_the_labels_the_guide_article_uses(knowledge) -> None:
    article = "".join(path.read_text(encoding="utf-8") for path in SEED.glob("*.txt"))
    for label in ["加入购物车", "去结算", "分期付款", "我的订单"]:
        assert label in article
        assert any(label in intent.answer.zh or any(label in s.text.zh for s in intent.steps) for intent in knowledge.intents.values()), label


# --- broken knowledge bases ------------------------------------------------------------------------



def _break(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replaces text in a file and returns the line number of the first replacement."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def _problems(directory: Path) -> str:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return str(caught.value)


def test_unknown_key_is_reported_with_file_entry_and_line(kb_copy: Path) -> None:
    line = _break(kb_copy / "intents" / "repay.yaml", "  follow_up:", "  folow_up:")
    message = _problems(kb_copy)
    assert re.search(rf"repay\.yaml:{line}: repay\.\w+: unknown key 'folow_up'", message), message


def test_missing_language_is_reported(kb_copy: Path) -> None:
    path = kb_copy / "intents" / "chat.yaml"
    text = path.read_text(encoding="utf-8")
    title = re.search(r"title: \{zh: ([^,]+), en: [^}]+\}", text)
    assert title, "chat.yaml titles are written in flow style"
    line = _break(path, title.group(0), f"title: {{zh: {title.group(1)}}}")
    message = _problems(kb_copy)
    assert f"chat.yaml:{line}:" in message and "missing 'en'" in message


def test_unknown_follow_up_id_is_reported(kb_copy: Path) -> None:
    _break(kb_copy / "intents" / "guide.yaml", "follow_up: [", "follow_up: [guide.nonexistent, ")
    assert "follow-up 'guide.nonexistent' is not an intent id" in _problems(kb_copy)


def test_the_same_example_under_two_intents_is_reported(kb_copy: Path, knowledge) -> None:
    example = knowledge[IntentId.EARLY].examples[Lang.ZH][0]
    path = kb_copy / "intents" / "chat.yaml"
    _break(path, "    zh:\n", f"    zh:\n      - {example}\n")
    message = _problems(kb_copy)
    assert f"example '{example}' stands under both" in message
    assert "repay.early" in message and "chat." in message


def test_placeholder_without_value_is_reported(kb_copy: Path) -> None:
    _break(kb_copy / "intents" / "chat.yaml", "{hotline}", "{hot_line}")
    assert "placeholder {hot_line} has no value" in _problems(kb_copy)


def test_yaml_syntax_error_names_the_line(kb_copy: Path) -> None:
    path = kb_copy / "intents" / "calc.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n- id: [unclosed\n", encoding="utf-8")
    assert re.search(r"calc\.yaml:\d+: YAML syntax", _problems(kb_copy))


def test_bad_operator_figure_is_reported(kb_copy: Path) -> None:
    line = _break(kb_copy / "operator.yaml", 'daily_rate: "0.0005"', 'daily_rate: "lots"')
    assert f"operator.yaml:{line}:" in _problems(kb_copy)


def test_binary_file_is_reported_not_a_traceback(kb_copy: Path) -> None:
    (kb_copy / "intents" / "junk.yaml").write_bytes(b"\xff\xfe\x00garbage\x80")
    assert "junk.yaml:1: not UTF-8 text" in _problems(kb_copy)


def test_a_missing_lexicon_list_is_reported_not_a_traceback(kb_copy: Path) -> None:
    _break(kb_copy / "lexicon.yaml", "shop_terms:", "shop_termz:")
    message = _problems(kb_copy)
    assert "lexicon is missing 'shop_terms'" in message and "unknown key 'shop_termz'" in message


def test_every_problem_is_reported_at_once(kb_copy: Path) -> None:
    _break(kb_copy / "intents" / "chat.yaml", "{hotline}", "{hot_line}")
    _break(kb_copy / "intents" / "repay.yaml", "  follow_up:", "  folow_up:")
    message = _problems(kb_copy)
    assert "hot_line" in message and "folow_up" in message
