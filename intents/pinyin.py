"""Sound-alike matching: what a pinyin keyboard turns into typos, and pinyin typed in Latin letters.

The commonest typo on a Chinese phone keyboard is a homophone: the user typed the right pinyin and
picked the wrong character (换款 for 还款, 预期 for 逾期, 帐单 for 账单). Comparing by sound undoes that.
Readings are toneless and folded for the usual fuzzy-pinyin confusions (zh/z, ch/c, sh/s, ing/in,
eng/en), and polyphonic characters keep every reading in common use, because pypinyin's context
guess is not reliable for short domain phrases (it reads 还款 as "hai kuan"). Rare readings are
dropped: with them 新的 sounds like 款的 (款 as "xin") and "ok nuo" reads as 需 ("nuo").
"""

from __future__ import annotations

import itertools
import os
import unicodedata
from functools import lru_cache

# Only the per-character readings are used: pypinyin's documented switches skip loading its phrase
# dictionary and copying its tables, a quarter of the assistant's start-up and ~20 MB.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

from pypinyin.pinyin_dict import pinyin_dict  # noqa: E402

_TONED = "āáǎàēéěèêếềīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_TONELESS = str.maketrans(
    {char: unicodedata.normalize("NFD", char)[0] for char in _TONED} | {chr(mark): None for mark in range(0x300, 0x370)}
)
"""Every diacritic dropped (ü becomes u); a table is far faster than decomposing each of
pypinyin's 50,000 readings at start-up."""
_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_MAX_PINYIN_WORD = 30
"""Longer Latin runs are keyboard mashing or URLs, not a phrase typed in pinyin."""
_INTERJECTIONS = frozenset({"m", "n", "ng", "hm", "hng", "o"})
"""Syllables of interjections only (呣, 嗯, 哦). No one types them inside a pinyin word, and allowed they
would make English typos pinyin: humn splits as hu-m-n and oerdue as o-er-du-e."""
COMMON_SECOND_READINGS = dict(
    (entry[0], tuple(entry[1:].split("/")))
    for entry in (
        "乐yue 了liao 什shi 仔zi 传zhuan 伺si 似si 佛fo 便pian 俟si 刨bao 刹cha 削xiao 剥bao 劲jing 勒le 匙chi 卜bu 卡qia "
        "参shen 叨tao 吁yu 否pi 吭hang 呢ni 呱gua 咽ye 啜chuo 嚼jiao 圈juan 塞se 壳qiao 娜nuo 宿xiu 屏bing 属zhu 差chai 弹tan "
        "恶wu 扎za 扒pa 扛gang 折she 拗niu 擘bo 攒cuan 曾zeng 朝zhao 朴piao 柏bo 柞zuo 栅shan 校jiao 椎zhui 模mu 沓ta 没mo 泊bo "
        "潦liao 爪zhua 率shuai 琢zhuo 畜xu 的di 省xing 着zhao/zhuo 磅pang 称chen 粘nian 纤qian 给ji 缪miu 耙pa 肋lei 臭xiu "
        "莞wan 著zhuo 薄bo 藉jie 藏zang 蛤ge 行hang 被pi 裳chang 觉jiao 诘jie 调tiao 贾gu 轧zha 辟bi 还huan 都du 重chong "
        "铛cheng 长chang 阿e 降xiang 露lou 颤zhan 鹄hu 龈yin"
    ).split()
)
"""Readings besides pypinyin's first (its commonest) that are in common use: those a character has in
at least 5 and 10 % of the words of pypinyin's phrase dictionary (还 as "huan" in 还款, 行 as "hang"
in 银行). Derived once rather than at start-up, where loading that dictionary costs ~0.2 s and
~50 MB; ``tests/test_understanding.py`` derives it again, so it cannot drift from the library."""
_MAX_KEYS = 16
"""Cap on reading combinations per phrase; a phrase of four polyphones would otherwise explode."""


def toneless(reading: str) -> str:
    return reading.translate(_TONELESS)


def fold(syllable: str) -> str:
    """The fuzzy-pinyin form: initials and finals that many speakers and keyboards confuse are merged."""
    for long, short in _FOLDS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    if len(syllable) > 2 and syllable.endswith("ng") and syllable[-3] in "ie":
        syllable = syllable[:-1]
    return syllable


@lru_cache(maxsize=16384)
def readings(char: str) -> tuple[str, ...]:
    """The folded toneless common readings of a Chinese character; empty for anything else."""
    raw = pinyin_dict.get(ord(char))
    if raw is None:
        return ()
    common = (toneless(raw.split(",")[0]), *COMMON_SECOND_READINGS.get(char, ()))
    return tuple(dict.fromkeys(fold(reading) for reading in common))


def sound_keys(phrase: str) -> list[tuple[str, ...]]:
    """Every way the phrase can be read (capped), as tuples of folded syllables; empty if unreadable."""
    options = [readings(char) for char in phrase]
    if not all(options):
        return []
    return list(itertools.islice(itertools.product(*options), _MAX_KEYS))


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    readings = {reading for raw in set(pinyin_dict.values()) for reading in raw.split(",")}  # 50,000 chars, few readings
    return frozenset(
        syllable for reading in readings if (syllable := toneless(reading)).isascii() and syllable not in _INTERJECTIONS
    )


@lru_cache(maxsize=4096)
def split_syllables(word: str) -> tuple[str, ...] | None:
    """Splits a Latin-letter word such as "zhangdan" into pinyin syllables, or None if it is not pinyin.

    Prefers the split with the fewest syllables ("xian" stays one syllable, not "xi an").
    """
    if len(word) > _MAX_PINYIN_WORD:
        return None
    valid = _syllables()
    best: list[tuple[str, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            prefix = best[start]
            if prefix is not None and word[start:end] in valid:
                candidate = (*prefix, word[start:end])
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    found = best[len(word)]
    return tuple(fold(syllable) for syllable in found) if found else None
