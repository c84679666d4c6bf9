"""Locale formatting of money and dates for replies (Babel), so zh and en read naturally."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from knowledge.text import Lang

LOCALES = {Lang.ZH: "zh_CN", Lang.EN: "en_US"}


def money(fen: int, lang: Lang) -> str:
    """¥4,999.00 in both languages: the yuan sign, not Babel's "CN¥", since every amount is in yuan."""
    return format_currency(Decimal(fen) / 100, "CNY", format="¤#,##0.00", locale=LOCALES[lang], currency_digits=False).replace("CN¥", "¥")
