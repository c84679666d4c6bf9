"""One typed settings object, read once from environment variables (and an optional ``.env``).

Every value is checked when the object is built, before any command runs: a wrong setting is one
line naming it (``describe_errors``), not a traceback halfway through a command.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.reminders import DEFAULT_DAYS_BEFORE, check_days_before

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
"""The databases the assistant runs on, each with the async driver it ships with."""
_NOT_REPEATED = frozenset({"TELEGRAM_BOT_TOKEN", "PSEUDONYM_SECRET", "DATABASE_URL"})
"""Settings whose values may hold a secret (a URL its password), so error messages do not repeat them."""
_URL_SCHEME = re.compile(r"(?P<backend>[A-Za-z0-9_]+)(?:\+(?P<driver>[A-Za-z0-9_]+))?://")


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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="What the assistant logs; never user text, chat ids or secrets."
    )
    confidence_threshold: float = Field(default=0.42, ge=0.0, le=1.0)
    reminder_time: time = Field(default=time(9, 0), description="When the daily reminders go out, in TIMEZONE.")
    reminder_days_before: Annotated[tuple[int, ...], NoDecode] = Field(
        default=DEFAULT_DAYS_BEFORE, description="Days before a due date with a reminder, e.g. 3,1."
    )
    reminder_claim_timeout_minutes: int = Field(
        default=10, ge=1, description="After this, a reminder claimed but not marked sent (a crash) is sent again."
    )
    log_retention_days: int = Field(default=90, ge=1, description="Conversation log entries older than this are pruned.")
    pseudonym_secret: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC that stands in for chat ids in the log; without it the assistant "
        "generates one on first start and keeps it in the database (bot.instance_secrets).",
    )
    admin_user_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids allowed to /reload, comma-separated."
    )

    @field_validator("pseudonym_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone: use an IANA name such as Asia/Shanghai") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        """SQLite or PostgreSQL, with or without the driver named: ``postgresql://…`` means asyncpg."""
        if not value:
            return None
        scheme = _URL_SCHEME.match(value)
        if scheme is None:
            raise ValueError("not a database URL: use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        backend, driver = scheme["backend"].lower(), scheme["driver"]
        supported = ASYNC_DRIVERS.get(backend)
        if supported is None or (driver is not None and f"{backend}+{driver}" != supported):
            raise ValueError(
                f"unsupported database {scheme.group()!r}: use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
            )
        return supported + value[len(scheme.group()) - 3 :]

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


def describe_errors(error: ValidationError) -> str:
    """A settings error on one line: each wrong variable by its name, what is wrong, and what was given
    (except for secrets, which are never repeated)."""
    problems = []
    for problem in error.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        message = problem["msg"].removeprefix("Value error, ")
        given = "" if name in _NOT_REPEATED else f" (got {problem['input']!r})"
        problems.append(f"{name}: {message}{given}")
    return "; ".join(problems)
