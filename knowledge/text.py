"""Texts that exist in every supported language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from babel import Locale


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


BABEL_LOCALES = {Lang.ZH: Locale.parse("zh_CN"), Lang.EN: Locale.parse("en_US")}
"""Parsed once: Babel's ``format_*`` helpers would parse the locale again on every call."""


@dataclass(frozen=True)
class Localized:
    """A text in Chinese and English; the knowledge base guarantees both are present."""

    zh: str
    en: str

    def __getitem__(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en
