"""How updates come in, polled or posted to the webhook, so that no single update stops the bot.

python-telegram-bot reads a whole getUpdates batch at once: one update it cannot read (say a poll
from a Bot API server older than the fields this version requires) fails the batch, the updater asks
again from the same offset, forever, and the payload, a user's message, is logged each time at
CRITICAL. Its webhook server answers such an update with 400, so Telegram delivers it again, forever.

Here each update is read on its own. One that cannot be read is logged once, by its update_id only
(never its content, which is a customer's message), and skipped: polling acknowledges it with the
next offset, the webhook answers 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any

import telegram
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.ext import Application, ExtBot

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
"""Where Telegram puts the secret given to setWebhook."""


class TolerantBot(ExtBot[dict[str, Any]]):
    """python-telegram-bot's bot, reading each received update on its own (see the module's docstring)."""

    def read_update(self, data: object) -> Update | None:
        """``data`` as an Update. One python-telegram-bot cannot read becomes a bare
        ``Update(update_id)``: the updater acknowledges it like any other and no handler takes it.
        None for data without an update_id (not from Telegram). Both are logged, without content."""
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            log.warning("skipped something that is no Telegram update (it has no update_id)")
            return None
        update_id = data["update_id"]
        try:
            update = Update.de_json(data, self)
        except Exception as error:  # anything this version trips over, in this update only
            log.warning(
                "update %d skipped: python-telegram-bot %s cannot read it (%s)",
                update_id,
                telegram.__version__,
                type(error).__name__,
            )
            return Update(update_id=update_id)
        self.insert_callback_data(update)  # what ExtBot does to every update it receives
        return update

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        """Bot.get_updates's request, with each update read by ``read_update``."""
        received: list[object] = await self._post(
            "getUpdates",
            {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates},
            read_timeout=self._polling_read_timeout(read_timeout, timeout),
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates = (self.read_update(data) for data in received)
        return tuple(update for update in updates if update is not None)

    def _polling_read_timeout(self, read_timeout: ODVInput[float], timeout: int | timedelta | None) -> float:
        """The server holds a long poll open for ``timeout`` seconds, so the read must wait that
        much longer than usual (as Bot.get_updates computes it)."""
        usual = self._request[0].read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        held = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        return (usual or 0) + (held or 0)


# --- the webhook ---------------------------------------------------------------------------------


def webhook_app(application: Application, path: str, secret: str) -> Starlette:
    """The ASGI app Telegram posts updates to, at ``path``: a request without ``secret`` is refused
    (403); anything else is answered 200, even an update that cannot be read, which Telegram would
    otherwise deliver again and again."""
    bot = application.bot
    assert isinstance(bot, TolerantBot)
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")  # as the header came
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            data = await request.json()
        except ValueError:  # not JSON, or not UTF-8
            data = None
        update = bot.read_update(data)
        if update is not None:
            await application.update_queue.put(update)
        return Response()

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the bot's caller owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def webhook_server(application: Application, listen: str, port: int, path: str, secret: str) -> AsyncIterator[None]:
    """Serves ``webhook_app`` on ``listen``:``port`` while the block runs.

    The socket is bound here, so a port in use raises OSError (uvicorn would exit the process) and
    requests that come before uvicorn runs wait in the socket's backlog."""
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    sock = socket.create_server((listen, port), family=family)
    config = uvicorn.Config(webhook_app(application, path, secret), log_config=None, access_log=False)
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield
    finally:
        server.should_exit = True
        await serving
