"""What the knowledge base holds once loaded and validated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from intents.catalogue import IntentId
from knowledge.operator import OperatorData
from knowledge.text import Lang, Localized


@dataclass(frozen=True)
class Step:
    """One step of the checkout walkthrough (``guide.checkout_flow``)."""

    title: Localized
    text: Localized


@dataclass(frozen=True)
class Intent:
    id: IntentId
    title: Localized
    examples: dict[Lang, tuple[str, ...]]
    answer: Localized
    """Final text: placeholders are already filled from the operator data."""
    steps: tuple[Step, ...]
    follow_up: tuple[IntentId, ...]


@dataclass(frozen=True)
class Lexicon:
    """Domain vocabulary the matcher uses besides the examples.

    ``synonyms`` maps a variant (colloquial or alternative wording) to the canonical wording the
    examples use; ``other_products`` names products this assistant must not answer for, unless the
    message also names one of the ``shop_terms`` (paying *at Xiaomi Mall* with them is in scope) or
    names them after one of the ``credit_terms`` (whether this credit record affects a mortgage).
    The ``payment_cards`` among them, named as the means of repaying (用信用卡还), ask about a way to repay.
    ``other_shops`` likewise, except that beside another shop the ``brands`` among the shop terms name
    the maker's goods (京东上买小米手机), not this shop. A message naming one of the ``other_apps`` is
    about that app unless it names the shop or one of the ``installment_terms``. ``owned_terms`` are
    the service's nouns that something else can own (电费账单): after a word foreign to the service
    they make a message less likely to be about it, unless that word is among the shop's ``goods``.
    ``product_lookalikes`` are phrases that contain a product's name or a shop term without naming it
    (想起来分期, 结算日). ``fillers`` only add emphasis (到底, 究竟) and are left out before comparing.
    """

    synonyms: dict[str, str]
    other_products: tuple[str, ...]
    payment_cards: tuple[str, ...]
    other_shops: tuple[str, ...]
    brands: tuple[str, ...]
    other_apps: tuple[str, ...]
    installment_terms: tuple[str, ...]
    owned_terms: tuple[str, ...]
    goods: tuple[str, ...]
    shop_terms: tuple[str, ...]
    credit_terms: tuple[str, ...]
    product_lookalikes: tuple[str, ...]
    fillers: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    intents: dict[IntentId, Intent]
    operator: OperatorData
    lexicon: Lexicon

    def __getitem__(self, intent_id: IntentId) -> Intent:
        return self.intents[intent_id]

    @property
    def walkthrough(self) -> tuple[Step, ...]:
        return self.intents[IntentId.CHECKOUT_FLOW].steps

    def with_examples(self, rewrite: Callable[[IntentId, Lang, tuple[str, ...]], tuple[str, ...]]) -> KnowledgeBase:
        """A copy whose examples are ``rewrite(intent, lang, examples)``: for held-out checks and
        for benchmarks at other sizes, which build a matcher on changed examples."""
        return replace(
            self,
            intents={
                intent_id: replace(
                    intent, examples={lang: rewrite(intent_id, lang, texts) for lang, texts in intent.examples.items()}
                )
                for intent_id, intent in self.intents.items()
            },
        )
