"""The intent matcher: which topic of the knowledge base a message is about, and how sure we are.

Two views of similarity are blended, because each fails where the other holds:

* **nearest example** — rapidfuzz's normalised Indel similarity between the message and every example,
  token by token (a Chinese character or an English word stem each count as one token). It rewards
  messages phrased like one known example, in any language mix.
* **topic vocabulary** — a softmax regression over token unigrams and bigrams (``topics``). It rewards the
  words that set a topic apart (征信, 扣款, payoff) wherever they stand in a long message, which a
  whole-string similarity dilutes.

The parts of a message that carry its question are also read on their own: a long message (more
than a dozen tokens) clause by clause, later clauses weighing more, because people tell the
background first and ask last ("…找到了账单，还款日也记下了，太感谢了" is thanks); and after 除了X
("besides X", "instead of X") only the rest, since that asks about something other than X.

Explicit knowledge settles the rest: a message about another lender's product (花呗, 房贷, …) or
another shop (京东) that does not name this shop is out of scope however similar it looks (a phrase
that only contains a product's name, 想起来分期 for the lender 来分期, does not count, and a credit card
named as the means of repaying, 能用信用卡还这期吗, makes a question about a way to repay), and so is one
about another app (支付宝怎么换绑银行卡) that names no installment; anything scoring under the
threshold is out of scope too. The confidence falls with the share of the message that is foreign to
the service: characters no example has, real words (segmented with jieba's dictionary) that no
example uses, such as 签证 in 签证逾期了怎么办, and above all such a word owning one of the service's
nouns (电费账单 is not this service's bill).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from intents.analysis import MAX_MESSAGE_CHARS, Analyzer
from intents.catalogue import IntentId
from intents.normalize import NUMBER, normalize, tagged_words, tokens as tokenize, words
from intents.topics import TopicModel, features
from knowledge.model import KnowledgeBase

NEAREST_WEIGHT = 0.35
"""Share of the nearest-example similarity in the score; the topic model has the rest."""
NEAREST_FULL_WEIGHT_TOKENS = 12
"""Messages longer than this many tokens give the nearest example proportionally less weight."""
_PURCHASE_GUIDES = frozenset(
    {IntentId.CHECKOUT_FLOW, IntentId.CART_CHECKOUT, IntentId.INSTALLMENT_OPTION, IntentId.CHOOSE_PROVIDER}
)
NOVELTY_WEIGHT = 0.25
"""How far the confidence of a short message made only of words foreign to the service falls (see ``Matcher.novelty``)."""
OWNED_ELSEWHERE_WEIGHT = 0.5
"""How far the confidence of a short message falls when one of the service's nouns belongs to something
foreign to it (see ``Matcher.owned_elsewhere``)."""
_NOT_OWNERS = frozenset("mtdfrpcuq")
"""jieba's tags for numerals, times, adverbs, places, pronouns, prepositions, conjunctions, particles and
measure words: 十几号扣款, 中旬扣款 and 最新一期 say when or which, not whose."""
OWNER_GAP = 2
"""At most this many words may stand between an owner and its noun (see ``Matcher.owned_elsewhere``)."""
_BANK = "行"
"""A bank (招行扣款, 中国银行扣款) is where the service debits, not something else's bill."""
CLAUSE_WEIGHT = 0.5
"""Share of the clause-by-clause reading of a long message (see ``Matcher._asked``) in the score; the
whole message has the rest."""
BESIDES_WEIGHT = 0.6
"""Share of the reading without X in a message that asks about something besides X (除了这个月的，后面还要还多少):
the question is the rest, and the whole message, which names X, only says which part of the service it is in."""
OUT_OF_SCOPE_CLASS_TOKENS = 2 * NEAREST_FULL_WEIGHT_TOKENS
"""The out-of-scope examples are short, so their class only vetoes messages up to this many tokens;
a longer one whose best topic clears the threshold has told its story in the service's own terms."""
OUT_OF_SCOPE_CLASS_MAX_CONFIDENCE = 0.5
"""Nor does it veto a message whose best topic is this sure: colloquial questions share the everyday
words of chit-chat ("账单藏哪了，找半天没找着"), so the class can come first while one topic still
clearly claims the message."""
OUT_OF_SCOPE_CLASS_LEAD = 0.075
"""And it only comes first when it leads the best topic by this much of the score: a colloquial question
("卡里有钱咋还扣款失败了呢") can put it a nose ahead. On the development sets the
in-scope messages it led did so by at most 0.066, the out-of-scope ones by at least 0.097."""
MIN_CLAUSE_TOKENS = 4
"""A shorter clause belongs to the one before it: "想分期入手个平板，咋搞" asks how to do what comes first."""
_CLAUSE_BREAK = re.compile(r"(?:[，。？！；：;:?!\n]|(?<!\d),|,(?!\d)|\.(?:\s+|$))+")
"""Punctuation between clauses; a comma or a full stop not inside a number, so "2,499.50" stays one amount."""
_EXCLUDED = re.compile(r"除了\S{1,12}?(?:以外|之外)?(?=还|也|都|另外|其他|其它|别的|\s|$)")
"""除了X(以外): what follows asks about something besides X ("除了自动扣款还有其他还款方式吗")."""
_BESIDES = re.compile(r"\b(?:besides|other than|apart from|instead of|rather than|except)\b.*$")
"""The English for 除了X: what follows the phrase, to the end of its clause, is set aside ("can I repay
with Alipay instead of the bank card")."""
_MEANS = r"用|拿|通过|绑定|绑|刷|换成|\bwith|\busing|\buse|\bby|\bvia|\blink|\bbind|\badd"
"""What names the card after it as the means of paying (用信用卡还, 绑定信用卡, with my credit card)."""
_DETERMINERS = r"我的|一张|张|一个|个|my\s|a\s|the\s|one\s"
_REPAYMENT_WAYS = frozenset({IntentId.MANUAL, IntentId.AUTO_DEBIT})
_REPAYING = re.compile(r"还|扣|repa|debit|autopay")
"""Words of repaying, in prepared text; "repa" is the stem of repay, repaid and repayment."""
ALTERNATIVES = 3
"""In-scope intents a match reports besides its answer: the "did you mean" buttons and the log."""
_UNKNOWN = "\uf8ff"
"""Stands for any token no example has: it can never match, but still counts in the length."""


