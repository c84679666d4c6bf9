"""A wrong setting, an unreachable or unmigrated database, unreadable input and a closed pipe: each is one
clear line (exit status 2) or a quiet end, never a traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.instance_secrets import PSEUDONYM_KEY, instance_secret
from bot.clock import SystemClock

BOT = Path(__file__).resolve().parents[1] / "bot.py"


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test sets: no ``.env`` of the developer's, no database of theirs."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "TIMEZONE", "LOG_RETENTION_DAYS", "PSEUDONYM_SECRET", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DATABASE_URL", "mysql://shop:hunter2@db/shop", "unsupported database"),
        ("DATABASE_URL", "postgresql+psycopg2://shop@db/shop", "unsupported database"),
        ("LOG_RETENTION_DAYS", "0", "greater than or equal to 1"),
        ("CONFIDENCE_THRESHOLD", "1.5", "less than or equal to 1"),
        ("REMINDER_TIME", "25:00", "REMINDER_TIME"),
        ("TIMEZONE", "Mars/Phobos", "unknown time zone"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["ask", "你好"]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {name}: ") and says in line
    assert "hunter2" not in line  # a URL's password is never repeated


def test_an_unreadable_env_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_bytes(b"TIMEZONE=\xff\xfe\n")
    assert main(["ask", "你好"]) == 2
    assert one_error_line(capsys).startswith("error: cannot read the settings file .env")


def test_postgresql_without_a_driver_means_asyncpg(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/shop")  # nothing listens on port 1
    assert main(["report"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: cannot reach the database postgresql+asyncpg://nobody@127.0.0.1:1/shop")


async def test_a_database_without_migrations_names_the_command(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    Path(database_url.partition(":///")[2]).parent.mkdir(parents=True, exist_ok=True)  # SQLite: its folder
    assert await asyncio.to_thread(main, ["report"]) == 2
    line = one_error_line(capsys)
    assert "has no tables yet" in line and "python bot.py db upgrade" in line
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert await asyncio.to_thread(main, ["report"]) == 0


def ask(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, str(BOT), "ask", *args], input=stdin, capture_output=True, timeout=60)


def test_bytes_that_are_no_utf8_are_unreadable_input_like_any_other() -> None:
    garbled, empty = ask(b"\xff\xfe\x80\n"), ask(b"\n")
    assert garbled.returncode == 0 and b"Traceback" not in garbled.stderr
    assert garbled.stdout == empty.stdout


def test_a_closed_pipe_ends_quietly() -> None:
    command = [sys.executable, str(BOT), "ask"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader has gone before the first reply, as with ``| head -0``
        process.stdin.write("分期怎么买\n".encode() * 200)
        process.stdin.close()
        errors = process.stderr.read()
    assert process.returncode != 0
    assert b"Traceback" not in errors


async def test_without_a_configured_secret_one_is_generated_once_and_kept(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = SystemClock().now()
    first, second = await asyncio.gather(*(instance_secret(session_factory, PSEUDONYM_KEY, now) for _ in range(2)))
    assert first == second and len(first) == 64
    assert await instance_secret(session_factory, PSEUDONYM_KEY, now) == first
    assert await instance_secret(session_factory, "another", now) != first
