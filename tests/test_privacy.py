"""The personal-data guard: what is found and masked, what is left alone, and what the user is told."""

from __future__ import annotations

import pytest

from bot import phrases
from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.privacy import PiiKind, classify, is_bank_card, is_id_number, pseudonym, redact
from intents.catalogue import IntentId
from knowledge.text import Lang

VALID_ID = "11010519491231002X"
VALID_CARD = "6222021234567890128"


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
