"""No update stops the bot: one python-telegram-bot cannot read is skipped, logged once by its
update_id only, and the others are served, by long polling and on the webhook; a handler that fails
is logged by update id and the bot goes on.

End to end, like test_telegram.py: the real Application against the fake Bot API, whose fixtures and
helpers these tests share.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import httpx
import pytest
from telegram import Update

from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.replies import Reply
from bot.telegram_config import Webhook
from bot.telegram_updates import SECRET_HEADER
from fakebotapi import FakeBotApi, TestChat
from intents.catalogue import IntentId
from test_telegram import StartBot, answer, api, say, start_bot  # noqa: F401 (api and start_bot are fixtures)

QUESTION = "下个月还款日改到几号比较好？"
OPTIONS = ["15号", "月底"]
NAME = "Zhang Wei"
PRIVATE = (QUESTION, *OPTIONS, NAME)
"""What a customer's unreadable update holds and no log line may show (its chat id too)."""


def old_poll(chat: TestChat) -> dict[str, Any]:
    """A poll message as a Bot API server older than 9.6 sends it: its options lack the persistent_id
    that python-telegram-bot 22.8 requires."""
    poll = {
        "id": "5001",
        "question": QUESTION,
        "options": [{"text": text, "voter_count": 0} for text in OPTIONS],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    message = {"message_id": 1, "date": int(time.time()), "chat": chat.chat_json(), "from": chat.user_json(), "poll": poll}
    with pytest.raises(TypeError):  # else the tests below would no longer test anything
        Update.de_json({"update_id": 1, "message": message}, None)
    return message


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log line, but python-telegram-bot's debug lines: they show each request and answer in
    full, so production keeps them out (bot.logs)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="telegram")
    return caplog


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record as an operator would read it, traceback included."""
    return [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "") for r in caplog.records]


def assert_skipped_once_without_content(caplog: pytest.LogCaptureFixture, update_id: int, chat: TestChat) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING and f"update {update_id} " in r.getMessage()]
    assert [(r.name, r.levelno) for r in loud] == [("bot.telegram_updates", logging.WARNING)]
    assert loud[0].getMessage().startswith(f"update {update_id} skipped: python-telegram-bot ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    for secret in (*PRIVATE, str(chat.chat_id)):
        assert not [line for line in logged(caplog) if secret in line], secret


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- long polling --------------------------------------------------------------------------------


async def test_polling_skips_an_update_it_cannot_read_and_serves_the_rest_of_the_batch(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, logs: pytest.LogCaptureFixture
) -> None:
    alice, customer = api.private_chat(1101), api.private_chat(730045198, first_name=NAME)
    api.send_text(alice, "/start")
    bad = api.send_raw({"message": old_poll(customer)})
    api.send_text(alice, "提前还款要手续费吗")
    await start_bot(dialogue)  # the three come in one batch

    replies = await api.wait_for_messages(alice.chat_id, 2)
    assert [r["text"] for r in replies] == [answer(dialogue, IntentId.GREETING), answer(dialogue, IntentId.EARLY)]
    await api.wait_for(lambda: any(call.params.get("offset", 0) > bad["update_id"] for call in api.requests("getUpdates")))
    await api.settled()
    assert_skipped_once_without_content(logs, bad["update_id"], customer)
    assert (await say(api, customer, "/start"))["text"] == answer(dialogue, IntentId.GREETING)  # the bot goes on


async def test_a_failing_handler_is_logged_by_update_id_only_and_the_bot_goes_on(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    handle = dialogue.handle

    async def fragile(conversation: Conversation, text: str) -> Reply:
        if text == QUESTION:
            raise RuntimeError("the engine broke")
        return await handle(conversation, text)

    monkeypatch.setattr(dialogue, "handle", fragile)
    await start_bot(dialogue)
    customer = api.private_chat(730045198, first_name=NAME)
    api.send_text(customer, QUESTION)
    await api.wait_for_messages(customer.chat_id, 1)  # "something went wrong"
    assert (await say(api, customer, "提前还款要手续费吗"))["text"] == answer(dialogue, IntentId.EARLY)

    [record] = [r for r in logs.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "update 1 failed" and record.exc_info and record.exc_info[0] is RuntimeError
    for secret in (*PRIVATE, str(customer.chat_id)):
        assert not [line for line in logged(logs) if secret in line], secret


# --- webhook -------------------------------------------------------------------------------------


async def test_webhook_answers_200_to_what_it_cannot_read_and_serves_the_rest(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue, logs: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    webhook = Webhook(f"http://127.0.0.1:{port}/telegram/hook", listen="127.0.0.1", port=port)
    await start_bot(dialogue, webhook)
    alice, customer = api.private_chat(1201), api.private_chat(730045198, first_name=NAME)
    updates = [
        {"update_id": 501, "message": api.send_text(alice, "/start")},
        {"update_id": 502, "message": old_poll(customer)},
        {"update_id": 503, "message": api.send_text(alice, "提前还款要手续费吗")},
    ]
    headers = {SECRET_HEADER: webhook.secret(api.token)}
    async with httpx.AsyncClient() as client:
        for update in updates:
            assert (await client.post(webhook.url, json=update, headers=headers)).status_code == 200
        for malformed in (b"{not json", b"[501]", b'{"message": {}}', "{}".encode("utf-16")):
            assert (await client.post(webhook.url, content=malformed, headers=headers)).status_code == 200

    replies = await api.wait_for_messages(alice.chat_id, 2)
    assert [r["text"] for r in replies] == [answer(dialogue, IntentId.GREETING), answer(dialogue, IntentId.EARLY)]
    await api.settled()
    assert_skipped_once_without_content(logs, 502, customer)
    skipped = [r for r in logs.records if r.getMessage().startswith("skipped something that is no Telegram update")]
    assert len(skipped) == 4


async def test_webhook_refuses_a_request_without_the_secret(
    api: FakeBotApi, start_bot: StartBot, dialogue: Dialogue
) -> None:
    port = free_port()
    webhook = Webhook(f"http://127.0.0.1:{port}/telegram/hook", listen="127.0.0.1", port=port)
    await start_bot(dialogue, webhook)
    customer = api.private_chat(1202)
    update = {"update_id": 601, "message": api.send_text(customer, "/start")}
    async with httpx.AsyncClient() as client:
        for headers in ({SECRET_HEADER: "guess"}, {SECRET_HEADER: "秘密".encode()}, {}):
            assert (await client.post(webhook.url, json=update, headers=headers)).status_code == 403
    await api.settled()
    assert not api.messages(customer.chat_id)
