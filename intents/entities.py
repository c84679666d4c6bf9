"""Pull the price and the number of instalment periods out of one chat message.

Called on every incoming message, so it is a single precompiled regex scan plus a cached
cn2an call per Chinese numeral; no I/O.  Input is the raw message: NFKC folds full-width
digits, ``￥`` and ``，`` to ASCII, then everything is lower-cased.  Traditional characters
(兩、個、塊、萬、號) are matched directly rather than converted, which is cheaper than OpenCC.

Rules a reader must know (each one is pinned by a case in ``tests/test_entities.py``):

* **Amounts are int fen.**  Numbers are read as ``Decimal`` (cn2an for Chinese numerals),
  scaled by ``k``/``千`` (×1,000) or ``w``/``万``/``萬`` (×10,000), and rounded half up to the
  fen.  Only amounts in (0, 1,000,000] yuan are accepted; anything larger (phone numbers,
  "一千万") is skipped and the scan goes on.
* **Marked beats bare.**  An amount with a currency mark (``¥``, ``rmb``, ``cny``, ``人民币``
  before it, or ``元``/``块``/``yuan``/``rmb`` after it) wins over an unmarked one; within a kind
  the first in the message wins.  An unmarked number is an amount only when it is worth at
  least 100 yuan, which keeps model numbers ("小米15", "iPhone 16") out.
* **Terms need a unit**: ``期``, ``个月``/``個月``, ``months``/``mo``/``installments``..., or
  years (``年``, ``years``; ``一年半`` = 18, ``半年``/``half a year`` = 6).  The first term in
  1..60 months wins.  ``还剩3期`` gives 3 (it says 期); ``第3期`` is an ordinal and gives nothing.
* **Not numbers for us**: digits glued to letters or ``+``/``/``/``-`` (``K80``, ``8+256``),
  spec units (``256gb``, ``5g``, ``%``, ``寸``, ``款``, ``4k屏``...), integer watts (``90w``
  with a value of 10 or more; ``1.2w`` and ``2w`` stay ten-thousands), calendar words
  (``12月``, ``5号``, ``2026年`` — a bare ``月`` is a month name, only ``个月`` is a duration;
  ``2026-11-05``), and monthly payments, which are not the price (``月供500``, ``每期300元``,
  ``500/月``, ``300 a month``).
* Known limits, accepted for simplicity: Chinese decimals (``三点五万``) and mixed forms
  (``1万2``) are not read; ``前3期免息`` gives term 3 like ``还剩3期``; idioms such as
  ``十万火急`` read as amounts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = ["Entities", "extract_entities"]


@dataclass(frozen=True, slots=True)
class Entities:
    """What a message says about the purchase; ``None`` means the message did not say."""

    amount_fen: int | None  # price in fen (1 yuan = 100 fen)
    term: int | None  # number of monthly periods


_MAX_AMOUNT_FEN = 1_000_000 * 100
_MIN_BARE_YUAN = Decimal(100)
_MAX_TERM = 60  # five years; longer is not an instalment plan we quote
_MIN_WATTS = Decimal(10)  # "67w", "120w" are chargers; "1.2w", "2w" are prices
_MULTIPLIERS = {"k": 1_000, "千": 1_000, "w": 10_000, "万": 10_000, "萬": 10_000}
_FEN_PER_YUAN = 100

# No 点 in the run: cn2an then always returns an int, so no float ever appears.
_CN_NUMBER = r"[零〇一二两兩三四五六七八九十][零〇一二两兩三四五六七八九十百千万萬]*"
_AR_NUMBER = r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?"

_TOKEN = re.compile(
    rf"""
    (?P<skip>
        第\s*(?:\d+|{_CN_NUMBER})                             # ordinal: 第3期 is not a term
      | (?:19|20)\d\d[-/](?:1[0-2]|0?[1-9])(?:[-/]\d{{1,2}})?(?!\d)  # dates
      | (?:19|20)\d\d\.\d{{1,2}}\.\d{{1,2}}
    )
  | (?P<half_year>(?<![上下前后後])半年|half\s+(?:a\s+)?year(?![a-z]))
  | (?<![a-z\d+/_-])                                          # not glued to a model or spec
    (?P<per>(?:月供|月付|每[个個]?月|每期)[还還付款是:\s]*)?   # monthly payment, not price
    (?P<prefix>(?:¥|rmb|cny|人民币|人民幣)\s*)?
    (?:(?P<ar>{_AR_NUMBER})(?P<mult>[kw](?![a-z])|[千万萬])? | (?P<cn>{_CN_NUMBER}))
    (?:
        [\s-]*(?:                                            # "3 期", "12-month"
            (?P<currency>块钱|塊錢|元|块|塊|圆|圓|(?:yuan|rmb|cny)(?![a-z]))
          | (?P<term>期|[个個]月
                |(?:months?|mos?|mths?|installments?|instalments?|periods?|payments?)(?![a-z]))
          | (?P<year>年半?|(?:years?|yrs?)(?![a-z]))
          | (?P<other>[个個]|[月日号號点點时時秒周週天岁歲台臺部件张張次人倍寸核度克折成款屏%]
                |分[钟鐘]|(?:gb|tb|mb|g|hz|mah|mp)(?![a-z]))
        )
      | (?P<spec>[a-z]+)                                      # glued letters: 5g, 120hz
    )?
    (?P<per_after>\s*(?:/\s*(?:[个個]?月|期|month|mo)|(?:per|a)\s+month)(?![a-z]))?
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=1024)
def _chinese_number(numeral: str) -> int | None:
    """cn2an costs ~30 µs a call, and users repeat the same few numerals, hence the cache.

    Imported on first use: loading cn2an takes about 0.2 s, a third of the assistant's start-up,
    and most conversations never spell a number in Chinese.
    """
    import cn2an

    try:
        return cn2an.cn2an(numeral, "normal")
    except ValueError:  # a run cn2an rejects ("三千五六") is simply not a number
        return None


