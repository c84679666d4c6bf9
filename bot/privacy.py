"""Personal data a customer must never send in a chat: found and masked before anything is stored.

The guide's identity-verification step asks for an ID number and a bank card on the *checkout page*;
customers sometimes paste them into the chat instead. Every typed message goes through ``redact``
first, and only its result is matched, logged or stored.

What counts (pure checks, no I/O):

* **ID numbers** (居民身份证号): 18 characters, the last a check digit by ISO 7064 MOD 11-2 (``X`` for
  10), or the old 15-digit form; both must hold a real birth date, which keeps order numbers out.
* **Bank cards**: 16–19 digits passing the Luhn check.
* **Mobile numbers**: 11 digits starting 13–19, optionally after ``+86``/``86``.
* **E-mail addresses**.

Digits may be written in groups separated by single spaces or dashes ("6222 0212 3456 7890 128",
"138-1234-5678"). A number glued to letters ("K80", "iPhone16") is never personal data. Amounts
("3999元") and dates ("2026-11-24") are too short to be any of the above.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PiiKind(StrEnum):
    """What was found; the value is the mask that stands in its place in stored text."""

    ID_NUMBER = "<id-number>"
    BANK_CARD = "<bank-card>"
    PHONE = "<phone>"
    EMAIL = "<email>"


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z+])\+?\d+(?:[ \-]\d+)*(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
"""Groups of digits joined by single spaces or dashes; an ID number's final X may follow."""
_GROUP = re.compile(r"\+?\d+[Xx]?|[Xx]")
_ID_WEIGHTS = tuple(2 ** (17 - position) % 11 for position in range(17))
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9]\d{9}")


@dataclass(frozen=True)
class Redacted:
    """A message with its personal data taken out."""

    text: str
    """Each finding replaced by its mask (``<bank-card>``, …): what may be logged or stored."""
    blank: str
    """Each finding replaced by a space: what the engine reads, so masks add no words of their own."""
    kinds: frozenset[PiiKind]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def redact(text: str) -> Redacted:
    """Finds every ID number, bank card, mobile number and e-mail address in ``text``."""
    findings = [(match.start(), match.end(), PiiKind.EMAIL) for match in _EMAIL.finditer(text)]
    for run in _DIGIT_RUN.finditer(text):
        if not any(start < run.end() and run.start() < end for start, end, _ in findings):
            findings.extend(_numbers_in(run.group(), run.start()))
    findings.sort()
    masked, blank, position = [], [], 0
    for start, end, kind in findings:
        masked += [text[position:start], kind.value]
        blank += [text[position:start], " "]
        position = end
    masked.append(text[position:])
    blank.append(text[position:])
    return Redacted("".join(masked), "".join(blank), frozenset(kind for _, _, kind in findings))


def _numbers_in(run: str, offset: int) -> list[tuple[int, int, PiiKind]]:
    """The personal numbers in one run of digit groups, as (start, end, kind), longest spans first.

    A run may join a number to its neighbours ("3999 138 1234 5678"), so every span of consecutive
    groups is tried, longest first, and the groups of a finding are not reused.
    """
    groups = [(match.start(), match.end()) for match in _GROUP.finditer(run)]
    found: list[tuple[int, int, PiiKind]] = []
    used: set[int] = set()
    for size in range(len(groups), 0, -1):
        for first in range(len(groups) - size + 1):
            indices = set(range(first, first + size))
            if indices & used:
                continue
            start, end = groups[first][0], groups[first + size - 1][1]
            kind = classify(run[start:end])
            if kind is not None:
                found.append((offset + start, offset + end, kind))
                used |= indices
    return found


def classify(number: str) -> PiiKind | None:
    """The kind of personal number ``number`` is (separators allowed), or None."""
    digits = re.sub(r"[ \-+]", "", number).upper()
    if is_id_number(digits):
        return PiiKind.ID_NUMBER
    if "X" in digits:
        return None
    if is_bank_card(digits):
        return PiiKind.BANK_CARD
    if _MOBILE.fullmatch(digits.removeprefix("86") if len(digits) == 13 else digits):
        return PiiKind.PHONE
    return None


def is_id_number(value: str) -> bool:
    """An 18-character ID number with a valid check digit, or an old 15-digit one; both with a real
    birth date (positions 7–14, or 7–12 as 19YYMMDD in the old form)."""
    value = value.upper()
    if len(value) == 18 and value[:17].isdecimal() and value[17] in _ID_CHECK:
        total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS))
        return _ID_CHECK[total % 11] == value[17] and _is_birth_date(value[6:14])
    return len(value) == 15 and value.isdecimal() and _is_birth_date("19" + value[6:12])


def _is_birth_date(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return born.year >= 1900


def is_bank_card(value: str) -> bool:
    """16–19 digits with a valid Luhn check digit."""
    if not (16 <= len(value) <= 19 and value.isdecimal()):
        return False
    total = 0
    for position, digit in enumerate(int(char) for char in reversed(value)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def pseudonym(chat_id: int, secret: str) -> str:
    """A stable stand-in for a chat id (keyed HMAC-SHA-256, hex): the log can tell chats apart and count
    them, but nobody without the secret can tell which Telegram chat an entry came from."""
    return hmac.new(secret.encode(), str(chat_id).encode(), hashlib.sha256).hexdigest()
