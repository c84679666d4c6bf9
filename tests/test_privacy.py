"""The personal-data guard: what is found and masked, what is left alone, and what the user is told.

Besides tables of cases, Hypothesis writes valid ID numbers, cards and mobile numbers in every common form
(separators, zero-width and full-width characters, brackets, prefixes, labels) inside random text, and
amounts, dates, order numbers and model names that must stay; the checks are compared with plain
reference implementations written here.
"""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import phrases
from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.privacy import PiiKind, classify, is_bank_card, is_id_number, pseudonym, redact
from intents.catalogue import IntentId
from knowledge.text import Lang

VALID_ID = "11010519491231002X"
VALID_CARD = "6222021234567890128"
_MASK = re.compile("|".join(re.escape(kind.value) for kind in PiiKind))  # what stands in for a finding


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (VALID_ID, True),
        (VALID_ID.lower(), True),
        ("110105194912310021", False),  # wrong check digit
        ("110105194913310028", False),  # month 13
        ("130503670401001", True),  # the old 15-digit form
        ("130503671301001", False),  # old form, month 13
        ("1101051949123100", False),  # 16 digits
    ],
)
def test_id_numbers_need_the_check_digit_and_a_birth_date(value: str, valid: bool) -> None:
    assert is_id_number(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (VALID_CARD, True),
        ("6222021234567890127", False),  # Luhn fails
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("411111111111111", False),  # 15 digits: too short for a card
        ("41111111111111111111", False),  # 20 digits: too long
    ],
)
def test_bank_cards_need_the_luhn_check(value: str, valid: bool) -> None:
    assert is_bank_card(value) is valid


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        (f"我的身份证是{VALID_ID}，怎么分期", "我的身份证是<id-number>，怎么分期", {PiiKind.ID_NUMBER}),
        ("身份证 110105 19491231 002X", "身份证 <id-number>", {PiiKind.ID_NUMBER}),
        ("卡号 6222 0212 3456 7890 128 扣款失败", "卡号 <bank-card> 扣款失败", {PiiKind.BANK_CARD}),
        ("card 4111-1111-1111-1111 declined", "card <bank-card> declined", {PiiKind.BANK_CARD}),
        ("电话138-1234-5678", "电话<phone>", {PiiKind.PHONE}),
        ("call +86 138 1234 5678 please", "call <phone> please", {PiiKind.PHONE}),
        ("手机13812345678", "手机<phone>", {PiiKind.PHONE}),
        ("mail me at wang.li+mi@example.com.cn", "mail me at <email>", {PiiKind.EMAIL}),
        ("3999 138 1234 5678", "3999 <phone>", {PiiKind.PHONE}),  # a price next to a phone number
        (f"{VALID_CARD}和{VALID_ID}", "<bank-card>和<id-number>", {PiiKind.BANK_CARD, PiiKind.ID_NUMBER}),
        # Not personal data: amounts, dates, terms, model numbers, checksums that fail.
        ("3999元分12期", "3999元分12期", set()),
        ("2026-11-24 还款 1,299.00 元", "2026-11-24 还款 1,299.00 元", set()),
        ("20261124到期", "20261124到期", set()),
        ("小米15 8+256 K80", "小米15 8+256 K80", set()),
        ("订单号 6222021234567890127", "订单号 6222021234567890127", set()),
        ("110105194912310021", "110105194912310021", set()),
        ("12345678901", "12345678901", set()),  # 11 digits, but no mobile prefix
        ("iPhone13812345678", "iPhone13812345678", set()),  # glued to letters
    ],
)
def test_redact_masks_personal_data_and_nothing_else(text: str, masked: str, kinds: set[PiiKind]) -> None:
    redacted = redact(text)
    assert redacted.text == masked
    assert redacted.kinds == kinds
    for kind in kinds:
        assert kind.value not in redacted.blank  # what the engine reads has no mask words either


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("卡号 6222.0212.3456.7890.128", "卡号 <bank-card>", {PiiKind.BANK_CARD}),
        ("卡号 6222  0212  3456  7890  128 谢谢", "卡号 <bank-card> 谢谢", {PiiKind.BANK_CARD}),
        ("卡号\n6222\n0212\n3456\n7890\n128", "卡号\n<bank-card>", {PiiKind.BANK_CARD}),
        ("卡号 6222/0212/3456/7890/128", "卡号 <bank-card>", {PiiKind.BANK_CARD}),
        ("card6222021234567890128", "card<bank-card>", {PiiKind.BANK_CARD}),
        ("ｃａｒｄ６２２２０２１２３４５６７８９０１２８", "ｃａｒｄ<bank-card>", {PiiKind.BANK_CARD}),
        ("tel13812345678", "tel<phone>", {PiiKind.PHONE}),
        ("TelNo:138 1234 5678", "TelNo:<phone>", {PiiKind.PHONE}),
        ("电话(138)1234-5678", "电话<phone>", {PiiKind.PHONE}),
        ("电话（138）1234 5678", "电话<phone>", {PiiKind.PHONE}),
        ("电话 (+86) 138-1234-5678", "电话 <phone>", {PiiKind.PHONE}),
        ("电话 0086 13812345678", "电话 <phone>", {PiiKind.PHONE}),
        ("电话：＋８６ １３８ １２３４ ５６７８", "电话：<phone>", {PiiKind.PHONE}),
        ("手机１３８１２３４５６７８。", "手机<phone>。", {PiiKind.PHONE}),
        ("回电 (13812345678)", "回电 (<phone>)", {PiiKind.PHONE}),
        ("身份证11010519\u200b491231002X", "身份证<id-number>", {PiiKind.ID_NUMBER}),
        ("ID 1101\u200c0519\u200d4912\ufeff3100\u20602X", "ID <id-number>", {PiiKind.ID_NUMBER}),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证<id-number>", {PiiKind.ID_NUMBER}),
        ("身份证 110105 19491231 002 X 已上传", "身份证 <id-number> 已上传", {PiiKind.ID_NUMBER}),
        ("13812345678@qq.com", "<email>", {PiiKind.EMAIL}),
        # Still not personal data: amounts, dates, order numbers and models in their other forms.
        ("共 3,999.00 元，已付 1,299.00", "共 3,999.00 元，已付 1,299.00", set()),
        ("2026/11/24 和 11.24 都要还", "2026/11/24 和 11.24 都要还", set()),
        ("订单 20261124 1530 0001 2345", "订单 20261124 1530 0001 2345", set()),
        ("订单号 62220212345678901270", "订单号 62220212345678901270", set()),
        ("Redmi Note 13 和 iPhone16、K80", "Redmi Note 13 和 iPhone16、K80", set()),
        ("model6222021234567890128", "model6222021234567890128", set()),  # letters, but no label
        ("6222021234567890128abc", "6222021234567890128abc", set()),
    ],
)
def test_redact_finds_numbers_in_every_common_form(text: str, masked: str, kinds: set[PiiKind]) -> None:
    redacted = redact(text)
    assert (redacted.text, redacted.kinds) == (masked, kinds)
    assert _MASK.sub(" ", redacted.text) == redacted.blank


