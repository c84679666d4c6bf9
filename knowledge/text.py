"""Texts that exist in every supported language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


@dataclass(frozen=True)
class Localized:
    """A text in Chinese and English; the knowledge base guarantees both are present."""

    zh: str
    en: str

    def __getitem__(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en
