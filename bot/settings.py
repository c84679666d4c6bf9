"""One typed settings object, read once from environment variables (and an optional ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file the assistant creates on first use."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'assistant.sqlite3'}"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
