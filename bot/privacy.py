"""Personal data a customer must never send in a chat: found and masked before anything is stored.

The guide's identity-verification step asks for an ID number and a bank card on the *checkout page*;
customers sometimes paste them into the chat instead. Every typed message goes through ``redact``
first, and only its result is matched, logged or stored.

What counts (pure checks, no I/O):

* **ID numbers** (居民身份证号): 18 characters, the last a check digit by ISO 7064 MOD 11-2 (``X`` for
  10), or the old 15-digit form; both must hold a real birth date, which keeps order numbers out.
* **Bank cards**: 16–19 digits passing the Luhn check.
* **Mobile numbers**: 11 digits starting 13–19, optionally after ``+86``/``86``/``0086``.
* **E-mail addresses**.

How numbers are written: full-width characters count as their ASCII forms, zero-width characters
(U+200B/200C/200D/2060/FEFF, soft hyphens) are ignored wherever they stand, and digits come in groups
joined by up to three separators (spaces, line breaks, dots, dashes, slashes, brackets: "6222.0212…",
"(138)1234-5678"). A group glued to letters ("K80", "iPhone16") is never personal data, unless the
letters are a label such as "card" or "tel" (``_LABELS``). Amounts ("3999元", "3,999.00") and dates
("2026-11-24", "11.24") are too short to be any of the above; longer order numbers fail the checks.

A message may join a number to its neighbours ("3999 138 1234 5678"), so every span of whole groups
with a valid length (11, 13, 15–19 digits) is checked, longest first, then leftmost, and the digits of a
finding are not reused. Only those seven lengths can start at each digit, and numpy checks all spans of
one length at once (the Luhn sums from running totals), so redaction takes time linear in the message
length whatever its shape: about 2 ms for the worst 4,096-character messages we could build, where
trying every span of consecutive groups took 15 s for "1 " * 1000. The regular expressions start only
where a word starts and never give back what a group of characters matched, so they are linear too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from heapq import merge

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Flags = NDArray[np.bool_]


class PiiKind(StrEnum):
    """What was found; the value is the mask that stands in its place in stored text."""

    ID_NUMBER = "<id-number>"
    BANK_CARD = "<bank-card>"
    PHONE = "<phone>"
    EMAIL = "<email>"


Finding = tuple[int, int, PiiKind]
"""(start, end, kind): a slice of the message and what it holds."""


_JOINER = "\x00"
"""What every zero-width character folds to: invisible, so it may stand anywhere inside a number."""
_FOLD = str.maketrans(
    {chr(code): chr(code - 0xFEE0).lower() for code in range(0xFF01, 0xFF5F)}  # full-width forms of ASCII
    | {chr(code): chr(code).lower() for code in range(ord("A"), ord("Z") + 1)}
    | dict.fromkeys("\u00a0\u2002\u2003\u2009\u202f\u3000", " ")
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
    | dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", _JOINER)
)
"""One character for one, so positions in the folded text are positions in the message; letters in lower
case, so no pattern needs to ignore case (which makes matching several times slower)."""

_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9._%+-]++@(?:[a-z0-9-]++\.)+[a-z]{2,}")
_LABELS = ("card", "cardno", "tel", "telephone", "phone", "mobile", "mob", "cell", "id", "idcard", "no",
           "num", "number", "account", "acct", "my", "shouji", "dianhua", "kahao", "sfz")
"""Words that may be glued to a number without making it a model name: "card6222…", "tel138…"."""
_LABEL = re.compile(
    rf"(?=[{''.join(sorted({label[0] for label in _LABELS}))}])(?<![a-z])"  # the first test is a fast scan
    rf"(?:(?>{'|'.join(sorted(_LABELS, key=len, reverse=True))}))++(?={_JOINER}*\d)"
)
_SEPARATORS = re.compile(rf"[\s.\-/()+{_JOINER}]")
_WIDEST_GAP = 3
"""Separator characters that may stand between two groups of one number ("6222 - 0212", "\\r\\n")."""

_OTHER, _DIGIT, _LETTER, _SEPARATOR, _X, _JOINED = range(6)


def _class_table() -> NDArray[np.int8]:
    """The class of each ASCII character; index 128 stands for every other character."""
    table = np.full(129, _OTHER, dtype=np.int8)
    for chars, kind in (
        (string.ascii_lowercase.replace("x", ""), _LETTER),
        ("0123456789", _DIGIT),
        ("x", _X),
        (" \t\n\r.-/()", _SEPARATOR),
        (_JOINER, _JOINED),
    ):
        table[[ord(char) for char in chars]] = kind
    return table


_CLASS = _class_table()


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
    folded = text.translate(_FOLD)
    emails = [(match.start(), match.end(), PiiKind.EMAIL) for match in _EMAIL.finditer(folded)]
    without_emails = _EMAIL.sub(_erased, folded)
    masked, blank, position, kinds = [], [], 0, set()
    for start, end, kind in merge(emails, _numbers(without_emails)):
        masked += [text[position:start], kind.value]
        blank += [text[position:start], " "]
        position = end
        kinds.add(kind)
    masked.append(text[position:])
    blank.append(text[position:])
    return Redacted("".join(masked), "".join(blank), frozenset(kinds))


def _erased(match: re.Match[str]) -> str:
    """As many characters as ``match`` held, none of which can be part of a number."""
    return "@" * len(match[0])


# The checks. Each looks at many spans of one digit stream at once: ``values`` (digits, X as 10) and
# the first digit of each span (``starts``); an X only ever ends a span.

Check = Callable[[Ints, Ints, int], Flags]
"""Whether each span ``values[start:start + length]`` passes."""
_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9, 0])
"""A digit doubled by the Luhn rule (the digits of the product added); an X (10) is never doubled."""
_ID_WEIGHTS = np.array([2 ** (17 - position) % 11 for position in range(17)])
_ID_CHECK = np.array([1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2])
"""The check digit of an 18-character ID number for each weighted sum mod 11 (10 is X)."""
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _columns(values: Ints, starts: Ints, first: int, count: int) -> Ints:
    """Digits ``first`` to ``first + count - 1`` of each span, one row per span."""
    return sliding_window_view(values, count)[starts + first]


def _value(values: Ints, starts: Ints, first: int, count: int) -> Ints:
    """The number that digits ``first`` to ``first + count - 1`` of each span spell."""
    return _columns(values, starts, first, count) @ 10 ** np.arange(count - 1, -1, -1)


def _decimal(values: Ints, starts: Ints, length: int) -> Flags:
    """Spans without an X (which can only be their last character)."""
    return values[starts + length - 1] < 10


def _real_date(year: Ints, month: Ints, day: Ints) -> Flags:
    """Dates that exist, from 1900 on (as ``datetime.date`` would accept them)."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    return (year >= 1900) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)


