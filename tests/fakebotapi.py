"""A small fake Telegram Bot API server on 127.0.0.1, for end-to-end tests and for trying the bot by hand.

It speaks just enough of the Bot API (https://core.telegram.org/bots/api) for the assistant:
getMe, getUpdates (long polling), deleteWebhook, setWebhook, setMyCommands, getMyCommands,
sendMessage, editMessageText, answerCallbackQuery, sendChatAction, close and logOut. It checks what a
real server checks where the bot could get it wrong (the token, message length, empty texts, editing
a message that is not the bot's, "message is not modified", answering a callback query twice), queues
the updates a test injects (``send_raw`` injects one of any content), and records every request the
bot makes. A test can make a user block the bot (``blocked``: 403) or make Telegram's flood control
answer once (``flood_once``: 429 with ``retry_after``).

In tests::

    api = FakeBotApi()
    await api.start()
    ApplicationBuilder().token(api.token).base_url(api.base_url) ...
    user = api.private_chat(1001)
    api.send_text(user, "/start")
    [reply] = await api.wait_for_messages(user.chat_id, 1)

By hand (one person typing to the bot, in a private chat)::

    python tests/fakebotapi.py --port 8081
    # in another terminal, with the token and address it prints:
    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:8081 python bot.py run

Only the standard library: an asyncio HTTP/1.1 server with keep-alive, enough for httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "123456789:AAFakeTokenForTheLocalTestServer_abc"
BOT_ID = 123456789
BOT_USERNAME = "mi_installments_test_bot"
MESSAGE_LIMIT = 4096
_JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "link_preview_options", "reply_parameters", "entities"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"}
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass(frozen=True)
class Call:
    """One request the bot made: the method and its parameters, decoded."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class TestChat:
    """A chat the test speaks in, with the user who speaks (in a private chat, the same id)."""

    __test__ = False  # not a test class, whatever its name says

    chat_id: int
    type: str
    user_id: int
    first_name: str = "Test"
    language_code: str | None = "zh-hans"
    title: str | None = None

    def chat_json(self) -> dict[str, Any]:
        if self.type == "private":
            return {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        return {"id": self.chat_id, "type": self.type, "title": self.title or "Group"}

    def user_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading bot command and @mentions (UTF-16 offsets)."""
    found: list[dict[str, Any]] = []
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_length(command.group())})
    for mention in _MENTION.finditer(text):
        if command and mention.start() < command.end():
            continue
        found.append({"type": "mention", "offset": utf16_length(text[: mention.start()]), "length": utf16_length(mention.group())})
    return found


class FakeBotApi:
    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME, send_delay: Callable[[], float] | None = None) -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":")[0])
        self.send_delay = send_delay
        """Seconds each sendMessage takes, e.g. random, to shuffle concurrent chats."""
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()
        """Chats whose user blocked the bot: sending to them answers 403."""
        self.flood_once: dict[int, int] = {}
        """Chats whose next sendMessage answers 429 with this ``retry_after`` (then works again)."""
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._queries: dict[str, bool] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # --- lifecycle ---

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's ``base_url`` is set to."""
        return f"{self.address}/bot"

    # --- what the test does: chats and updates ---

    def private_chat(self, user_id: int, language_code: str | None = "zh-hans", first_name: str = "Test") -> TestChat:
        return TestChat(user_id, "private", user_id, first_name, language_code)

    def group_chat(self, chat_id: int, user_id: int, title: str = "Mi fans", language_code: str | None = "zh-hans") -> TestChat:
        return TestChat(chat_id, "supergroup", user_id, "Member", language_code, title)

    def send_text(self, chat: TestChat, text: str, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """Queues a text message from the chat's user; returns the message."""
        message = self._new_message(chat, text=text)
        if entities := _entities(text):
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._push({"message": message})
        return message

    def send_other(self, chat: TestChat, kind: str = "sticker") -> dict[str, Any]:
        """Queues a sticker, photo, voice message or document."""
        content = {
            "sticker": {"file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"},
            "photo": [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}],
            "voice": {"file_id": "v1", "file_unique_id": "v1u", "duration": 3},
            "document": {"file_id": "d1", "file_unique_id": "d1u", "file_name": "bill.pdf"},
        }[kind]
        message = self._new_message(chat, **{kind: content})
        self._push({"message": message})
        return message

    def edit_text(self, chat: TestChat, message: dict[str, Any], text: str) -> None:
        """Queues an edit of one of the user's earlier messages."""
        self._push({"edited_message": {**message, "text": text, "edit_date": int(time.time())}})

    def press(self, chat: TestChat, message: dict[str, Any], data: str) -> str:
        """Queues a press on a button of one of the bot's messages (``data`` need not be on it:
        tests forge presses too); returns the callback query id."""
        query_id = f"q{next(self._update_ids)}"
        self._queries[query_id] = False
        query = {"id": query_id, "from": chat.user_json(), "chat_instance": f"ci{chat.chat_id}", "data": data, "message": message}
        self._push({"callback_query": query})
        return query_id

    def send_raw(self, content: dict[str, Any]) -> dict[str, Any]:
        """Queues an update with any content, exactly as given (numbered like the others), e.g. one
        from an older Bot API that python-telegram-bot cannot read; returns the update."""
        return self._push(content)

    def button(self, message: dict[str, Any], label_part: str) -> str:
        """The callback data of the button on ``message`` whose label contains ``label_part``."""
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if label_part in button["text"]:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label_part!r} on {message.get('reply_markup')}")

    # --- what the test checks: the bot's requests ---

    def requests(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to a chat, as they are now (after edits), oldest first."""
        return [m for (chat, _), m in sorted(self._messages.items()) if chat == chat_id and m["from"]["id"] == self.bot_id]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Waits until ``condition()`` holds, checking after every request and injected update."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the fake Bot API waited {timeout} s in vain; requests: {[c.method for c in self.calls]}")
            await self._changed(deadline - time.monotonic())

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Waits until the bot has sent ``count`` messages to the chat in all; returns them all."""
        await self.wait_for(lambda: len(self.messages(chat_id)) >= count, timeout)
        return self.messages(chat_id)

    async def wait_for_calls(self, method: str, count: int, chat_id: int | None = None, timeout: float = 5.0) -> list[Call]:
        await self.wait_for(lambda: len(self.requests(method, chat_id)) >= count, timeout)
        return self.requests(method, chat_id)

    async def settled(self, quiet: float = 0.2) -> None:
        """Waits until the bot has made no request for ``quiet`` seconds (to check it sent nothing)."""
        while True:
            count = len(self.calls)
            await asyncio.sleep(quiet)
            if len(self.calls) == count:
                return

    # --- internals: state ---

    def _new_message(self, chat: TestChat, **content: Any) -> dict[str, Any]:
        message_id = next(self._message_ids.setdefault(chat.chat_id, itertools.count(1)))
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat.chat_json(), "from": chat.user_json(), **content}
        self._messages[(chat.chat_id, message_id)] = message
        return message

    def _push(self, content: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **content}
        self._updates.append(update)
        self._notify()
        return update

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _changed(self, timeout: float) -> None:
        """Returns when something happens (a request, an update) or after ``timeout`` seconds."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, max(timeout, 0))
        self._waiters.discard(waiter)

    # --- internals: the Bot API methods ---

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return await handler(params)

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "小米分期助手 (test)",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if self._updates or time.monotonic() >= deadline:
                return self._updates[:limit]
            await self._changed(deadline - time.monotonic())

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        key = (json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), params.get("language_code") or "")
        self.commands[key] = params["commands"]
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> Any:
        key = (json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), params.get("language_code") or "")
        return self.commands.get(key, [])

    async def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        text = self._check_text(params)
        chat_id = params["chat_id"]
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if (retry_after := self.flood_once.pop(chat_id, None)) is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        chat = next((m["chat"] for (c, _), m in self._messages.items() if c == chat_id), None)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if self.send_delay is not None:
            await asyncio.sleep(self.send_delay())
        bot = {"id": self.bot_id, "is_bot": True, "first_name": "小米分期助手 (test)", "username": self.username}
        message_id = next(self._message_ids.setdefault(chat_id, itertools.count(1)))
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": bot, "text": text}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        if reply := params.get("reply_parameters"):
            original = self._messages.get((chat_id, reply["message_id"]))
            if original is not None:
                message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        self._messages[(chat_id, message_id)] = message
        return message

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        text = self._check_text(params)
        message = self._messages.get((params.get("chat_id"), params.get("message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        markup = params.get("reply_markup")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = params.get("callback_query_id")
        if query_id not in self._queries or self._queries[query_id]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._queries[query_id] = True
        return True

    def _check_text(self, params: dict[str, Any]) -> str:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > MESSAGE_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    # --- internals: HTTP ---

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                verb, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in {b"\r\n", b"\n", b""}:
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = await self._respond(verb, target, headers, body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _respond(self, verb: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if match.group(1) != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = match.group(2)
        params = self._decode(url.query, headers.get("content-type", ""), body)
        self.calls.append(Call(method, params))
        self._notify()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            result = await self._call(method, params)
        except ApiError as error:
            failure = {"ok": False, "error_code": error.code, "description": error.description}
            return error.code, failure | ({"parameters": error.parameters} if error.parameters else {})
        finally:
            self.in_flight -= 1
            self._notify()
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _decode(query: str, content_type: str, body: bytes) -> dict[str, Any]:
        """Parameters as python-telegram-bot sends them: form fields holding JSON for non-strings."""
        if content_type.startswith("application/json"):
            return dict(json.loads(body or b"{}"))
        raw = dict(parse_qsl(query)) | dict(parse_qsl(body.decode(), keep_blank_values=True))
        params: dict[str, Any] = {}
        for name, value in raw.items():
            if name in _JSON_FIELDS:
                params[name] = json.loads(value)
            elif name in _INT_FIELDS:
                params[name] = int(float(value))
            else:
                params[name] = value
        return params


# --- by hand -------------------------------------------------------------------------------------


def _show(message: dict[str, Any], edited: bool = False) -> str:
    lines = [("bot (edited its message):" if edited else "bot:") + " " + message["text"].replace("\n", "\n     ")]
    buttons = [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
    if buttons:
        lines.append("     " + "  ".join(f"[{n}] {b['text']}" for n, b in enumerate(buttons, start=1)))
    return "\n".join(lines)


async def _by_hand(port: int, user_id: int, language_code: str) -> None:
    """A person types in a private chat; lines starting with ``!`` are actions: ``!1`` presses button 1
    of the last message with buttons, ``!sticker``/``!photo``/``!voice``/``!document`` send one.
    Each line waits for the bot's answer (up to 10 s), so input can also be piped in."""
    api = FakeBotApi()
    await api.start(port)
    print(f"fake Bot API on {api.address}; start the bot with:\n"
          f"  TELEGRAM_BOT_TOKEN={api.token} TELEGRAM_API_BASE_URL={api.address} python bot.py run", flush=True)
    chat = api.private_chat(user_id, language_code)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await api.wait_for(lambda: bool(api.requests("getUpdates")), timeout=3600)
    print("bot connected; type a message (Ctrl+D quits)", flush=True)
    shown: dict[int, str] = {}
    try:
        while line := (await reader.readline()).decode():
            text = line.rstrip("\n")
            if not text.strip():
                continue
            print(f"you: {text}", flush=True)
            before = len(api.calls)
            with_buttons = [m for m in api.messages(chat.chat_id) if m.get("reply_markup")]
            if text.startswith("!") and text[1:].isdigit() and with_buttons:
                buttons = [b for row in with_buttons[-1]["reply_markup"]["inline_keyboard"] for b in row]
                number = int(text[1:])
                api.press(chat, with_buttons[-1], buttons[number - 1]["callback_data"] if 0 < number <= len(buttons) else "v0|forged")
            elif text[1:] in {"sticker", "photo", "voice", "document"} and text.startswith("!"):
                api.send_other(chat, text[1:])
            else:
                api.send_text(chat, text)
            answered = {"sendMessage", "editMessageText"}
            with contextlib.suppress(TimeoutError):
                await api.wait_for(lambda: any(c.method in answered for c in api.calls[before:]), timeout=10)
            await asyncio.sleep(0.3)  # a reply may come in several messages
            for message in api.messages(chat.chat_id):
                if shown.get(message["message_id"]) != message["text"]:
                    print(_show(message, edited=message["message_id"] in shown), flush=True)
                    shown[message["message_id"]] = message["text"]
            for call in api.calls[before:]:
                if call.method == "answerCallbackQuery" and call.params.get("text"):
                    print(f"bot (button notice): {call.params['text']}", flush=True)
    finally:
        await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fake Telegram Bot API server for trying the bot by hand.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--user", type=int, default=1001, help="the user id (= private chat id) you type as")
    parser.add_argument("--language-code", default="zh-hans", help="your Telegram client's language")
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_by_hand(options.port, options.user, options.language_code))
