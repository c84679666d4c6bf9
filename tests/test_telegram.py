"""The Telegram front end end to end: the real Application against the fake Bot API in fakebotapi.py.

Each test starts the bot (getMe, setMyCommands, deleteWebhook, long polling) against a fresh fake
server on an ephemeral port, injects updates as users would send them, and checks the requests the
bot makes. Texts are compared with what the engine says, so the tests do not pin its wording.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot import phrases, telegram_config
from bot.accounts import DatabaseDesk
from bot.cli import main
from bot.clock import SHOP_ZONE, FixedClock
from bot.conversation import Conversation
from bot.demo import seed_demo
from bot.dialogue import MENU_TOPICS, Dialogue
from bot.ledger import resolve_customer
from bot.linking import create_link_code
from bot.replies import Action, Reply, topic_action
from bot.telegram_admin import KnowledgeReloader, KnowledgeSource
from bot.telegram_app import build_application, run_bot, serve
from bot.telegram_config import BotStartError, Webhook
from bot.telegram_handlers import Assistant
from bot.telegram_reminders import ReminderService
from bot.telegram_render import (
    COMMANDS,
    EDITED,
    EXPIRED,
    FAILED,
    LANGUAGE_SET,
    MESSAGE_LIMIT,
    NOT_TEXT,
    PRIVATE_CHAT_ONLY,
    REMINDERS_UNAVAILABLE,
    UNKNOWN_COMMAND,
    decode_callback,
    encode_callback,
    split_text,
    utf16_length,
)
from fakebotapi import BOT_USERNAME, FakeBotApi, TestChat
from intents.catalogue import IntentId
from knowledge.text import Lang

StartBot = Callable[..., Awaitable[Application]]
"""``start_bot(dialogue, webhook=None, reminders=None, source=None)``"""


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def start_bot(api: FakeBotApi) -> AsyncIterator[StartBot]:
    """Starts the real Application on a dialogue; stops it (gracefully) after the test."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(
        dialogue: Dialogue,
        webhook: Webhook | None = None,
        reminders: ReminderService | None = None,
        source: KnowledgeSource | None = None,
    ) -> Application:
        application = build_application(api.token, dialogue, api.address, reminders=reminders, source=source)
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(application, stop, webhook, api.token, started.set))
        running.append((stop, task))
        done, _ = await asyncio.wait([task, asyncio.create_task(started.wait())], timeout=5, return_when=asyncio.FIRST_COMPLETED)
        assert started.is_set(), task.exception() if task in done else "the bot did not start"
        return application

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def bot(start_bot: StartBot, dialogue: Dialogue) -> Application:
    return await start_bot(dialogue)