WORST_SHAPES = [
    "1 ", "0 ", "1 3 ", "12 ", "1", "6222021234567890128", "1-2.3/4 5\n6(7)8  9", "1\u200b", "1\u200b \u200b",
    "１ ", "1 x ", "1x", "a1", "no1", "card1 ", "+86 ", "(1)", "a", "a@", "a.", "a@b.", "a@b.cc ",
    "卡号6222 0212\u200b3456.7890-128，手机(138)1234 5678，tel+8613812345678 ",
]


@pytest.mark.parametrize("unit", WORST_SHAPES)
def test_redaction_takes_linear_time_whatever_the_shape(unit: str) -> None:
    """A 4,096-character message of the worst shapes we know takes about 2 ms; the bound is generous so
    that a busy machine passes, but a step worse than linear would not ("1 " * 1000 took 15 s before)."""
    text = (unit * 4096)[:4096]
    start = time.perf_counter()
    redacted = redact(text)
    assert time.perf_counter() - start < 0.5
    assert _MASK.sub(" ", redacted.text) == redacted.blank


def test_classify_and_pseudonym() -> None:
    assert classify("86 13812345678") is PiiKind.PHONE
    assert classify("3999") is None
    assert pseudonym(1001, "a") == pseudonym(1001, "a") != pseudonym(1001, "b")
    assert "1001" not in pseudonym(1001, "a")


