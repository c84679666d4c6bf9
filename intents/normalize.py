"""Message normalisation: one canonical spelling for every way people type the same thing.

Users type on phone keyboards in Simplified or Traditional Chinese, English, or a mix, with full-width
characters, emoji and stray punctuation. Everything the matcher compares goes through ``normalize``
first, the knowledge-base examples included, so both sides meet in the same form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
import rjieba
import snowballstemmer

_T2S = opencc.OpenCC("t2s")
_TAIWAN_TO_MAINLAND = opencc.OpenCC("tw2sp")
"""Traditional text is converted with Taiwan's vocabulary too (繫結 → 绑定, 簡訊 → 短信, 軟體 → 软件),
since the examples use the mainland's. Simplified text keeps its words: the phrase table would also
turn mainland words it shares into others (停用 → 禁用)."""
_STEMMER = snowballstemmer.stemmer("english")

# Typographic apostrophes become ASCII under NFKC only partly; fold them before expanding contractions.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_CONTRACTIONS = (
    (re.compile(r"\b(can)'t\b"), r"\1 not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|what|where|when|how|that|there|who)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),
)
# Chinese numerals followed by a counting word stand for a number, like "12期" does.
_CJK_NUMBER = re.compile(r"[零一二两三四五六七八九十百千万]+(?=期|块|元|个月|万|千)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*[kw]?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD_OR_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z]+|[0-9]+")
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[a-z]+|#")

NUMBER = "#"
"""The token every number becomes: examples say "3999 分 12 期", users say any other figures."""

# Sentence-final particles and interjections carry tone, not meaning; dropping them keeps them from
# diluting the similarity of short messages.
FILLER_CHARS = frozenset("啊呀呢吧嘛呗哦哈啦哇嗯呐咧喔额呃哎唉诶噢捏滴")
ENGLISH_STOPWORDS = frozenset(
    "a an the please pls plz thx is are am be been do does did to of so just hey um uh ok okay and or but now also really should would could".split()
)


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def normalize(text: str) -> str:
    """Half-width, lower-case, Simplified text with punctuation, symbols and emoji turned into spaces.

    Digits stay (amounts and terms matter to the calculator); every other non-letter becomes a space,
    and runs of spaces collapse into one.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    if any(is_cjk(char) for char in text) and _T2S.convert(text) != text:
        text = _TAIWAN_TO_MAINLAND.convert(text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    kept = "".join(char if char.isalnum() or char == "." else " " for char in _THOUSANDS.sub("", text))
    return " ".join(kept.replace(". ", " ").strip(" .").split())


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def tokens(text: str) -> list[str]:
    """The units the matcher compares: each Chinese character, each English word stem, numbers as #.

    Takes normalised text. Filler particles and English stop words are dropped.
    """
    text = _DIGITS.sub(f" {NUMBER} ", _CJK_NUMBER.sub(NUMBER, text))
    result = []
    for token in _TOKEN.findall(text):
        if token in FILLER_CHARS or token in ENGLISH_STOPWORDS:
            continue
        result.append(stem(token) if token.isascii() and token != NUMBER else token)
    return result


def words(text: str) -> list[str]:
    """The Chinese words of normalised text, segmented with jieba's general dictionary (jieba-rs).

    The matcher compares characters; words tell it which of them belong together, so that 签证 in
    签证逾期了 is seen as one word that no example uses rather than two characters that some do.
    """
    return [word for word, _ in tagged_words(text) if is_cjk(word[0])]


@lru_cache(maxsize=4096)
def tagged_words(text: str) -> tuple[tuple[str, str], ...]:
    """The words of normalised text with their part-of-speech tags: jieba's for Chinese (``n`` noun,
    ``v`` verb, ``m`` numeral, ``t`` time …), ``eng`` for a Latin word. A space between two words
    does not part them: in "visa 逾期" the visa is what is overdue.

    Cached: the matcher reads a message's words twice (novelty, and who owns its nouns), and one
    segmentation serves both."""
    return tuple(
        pair
        for part in _WORD_OR_RUN.findall(text)
        for pair in (
            rjieba.tag(part, False) if is_cjk(part[0]) else [(part, "m" if part.isdigit() else "eng")]
        )
    )
