"""Turns a message into the tokens the matcher compares, repairing it against the domain's vocabulary.

Beyond plain normalisation this step knows the knowledge base: it rewrites colloquial variants to the
wording the examples use (咋整 → 怎么办) and drops mere emphasis (到底), corrects English typos
(thnaks → thanks), undoes homophone typos by sound (换款 → 还款, 帐单 → 账单), and reads pinyin typed
in Latin letters back into characters ("wo de zhangdan" → 我的账单). The repairs only ever produce
words of the examples or the lexicon, so they cannot invent vocabulary, and they leave real words
alone unless the repair is a word of the service (记得 stays, 预期 becomes 逾期).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

from intents.normalize import CJK_RUN, ENGLISH_STOPWORDS, is_cjk, normalize, tagged_words, words
from intents.pinyin import sound_keys, split_syllables
from knowledge.model import Lexicon

MAX_MESSAGE_CHARS = 1000
"""Only the start of a longer message is read: no question needs more, and the time per message stays bounded."""
_NGRAM_SIZES = (4, 3, 2)
_MIN_NGRAM_COUNT = 2
"""An n-gram must occur this often in the examples to be a repair target: one-off n-grams are mostly
fragments across word boundaries, and correcting towards them would do more harm than good."""
_LATIN_WORD = re.compile(r"[a-z]+")
_LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
_PRONOUN = "r"
"""jieba's part-of-speech tag for pronouns."""
_MIN_SPELLED_LENGTH = 4
"""Shorter Latin words are left as typed: one edit away from too many words to guess which was meant."""