def _luhn(values: Ints, starts: Ints, length: int) -> Flags:
    """Every second digit from the right doubled, the sum a multiple of 10. Taken from running sums over
    the whole stream (one with the digits at odd positions doubled, one with those at even positions),
    so each span costs the same whatever its length."""
    odd = np.arange(values.size) % 2 == 1
    doubled = _DOUBLED[values]
    odd_doubled = np.concatenate(([0], np.cumsum(np.where(odd, doubled, values))))
    even_doubled = np.concatenate(([0], np.cumsum(np.where(odd, values, doubled))))
    ends = starts + length  # the last digit, at ends - 1, is not doubled: those of the parity of ends are
    total = np.where(
        ends % 2 == 1, odd_doubled[ends] - odd_doubled[starts], even_doubled[ends] - even_doubled[starts]
    )
    return _decimal(values, starts, length) & (total % 10 == 0)


def _id_number(values: Ints, starts: Ints, length: int) -> Flags:
    """18 characters: a check digit over the first 17 and a birth date YYYYMMDD at 7–14."""
    check = _ID_CHECK[_columns(values, starts, 0, 17) @ _ID_WEIGHTS % 11] == values[starts + 17]
    year, month, day = _value(values, starts, 6, 4), _value(values, starts, 10, 2), _value(values, starts, 12, 2)
    return check & _real_date(year, month, day)


def _old_id_number(values: Ints, starts: Ints, length: int) -> Flags:
    """The old 15-digit form, with its birth date 19YYMMDD at 7–12."""
    year, month, day = (_value(values, starts, first, 2) for first in (6, 8, 10))
    return _decimal(values, starts, length) & _real_date(1900 + year, month, day)


def _mobile_after(prefix: str) -> Check:
    """Mobile numbers, 1[3-9] and nine more digits, after the country code written as ``prefix``."""
    head = np.array([int(digit) for digit in prefix + "1"])

    def check(values: Ints, starts: Ints, length: int) -> Flags:
        begins = (_columns(values, starts, 0, head.size) == head).all(axis=1)
        return _decimal(values, starts, length) & begins & (values[starts + head.size] >= 3)

    return check


