"""Conversations with the engine, as a user has them: message in, reply (and its buttons) out."""

from __future__ import annotations

import pytest

from bot import phrases
from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.replies import Action, topic_action
from intents.catalogue import IntentId
from knowledge.text import Lang


@pytest.fixture
def chat() -> Conversation:
    return Conversation(chat_id=42)


@pytest.mark.parametrize("intent", list(IntentId))
@pytest.mark.parametrize("lang", list(Lang))
async def test_every_topic_answers_in_both_languages(dialogue: Dialogue, intent: IntentId, lang: Lang) -> None:
    conversation = Conversation(chat_id=1)
    dialogue.set_language(conversation, lang)
    reply = await dialogue.press(conversation, topic_action(intent))
    assert reply.intent is intent
    if intent is IntentId.CALCULATOR:
        assert reply.text == phrases.ASK_AMOUNT[lang]
    else:
        assert reply.text.startswith(dialogue.knowledge[intent].answer[lang])
    if intent is IntentId.CHECKOUT_FLOW:
        assert phrases.STEP_HEADER[lang].format(number=1, total=5, title="") in reply.text


@pytest.mark.parametrize(
    ("message", "intent", "fragment"),
    [
        ("分期怎么买", IntentId.CHECKOUT_FLOW, "第 1/5 步"),
        ("提前还款要手续费吗", IntentId.EARLY, "提前还款"),
        ("How do I change the bank card for auto debit?", IntentId.AUTO_DEBIT, "card"),
        ("分期會影響徵信嗎", IntentId.CREDIT, "信用"),
        ("转人工", IntentId.HUMAN, "400-000-0000"),
        ("花呗额度怎么提高", IntentId.OUT_OF_SCOPE, "小米商城"),
        ("今天北京天气怎么样", IntentId.OUT_OF_SCOPE, "小米商城"),
    ],
)
async def test_messages_get_the_answer_of_their_topic(
    dialogue: Dialogue, chat: Conversation, message: str, intent: IntentId, fragment: str
) -> None:
    reply = await dialogue.handle(chat, message)
    assert reply.intent is intent
    assert fragment in reply.text


async def test_walkthrough_goes_forward_to_step_five_and_back(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "分期购买的流程是什么")
    assert "第 1/5 步" in reply.text
    for number in range(2, 6):
        reply = await dialogue.press(chat, Action.STEP_NEXT)
        assert f"第 {number}/5 步" in reply.text
    assert Action.STEP_NEXT not in [button.action for button in reply.buttons]
    reply = await dialogue.handle(chat, "上一步")
    assert "第 4/5 步" in reply.text
    reply = await dialogue.handle(chat, "back")
    assert "第 3/5 步" in reply.text


async def test_walkthrough_by_typing_in_english_and_all_steps(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "how do I buy in installments")
    assert "Step 1 of 5" in reply.text
    reply = await dialogue.handle(chat, "next")
    assert "Step 2 of 5" in reply.text
    reply = await dialogue.press(chat, Action.STEP_ALL)
    assert all(f"Step {n} of 5" in reply.text for n in range(1, 6))


async def test_reply_language_follows_the_message_unless_fixed(dialogue: Dialogue, chat: Conversation) -> None:
    english = await dialogue.handle(chat, "can I repay early?")
    assert english.intent is IntentId.EARLY and english.text == dialogue.knowledge[IntentId.EARLY].answer.en
    chinese = await dialogue.handle(chat, "可以提前还款吗")
    assert chinese.text == dialogue.knowledge[IntentId.EARLY].answer.zh
    dialogue.set_language(chat, Lang.EN)
    fixed = await dialogue.handle(chat, "可以提前还款吗")
    assert fixed.intent is IntentId.EARLY and fixed.text == dialogue.knowledge[IntentId.EARLY].answer.en


async def test_low_confidence_offers_did_you_mean_buttons(dialogue: Dialogue, chat: Conversation) -> None:
    match = dialogue.matcher.match("还款")
    reply = await dialogue.handle(chat, "还款")
    if dialogue.matcher.threshold <= match.confidence < dialogue.confirm_below:
        assert reply.buttons and all(b.action.startswith("topic:") for b in reply.buttons)
    else:
        assert reply.intent is match.intent


async def test_out_of_scope_states_what_is_covered_and_shows_the_menu(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "借呗逾期了怎么办")
    assert reply.intent is IntentId.OUT_OF_SCOPE
    assert len(reply.buttons) >= 5


@pytest.mark.parametrize("message", ["", "   ", "🙂🙂🙂", "\x00\x01\x02", "<b>", "'; DROP TABLE bills; --"])
async def test_bad_input_gets_a_clear_answer(dialogue: Dialogue, chat: Conversation, message: str) -> None:
    reply = await dialogue.handle(chat, message)
    assert reply.text and reply.buttons


async def test_huge_message_is_answered(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "提前还款要手续费吗" + "啊" * 100_000)
    assert reply.text


async def test_calculator_asks_for_the_amount_then_answers_and_reuses_it(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "分期计算器")
    assert reply.intent is IntentId.CALCULATOR and "3999" in reply.text
    reply = await dialogue.handle(chat, "4999元")
    assert reply.figures["amount_fen"] == 499900
    reply = await dialogue.handle(chat, "那6期呢")
    assert reply.intent is IntentId.CALCULATOR
    assert reply.figures["amount_fen"] == 499900 and reply.figures["term"] == 6
    assert all(quote["term"] == 6 for quote in reply.figures["quotes"])


async def test_calculator_figures_add_up_to_price_plus_fee(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "3999分12期每期还多少")
    assert reply.intent is IntentId.CALCULATOR
    for quote in reply.figures["quotes"]:
        total = quote["first_period_fen"] + quote["per_period_fen"] * (quote["term"] - 1)
        assert total == 399900 + quote["total_fee_fen"]


async def test_account_question_without_bill_data_explains_linking(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.handle(chat, "我下一期什么时候还")
    assert reply.intent is IntentId.NEXT_DUE
    assert "绑定" in reply.text
    assert not reply.figures


async def test_forged_button_gets_the_menu(dialogue: Dialogue, chat: Conversation) -> None:
    reply = await dialogue.press(chat, "topic:no.such.intent")
    assert reply.intent is IntentId.HELP
