"""One typed settings object, read once from environment variables (and an optional ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_PSEUDONYM_SECRET = "dev-only-pseudonym-secret-change-me"
"""The default ``PSEUDONYM_SECRET``: fine on a laptop, must be replaced by a random value in production
(anyone who knows it can test which chat id a log entry belongs to)."""


class Settings(BaseSettings):
    """Everything an operator can configure. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = Field(
        default=None, description="Bot API address, e.g. a local Bot API server for testing."
    )
    database_url: str | None = Field(
        default=None, description="Any SQLAlchemy async URL; default: an SQLite file in data_dir."
    )
    data_dir: Path = PROJECT_ROOT / "data"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    timezone: str = "Asia/Shanghai"
    confidence_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    log_retention_days: int = Field(default=90, ge=1, description="Conversation log entries older than this are pruned.")
    pseudonym_secret: SecretStr = Field(
        default=SecretStr(DEV_PSEUDONYM_SECRET), description="Key of the HMAC that stands in for chat ids in the log."
    )
    admin_user_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids allowed to /reload, comma-separated."
    )

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``ADMIN_USER_IDS=123,456`` (the form an operator types), not a JSON list."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file the assistant creates on first use."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'assistant.sqlite3'}"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