def answer(dialogue: Dialogue, intent: IntentId, lang: Lang = Lang.ZH) -> str:
    return dialogue.knowledge[intent].answer[lang]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def callback_data(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def say(api: FakeBotApi, chat: TestChat, text: str) -> dict[str, Any]:
    """Sends a text and returns the bot's one answer to it."""
    before = len(api.messages(chat.chat_id))
    api.send_text(chat, text)
    return (await api.wait_for_messages(chat.chat_id, before + 1))[before]


# --- start-up, commands --------------------------------------------------------------------------


async def test_start_registers_commands_in_both_languages_and_shows_the_menu(
    api: FakeBotApi, bot: Application, dialogue: Dialogue
) -> None:
    await api.wait_for_calls("getUpdates", 1)
    assert api.requests("getMe") and api.requests("deleteWebhook")
    default = api.commands[('{"type": "default"}', "")]
    chinese = api.commands[('{"type": "default"}', "zh")]
    groups = api.commands[('{"type": "all_group_chats"}', "")]
    assert [c["command"] for c in default] == [c["command"] for c in chinese] == [c.name for c in COMMANDS]
    assert default[0]["description"] == "Start and show the menu" and chinese[0]["description"] == "开始并显示菜单"
    assert {c["command"] for c in groups} == {"start", "help", "guide", "calc"}

    user = api.private_chat(1001)
    reply = await say(api, user, "/start")
    assert reply["text"] == answer(dialogue, IntentId.GREETING)
    assert labels(reply) == [dialogue.knowledge[t].title[Lang.ZH] for t in MENU_TOPICS]
    assert callback_data(reply) == [f"v1|{topic_action(t)}" for t in MENU_TOPICS]
    [request] = api.requests("sendMessage", user.chat_id)
    assert "parse_mode" not in request.params  # plain text: nothing a user types can become markup


async def test_english_client_gets_english_and_lang_switches(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    user = api.private_chat(1002, language_code="en")
    assert (await say(api, user, "/start"))["text"] == answer(dialogue, IntentId.GREETING, Lang.EN)
    switched = await say(api, user, "/lang")
    assert switched["text"].startswith(LANGUAGE_SET[Lang.ZH])
    assert (await say(api, user, "/help"))["text"] == answer(dialogue, IntentId.HELP, Lang.ZH)
    assert (await say(api, user, "/lang en"))["text"].startswith(LANGUAGE_SET[Lang.EN])


async def test_commands_map_to_topics(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    user = api.private_chat(1003)
    assert (await say(api, user, "/help"))["text"] == answer(dialogue, IntentId.HELP)
    assert (await say(api, user, "/due"))["text"] == answer(dialogue, IntentId.NEXT_DUE)  # not linked: how to link
    assert (await say(api, user, "/bills"))["text"] == answer(dialogue, IntentId.BILLS)
    assert (await say(api, user, "/link"))["text"] == answer(dialogue, IntentId.LINK)
    assert (await say(api, user, "/calc"))["text"] == phrases.ASK_AMOUNT[Lang.ZH]
    assert (await say(api, user, "/calc 3999 12期"))["text"].startswith("¥3,999.00 分 12 期")
    assert (await say(api, user, "/reminders"))["text"] == REMINDERS_UNAVAILABLE[Lang.ZH]
    assert (await say(api, user, "/nosuchcommand"))["text"] == UNKNOWN_COMMAND[Lang.ZH]


async def test_cancel_forgets_the_conversation(api: FakeBotApi, bot: Application) -> None:
    user = api.private_chat(1004)
    await say(api, user, "3999分12期")
    await say(api, user, "/cancel")
    follow_up = await say(api, user, "那6期呢")
    assert "3,999" not in follow_up["text"]  # the price from before /cancel is gone


# --- questions, walkthrough, calculator ----------------------------------------------------------


async def test_guide_question_gets_its_answer(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    reply = await say(api, api.private_chat(1010), "提前还款要手续费吗")
    assert reply["text"] == answer(dialogue, IntentId.EARLY)
    assert labels(reply)[-1] == phrases.MENU[Lang.ZH]


async def test_walkthrough_is_one_message_edited_in_place(api: FakeBotApi, bot: Application) -> None:
    user = api.private_chat(1011)
    first = await say(api, user, "分期怎么买")
    assert "第 1/5 步" in first["text"] and labels(first) == ["下一步 ▶", "全部步骤"]
    stale_next = api.button(first, "下一步")

    async def press(label: str, expected: str) -> dict[str, Any]:
        edits = len(api.requests("editMessageText"))
        api.press(user, first, api.button(first, label))
        [*_, edit] = await api.wait_for_calls("editMessageText", edits + 1)
        assert edit.params["message_id"] == first["message_id"]
        assert expected in first["text"], first["text"]
        return first

    await press("下一步", "第 2/5 步")
    assert labels(first) == ["◀ 上一步", "下一步 ▶", "全部步骤"]
    await press("下一步", "第 3/5 步")
    await press("上一步", "第 2/5 步")
    for number in (3, 4, 5):
        await press("下一步", f"第 {number}/5 步")
    assert "下一步 ▶" not in labels(first)
    await press("全部步骤", "第 5/5 步")
    assert "第 1/5 步" in first["text"] and "全部步骤" not in labels(first)

    # A "next" on what an older copy showed (step 1) goes to step 2, not past wherever the chat is.
    api.press(user, first, stale_next)
    await api.wait_for(lambda: "第 2/5 步" in first["text"] and "第 1/5 步" not in first["text"])

    assert len(api.messages(user.chat_id)) == 1  # all of it happened in the one message
    answered = api.requests("answerCallbackQuery")
    assert len(answered) == 8 and not any(call.params.get("text") for call in answered)


async def test_topic_buttons_send_a_new_message(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    user = api.private_chat(1012)
    menu = await say(api, user, "/start")
    api.press(user, menu, api.button(menu, dialogue.knowledge[IntentId.EARLY].title[Lang.ZH]))
    _, reply = await api.wait_for_messages(user.chat_id, 2)
    assert reply["text"] == answer(dialogue, IntentId.EARLY)
    assert menu["text"] == answer(dialogue, IntentId.GREETING)  # untouched
    await api.wait_for_calls("answerCallbackQuery", 1)


async def test_calculator_dialogue_keeps_the_price(api: FakeBotApi, bot: Application) -> None:
    user = api.private_chat(1013)
    twelve = await say(api, user, "3999分12期")
    assert twelve["text"].startswith("¥3,999.00 分 12 期")
    six = await say(api, user, "那6期呢")
    assert six["text"].startswith("¥3,999.00 分 6 期")


# --- groups --------------------------------------------------------------------------------------


async def test_group_answers_guide_questions_only_when_addressed(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    group = api.group_chat(-100500, user_id=2001)
    api.send_text(group, "分期怎么买")  # not addressed to the bot: someone else may answer
    api.send_text(group, "/help@some_other_bot")
    await api.settled()
    assert api.messages(group.chat_id) == []

    question = api.send_text(group, f"@{BOT_USERNAME} 提前还款要手续费吗")
    [reply] = await api.wait_for_messages(group.chat_id, 1)
    assert reply["text"] == answer(dialogue, IntentId.EARLY)
    assert reply["reply_to_message"]["message_id"] == question["message_id"]  # quotes whom it answers

    api.send_text(group, "逾期了会怎样", reply_to=reply)  # a reply to the bot addresses it too
    replies = await api.wait_for_messages(group.chat_id, 2)
    assert replies[1]["text"] == answer(dialogue, IntentId.OVERDUE)

    api.send_text(group, "/guide")
    replies = await api.wait_for_messages(group.chat_id, 3)
    assert "第 1/5 步" in replies[2]["text"]


async def test_group_asking_for_bills_is_sent_to_a_private_chat(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    group = api.group_chat(-100501, user_id=2002)
    notice = PRIVATE_CHAT_ONLY[Lang.ZH].format(username=BOT_USERNAME)
    api.send_text(group, f"@{BOT_USERNAME} 我的账单")
    api.send_text(group, "/bills")
    api.send_text(group, f"/due@{BOT_USERNAME}")
    api.send_text(group, "/unlink")
    api.send_text(group, "/reminders")
    replies = await api.wait_for_messages(group.chat_id, 5)
    assert [r["text"] for r in replies] == [notice] * 5

    # The menu's account button, pressed in the group, gets the same notice.
    api.send_text(group, "/start")
    menu = (await api.wait_for_messages(group.chat_id, 6))[5]
    api.press(group, menu, api.button(menu, dialogue.knowledge[IntentId.NEXT_DUE].title[Lang.ZH]))
    assert (await api.wait_for_messages(group.chat_id, 7))[6]["text"] == notice


# --- other kinds of message ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document"])
async def test_non_text_gets_a_short_useful_answer(api: FakeBotApi, bot: Application, kind: str) -> None:
    user = api.private_chat(1020)
    api.send_other(user, kind)
    [reply] = await api.wait_for_messages(user.chat_id, 1)
    assert reply["text"] == NOT_TEXT[Lang.ZH] and len(labels(reply)) == len(MENU_TOPICS)


async def test_edited_message_gets_asked_to_send_again(api: FakeBotApi, bot: Application) -> None:
    user = api.private_chat(1021)
    original = api.send_text(user, "分期怎么买")
    await api.wait_for_messages(user.chat_id, 1)
    api.edit_text(user, original, "/start")  # an edited command is not run again either
    replies = await api.wait_for_messages(user.chat_id, 2)
    assert replies[1]["text"] == EDITED[Lang.ZH]


async def test_over_long_message_is_answered(api: FakeBotApi, bot: Application, dialogue: Dialogue) -> None:
    user = api.private_chat(1022)
    reply = await say(api, user, "我想问一下分期的事情。" * 600)  # 6,600 characters
    assert reply["text"]
    reply = await say(api, user, "a" * 5000)
    assert reply["text"] in {answer(dialogue, IntentId.OUT_OF_SCOPE, lang) for lang in Lang}


async def test_long_reply_is_split_on_lines_with_buttons_on_the_last_part(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"第 {n} 行：分期账单明细 ¥{n},000.00" for n in range(600)]

    async def long_reply(conversation: Conversation, text: str) -> Reply:
        menu = await dialogue.press(conversation, Action.MENU)
        return Reply("\n".join(lines), menu.buttons)

    monkeypatch.setattr(dialogue, "handle", long_reply)
    await start_bot(dialogue)
    user = api.private_chat(1023)
    api.send_text(user, "全部账单")
    await api.wait_for_calls("sendMessage", 1, user.chat_id)
    await api.settled()
    parts = api.messages(user.chat_id)
    assert len(parts) > 1
    assert all(utf16_length(p["text"]) <= MESSAGE_LIMIT for p in parts)
    assert "\n".join(p["text"] for p in parts).split("\n") == lines  # cut between lines, nothing lost
    assert not any(labels(part) for part in parts[:-1]) and labels(parts[-1])


# --- buttons that are not ours -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["v0|topic:repay.early", "v1|topic:no.such.intent", "v1|step:next|99", "v1|menu|3", "v1|launch:missiles", "garbage", ""],
)
async def test_forged_or_old_button_gets_expired_notice(api: FakeBotApi, bot: Application, data: str) -> None:
    user = api.private_chat(1030)
    menu = await say(api, user, "/start")
    api.press(user, menu, data)
    [call] = await api.wait_for_calls("answerCallbackQuery", 1)
    assert call.params["text"] == EXPIRED[Lang.ZH]
    await api.settled()
    assert len(api.messages(user.chat_id)) == 1 and not api.requests("editMessageText")


# --- concurrency and failures --------------------------------------------------------------------


async def test_twenty_chats_at_once_keep_their_own_order(api: FakeBotApi, bot: Application) -> None:
    rng = random.Random(5)
    api.send_delay = lambda: rng.uniform(0, 0.02)  # replies finish in a shuffled order
    chats = [api.private_chat(3000 + n) for n in range(20)]
    terms = [12, 6, 3, 24]
    for term_index, term in enumerate(terms):
        for n, chat in enumerate(chats):  # interleaved: chat 0, chat 1, …, chat 0, chat 1, …
            api.send_text(chat, f"{1000 + n}元分{term}期" if term_index == 0 else f"那{term}期呢")
    for n, chat in enumerate(chats):
        texts = [m["text"] for m in await api.wait_for_messages(chat.chat_id, len(terms), timeout=10)]
        assert [t.split("：")[0] for t in texts] == [f"¥{1000 + n:,}.00 分 {term} 期" for term in terms]
    assert api.max_in_flight > 2  # chats were served side by side, not one after another


async def test_a_failing_update_is_logged_and_others_are_still_served(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    handle = dialogue.handle

    async def fragile(conversation: Conversation, text: str) -> Reply:
        if text == "boom":
            raise RuntimeError("the engine broke")
        return await handle(conversation, text)

    monkeypatch.setattr(dialogue, "handle", fragile)
    await start_bot(dialogue)
    unlucky, other = api.private_chat(1040), api.private_chat(1041)
    assert (await say(api, unlucky, "boom"))["text"] == FAILED[Lang.ZH]
    assert (await say(api, other, "提前还款要手续费吗"))["text"] == answer(dialogue, IntentId.EARLY)
    assert (await say(api, unlucky, "提前还款要手续费吗"))["text"] == answer(dialogue, IntentId.EARLY)
    [record] = [r for r in caplog.records if r.name == "bot.telegram_handlers" and r.levelno == logging.ERROR]
    assert record.getMessage().startswith("update ") and record.exc_info and record.exc_info[0] is RuntimeError


# --- linking and account data (needs the database) -----------------------------------------------


async def test_link_with_a_code_then_ask_for_the_next_due_date(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    clock = FixedClock(datetime(2025, 3, 10, 9, 0, tzinfo=SHOP_ZONE))
    async with session_factory() as session, session.begin():
        await seed_demo(session, dialogue.knowledge.operator, clock.now().date())
        customer = await resolve_customer(session, "DEMO-ONTIME")
        code = await create_link_code(session, customer, clock.now())
    desk = DatabaseDesk(session_factory, dialogue.knowledge.operator, clock)
    dialogue.desk = desk
    await start_bot(dialogue)

    user = api.private_chat(4001)
    assert (await say(api, user, "我下期什么时候还"))["text"] == answer(dialogue, IntentId.NEXT_DUE)  # not linked yet
    assert (await say(api, user, "账号绑上了吗"))["text"].startswith(phrases.NOT_LINKED[Lang.ZH])
    assert (await say(api, user, code))["text"] in {phrases.LINK_OK[Lang.ZH], phrases.LINK_OK[Lang.EN]}
    assert (await say(api, user, "账号绑上了吗"))["text"].startswith(phrases.LINKED[Lang.ZH])
    due = await say(api, user, "我下期什么时候还")
    expected = await desk.lookup(user.chat_id, IntentId.NEXT_DUE, Lang.ZH)
    assert expected is not None and due["text"] == expected.text and "¥" in due["text"]
    assert (await say(api, user, "/due"))["text"] == expected.text

    # The same user, linked, asking in a group: no bill there.
    group = api.group_chat(-100600, user_id=user.user_id)
    api.send_text(group, f"@{BOT_USERNAME} 我下期什么时候还")
    api.send_text(group, f"@{BOT_USERNAME} {code}")  # a link code posted in a group is not redeemed
    replies = await api.wait_for_messages(group.chat_id, 2)
    assert [r["text"] for r in replies] == [PRIVATE_CHAT_ONLY[Lang.ZH].format(username=BOT_USERNAME)] * 2

    assert (await say(api, user, "/unlink"))["text"] == phrases.UNLINKED[Lang.ZH]
    assert (await say(api, user, "/due"))["text"] == answer(dialogue, IntentId.NEXT_DUE)


# --- reloading the knowledge base ----------------------------------------------------------------

ADMIN = 6001
EARLY_ANSWER = "提前还款：在「我的订单」里操作即可。"


def _edit_early_answer(kb: Path, new: str) -> None:
    path = kb / "intents" / "repay.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("- id: repay.early")
    answer = text.index("  answer:\n    zh:", start)
    line_end = text.index("\n", text.index("zh:", answer))
    body_end = text.index("\n    en:", line_end)
    path.write_text(text[:answer] + f"  answer:\n    zh: {new}" + text[body_end:], encoding="utf-8")


async def test_admin_reload_serves_the_edit_and_a_broken_edit_keeps_the_last_good_one(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, kb_copy: Path
) -> None:
    await start_bot(dialogue, source=KnowledgeSource(kb_copy, dialogue.matcher.threshold, frozenset({ADMIN})))
    admin, customer = api.private_chat(ADMIN), api.private_chat(6002)
    _edit_early_answer(kb_copy, EARLY_ANSWER)
    assert (await say(api, customer, "/reload"))["text"] == UNKNOWN_COMMAND[Lang.ZH]  # not an admin
    assert (await say(api, customer, "提前还款要手续费吗"))["text"] != EARLY_ANSWER

    assert (await say(api, admin, "/reload"))["text"].startswith("Knowledge base reloaded")
    assert (await say(api, customer, "提前还款要手续费吗"))["text"] == EARLY_ANSWER

    path = kb_copy / "intents" / "repay.yaml"
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("  follow_up:")].count("\n") + 1
    path.write_text(text.replace("  follow_up:", "  folow_up:", 1), encoding="utf-8")
    refused = (await say(api, admin, "/reload"))["text"]
    assert refused.startswith("Reload refused; still serving the previous knowledge base.")
    assert f"repay.yaml:{line}: " in refused and "unknown key 'folow_up'" in refused
    assert (await say(api, customer, "提前还款要手续费吗"))["text"] == EARLY_ANSWER  # the last good version


async def test_sighup_reloads_and_a_broken_edit_is_logged_and_refused(
    dialogue: Dialogue, kb_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assistant = Assistant(Dialogue(dialogue.knowledge, dialogue.matcher))
    reloader = KnowledgeReloader(assistant, KnowledgeSource(kb_copy, dialogue.matcher.threshold, frozenset()))
    loop = asyncio.get_running_loop()
    reloader.install(loop)
    try:
        _edit_early_answer(kb_copy, EARLY_ANSWER)
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.wait_for(_until(lambda: assistant.private.knowledge[IntentId.EARLY].answer.zh == EARLY_ANSWER), 10)
        assert assistant.group.knowledge is assistant.private.knowledge

        good = assistant.private.knowledge
        (kb_copy / "operator.yaml").write_text("hotline: [", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.wait_for(_until(lambda: any("reload refused" in r.getMessage() for r in caplog.records)), 10)
        assert assistant.private.knowledge is good
        assert any("operator.yaml:1: YAML syntax" in r.getMessage() for r in caplog.records)
    finally:
        reloader.uninstall(loop)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


# --- starting up: token, address, webhook --------------------------------------------------------


@pytest.mark.parametrize(("token", "complaint"), [(None, "not set"), ("", "not set"), ("abc", "malformed"), ("123:short", "malformed")])
def test_cli_run_with_a_bad_token_prints_one_line_and_exits_2(
    token: str | None, complaint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if token is None:
        monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and complaint in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # failed before touching the database


async def test_a_refused_or_unreachable_token_is_one_clear_error(api: FakeBotApi, dialogue: Dialogue) -> None:
    wrong = SecretStr("987654321:AAThisTokenIsWellFormedButUnknownToTheServer")
    with pytest.raises(BotStartError, match="refused") as caught:
        await run_bot(dialogue, wrong, api.address)
    assert wrong.get_secret_value() not in str(caught.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(BotStartError, match="cannot reach") as caught:
        await run_bot(dialogue, SecretStr(api.token), f"http://127.0.0.1:{closed}")
    assert api.token not in str(caught.value)


def test_no_command_with_a_token_runs_the_bot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert main([]) == 2  # the bot, not the terminal chat, complained
    assert "TELEGRAM_BOT_TOKEN is malformed" in capsys.readouterr().err


def test_api_address_forms() -> None:
    assert telegram_config.api_urls("http://127.0.0.1:8081") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    assert telegram_config.api_urls("http://127.0.0.1:8081/bot") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    with pytest.raises(BotStartError):
        telegram_config.api_urls("127.0.0.1:8081")


async def test_webhook_mode_sets_the_hook_and_checks_its_secret(api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook = Webhook(f"http://127.0.0.1:{port}/telegram/hook", listen="127.0.0.1", port=port)
    await start_bot(dialogue, webhook)
    assert api.webhook is not None and api.webhook["url"] == webhook.url
    secret = api.webhook["secret_token"]
    assert secret == webhook.secret(api.token) and api.token not in secret

    user = api.private_chat(5001)
    message = api.send_text(user, "/start")  # known to the fake server, delivered by hand below
    update = {"update_id": 1, "message": message}
    async with httpx.AsyncClient() as client:
        forged = await client.post(webhook.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert forged.status_code == 403
        delivered = await client.post(webhook.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert delivered.status_code == 200
    [reply] = await api.wait_for_messages(user.chat_id, 1)
    assert reply["text"] == answer(dialogue, IntentId.GREETING)
    assert not api.requests("getUpdates")


# --- rendering -----------------------------------------------------------------------------------


def test_callback_data_round_trip_and_limits() -> None:
    steps = 5
    for action in [*Action, *(topic_action(i) for i in IntentId)]:
        decoded = decode_callback(encode_callback(action), steps)
        assert decoded is not None and decoded.action == action and decoded.step is None
        assert len(encode_callback(action, 4).encode()) <= 64
    decoded = decode_callback(encode_callback(Action.STEP_BACK, 3), steps)
    assert decoded is not None and decoded.step == 3
    assert encode_callback(Action.MENU, 3) == "v1|menu"  # only walkthrough buttons carry a step
    for bad in [None, 42, "v1|step:next|-1", "v1|step:next|５", "v1|step:next|5", "v1|" + "x" * 70, "v1|topic:"]:
        assert decode_callback(bad, steps) is None


@pytest.mark.parametrize("text", ["短\n" * 3000, "x" * 9000, "😀" * 3000, "line one\n\n\nline two", "", "\n\n"])
def test_split_text_keeps_every_piece_within_the_limit(text: str) -> None:
    pieces = split_text(text)
    assert all(0 < utf16_length(p) <= MESSAGE_LIMIT for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    if text.strip() and utf16_length(text) <= MESSAGE_LIMIT:
        assert pieces == [text.strip("\n")]