def _number(match: re.Match[str]) -> Decimal | None:
    """The token's number as written, before any 千/万/k/w multiplier."""
    if match["ar"] is not None:
        return Decimal(match["ar"].replace(",", ""))
    value = _chinese_number(match["cn"])
    return None if value is None else Decimal(value)


def _months(match: re.Match[str], value: Decimal) -> int | None:
    """Periods named by a term or year token, or None when not a plausible whole term."""
    if match["mult"] is not None:  # "3k期" is noise, not a term
        return None
    if match["year"] is not None:
        value = value * 12 + (6 if match["year"] == "年半" else 0)
    if value != value.to_integral_value() or not 1 <= value <= _MAX_TERM:
        return None
    return int(value)


def _amount_fen(match: re.Match[str], value: Decimal, marked: bool) -> int | None:
    """Price in fen, or None when the token cannot be a price under the module rules."""
    mult = match["mult"]
    if mult == "w" and "." not in match["ar"] and value >= _MIN_WATTS:
        return None
    yuan = value * _MULTIPLIERS[mult] if mult is not None else value
    if not marked and yuan < _MIN_BARE_YUAN:
        return None
    fen = int((yuan * _FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return fen if 0 < fen <= _MAX_AMOUNT_FEN else None


def extract_entities(text: str) -> Entities:
    """Find the price and the term in a raw user message (Chinese, English or mixed)."""
    normalised = unicodedata.normalize("NFKC", text).lower()
    amount: int | None = None
    amount_marked = False
    term: int | None = None
    for match in _TOKEN.finditer(normalised):
        if match["half_year"] is not None:
            if term is None:
                term = 6
            continue
        if (
            match["skip"] is not None
            or match["per"] is not None
            or match["per_after"] is not None
            or match["other"] is not None
            or match["spec"] is not None
        ):
            continue
        value = _number(match)
        if value is None:
            continue
        if match["term"] is not None or match["year"] is not None:
            if term is None:
                term = _months(match, value)
            continue
        marked = match["prefix"] is not None or match["currency"] is not None
        if amount_marked or (amount is not None and not marked):
            continue
        fen = _amount_fen(match, value, marked)
        if fen is not None:
            amount, amount_marked = fen, marked
    return Entities(amount_fen=amount, term=term)
