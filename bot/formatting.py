"""Locale formatting of money and dates for replies (Babel), so zh and en read naturally."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import parse_pattern

from knowledge.text import BABEL_LOCALES, Lang

_MONEY = parse_pattern("¤#,##0.00")
"""Parsed once: ``format_currency`` parses its pattern and locale on every call, which made money
formatting most of the time an account answer took."""


def money(fen: int, lang: Lang) -> str:
    """¥4,999.00 in both languages: the yuan sign, not Babel's "CN¥", since every amount is in yuan."""
    return _MONEY.apply(Decimal(fen) / 100, BABEL_LOCALES[lang], currency="CNY", currency_digits=False).replace("CN¥", "¥")


def day(when: date, today: date, lang: Lang) -> str:
    """"11月27日 星期五" / "Fri, 27 Nov", with the year when it is not ``today``'s (a date in Asia/Shanghai)."""
    if lang is Lang.ZH:
        pattern = "MMMd日 EEEE" if when.year == today.year else "y年MMMd日 EEEE"
    else:
        pattern = "EEE, d MMM" if when.year == today.year else "EEE, d MMM y"
    return format_date(when, pattern, locale=BABEL_LOCALES[lang])


def days(count: int, lang: Lang) -> str:
    """"3 天" / "3 days" ("1 day")."""
    if lang is Lang.ZH:
        return f"{count} 天"
    return f"{count} day" if count == 1 else f"{count} days"
