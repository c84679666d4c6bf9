"""``python bot.py kb check``: lints the knowledge base beyond what the loader refuses.

The loader rejects a knowledge base the assistant cannot run on. This check looks for one it would
run on *badly*, and reports each finding with file and line:

* **errors** (exit status 1, so CI stops): anything the loader refuses; an example that the matcher
  gives to another intent (with the scores) — scored against the index that contains the example
  itself, so the bot answers the operator's own wording wrongly; an example that a matcher built
  without it (``FOLDS``-fold) gives to another intent almost surely, by ``CLEAR_MARGIN`` or more —
  its wording belongs to another topic, which the trained matcher would otherwise learn by heart
  and hide; examples of two intents that are
  the same text once normalised; an answer whose text is not in its language (a copy of the other).
* **warnings**: examples of two intents that are nearly the same (``NEAR_DUPLICATE`` or more); an
  example its own intent wins but below the out-of-scope threshold; intents with fewer examples in a
  language than ``MIN_EXAMPLES``; placeholders used in one language of an answer but not the other,
  or offered by the operator data but used by no answer.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from intents.catalogue import IntentId
from intents.matcher import Matcher
from intents.normalize import is_cjk, normalize
from knowledge.loader import load_knowledge_base
from knowledge.model import KnowledgeBase
from knowledge.placeholders import placeholder_values
from knowledge.text import Lang
from knowledge.yamlnodes import LOADER, KnowledgeBaseError

NEAR_DUPLICATE = 90.0
"""Normalised Indel similarity (0–100) from which examples of two intents count as near-duplicates."""
MIN_EXAMPLES = {Lang.ZH: 20, Lang.EN: 12}
FOLDS = 5
CLEAR_MARGIN = 0.8
"""How far ahead of its own intent another intent must be for a held-out example to be an error.
Neighbouring topics overlap (a held-out example often goes to a neighbour by a little): only a
near-certain other topic with almost nothing for its own marks a misfiled example."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    path: Path
    line: int
    entry: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path.name}:{self.line}" + (f": {self.entry}" if self.entry else "")
        return f"{self.severity}: {where}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A text as written in an intent file: where it stands and, for answers, before placeholders."""

    intent: IntentId
    path: Path
    line: int
    text: str


@dataclass(frozen=True)
class RawFiles:
    directory: Path
    examples: list[Source]
    answers: list[dict[Lang, Source]]
    """Answers and walkthrough step texts in both languages, placeholders unfilled."""


def check_knowledge_base(directory: Path, threshold: float) -> list[Finding]:
    """Every finding, errors first; an empty list means a clean knowledge base."""
    try:
        knowledge = load_knowledge_base(directory)
    except KnowledgeBaseError as error:
        return [Finding(Severity.ERROR, p.path, p.line, p.entry, p.message) for p in error.problems]
    raw = read_raw(directory)
    findings = [
        *conflicts(raw, Matcher(knowledge, threshold)),
        *held_out_conflicts(raw, knowledge, threshold),
        *duplicates(raw),
        *thin_intents(knowledge, raw),
        *answer_languages(raw),
        *placeholders(knowledge, raw),
    ]
    return sorted(findings, key=lambda f: (f.severity is not Severity.ERROR, f.path.name, f.line))


def read_raw(directory: Path) -> RawFiles:
    """Examples and answers with their lines. Only called on a knowledge base the loader accepted,
    so the shape is known to be right."""
    examples: list[Source] = []
    answers: list[dict[Lang, Source]] = []
    for path in sorted((directory / "intents").glob("*.yaml")):
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=LOADER)
        assert isinstance(root, SequenceNode)
        for entry in root.value:
            fields = _fields(entry)
            intent = IntentId(fields["id"].value)
            for lang, node in _languages(fields["examples"]):
                assert isinstance(node, SequenceNode)
                examples.extend(Source(intent, path, item.start_mark.line + 1, item.value.strip()) for item in node.value)
            texts = [fields["answer"], *(_fields(step)["text"] for step in getattr(fields.get("steps"), "value", []))]
            answers.extend(
                {lang: Source(intent, path, node.start_mark.line + 1, node.value) for lang, node in _languages(text)}
                for text in texts
            )
    return RawFiles(directory, examples, answers)


def _fields(node: Node) -> dict[str, Node]:
    assert isinstance(node, MappingNode)
    return {key.value: value for key, value in node.value}


def _languages(node: Node) -> Iterator[tuple[Lang, ScalarNode]]:
    for key, value in _fields(node).items():
        assert isinstance(value, (ScalarNode, SequenceNode))
        yield Lang(key), value  # type: ignore[misc]


# --- the checks ------------------------------------------------------------------------------------


