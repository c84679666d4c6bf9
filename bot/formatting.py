"""Locale formatting of money and dates for replies (Babel), so zh and en read naturally."""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import parse_pattern

from knowledge.text import Lang

LOCALES = {Lang.ZH: "zh_CN", Lang.EN: "en_US"}
_LOCALES = {lang: Locale.parse(name) for lang, name in LOCALES.items()}
_MONEY = parse_pattern("¤#,##0.00")
"""Parsed once: ``format_currency`` parses its pattern and locale on every call, which made money
formatting most of the time an account answer took."""


def money(fen: int, lang: Lang) -> str:
    """¥4,999.00 in both languages: the yuan sign, not Babel's "CN¥", since every amount is in yuan."""
    return _MONEY.apply(Decimal(fen) / 100, _LOCALES[lang], currency="CNY", currency_digits=False).replace("CN¥", "¥")
