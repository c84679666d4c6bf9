"""Starting the Telegram bot: the settings it needs, checked before anything connects, so that a
typo gives one clear line instead of a failed request."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

TOKEN_PATTERN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,100}")
"""What @BotFather hands out: the bot's numeric id, a colon and a secret of 35 URL-safe characters."""


class BotStartError(Exception):
    """The bot cannot start (no token, a malformed one, one Telegram refuses, a bad webhook URL)."""


# --- configuration -------------------------------------------------------------------------------


def bot_token(token: SecretStr | None) -> str:
    """The token, checked for shape so a typo gives one clear line instead of a failed request."""
    if token is None or not token.get_secret_value().strip():
        raise BotStartError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and set its token")
    value = token.get_secret_value().strip()
    if not TOKEN_PATTERN.fullmatch(value):
        raise BotStartError("TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:AAE… that @BotFather gives")
    return value


def api_urls(address: str) -> tuple[str, str]:
    """python-telegram-bot's ``base_url`` and ``base_file_url`` for a Bot API server.

    ``address`` is the server, e.g. ``http://127.0.0.1:8081``; the form python-telegram-bot itself
    takes (ending in ``/bot``) is accepted too.
    """
    parts = urlsplit(address.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise BotStartError(f"TELEGRAM_API_BASE_URL is not an http(s) URL: {address!r}")
    root = address.strip().rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


@dataclass(frozen=True)
class Webhook:
    """Receiving updates on an HTTPS endpoint instead of polling (e.g. behind a load balancer)."""

    url: str
    """The public URL Telegram posts to; its path is the path the local server listens on."""
    listen: str = "0.0.0.0"
    port: int = 8443

    def check(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise BotStartError(f"--webhook needs an http(s) URL, got {self.url!r}")

    def secret(self, token: str) -> str:
        """The secret Telegram sends with every update, derived from the token: every replica of a
        deployment computes the same one, and nobody without the token can forge updates."""
        return hmac.new(token.encode(), b"webhook secret", hashlib.sha256).hexdigest()