@dataclass(frozen=True)
class Candidate:
    intent: IntentId
    confidence: float


@dataclass(frozen=True)
class Match:
    intent: IntentId
    """The best intent, or OUT_OF_SCOPE when nothing is close enough."""
    confidence: float
    """In [0, 1]; for OUT_OF_SCOPE, how sure we are that the message is not about this service."""
    alternatives: tuple[Candidate, ...]
    """The best in-scope intents, best first (at most three), also when the message was rejected."""
    prepared: str
    """The message as the matcher read it (normalised and repaired)."""


class Matcher:
    """Indexes the knowledge base once; ``match`` is then pure and does no I/O."""

    def __init__(self, knowledge: KnowledgeBase, threshold: float) -> None:
        self.threshold = threshold
        lexicon = knowledge.lexicon
        examples = [
            (intent.id, normalize(text))
            for intent in knowledge.intents.values()
            for texts in intent.examples.values()
            for text in texts
        ]
        self.analyzer = Analyzer(lexicon, [text for _, text in examples])
        # Longest first, so that stripping 华为商城 takes its 商城 along before 华为 alone would match.
        self._products = tuple(sorted(_normalized(*lexicon.other_products, *lexicon.other_shops), key=len, reverse=True))
        self._other_shops = _normalized(*lexicon.other_shops)
        self._shop = _normalized(*lexicon.shop_terms)
        brands = set(_normalized(*lexicon.brands))
        self._shop_names = tuple(term for term in self._shop if term not in brands)
        self._credit = _normalized(*lexicon.credit_terms)
        self._apps = _normalized(*lexicon.other_apps)
        self._installment_terms = _normalized(*lexicon.installment_terms)
        self._owned = frozenset(_normalized(*lexicon.owned_terms))
        self._lookalikes = _normalized(*lexicon.product_lookalikes)
        cards = "|".join(map(re.escape, _normalized(*lexicon.payment_cards)))
        self._card_as_means = re.compile(rf"(?:{_MEANS})\s*(?:{_DETERMINERS})?\s*(?:{cards})" if cards else "(?!)")
        # Out-of-scope examples about other products are settled by the product rule; as neighbours
        # they would only pull in-scope questions ("下期几号还") towards out of scope.
        examples = [
            (intent, prepared)
            for intent, prepared in ((intent, self.analyzer.repair(text)) for intent, text in examples)
            if intent is not IntentId.OUT_OF_SCOPE or not self._about_other_product(prepared)
        ]

        self._intents = sorted(knowledge.intents)
        self._out_of_scope = self._intents.index(IntentId.OUT_OF_SCOPE)
        position = {intent: i for i, intent in enumerate(self._intents)}
        # Grouped by intent, so that each intent's nearest example is one segmented maximum.
        examples.sort(key=lambda example: position[example[0]])
        token_lists = [tokenize(prepared) for _, prepared in examples]
        self._codes: dict[str, str] = {}
        for tokens in token_lists:
            for token in tokens:
                if token not in self._codes:
                    self._codes[token] = token if len(token) == 1 and not token.isascii() else chr(0xE000 + len(self._codes))
        self._encoded = [self._encode(tokens) for tokens in token_lists]
        owners = np.array([position[intent] for intent, _ in examples])
        self._group_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        self._groups = owners[self._group_starts]
        self._topics = TopicModel(
            [features(tokens) for tokens in token_lists], [position[intent] for intent, _ in examples], len(self._intents)
        )
        in_scope = [set(tokens) for (intent, _), tokens in zip(examples, token_lists) if intent is not IntentId.OUT_OF_SCOPE]
        frequency = Counter(token for tokens in in_scope for token in tokens)
        self._domain_idf = {token: math.log(len(in_scope) / count) + 1.0 for token, count in frequency.items()}
        self._unknown_idf = math.log(len(in_scope)) + 1.0
        self._domain_words = frozenset(
            word
            for intent, prepared in examples
            if intent is not IntentId.OUT_OF_SCOPE
            for word in words(prepared)
            if len(word) > 1
        ) | set(_normalized(*lexicon.goods))

    def _encode(self, tokens: list[str]) -> str:
        return "".join(self._codes.get(token, _UNKNOWN) for token in tokens)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Confidence per intent (in ``self._intents`` order) for an analysed message."""
        nearest = process.cdist([self._encode(tokens)], self._encoded, scorer=fuzz.ratio, dtype=np.float32)[0] / 100
        best_example = np.zeros(len(self._intents))
        best_example[self._groups] = np.maximum.reduceat(nearest, self._group_starts)
        topic = self._topics.probabilities(features(tokens))
        # A long message resembles no single example as a whole; there the topic vocabulary decides.
        weight = NEAREST_WEIGHT * min(1.0, NEAREST_FULL_WEIGHT_TOKENS / len(tokens))
        return weight * best_example + (1 - weight) * topic

    def novelty(self, prepared: str, tokens: list[str]) -> float:
        """The share of the message's words that are Chinese words of two or more characters no
        in-scope example uses, in [0, 1]. Latin tokens count among the words; whether they are known
        is left to ``coverage``, since a stem is already a word.

        Coverage counts characters, and the characters of 签证 or 航班 each occur somewhere in the
        examples (签约, 身份证): 签证逾期了怎么办 would look entirely familiar. Read as words it is not.
        """
        known = [word in self._domain_words for word in words(prepared) if len(word) > 1]
        units = len(known) + sum(1 for token in tokens if token.isascii())
        return known.count(False) / units if units else 0.0

    def owned_elsewhere(self, prepared: str) -> bool:
        """Whether one of the service's nouns that something else can own (账单, 逾期, 扣款, …) belongs to
        a word no in-scope example uses: 电费账单, 签证逾期, 基金定投扣款 and ETC扣款 are about that thing.
        A possessive or a one-character word between them does not change whose it is (图书馆的书逾期,
        公交卡绑卡).

        Novelty sees the foreign word too, but as one word among several; here its place says whose
        bill or deadline the message is about.
        """
        tagged = tagged_words(prepared)
        return any(noun in self._owned and self._owned_by_foreign_word(tagged, i) for i, (noun, _) in enumerate(tagged))

    def _owned_by_foreign_word(self, tagged: tuple[tuple[str, str], ...], position: int) -> bool:
        owner = position - 1
        while owner > 0 and position - owner <= OWNER_GAP and _links(*tagged[owner]):
            owner -= 1
        if owner < 0 or not self._foreign_owner(*tagged[owner]):
            return False
        # Only a verb right before the noun takes it as its object (退还手续费).
        return owner < position - 1 or not _governs(tagged[owner][1], tagged[position][1])

    def _foreign_owner(self, word: str, tag: str) -> bool:
        if tag == "eng":
            stems = tokenize(word)  # none for a function word
            return bool(stems) and not any(stem in self._domain_idf for stem in stems)
        return len(word) > 1 and word not in self._domain_words and tag[0] not in _NOT_OWNERS and not word.endswith(_BANK)

    def coverage(self, tokens: list[str]) -> float:
        """How much of the message (IDF-weighted) is vocabulary of this service's topics, in [0, 1].

        A long in-scope message still consists of the domain's words; an unrelated one (weather,
        cooking, code) does not, however well one of its phrases happens to resemble an example.
        """
        total = sum(self._domain_idf.get(token, self._unknown_idf) for token in tokens)
        known = sum(self._domain_idf[token] for token in tokens if token in self._domain_idf)
        return known / total if total else 0.0

    def _asked(self, segments: list[str], prepared: str, tokens: list[str]) -> tuple[list[list[str]], float]:
        """The parts of the message that carry its question, when that is not simply all of it, and
        the share of their reading in the score.

        After 除了X or "besides X" the message asks about something *other* than X, so X is left out of
        this reading (the whole message still names it). A long message is read clause by clause.
        """
        rest = tokenize(_EXCLUDED.sub(" ", " ".join(_BESIDES.sub(" ", segment) for segment in segments)))
        if rest and rest != tokens:
            return [rest], BESIDES_WEIGHT
        if len(tokens) <= NEAREST_FULL_WEIGHT_TOKENS:
            return [], 0.0
        clauses = [tokenize(clause) for clause in _clauses(segments)]
        return (clauses, CLAUSE_WEIGHT) if len(clauses) > 1 else ([], 0.0)

    def _asked_scores(self, asked: Sequence[list[str]]) -> np.ndarray:
        """Topic probabilities of the asking parts, later ones weighing more: people give the background
        first and ask last. The nearest-example comparison is left out here: it is the costly part, and
        on the evaluation sets it changed no answer."""
        weights = np.arange(1, len(asked) + 1, dtype=float)
        return sum(w * self._topics.probabilities(features(part)) for w, part in zip(weights / weights.sum(), asked))

    def rank(
        self,
        tokens: list[str],
        asked: tuple[Sequence[list[str]], float] = ((), 0.0),
        novelty: float = 0.0,
        owned_elsewhere: bool = False,
    ) -> tuple[IntentId, tuple[Candidate, ...]]:
        """The top intent (out of scope only when its class leads, see ``OUT_OF_SCOPE_CLASS_LEAD``) and the
        best in-scope intents by confidence, best first.

        ``asked`` are the parts of the message that carry its question and their share of the score
        (see ``_asked``), ``novelty`` the message's share of words foreign to the service (see
        ``novelty``), ``owned_elsewhere`` whether one of its nouns belongs to something foreign (see
        ``owned_elsewhere``).
        """
        scores = self.scores(tokens)
        parts, weight = asked
        if parts:
            scores = (1 - weight) * scores + weight * self._asked_scores(parts)
        # A long message tells its background in words of its own; those say less about its subject.
        brevity = min(1.0, NEAREST_FULL_WEIGHT_TOKENS / len(tokens))
        coverage = self.coverage(tokens) * (1 - NOVELTY_WEIGHT * novelty * brevity)
        if owned_elsewhere:
            coverage *= 1 - OWNED_ELSEWHERE_WEIGHT * brevity
        order = np.argsort(-scores, kind="stable")
        confidences = np.minimum(1.0, np.sqrt(np.maximum(scores, 0.0)) * coverage)
        in_scope = tuple(
            Candidate(self._intents[i], round(float(confidences[i]), 4))
            for i in order[: ALTERNATIVES + 1]
            if i != self._out_of_scope
        )[:ALTERNATIVES]
        top, runner_up = order[:2]
        if top == self._out_of_scope and scores[top] - scores[runner_up] >= OUT_OF_SCOPE_CLASS_LEAD:
            return IntentId.OUT_OF_SCOPE, in_scope
        return in_scope[0].intent, in_scope

    def match(self, text: str) -> Match:
        # Prepared segment by segment between punctuation, so that a long message's clauses need not
        # be prepared again.
        segments = [self.analyzer.prepare(segment) for segment in _CLAUSE_BREAK.split(text[:MAX_MESSAGE_CHARS])]
        prepared = " ".join(segment for segment in segments if segment)
        tokens = tokenize(prepared)
        if not tokens:
            return Match(IntentId.OUT_OF_SCOPE, 1.0, (), prepared)
        owned_elsewhere = self.owned_elsewhere(prepared)
        asked = self._asked(segments, prepared, tokens)
        top, alternatives = self.rank(tokens, asked, self.novelty(prepared, tokens), owned_elsewhere)
        if all(token == NUMBER for token in tokens):  # a lone figure asks nothing (the calculator asks for one itself)
            return Match(IntentId.OUT_OF_SCOPE, 1.0, alternatives, prepared)
        best = alternatives[0]
        named = _strip(prepared, self._lookalikes)
        if self._names_other_product(named) and not (
            best.intent is IntentId.CREDIT and self._product_follows_credit(named)
        ):
            if not self._names_shop(named):
                repaying = None if owned_elsewhere else self._repaying_with_card(named)
                if repaying is None:
                    return Match(IntentId.OUT_OF_SCOPE, 1.0, alternatives, prepared)
                # The out-of-scope class read the card's own words too, so it has no say here.
                alternatives = repaying
                best = alternatives[0]
                top = best.intent
            # Paying at the shop with another lender's product: the product's own words ("credit" in
            # "credit card") say nothing about what is asked, so the rest of the message decides.
            elif (rest := tokenize(_strip(named, self._products))) and self._asks_about_product(segments, tokens):
                if self.rank(rest)[1][0].intent in _PURCHASE_GUIDES:
                    return Match(IntentId.CHOOSE_PROVIDER, max(best.confidence, self.threshold), alternatives, prepared)
        if self._about_other_app(named):
            return Match(IntentId.OUT_OF_SCOPE, 1.0, alternatives, prepared)
        vetoed = (
            top is IntentId.OUT_OF_SCOPE
            and len(tokens) <= OUT_OF_SCOPE_CLASS_TOKENS
            and best.confidence < OUT_OF_SCOPE_CLASS_MAX_CONFIDENCE
        )
        if vetoed or best.confidence < self.threshold:
            return Match(IntentId.OUT_OF_SCOPE, round(1.0 - best.confidence, 4), alternatives, prepared)
        return Match(best.intent, best.confidence, alternatives, prepared)

    def _repaying_with_card(self, named: str) -> tuple[Candidate, ...] | None:
        """The way of repaying a message asks about when the only other product it names is a card to
        repay this service with (能用信用卡还这期吗, 自动扣款可以绑定信用卡吗): manual repayment or
        auto-debit, whichever the rest of the message is closer to. None when it names another product
        otherwise or does not speak of repaying (能用信用卡分期吗 asks about the card's own installments)."""
        rest = self._card_as_means.sub(" ", named)
        if self._names_other_product(rest) or not _REPAYING.search(rest):
            return None
        tokens = tokenize(rest)
        alternatives = self.rank(tokens)[1] if tokens else ()
        ways = [candidate for candidate in alternatives if candidate.intent in _REPAYMENT_WAYS]
        return (ways[0], *(candidate for candidate in alternatives if candidate is not ways[0])) if ways else None

    def _asks_about_product(self, segments: list[str], tokens: list[str]) -> bool:
        """Whether the other product belongs to the question rather than to the background. A long
        message asks in its later clauses: one that names the product only in its first half, and this
        shop after that ("平常都用信用卡分期，……想问商城分期怎么开通"), asks about the shop's own
        installments; one that names them together ("打算拿花呗付小米商城这笔订单的钱，能分期吗")
        asks about paying with the product."""
        if len(tokens) <= NEAREST_FULL_WEIGHT_TOKENS:
            return True
        clauses = [_strip(clause, self._lookalikes) for clause in _clauses(segments)]
        naming = [i for i, clause in enumerate(clauses) if self._names_other_product(clause)]
        if not naming or naming[-1] >= len(clauses) // 2:
            return True
        return not any(self._names_shop(clause) for clause in clauses[naming[-1] + 1 :])

    def _names_other_product(self, named: str) -> bool:
        return any(term in named for term in self._products)

    def _product_follows_credit(self, named: str) -> bool:
        """Whether every other product is named only after the credit record ("上了征信以后买房贷款有影响不")."""
        credit = min((i for term in self._credit if (i := named.find(term)) >= 0), default=-1)
        first_product = min(i for term in self._products if (i := named.find(term)) >= 0)
        return 0 <= credit < first_product

    def _names_shop(self, named: str) -> bool:
        """Whether the message names this shop besides the other products and shops it names. Beside
        another shop the maker's brand names its goods (京东上买小米手机), so only the shop's own names count."""
        terms = self._shop_names if any(shop in named for shop in self._other_shops) else self._shop
        unnamed = _strip(named, self._products)
        return any(term in unnamed for term in terms)

    def _about_other_app(self, named: str) -> bool:
        """Whether the message is about another app itself: it names one, but neither the shop nor
        installments (支付宝怎么换绑银行卡, but not 能用支付宝还这期吗)."""
        return (
            any(app in named for app in self._apps)
            and not self._names_shop(named)
            and not any(term in named for term in self._installment_terms)
        )

    def _about_other_product(self, prepared: str) -> bool:
        named = _strip(prepared, self._lookalikes)
        return self._names_other_product(named) and not self._names_shop(named)


def _links(word: str, tag: str) -> bool:
    """Whether a word can stand between an owner and its noun: the possessive 的, or one character of
    a noun or verb (书 in 图书馆的书逾期, 卡 in 公交卡绑卡, 投 where jieba parts 定投)."""
    return word == "的" or (len(word) == 1 and tag[0] in "nv")


def _governs(tag: str, following_tag: str) -> bool:
    """Whether a verb takes the noun after it as its object (退还手续费 refunds the fee) rather than
    owning it. Before a verb (签证逾期, the visa is overdue) a word is what that verb is about, and a
    verbal noun (定期利息, a fixed deposit's interest) says whose noun it is."""
    return tag == "v" and following_tag.startswith("n")


def _clauses(segments: list[str]) -> list[str]:
    """The message's clauses from its prepared segments; one shorter than ``MIN_CLAUSE_TOKENS`` joins the one before."""
    clauses: list[str] = []
    for segment in segments:
        size = len(tokenize(segment))
        if clauses and size < MIN_CLAUSE_TOKENS:
            clauses[-1] += " " + segment
        elif size:
            clauses.append(segment)
    return clauses


def _normalized(*terms: str) -> tuple[str, ...]:
    """Lexicon terms as messages read after normalisation (Simplified, lower case)."""
    return tuple(normalize(term) for term in terms)


def _strip(text: str, phrases: tuple[str, ...]) -> str:
    """The text with every phrase blanked out, so that nothing is found across the gap."""
    for phrase in phrases:
        text = text.replace(phrase, " ")
    return text