_CHECKS: dict[int, tuple[tuple[PiiKind, Check], ...]] = {
    19: ((PiiKind.BANK_CARD, _luhn),),
    18: ((PiiKind.ID_NUMBER, _id_number), (PiiKind.BANK_CARD, _luhn)),
    17: ((PiiKind.BANK_CARD, _luhn),),
    16: ((PiiKind.BANK_CARD, _luhn),),
    15: ((PiiKind.ID_NUMBER, _old_id_number), (PiiKind.PHONE, _mobile_after("0086"))),
    13: ((PiiKind.PHONE, _mobile_after("86")),),
    11: ((PiiKind.PHONE, _mobile_after("")),),
}
"""For each length in digits, what a number of that length may be, in order of precedence."""
_KINDS = list(PiiKind)


def _kinds(values: Ints, starts: Ints, length: int) -> Ints:
    """For each span, the index in ``_KINDS`` of the first check it passes, or -1."""
    found = np.full(starts.size, -1)
    for kind, check in _CHECKS[length]:
        found[(found < 0) & check(values, starts, length)] = _KINDS.index(kind)
    return found


def classify(number: str) -> PiiKind | None:
    """The kind of personal number ``number`` is (separators, zero-width and full-width characters
    allowed), or None."""
    values = _values(number)
    if values is None or values.size not in _CHECKS:
        return None
    found = _kinds(values, np.zeros(1, dtype=np.int64), values.size)[0]
    return _KINDS[found] if found >= 0 else None


def is_id_number(value: str) -> bool:
    """An 18-character ID number with a valid check digit, or an old 15-digit one; both with a real
    birth date (positions 7–14, or 7–12 as 19YYMMDD in the old form)."""
    return _passes(value, PiiKind.ID_NUMBER)


def is_bank_card(value: str) -> bool:
    """16–19 digits with a valid Luhn check digit."""
    return _passes(value, PiiKind.BANK_CARD)


def _passes(value: str, kind: PiiKind) -> bool:
    values = _values(value)
    checks = _CHECKS.get(values.size, ()) if values is not None else ()
    start = np.zeros(1, dtype=np.int64)
    return any(bool(check(values, start, values.size)[0]) for of_kind, check in checks if of_kind is kind)


def _values(number: str) -> Ints | None:
    """The digit values of ``number`` without its separators, or None if anything else is in it (an X
    only at the end)."""
    compact = _SEPARATORS.sub("", number.translate(_FOLD))
    if not re.fullmatch(r"[0-9]+x?", compact):
        return None
    return _digit_values(np.frombuffer(compact.encode("ascii"), dtype=np.uint8))


def _digit_values(codes: NDArray[np.integer]) -> Ints:
    """Code points of digits and X to digit values, X as 10."""
    return np.where(codes <= ord("9"), codes.astype(np.int64) - ord("0"), 10)


# Finding the numbers in a message: characters to groups of digits, groups to candidate spans.


@dataclass(frozen=True)
class _Digits:
    """The digits of a message that may belong to a personal number, in order."""

    values: Ints
    at: Ints
    """Where each digit stands among the visible characters."""
    group_start: Flags
    """Whether a digit begins a group (digits with no separator between them form one group)."""
    run: Ints
    """Numbers the runs: groups joined by separators alone; no number spans two runs."""

    def spans(self, length: int) -> Ints:
        """The first digits of the spans of ``length`` digits (no more than there are) that are whole
        groups of one run."""
        count = self.values.size - length + 1
        group_end = np.append(self.group_start[1:], True)
        whole = self.group_start[:count] & group_end[length - 1 :]
        return np.flatnonzero(whole & (self.run[:count] == self.run[length - 1 :]))


def _numbers(folded: str) -> list[Finding]:
    """The ID numbers, cards and mobile numbers in a folded message, in order."""
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    if np.count_nonzero((codes >= ord("0")) & (codes <= ord("9"))) < min(_CHECKS):
        return []
    classes = _CLASS[np.minimum(codes, 128)]
    classes[[match.end() - 1 for match in _LABEL.finditer(folded)]] = _OTHER
    visible = np.flatnonzero(classes != _JOINED)
    codes, classes = codes[visible], _check_letters(classes[visible])
    digits = _digits(codes, classes)
    first, length, kind = _choose(digits)
    last = digits.at[first + length - 1]
    start = _widened(digits.at[first], last, codes)
    return list(zip(visible[start].tolist(), (visible[last] + 1).tolist(), map(_KINDS.__getitem__, kind)))