def conflicts(raw: RawFiles, matcher: Matcher) -> Iterator[Finding]:
    for example in raw.examples:
        match = matcher.match(example.text)
        own = next((c.confidence for c in match.alternatives if c.intent is example.intent), None)
        own_score = f"{own:.2f}" if own is not None else "not in its top three"
        if match.intent not in {example.intent, IntentId.OUT_OF_SCOPE}:
            yield _finding(
                Severity.ERROR, example,
                f"example '{example.text}' matches {match.intent} ({match.confidence:.2f}) better than its own intent ({own_score})",
            )
        elif match.intent is IntentId.OUT_OF_SCOPE and example.intent is not IntentId.OUT_OF_SCOPE:
            closest = match.alternatives[0] if match.alternatives else None
            if closest is not None and closest.intent is not example.intent:
                yield _finding(
                    Severity.WARNING, example,
                    f"example '{example.text}' is rejected as out of scope; closest is {closest.intent} "
                    f"({closest.confidence:.2f}), its own intent {own_score}",
                )
            elif own is None:
                yield _finding(Severity.WARNING, example, f"example '{example.text}' has no word the matcher reads")
            elif own < matcher.threshold:
                yield _finding(
                    Severity.WARNING, example,
                    f"example '{example.text}' scores {own:.2f} for its own intent, below the threshold {matcher.threshold}",
                )
            else:
                yield _finding(
                    Severity.WARNING, example,
                    f"example '{example.text}' is rejected as out of scope although its own intent scores {own:.2f} "
                    "(a rule decided, e.g. another lender's product named without the shop)",
                )


def held_out_conflicts(raw: RawFiles, knowledge: KnowledgeBase, threshold: float) -> Iterator[Finding]:
    for fold in range(FOLDS):
        held_out = [example for example in raw.examples if _fold(example.text) == fold]
        removed = {(example.intent, example.text) for example in held_out}
        rest = knowledge.with_examples(
            lambda intent, _, texts: tuple(text for text in texts if (intent, text) not in removed)
        )
        matcher = Matcher(rest, threshold)
        for example in held_out:
            match = matcher.match(example.text)
            if match.intent in {example.intent, IntentId.OUT_OF_SCOPE}:
                continue
            own = next((c.confidence for c in match.alternatives if c.intent is example.intent), 0.0)
            if match.confidence - own >= CLEAR_MARGIN:
                yield _finding(
                    Severity.ERROR, example,
                    f"example '{example.text}' reads as {match.intent} ({match.confidence:.2f}) rather than its own "
                    f"intent ({own:.2f}) when the matcher has not seen it",
                )


def _fold(text: str) -> int:
    """The fold an example is held out in, from its text alone: adding or moving other examples
    leaves it in the same fold, so a clean check stays clean for an unrelated edit."""
    return zlib.crc32(text.encode("utf-8")) % FOLDS


def duplicates(raw: RawFiles) -> Iterator[Finding]:
    sources = raw.examples
    keys = [normalize(example.text) for example in sources]
    scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE, workers=-1)
    for i, j in zip(*scores.nonzero()):
        first, second = sources[i], sources[j]
        if i >= j or first.intent is second.intent:
            continue
        same = keys[i] == keys[j]
        what = "the same once normalised as" if same else f"nearly the same ({scores[i, j]:.0f}) as"
        yield _finding(
            Severity.ERROR if same else Severity.WARNING, second,
            f"example '{second.text}' is {what} '{first.text}' of {first.intent} ({first.path.name}:{first.line})",
        )


def thin_intents(knowledge: KnowledgeBase, raw: RawFiles) -> Iterator[Finding]:
    first_example = {}
    for example in raw.examples:
        first_example.setdefault(example.intent, example)
    for intent in knowledge.intents.values():
        for lang, minimum in MIN_EXAMPLES.items():
            if len(intent.examples[lang]) < minimum:
                yield _finding(
                    Severity.WARNING, first_example[intent.id],
                    f"only {len(intent.examples[lang])} {lang.value} example(s); at least {minimum} make matching reliable",
                )


def answer_languages(raw: RawFiles) -> Iterator[Finding]:
    """A Chinese text needs Chinese characters; an English one may quote Chinese labels, but most of
    its letters must be Latin."""
    for texts in raw.answers:
        for lang, answer in texts.items():
            text = _PLACEHOLDER.sub("", answer.text)
            cjk = sum(is_cjk(char) for char in text)
            latin = sum(char.isascii() and char.isalpha() for char in text)
            if (lang is Lang.ZH and not cjk) or (lang is Lang.EN and cjk > latin):
                yield _finding(Severity.ERROR, answer, f"the {lang.value} text is not written in {lang.value}")


def placeholders(knowledge: KnowledgeBase, raw: RawFiles) -> Iterator[Finding]:
    everywhere: set[str] = set()
    for texts in raw.answers:
        names = {lang: set(_PLACEHOLDER.findall(answer.text)) for lang, answer in texts.items()}
        everywhere |= names[Lang.ZH] | names[Lang.EN]
        for name in sorted(names[Lang.ZH] ^ names[Lang.EN]):
            only = Lang.ZH if name in names[Lang.ZH] else Lang.EN
            yield _finding(Severity.WARNING, texts[only], f"placeholder {{{name}}} is used in the {only.value} text only")
    for name in sorted(placeholder_values(knowledge.operator).keys() - everywhere):
        yield Finding(
            Severity.WARNING, raw.directory / "operator.yaml", 1, None,
            f"placeholder {{{name}}} is offered by the operator data but no answer uses it",
        )


def _finding(severity: Severity, source: Source, message: str) -> Finding:
    return Finding(severity, source.path, source.line, source.intent.value, message)
