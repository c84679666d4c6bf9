"""One typed settings object, read once from environment variables (and an optional ``.env``)."""

from __future__ import annotations

from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.reminders import DEFAULT_DAYS_BEFORE, check_days_before

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
    confidence_threshold: float = Field(default=0.42, ge=0.0, le=1.0)
    reminder_time: time = Field(default=time(9, 0), description="When the daily reminders go out, in TIMEZONE.")
    reminder_days_before: Annotated[tuple[int, ...], NoDecode] = Field(
        default=DEFAULT_DAYS_BEFORE, description="Days before a due date with a reminder, e.g. 3,1."
    )
    reminder_claim_timeout_minutes: int = Field(
        default=10, ge=1, description="After this, a reminder claimed but not marked sent (a crash) is sent again."
    )
    log_retention_days: int = Field(default=90, ge=1, description="Conversation log entries older than this are pruned.")
    pseudonym_secret: SecretStr = Field(
        default=SecretStr(DEV_PSEUDONYM_SECRET), description="Key of the HMAC that stands in for chat ids in the log."
    )
    admin_user_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids allowed to /reload, comma-separated."
    )

    @field_validator("reminder_days_before", mode="before")
    @classmethod
    def _days_before(cls, value: object) -> tuple[int, ...]:
        """``3,1`` in the environment (or a list in code); each a positive number of days."""
        if isinstance(value, str):
            value = [int(part) for part in value.replace(" ", "").split(",") if part]
        if not isinstance(value, (list, tuple)):
            raise ValueError("expected days such as 3,1")
        return check_days_before(int(day) for day in value)

    @property
    def reminder_claim_timeout(self) -> timedelta:
        return timedelta(minutes=self.reminder_claim_timeout_minutes)

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