def _check_letters(classes: NDArray[np.int8]) -> NDArray[np.int8]:
    """Turns an X into a digit where it can be an ID number's check digit (after a digit and at most
    ``_WIDEST_GAP`` separators, before no letter or digit), and into a letter elsewhere."""
    position = np.arange(classes.size)
    solid = np.maximum.accumulate(np.where(classes != _SEPARATOR, position, -1))
    before = np.concatenate(([-1], solid[:-1]))  # the last character before each that is no separator
    follows_digit = (before >= 0) & (classes[before] == _DIGIT) & (position - before - 1 <= _WIDEST_GAP)
    after = np.append(classes[1:], _OTHER)
    check_digit = (classes == _X) & follows_digit & ~np.isin(after, (_DIGIT, _LETTER, _X))
    return np.where(check_digit, _DIGIT, np.where(classes == _X, _LETTER, classes)).astype(np.int8)


def _digits(codes: NDArray[np.uint32], classes: NDArray[np.int8]) -> _Digits:
    """Groups and runs of the digits; groups glued to letters are dropped and end their run."""
    at = np.flatnonzero(classes == _DIGIT)
    values = _digit_values(codes[at])
    gap = np.diff(at) - 1
    not_separators = np.concatenate(([0], np.cumsum(classes != _SEPARATOR)))
    in_gap = not_separators[at[1:]] - not_separators[at[:-1] + 1]
    after_x = values[:-1] == 10
    group_start = np.concatenate(([True], (gap > 0) | (values[1:] == 10) | after_x))
    run_break = np.concatenate(([True], ((gap > 0) & ((in_gap > 0) | (gap > _WIDEST_GAP))) | after_x))
    group = np.cumsum(group_start) - 1
    glued = np.zeros(group[-1] + 1, dtype=bool)
    group_end = np.append(group_start[1:], True)
    glued[group[group_start & (np.append(_OTHER, classes)[at] == _LETTER)]] = True
    glued[group[group_end & (np.append(classes, _OTHER)[at + 1] == _LETTER)]] = True
    kept = np.flatnonzero(~glued[group])
    run_break = run_break[kept] | np.concatenate(([True], np.diff(kept) > 1))
    return _Digits(values[kept], at[kept], group_start[kept], np.cumsum(run_break))


def _choose(digits: _Digits) -> tuple[Ints, Ints, Ints]:
    """The spans to mask as their first digits, lengths and kinds (indices in ``_KINDS``), in order:
    longest first, then leftmost, none sharing a digit with another."""
    lengths = np.zeros(digits.values.size, dtype=np.int64)
    kinds = np.zeros(digits.values.size, dtype=np.int64)
    taken = np.zeros(digits.values.size, dtype=bool)
    for length in sorted((length for length in _CHECKS if length <= digits.values.size), reverse=True):
        starts = digits.spans(length)
        if not starts.size:
            continue
        found = _kinds(digits.values, starts, length)
        taken_before = np.concatenate(([0], np.cumsum(taken)))
        free = (found >= 0) & (taken_before[starts + length] == taken_before[starts])
        starts, found = starts[free], found[free]
        chosen = _leftmost(starts.tolist(), length)
        lengths[starts[chosen]] = length
        kinds[starts[chosen]] = found[chosen]
        taken[(starts[chosen, np.newaxis] + np.arange(length)).ravel()] = True
    first = np.flatnonzero(lengths)
    return first, lengths[first], kinds[first]


def _leftmost(starts: list[int], length: int) -> Ints:
    """Of spans of one length (their first digits, sorted), the indices of the leftmost and then of each
    next one that does not overlap the one before."""
    chosen: list[int] = []
    index = 0
    while index < len(starts):
        chosen.append(index)
        index = bisect_left(starts, starts[index] + length, index)
    return np.array(chosen, dtype=np.int64)


def _widened(first: Ints, last: Ints, codes: NDArray[np.uint32]) -> Ints:
    """Where each number's mask begins: at its first digit, or a ``+`` before it ("+86 138…"), or a
    ``(`` before that which closes inside the number ("(+86)138…", "(138)1234…")."""
    plus = (first > 0) & (codes[first - 1] == ord("+"))
    first = first - plus
    opened, closed = (np.concatenate(([0], np.cumsum(codes == ord(bracket)))) for bracket in "()")
    unmatched = closed[last] - closed[first] > opened[last] - opened[first]
    return first - ((first > 0) & (codes[first - 1] == ord("(")) & unmatched)


def pseudonym(chat_id: int, secret: str) -> str:
    """A stable stand-in for a chat id (keyed HMAC-SHA-256, hex): the log can tell chats apart and count
    them, but nobody without the secret can tell which Telegram chat an entry came from."""
    return hmac.new(secret.encode(), str(chat_id).encode(), hashlib.sha256).hexdigest()
