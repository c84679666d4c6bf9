"""Loads and validates the knowledge base: ``intents/*.yaml``, ``operator.yaml`` and ``lexicon.yaml``.

Validation is strict and complete: an operator who edits a file gets every problem at once, each with
its file, entry and line, and the assistant refuses to start on an invalid knowledge base rather than
answer from half of it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from intents.catalogue import IntentId
from knowledge.model import Intent, KnowledgeBase, Lexicon, Step
from knowledge.operator import LateFeeRule, OperatorData, Plan, Provider
from knowledge.placeholders import placeholder_values
from knowledge.text import Lang, Localized
from knowledge.yamlnodes import KnowledgeBaseError, Problem, Reader

DEFAULT_DIR = Path(__file__).resolve().parent
WALKTHROUGH_STEPS = 5
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LANGS = {lang.value for lang in Lang}


def load_knowledge_base(directory: Path = DEFAULT_DIR) -> KnowledgeBase:
    """Raises KnowledgeBaseError listing every problem found in any of the files."""
    problems: list[Problem] = []
    operator = _read_operator(Reader(directory / "operator.yaml", problems))
    lexicon = _read_lexicon(Reader(directory / "lexicon.yaml", problems))
    values = placeholder_values(operator) if operator else {}
    intent_files = sorted((directory / "intents").glob("*.yaml"))
    if not intent_files:
        problems.append(Problem(directory / "intents", 1, None, "no intent files (*.yaml) found"))
    intents = _read_intents(intent_files, values, problems)
    if problems or operator is None or lexicon is None:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(intents=intents, operator=operator, lexicon=lexicon)


# --- small typed readers -------------------------------------------------------------------------


def _localized(reader: Reader, node: Node, what: str) -> Localized | None:
    items = reader.mapping(node, what, required=_LANGS)
    if items is None or items.keys() != _LANGS:
        return None
    zh, en = reader.text(items["zh"], f"{what}.zh"), reader.text(items["en"], f"{what}.en")
    return Localized(zh=zh, en=en) if zh and en else None


def _decimal(reader: Reader, node: Node, what: str) -> Decimal | None:
    text = reader.text(node, what)
    try:
        value = Decimal(text) if text else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        reader.error(node, f"{what} must be a non-negative number written as a string, e.g. \"0.006\"")
        return None
    return value


def _integer(reader: Reader, node: Node, what: str, minimum: int) -> int | None:
    text = reader.text(node, what)
    if text is None or not text.isdigit() or int(text) < minimum:
        reader.error(node, f"{what} must be a whole number ≥ {minimum}")
        return None
    return int(text)


def _boolean(reader: Reader, node: Node, what: str) -> bool | None:
    if node.tag != "tag:yaml.org,2002:bool":
        reader.error(node, f"{what} must be true or false")
        return None
    return node.value.lower() in {"true", "yes", "on"}


def _texts(reader: Reader, node: Node, what: str) -> list[tuple[str, Node]]:
    return [(text, item) for item in reader.sequence(node, what) if (text := reader.text(item, what))]


# --- operator.yaml ---------------------------------------------------------------------------------


def _read_operator(reader: Reader) -> OperatorData | None:
    root = reader.compose()
    if root is None:
        return None
    items = reader.mapping(root, "operator data", required={"sample", "hotline", "service_hours", "providers", "late_fee"})
    if items is None or len(items) < 5:
        return None
    providers = []
    for node in reader.sequence(items["providers"], "providers"):
        provider = _read_provider(reader, node)
        if provider:
            providers.append(provider)
    if not providers:
        reader.error(items["providers"], "at least one provider with plans is needed")
    late = reader.mapping(items["late_fee"], "late_fee", required={"daily_rate", "grace_days", "cap_rate"})
    late_fee = None
    if late is not None and len(late) == 3:
        daily = _decimal(reader, late["daily_rate"], "late_fee.daily_rate")
        grace = _integer(reader, late["grace_days"], "late_fee.grace_days", 0)
        cap = _decimal(reader, late["cap_rate"], "late_fee.cap_rate")
        if daily is not None and grace is not None and cap is not None:
            late_fee = LateFeeRule(daily_rate=daily, grace_days=grace, cap_rate=cap)
    sample = _boolean(reader, items["sample"], "sample")
    hotline = reader.text(items["hotline"], "hotline")
    hours = _localized(reader, items["service_hours"], "service_hours")
    if None in (late_fee, sample, hotline, hours) or not providers:
        return None
    return OperatorData(
        sample=bool(sample), hotline=str(hotline), service_hours=hours,  # type: ignore[arg-type]
        providers=tuple(providers), late_fee=late_fee,  # type: ignore[arg-type]
    )


def _read_provider(reader: Reader, node: Node) -> Provider | None:
    items = reader.mapping(node, "provider", required={"id", "name", "plans", "early_repayment_fee_rate"})
    if items is None or len(items) < 4:
        return None
    provider_id = reader.text(items["id"], "provider id")
    reader.entry = provider_id
    name = _localized(reader, items["name"], "name")
    early_fee = _decimal(reader, items["early_repayment_fee_rate"], "early_repayment_fee_rate")
    plans: list[Plan] = []
    for plan_node in reader.sequence(items["plans"], "plans"):
        fields = reader.mapping(plan_node, "plan", required={"term", "fee_rate_per_period", "interest_free"})
        if fields is None or len(fields) < 3:
            continue
        term = _integer(reader, fields["term"], "term", 1)
        rate = _decimal(reader, fields["fee_rate_per_period"], "fee_rate_per_period")
        free = _boolean(reader, fields["interest_free"], "interest_free")
        if term is None or rate is None or free is None:
            continue
        if any(plan.term == term for plan in plans):
            reader.error(fields["term"], f"a {term}-period plan is listed twice")
        elif free and rate:
            reader.error(fields["fee_rate_per_period"], "an interest-free plan must have fee rate 0")
        else:
            plans.append(Plan(term=term, fee_rate_per_period=rate, interest_free=free))
    if not plans:
        reader.error(items["plans"], "a provider needs at least one plan")
    reader.entry = None
    if provider_id is None or name is None or early_fee is None or not plans:
        return None
    return Provider(id=provider_id, name=name, plans=tuple(plans), early_repayment_fee_rate=early_fee)


# --- lexicon.yaml ----------------------------------------------------------------------------------


_LEXICON_LISTS = (
    "other_products", "payment_cards", "other_shops", "brands", "other_apps", "installment_terms",
    "owned_terms", "goods", "product_lookalikes", "shop_terms", "credit_terms", "fillers",
)


def _read_lexicon(reader: Reader) -> Lexicon | None:
    root = reader.compose()
    if root is None:
        return None
    required = {"synonyms", *_LEXICON_LISTS}
    items = reader.mapping(root, "lexicon", required=required)
    if items is None or items.keys() != required:  # what is missing is reported already
        return None
    synonyms: dict[str, str] = {}
    if items["synonyms"].tag != "tag:yaml.org,2002:map":
        reader.error(items["synonyms"], "synonyms must map a canonical wording to a list of variants")
    else:
        for key_node, value_node in items["synonyms"].value:
            canonical = reader.text(key_node, "synonym")
            for variant, node in _texts(reader, value_node, f"variants of '{canonical}'"):
                if variant in synonyms:
                    reader.error(node, f"variant '{variant}' is listed under two canonical wordings")
                elif canonical:
                    synonyms[variant] = canonical
    lists = {key: tuple(text for text, _ in _texts(reader, items[key], key)) for key in _LEXICON_LISTS}
    return Lexicon(synonyms=synonyms, **lists)


# --- intents/*.yaml --------------------------------------------------------------------------------


def _read_intents(files: list[Path], values: dict[str, Localized], problems: list[Problem]) -> dict[IntentId, Intent]:
    intents: dict[IntentId, Intent] = {}
    follow_ups: list[tuple[Reader, str, Node]] = []
    seen_examples: dict[str, tuple[str, Path, int]] = {}
    for path in files:
        reader = Reader(path, problems)
        root = reader.compose()
        if root is None:
            continue
        for node in reader.sequence(root, "an intent file"):
            reader.entry = None
            intent = _read_intent(reader, node, values, follow_ups, seen_examples)
            if intent is None:
                continue
            if intent.id in intents:
                reader.error(node, f"intent '{intent.id}' is defined twice")
            intents[intent.id] = intent
    for reader, entry, node in follow_ups:
        if node.value not in IntentId.__members__.values():
            reader.entry = entry
            reader.error(node, f"follow-up '{node.value}' is not an intent id")
    missing = sorted(set(IntentId) - intents.keys())
    if missing and files:
        problems.append(Problem(files[0].parent, 1, None, "intents without an entry: " + ", ".join(missing)))
    return intents


def _read_intent(
    reader: Reader,
    node: Node,
    values: dict[str, Localized],
    follow_ups: list[tuple[Reader, str, Node]],
    seen_examples: dict[str, tuple[str, Path, int]],
) -> Intent | None:
    if isinstance(node, MappingNode):  # name the entry before checking its keys, so errors can say which
        reader.entry = next((v.value for k, v in node.value if k.value == "id" and isinstance(v, ScalarNode)), None)
    items = reader.mapping(
        node, "intent entry", required={"id", "title", "examples", "answer", "follow_up"}, optional={"steps"}
    )
    if items is None or "id" not in items:
        return None
    raw_id = reader.text(items["id"], "id")
    if raw_id not in IntentId.__members__.values():
        reader.error(items["id"], f"'{raw_id}' is not an intent id of the catalogue")
        return None
    intent_id = IntentId(raw_id)
    reader.entry = intent_id
    if len(items) < 5:
        return None
    title = _localized(reader, items["title"], "title")
    answer = _localized(reader, items["answer"], "answer")
    answer = answer and _fill(reader, items["answer"], answer, values)
    examples = _read_examples(reader, items["examples"], intent_id, seen_examples)
    steps = _read_steps(reader, items.get("steps"), intent_id, values)
    follow = reader.sequence(items["follow_up"], "follow_up")
    follow_ups.extend((reader, intent_id, item) for item in follow)
    if title is None or answer is None or examples is None or steps is None:
        return None
    return Intent(
        id=intent_id, title=title, examples=examples, answer=answer, steps=steps,
        follow_up=tuple(IntentId(item.value) for item in follow if item.value in IntentId.__members__.values()),
    )


def _read_examples(
    reader: Reader, node: Node, intent_id: IntentId, seen: dict[str, tuple[str, Path, int]]
) -> dict[Lang, tuple[str, ...]] | None:
    items = reader.mapping(node, "examples", required=_LANGS)
    if items is None or items.keys() != _LANGS:
        return None
    examples: dict[Lang, tuple[str, ...]] = {}
    for lang in Lang:
        texts = _texts(reader, items[lang.value], f"examples.{lang.value}")
        if not texts:
            reader.error(items[lang.value], f"no {lang.value} examples")
        for text, item in texts:
            key = text.casefold()
            if key in seen and seen[key][0] != intent_id:
                other, path, line = seen[key]
                reader.error(item, f"example '{text}' stands under both {other} ({path.name}:{line}) and {intent_id}")
            seen.setdefault(key, (intent_id, reader.path, item.start_mark.line + 1))
        examples[lang] = tuple(dict.fromkeys(text for text, _ in texts))
    return examples


def _read_steps(
    reader: Reader, node: Node | None, intent_id: IntentId, values: dict[str, Localized]
) -> tuple[Step, ...] | None:
    if node is None:
        if intent_id is IntentId.CHECKOUT_FLOW:
            reader.problems.append(Problem(reader.path, 1, intent_id, f"needs 'steps' ({WALKTHROUGH_STEPS} of them)"))
            return None
        return ()
    if intent_id is not IntentId.CHECKOUT_FLOW:
        reader.error(node, f"only {IntentId.CHECKOUT_FLOW} has steps")
        return None
    steps = []
    for number, item in enumerate(reader.sequence(node, "steps"), start=1):
        fields = reader.mapping(item, f"step {number}", required={"title", "text"})
        if fields is None or len(fields) < 2:
            continue
        title = _localized(reader, fields["title"], f"step {number} title")
        text = _localized(reader, fields["text"], f"step {number} text")
        text = text and _fill(reader, fields["text"], text, values)
        if title and text:
            steps.append(Step(title=title, text=text))
    if len(reader.sequence(node, "steps")) != WALKTHROUGH_STEPS:
        reader.error(node, f"the walkthrough needs exactly {WALKTHROUGH_STEPS} steps")
        return None
    return tuple(steps) if len(steps) == WALKTHROUGH_STEPS else None


def _fill(reader: Reader, node: Node, text: Localized, values: dict[str, Localized]) -> Localized | None:
    """Replaces each {placeholder} with its operator value; an unknown one is an error, not a blank."""
    filled = {}
    for lang in Lang:
        unknown = [name for name in _PLACEHOLDER.findall(text[lang]) if name not in values]
        for name in unknown:
            reader.error(node, f"placeholder {{{name}}} has no value (known: {', '.join(sorted(values))})")
        if unknown:
            return None
        filled[lang.value] = _PLACEHOLDER.sub(lambda match, lang=lang: values[match.group(1)][lang], text[lang])
    return Localized(**filled)