class _EnglishWords:
    """pyspellchecker's 160,000 English words, kept as their sorted hashes.

    As a dictionary of Python strings they take 37 MB, a quarter of the assistant's memory; as an
    array of 64-bit hashes, 1.3 MB. Two words sharing a hash, the only way to be wrong, happens
    about once in 10^14 lookups. ``hash`` is salted per process, so the array is built in the process
    that asks.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._hashes = np.sort(np.fromiter(map(hash, words), dtype=np.int64))

    def __contains__(self, word: str) -> bool:
        key = hash(word)
        i = int(np.searchsorted(self._hashes, key))
        return i < len(self._hashes) and self._hashes[i] == key


@cache
def _english_dictionary() -> _EnglishWords:
    """Loaded once per process (0.2 s): the words do not depend on the knowledge base, so every
    matcher (reloads, ``kb check``'s folds) shares them."""
    return _EnglishWords(SpellChecker(distance=1).word_frequency.keys())


class Analyzer:
    """Built once from the lexicon and every knowledge-base example; afterwards pure and cached."""

    def __init__(self, lexicon: Lexicon, examples: Sequence[str]) -> None:
        """``examples`` are normalised already: the matcher prepares them with ``repair`` next."""
        # Loaded now, not in the middle of the first English reply, and first: the build below reuses
        # the memory its loading frees, which loaded last would stay with the process.
        self._dictionary = _english_dictionary()
        variants = sorted(lexicon.synonyms, key=len, reverse=True)
        self._synonyms = {normalize(variant): normalize(lexicon.synonyms[variant]) for variant in variants}
        self._synonyms |= {normalize(filler): " " for filler in sorted(lexicon.fillers, key=len, reverse=True)}
        cjk = [key for key in self._synonyms if any(is_cjk(char) for char in key)]
        latin = [key for key in self._synonyms if key not in cjk]
        alternatives = [re.escape(key) for key in cjk] + [rf"\b{re.escape(key)}\b" for key in latin]
        self._synonym_pattern = re.compile("|".join(alternatives)) if alternatives else None

        texts = [self._rewrite(text) for text in examples]
        grams: Counter[str] = Counter()
        for text in texts:
            for run in CJK_RUN.findall(text):
                for size in (*_NGRAM_SIZES, 1):
                    grams.update(run[i : i + size] for i in range(len(run) - size + 1))
        self._known = frozenset(grams)
        # The words a repair may produce inside a real word: the examples' words, as the general
        # dictionary segments them, and the lexicon's names, which it does not know (花呗). Pronouns
        # are not among them: 那个 and 哪个 sound alike and both read naturally, so either is as typed.
        named = (*lexicon.other_products, *lexicon.other_shops, *lexicon.other_apps, *lexicon.shop_terms, *lexicon.credit_terms)
        self._names = frozenset(normalize(term) for term in named if len(term) > 1 and all(map(is_cjk, term)))
        self._words = self._names | {
            word
            for text in texts
            for word, tag in tagged_words(text)
            if len(word) > 1 and is_cjk(word[0]) and not tag.startswith(_PRONOUN)
        }
        longest_first = sorted(self._names, key=len, reverse=True)
        self._name_pattern = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        self._by_sound: dict[tuple[str, ...], str] = {}
        for gram, count in grams.most_common():
            if count < _MIN_NGRAM_COUNT:
                break
            for key in sound_keys(gram):
                self._by_sound.setdefault(key, gram)
        self._english = frozenset(
            word for text in texts for word in _LATIN_WORD.findall(text)
        ) | ENGLISH_STOPWORDS
        self.repair = lru_cache(maxsize=16384)(self._repair)
        # What an English typo may be corrected to: the examples' words as typed and the lexicon's
        # English wording, sorted so that a tie always goes the same way.
        self._spelling_targets = sorted(
            {word for text in examples for word in _LATIN_WORD.findall(text)}
            | {word for pair in self._synonyms.items() for text in pair for word in _LATIN_WORD.findall(text)}
        )
        self._spelled = lru_cache(maxsize=16384)(self._spell)

    def prepare(self, text: str) -> str:
        """Normalised, rewritten and repaired text: what the matcher and the log see."""
        return self.repair(normalize(text[:MAX_MESSAGE_CHARS]))

    def _rewrite(self, text: str) -> str:
        if self._synonym_pattern is None:
            return text
        return " ".join(self._synonym_pattern.sub(lambda match: self._synonyms[match.group(0)], text).split())

    def _repair(self, normalized: str) -> str:
        # English shorthand is rewritten before spelling and pinyin reading ("see ya" is no pinyin),
        # Chinese and corrected English after.
        spelled = _LATIN_WORD.sub(lambda match: self._spelled(match.group(0)), self._rewrite(normalized))
        text = self._rewrite(self._from_pinyin(spelled))
        return CJK_RUN.sub(lambda match: self._fix_homophones(match.group(0)), text)

    def _fix_homophones(self, run: str) -> str:
        """Greedy left to right: keep known n-grams, replace unknown ones that sound like a known one."""
        word_at = self._word_spans(run)
        out, i = [], 0
        while i < len(run):
            for size in _NGRAM_SIZES:
                gram = run[i : i + size]
                if len(gram) < size:
                    continue
                replacement = gram if gram in self._known else self._sound_alike_typo(gram)
                if replacement and (replacement == gram or self._keeps_real_words(run, i, replacement, word_at)):
                    out.append(replacement)
                    i += size
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _word_spans(self, run: str) -> list[tuple[int, int] | None]:
        """For each character of the run, the span of the word of two or more characters it belongs to:
        a word of the general dictionary, or one of the lexicon's names, which it does not know (捷信
        must not become 结信)."""
        spans: list[tuple[int, int] | None] = []
        for word in words(run):
            start = len(spans)
            spans.extend([(start, start + len(word)) if len(word) > 1 else None] * len(word))
        if self._name_pattern:
            for name in self._name_pattern.finditer(run):
                start, end = name.span()
                spans[start:end] = [(start, end)] * (end - start)
        return spans

    def _keeps_real_words(
        self, run: str, start: int, replacement: str, word_at: list[tuple[int, int] | None]
    ) -> bool:
        """Whether replacing ``run[start:]`` with ``replacement`` leaves every real word it touches a
        word: a changed character inside a dictionary word must turn that word into one the examples
        use. 预期 → 逾期 and 帐单 → 账单 do; 记得 → 计得, 月底 → 月的 and 到底 → 到第 do not, so they stay.
        """
        for offset, char in enumerate(replacement):
            position = start + offset
            span = word_at[position]
            if char == run[position] or span is None:
                continue
            first, end = span
            corrected = "".join(
                replacement[p - start] if start <= p < start + len(replacement) else run[p] for p in range(first, end)
            )
            if corrected not in self._words:
                return False
        return True

    def _spell(self, word: str) -> str:
        """An English typo (thnaks, intrest) corrected to a word of the examples or the lexicon one edit
        away (a transposition counts as one). Real English words (pyspellchecker's dictionary) are never
        corrected, so "lol" does not become "lot"; pinyin (fenqi, zhangdan) is left to its own step."""
        if len(word) < _MIN_SPELLED_LENGTH or word in self._english or word in self._dictionary or split_syllables(word):
            return word
        nearest = process.extractOne(word, self._spelling_targets, scorer=OSA.distance, score_cutoff=1)
        return nearest[0] if nearest else word

    def _sounds_like(self, gram: str) -> str | None:
        return next((self._by_sound[key] for key in sound_keys(gram) if key in self._by_sound), None)

    def _sound_alike_typo(self, gram: str) -> str | None:
        """A known n-gram that sounds like ``gram`` and keeps at least half of its characters.

        A typo picks one wrong character, not every one: 换款 → 还款 keeps 款, whereas reading
        都记 as 逾期 or 微信 as 为什 would replace whole words that merely share a sound.
        """
        replacement = self._sounds_like(gram)
        if replacement is None or sum(a == b for a, b in zip(gram, replacement)) < len(gram) // 2:
            return None
        return replacement

    def _from_pinyin(self, text: str) -> str:
        """Reads Latin-letter words that are pinyin (and not English the examples use) as characters.

        A word that is both ("you", "long") counts as pinyin only when the message has more pinyin-only
        words than English ones, so "can you help" stays English and "wo you ji qi" becomes Chinese.
        """
        words = _LATIN_WORD.findall(text)
        if not words:
            return text
        pinyin_only = sum(1 for w in words if w not in self._english and split_syllables(w))
        english_only = sum(1 for w in words if w in self._english and not split_syllables(w))
        if pinyin_only == 0 or english_only >= pinyin_only:
            convertible = {w for w in words if w not in self._english}
        else:
            convertible = set(words)
        def convert(run: re.Match[str]) -> str:
            """Consecutive pinyin words are read together, so "wo de" can become the phrase 我的."""
            out: list[str] = []
            pending: list[str] = []
            for word in run.group(0).split(" ") + [""]:
                if word in convertible and split_syllables(word):
                    pending.append(word)
                    continue
                if pending:  # words that spell no known phrase stay as typed ("mate" is no 马特)
                    syllables = tuple(s for w in pending for s in split_syllables(w) or ())
                    out.append(self._hanzi(syllables) or f" {' '.join(pending)} ")
                    pending = []
                if word:
                    out.append(f" {word} ")
            return "".join(out)

        return " ".join(_LATIN_RUN.sub(convert, text).split())

    def _hanzi(self, syllables: tuple[str, ...]) -> str | None:
        """Characters for a syllable sequence, longest known n-grams first, single characters last (the
        commonest example character with that reading); None if any syllable fails, or if several
        syllables spell no known phrase at all: "mate" is no 吗特, whereas a lone "qi" is 期."""
        out, i = [], 0
        while i < len(syllables):
            for size in (*_NGRAM_SIZES, 1):
                key = syllables[i : i + size]
                if len(key) == size and (gram := self._by_sound.get(key)):
                    out.append(gram)
                    i += size
                    break
            else:
                return None
        if len(syllables) > 1 and len(out) == len(syllables):
            return None
        return "".join(out)
