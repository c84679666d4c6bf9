"""The operators' tools: the privacy-safe conversation log, the report, log pruning and ``kb check``."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.clock import FixedClock
from bot.conversation import Conversation
from bot.conversation_log import DatabaseLog, logged_since, prune
from bot.db import make_engine, make_session_factory, upgrade
from bot.dialogue import Dialogue
from bot.models import ConversationLogEntry
from bot.report import LoggedMessage, build_report, format_csv, format_text
from intents.catalogue import IntentId
from knowledge.text import Lang

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ID_NUMBER, CARD = "11010519491231002X", "6222 0212 3456 7890 128"


# --- the log ---------------------------------------------------------------------------------------


async def test_log_never_holds_the_id_card_or_chat_id_sent_in_a_conversation(
    dialogue: Dialogue, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    dialogue.log = DatabaseLog(session_factory, "test-secret", FixedClock(NOW))
    conversation = Conversation(987654321)
    for text in [f"身份证{ID_NUMBER}怎么分期", f"卡号 {CARD} 扣款失败怎么办", "邮箱 wang@example.com", "今天天气怎么样", "提前还款要手续费吗"]:
        await dialogue.handle(conversation, text)
    async with session_factory() as session:
        entries = list(await session.scalars(select(ConversationLogEntry).order_by(ConversationLogEntry.id)))
    stored = repr([(e.chat, e.text, e.language, e.alternatives) for e in entries])
    for secret in [ID_NUMBER, CARD, CARD.replace(" ", ""), "wang@example.com", "987654321"]:
        assert secret not in stored
    assert [e.text for e in entries][:3] == ["身份证<id-number>怎么分期", "卡号 <bank-card> 扣款失败怎么办", "邮箱 <email>"]
    assert len({e.chat for e in entries}) == 1 and entries[0].logged_at == NOW
    assert [e.fallback for e in entries[3:]] == [True, False]
    assert entries[4].intent == IntentId.EARLY.value and entries[4].language == Lang.ZH.value
    assert entries[4].alternatives[0]["intent"] == IntentId.EARLY.value


async def test_prune_deletes_entries_past_retention(
    dialogue: Dialogue, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    for days_ago in (100, 91, 89, 1):
        dialogue.log = DatabaseLog(session_factory, "s", FixedClock(NOW - timedelta(days=days_ago)))
        await dialogue.handle(Conversation(1), "分期怎么买")
    async with session_factory() as session, session.begin():
        assert await prune(session, NOW, timedelta(days=90)) == 2
    async with session_factory() as session:
        assert len(await logged_since(session, NOW - timedelta(days=365))) == 2


# --- the report ------------------------------------------------------------------------------------

WECHAT = [
    "可以用微信支付分期吗", "可以用微信支付分期吗？", "可以用微信支付分期吗？？", "能用微信支付分期吗", "可以用微信付分期吗",
    "可以用微信支付分期吗?", "可不可以用微信支付分期", "可以用微信支付分期嘛", "可以用微信支付分期么", "可以用微信支付分期不",
    "可以用微信支付来分期吗", "请问可以用微信支付分期吗", "可以用微信支付分期吗 ", "可以用 微信支付 分期吗", "可以用微信支付分期吗!",
    "可以用微信支付分期吗。", "可以用微信支付分期吗～", "可以用微信支付分期吗啊", "可以用微信支付分期吗呀", "可以拿微信支付分期吗",
]


def message(text: str, intent: str = IntentId.OUT_OF_SCOPE.value, chat: str = "a", fallback: bool = True) -> LoggedMessage:
    return LoggedMessage(NOW, chat, text, intent, 0.3, IntentId.CHOOSE_PROVIDER.value, fallback)


def test_report_groups_twenty_variants_of_one_missing_question_into_one_row() -> None:
    messages = [message(text, chat=str(n % 7)) for n, text in enumerate(WECHAT)]
    messages += [message("今天天气怎么样"), message("今天天气怎么样？", chat="b")]
    messages += [message("提前还款要手续费吗", IntentId.EARLY.value, fallback=False)] * 3
    report = build_report(messages, days=7)
    assert (report.messages, report.chats, report.fallbacks, report.out_of_scope) == (25, 9, 22, 22)
    first, second = report.groups
    assert (first.text, first.count, first.variants, first.closest) == ("可以用微信支付分期吗", 20, 13, IntentId.CHOOSE_PROVIDER.value)
    assert (second.count, second.chats) == (2, 2)
    text = format_text(report, top=20)
    assert "25 message(s) from 9 chat(s)" in text and "88.0%" in text
    assert text.count("可以用微信支付分期") == 1  # one row, not twenty
    rows = list(csv.DictReader(io.StringIO(format_csv(report, top=20))))
    assert {"section": "unanswered", "item": "可以用微信支付分期吗", "count": "20", "share": "0.8000",
            "closest_intent": IntentId.CHOOSE_PROVIDER.value} in rows
    assert {"section": "intent", "item": IntentId.EARLY.value, "count": "3", "share": "0.1200", "closest_intent": ""} in rows


def test_report_on_nothing_says_so() -> None:
    assert "no messages from the last 7 day(s)" in format_text(build_report([], days=7), top=20)


def _seed_embedded_log(data_dir: Path, texts: list[str], dialogue: Dialogue) -> None:
    async def seed() -> None:
        url = f"sqlite+aiosqlite:///{data_dir / 'assistant.sqlite3'}"
        await upgrade(url)
        engine = make_engine(url)
        try:
            dialogue.log = DatabaseLog(make_session_factory(engine), "s", FixedClock(datetime.now(UTC)))
            for n, text in enumerate(texts):
                await dialogue.handle(Conversation(n), text)
        finally:
            await engine.dispose()

    asyncio.run(seed())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def test_cli_report_and_prune(data_dir: Path, dialogue: Dialogue, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 0
    assert "no messages from the last 7 day(s)" in capsys.readouterr().out
    _seed_embedded_log(data_dir, WECHAT[:5] + ["提前还款要手续费吗"], dialogue)
    assert main(["report", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "6 message(s) from 6 chat(s)" in out and "repay.early" in out
    assert main(["report", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("section,item,count,share,closest_intent\n")
    assert main(["log", "prune"]) == 0
    assert "deleted 0 conversation log entries older than 90 day(s)" in capsys.readouterr().out


@pytest.mark.parametrize("days", ["0", "-3"])
def test_cli_report_rejects_days_below_one(data_dir: Path, days: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--days", days]) == 2
    assert capsys.readouterr().err == f"error: --days must be 1 or more, got {days}\n"


# --- kb check --------------------------------------------------------------------------------------



def _add_example(directory: Path, after: str, example: str) -> int:
    """Adds an example on the line after ``after`` (same indentation); returns its line number."""
    path = directory / "intents" / "guide.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(after)
    indent = after[: len(after) - len(after.lstrip())]
    end = start + len(after)
    path.write_text(text[:end] + f"\n{indent}- {example}" + text[end:], encoding="utf-8")
    return text[:end].count("\n") + 2


def test_kb_check_passes_the_shipped_knowledge_base(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_kb_check_fails_on_a_planted_conflict_and_duplicate(kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conflict = _add_example(kb_copy, "      - 分期流程", "逾期了会不会影响征信")
    duplicate = _add_example(kb_copy, "      - 开通分期", "可以提前还款吗？？")
    chat = kb_copy / "intents" / "chat.yaml"  # the only use of {hotline} there, in one language
    chat.write_text(chat.read_text(encoding="utf-8").replace("{hotline}", "400", 1), encoding="utf-8")
    assert main(["kb", "check", "--dir", str(kb_copy)]) == 1
    out = capsys.readouterr().out
    # Learnt by heart, the example wins for its own intent; held out, it plainly belongs to repay.credit.
    assert f"error: guide.yaml:{conflict}: guide.checkout_flow: example '逾期了会不会影响征信' reads as repay.credit" in out
    assert f"repay.early: example '可以提前还款吗' is the same once normalised as '可以提前还款吗？？' of guide.checkout_flow (guide.yaml:{duplicate})" in out
    assert "warning: chat.yaml:" in out and "placeholder {hotline} is used in the en text only" in out


def test_kb_check_reports_what_the_loader_refuses(kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = kb_copy / "intents" / "repay.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  follow_up:", "  folow_up:", 1), encoding="utf-8")
    assert main(["kb", "check", "--dir", str(kb_copy)]) == 1
    assert "unknown key 'folow_up'" in capsys.readouterr().out