async def test_the_user_is_warned_and_the_rest_is_answered(dialogue: Dialogue) -> None:
    reply = await dialogue.handle(Conversation(1), f"我的身份证{VALID_ID}，提前还款要手续费吗")
    assert reply.text.startswith(phrases.PII_WARNING[Lang.ZH])
    assert reply.intent is IntentId.EARLY and dialogue.knowledge[IntentId.EARLY].answer.zh in reply.text

    english = await dialogue.handle(Conversation(2), "my card is 4111 1111 1111 1111, can I repay early?")
    assert english.text.startswith(phrases.PII_WARNING[Lang.EN]) and english.intent is IntentId.EARLY


async def test_a_message_of_personal_data_alone_gets_the_warning_and_the_menu(dialogue: Dialogue) -> None:
    reply = await dialogue.handle(Conversation(3), "6222 0212 3456 7890 128")
    assert reply.text == phrases.PII_WARNING[Lang.ZH] and reply.buttons


async def test_amounts_are_not_mistaken_for_personal_data(dialogue: Dialogue) -> None:
    reply = await dialogue.handle(Conversation(4), "3999元分12期")
    assert phrases.PII_WARNING[Lang.ZH] not in reply.text and reply.intent is IntentId.CALCULATOR


# --- properties --------------------------------------------------------------------------------------

_ID_WEIGHTS = [2 ** (17 - position) % 11 for position in range(17)]
PROPERTIES = settings(max_examples=200, deadline=None, database=None)


def luhn_total(digits: str) -> int:
    total = 0
    for position, digit in enumerate(int(char) for char in reversed(digits)):
        total += (digit * 2 - 9 if digit > 4 else digit * 2) if position % 2 else digit
    return total


def id_check(body: str) -> str:
    return "10X98765432"[sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS)) % 11]


def real_date(yyyymmdd: str) -> bool:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).year >= 1900
    except ValueError:
        return False


def reference_kind(number: str) -> PiiKind | None:
    """What ``classify`` must say, written plainly."""
    if len(number) == 18 and number[:17].isdecimal() and id_check(number[:17]) == number[17].upper():
        if real_date(number[6:14]):
            return PiiKind.ID_NUMBER
    if not number.isdecimal():
        return None
    if len(number) == 15 and real_date("19" + number[6:12]):
        return PiiKind.ID_NUMBER
    if 16 <= len(number) <= 19 and luhn_total(number) % 10 == 0:
        return PiiKind.BANK_CARD
    if re.fullmatch(r"(?:86|0086)?1[3-9]\d{9}", number):
        return PiiKind.PHONE
    return None


def digit_strings(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
    body = f"{draw(digit_strings(6))}{born:%Y%m%d}{draw(digit_strings(3))}"
    return body + id_check(body)


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    body = draw(digit_strings(draw(st.integers(15, 18))))
    return body + str(-luhn_total(body + "0") % 10)


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    return "1" + draw(st.sampled_from("3456789")) + draw(digit_strings(9))


ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060"
SEPARATORS = [" ", "  ", "   ", ".", "-", "/", "\n", "\r\n", " - ", "\u3000"]
PREFIXES = ("", "+86", "+86 ", "86 ", "0086 ", "+86-", "(+86)", "（+86）")
LABELS = ["card", "Card", "tel", "TEL", "ID", "phone", "No", "ｔｅｌ"]
WORDS = ["我的", "卡号是", "手机号", "身份证", "请帮我查一下", "分期", "还款", "谢谢", "怎么办", "好的",
         "my", "card", "number", "is", "please", "call", "me", "thanks", "hello", "repay", "order"]
BEFORE = [" ", "：", ": ", "，", "是", "\n", "(", "（"]
AFTER = [" ", "，", "。", "！", "\n", ")", "）", "?"]


def in_groups(draw: st.DrawFn, number: str) -> str:
    """``number`` cut into groups joined by separators, or with an area code in brackets."""
    if len(number) == 11 and draw(st.booleans()):
        opening, closing = draw(st.sampled_from(["()", "（）"]))
        return f"{opening}{number[:3]}{closing}{draw(st.sampled_from(['', ' ']))}{number[3:7]}-{number[7:]}"
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=6)))
    groups = [number[start:end] for start, end in zip([0, *cuts], [*cuts, len(number)])]
    return "".join(group + draw(st.sampled_from(SEPARATORS)) for group in groups[:-1]) + groups[-1]


def disguised(draw: st.DrawFn, written: str) -> str:
    """``written`` with zero-width characters slipped in and some characters in full width."""
    chars = [chr(ord(char) + 0xFEE0) if "!" <= char <= "~" and draw(st.booleans()) else char
             for char in written]
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(1, len(chars) - 1)), draw(st.sampled_from(ZERO_WIDTH)))
    return "".join(chars)


@st.composite
def written(
    draw: st.DrawFn, numbers: st.SearchStrategy[str], prefixes: tuple[str, ...] = ("",)
) -> tuple[str, str, str]:
    """A message with one personal number in it, as (text before, the number as written, text after)."""
    number = draw(st.sampled_from(prefixes)) + in_groups(draw, draw(numbers))
    words = st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)
    lead = draw(st.one_of(st.sampled_from(LABELS), st.sampled_from(BEFORE)))
    return f"{draw(words)} {lead}", disguised(draw, number), draw(st.sampled_from(AFTER)) + draw(words)


@PROPERTIES
@given(st.one_of(written(id_numbers()), written(bank_cards()), written(mobile_numbers(), PREFIXES)))
def test_personal_numbers_in_any_form_are_masked_whole(parts: tuple[str, str, str]) -> None:
    before, number, after = parts
    redacted = redact(before + number + after)
    assert len(redacted.kinds) == 1 and redacted.text == before + next(iter(redacted.kinds)).value + after
    assert redacted.blank == f"{before} {after}"


@st.composite
def harmless(draw: st.DrawFn) -> str:
    """An amount, a date, an order number or a model name, as customers write them."""
    amount = draw(st.integers(1, 99_999))
    day = draw(st.dates(date(2000, 1, 1), date(2040, 12, 31)))
    orders = st.integers(16, 24).flatmap(digit_strings)
    order = draw(orders.filter(lambda digits: reference_kind(digits) is None))
    return draw(st.sampled_from([
        f"{amount}元", f"{amount:,}.00", f"¥{amount}", f"{amount}.{amount % 100:02d} 元",
        f"分{amount % 36 + 1}期",
        f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}", f"{day.month}.{day.day}", f"{day:%Y年%m月%d日}", f"{day:%Y%m%d}",
        f"订单号 {order}", f"order {order}",
        "K80", "iPhone16", "Redmi Note 13", "小米15 Pro", "Xiaomi 14 Ultra",
    ]))


@PROPERTIES
@given(st.lists(harmless(), min_size=1, max_size=4), st.lists(st.sampled_from(WORDS), min_size=3, max_size=8))
def test_amounts_dates_order_numbers_and_models_stay(items: list[str], words: list[str]) -> None:
    message = "".join(f"{word} {item} " for word, item in zip(words, items)) + words[-1]
    redacted = redact(message)
    assert (redacted.text, redacted.found) == (message, False)


@PROPERTIES
@given(st.one_of(
    id_numbers(), bank_cards(), mobile_numbers(), st.integers(11, 19).flatmap(digit_strings),
    st.integers(14, 17).flatmap(digit_strings).map(lambda digits: digits + "X"),
    mobile_numbers().map(lambda number: "86" + number), mobile_numbers().map(lambda number: "0086" + number),
))
def test_classify_agrees_with_the_plain_reference(number: str) -> None:
    assert classify(number) is reference_kind(number)
    card = 16 <= len(number) <= 19 and number.isdecimal() and luhn_total(number) % 10 == 0
    assert is_bank_card(number) is card
