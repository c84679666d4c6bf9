"""The command line: ``python bot.py COMMAND``. Each command parses, builds what it needs and runs.

Imports of heavy parts (the database, Telegram) happen inside the commands that need them, so that
``ask`` starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.logs import configure_logging
from bot.replies import Reply
from bot.settings import Settings, describe_errors
from intents.matcher import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.text import Lang
from knowledge.yamlnodes import KnowledgeBaseError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from bot.clock import Clock

TERMINAL_CHAT_ID = 0
"""The chat id the terminal front ends use; Telegram chat ids are never 0."""


class CommandError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def build_dialogue(settings: Settings) -> Dialogue:
    knowledge = load_knowledge_base(settings.knowledge_dir)
    return Dialogue(knowledge, Matcher(knowledge, settings.confidence_threshold))


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database. The embedded SQLite default is created and upgraded
    on first use; a configured DATABASE_URL is upgraded only by ``db upgrade``, by its operator, and
    is checked here first: unreachable or behind the code's schema is one line saying what to do."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import make_engine, make_session_factory, upgrade

    url = settings.effective_database_url
    try:
        if settings.database_url is None:
            await upgrade(url)
        engine = make_engine(url)
    except (SQLAlchemyError, OSError, ValueError) as error:
        raise CommandError(f"cannot open the database {_safe(url)}: {_reason(error)}") from error
    try:
        if settings.database_url is not None:  # the embedded default was upgraded just now
            await _check_schema(engine, url)
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def _check_schema(engine: AsyncEngine, url: str) -> None:
    """A configured database that cannot be reached, or is behind the code's schema, as one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import schema_revisions

    try:
        current, latest = await schema_revisions(engine)
    except (SQLAlchemyError, OSError) as error:
        raise CommandError(f"cannot reach the database {_safe(url)} (DATABASE_URL): {_reason(error)}") from error
    if current != latest:
        state = "has no tables yet" if current is None else f"is at schema {current}, the code needs {latest}"
        raise CommandError(f"the database {_safe(url)} {state}: run `python bot.py db upgrade`")


def _reason(error: BaseException) -> str:
    """A database error in one line: the driver's own words, without SQL or SQLAlchemy's links."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(the configured DATABASE_URL)"


async def attach_desk(
    dialogue: Dialogue, settings: Settings, sessions: async_sessionmaker[AsyncSession], customer: str | None
) -> None:
    """Gives the dialogue live bill data, acting as ``customer`` (a ref or an id) when one is named."""
    from bot.accounts import DatabaseDesk
    from bot.clock import SystemClock
    from bot.errors import CustomerNotFound
    from bot.ledger import resolve_customer

    customer_id = None
    if customer:
        async with sessions() as session:
            try:
                customer_id = await resolve_customer(session, customer)
            except CustomerNotFound as error:
                raise CommandError(f"no customer {customer!r}: use a customer ref such as DEMO-2DAYS, or an id") from error
    dialogue.desk = DatabaseDesk(sessions, dialogue.knowledge.operator, SystemClock(settings.zone), acting_as=customer_id)


async def attach_log(dialogue: Dialogue, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Records what is asked in the conversation log (``report``). ``ask`` does not log: it serves
    batches and evaluations, which would drown what customers asked."""
    from bot.clock import SystemClock
    from bot.conversation_log import DatabaseLog
    from bot.instance_secrets import PSEUDONYM_KEY, instance_secret

    clock = SystemClock(settings.zone)
    if settings.pseudonym_secret is not None:
        secret = settings.pseudonym_secret.get_secret_value()
    else:
        secret = await instance_secret(sessions, PSEUDONYM_KEY, clock.now())
    dialogue.log = DatabaseLog(sessions, secret, clock)


def reply_json(text: str, reply: Reply) -> str:
    return json.dumps(
        {
            "text": text,
            "intent": reply.intent.value,
            "confidence": round(reply.confidence, 4),
            "alternatives": [{"intent": c.intent.value, "confidence": c.confidence} for c in reply.alternatives],
            "reply": reply.text,
            "buttons": [{"label": b.label, "action": b.action} for b in reply.buttons],
            "figures": reply.figures,
        },
        ensure_ascii=False,
    )


# --- commands ------------------------------------------------------------------------------------


async def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    dialogue = build_dialogue(settings)
    if args.text:  # arguments that were no UTF-8 arrive as surrogates: read them as unreadable characters
        messages = [" ".join(args.text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")]
    else:
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
        messages = (line.rstrip("\n") for line in sys.stdin)  # type: ignore[assignment]
    single = bool(args.text)
    async with AsyncExitStack() as stack:
        if args.customer:  # without one, account questions get how to link: no database needed
            sessions = await stack.enter_async_context(database(settings))
            await attach_desk(dialogue, settings, sessions, args.customer)
        for message in messages:
            # Each line is its own conversation: a batch of unrelated messages must not leak context.
            reply = await dialogue.handle(Conversation(TERMINAL_CHAT_ID), message)
            if args.json:
                print(reply_json(message, reply), flush=True)
            else:
                print(reply.text if single else reply.text.replace("\n", " / "), flush=True)
    return 0


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import DEMO_CUSTOMER_REF

    dialogue = build_dialogue(settings)
    conversation = Conversation(TERMINAL_CHAT_ID)
    sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]  # bytes that are no UTF-8: unreadable input
    if args.lang:
        dialogue.set_language(conversation, Lang(args.lang))
    async with database(settings) as sessions:
        customer = args.customer
        if settings.database_url is None:  # the embedded default always has fresh demo data
            await _seed_demo(sessions, dialogue, settings)
            customer = customer or DEMO_CUSTOMER_REF
        await attach_desk(dialogue, settings, sessions, customer)
        await attach_log(dialogue, settings, sessions)
        print("小米商城分期助手 · Xiaomi Mall installment assistant — 输入问题，数字选择按钮，/quit 退出 (quit with /quit)")
        if customer:
            print(f"(acting as customer {customer})")
        reply = await dialogue.press(conversation, "menu")
        while True:
            print(_render(reply))
            try:
                text = input("> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.strip() in {"/quit", "/exit", "quit", "exit"}:
                return 0
            choice = text.strip()
            if choice.isdigit() and 1 <= int(choice) <= len(reply.buttons):
                reply = await dialogue.press(conversation, reply.buttons[int(choice) - 1].action)
            else:
                reply = await dialogue.handle(conversation, text)


async def _seed_demo(sessions: async_sessionmaker[AsyncSession], dialogue: Dialogue, settings: Settings) -> list[str]:
    from bot.clock import SystemClock, today
    from bot.demo import seed_demo

    async with sessions() as session, session.begin():
        customers = await seed_demo(session, dialogue.knowledge.operator, today(SystemClock(settings.zone)))
    return [f"{c.ref}  {c.name}  {c.situation}" for c in customers]


def _render(reply: Reply) -> str:
    buttons = "  ".join(f"[{number}] {button.label}" for number, button in enumerate(reply.buttons, start=1))
    return f"\n{reply.text}" + (f"\n{buttons}" if buttons else "")


async def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import upgrade

    url = settings.effective_database_url
    try:
        await upgrade(url)
    except (SQLAlchemyError, OSError) as error:
        raise CommandError(f"cannot upgrade {_safe(url)}: {error}") from error
    print(f"database {_safe(url)} is at the latest schema")
    return 0


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    dialogue = build_dialogue(settings)
    async with database(settings) as sessions:
        for line in await _seed_demo(sessions, dialogue, settings):
            print(line)
    return 0


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.errors import ImportFailed
    from bot.importer import import_file
    from bot.ledger import sync_providers

    operator = load_knowledge_base(settings.knowledge_dir).operator
    async with database(settings) as sessions:
        try:
            async with sessions() as session, session.begin():
                await sync_providers(session, operator)  # rows name providers of the operator data
                report = await import_file(session, args.file)
        except ImportFailed as failed:
            for error in failed.errors:
                print(f"{args.file}: {error}", file=sys.stderr)
            print(f"nothing imported: {len(failed.errors)} error(s)", file=sys.stderr)
            return 1
    print(report)
    return 0


async def cmd_link_code(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.errors import CustomerNotFound
    from bot.ledger import resolve_customer
    from bot.linking import CODE_LIFETIME, create_link_code

    now = SystemClock(settings.zone).now()
    async with database(settings) as sessions, sessions() as session, session.begin():
        try:
            customer_id = await resolve_customer(session, args.customer)
        except CustomerNotFound as error:
            raise CommandError(f"no customer {args.customer!r}") from error
        code = await create_link_code(session, customer_id, now)
    expires = (now + CODE_LIFETIME).strftime("%Y-%m-%d %H:%M %Z")
    print(f"{code}  (one-time link code for customer {args.customer}; send it to the assistant; expires {expires})")
    return 0


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.telegram_admin import KnowledgeSource
    from bot.telegram_app import run_bot
    from bot.telegram_config import BotStartError, Webhook, bot_token
    from bot.telegram_reminders import ReminderService

    try:
        bot_token(settings.telegram_bot_token)  # before anything else: a bad token is one clear line
        webhook = Webhook(args.webhook, args.listen, args.port) if args.webhook else None
        dialogue = build_dialogue(settings)
        async with database(settings) as sessions:
            await attach_desk(dialogue, settings, sessions, None)
            await attach_log(dialogue, settings, sessions)
            reminders = ReminderService.from_settings(sessions, settings, SystemClock(settings.zone))
            source = KnowledgeSource(settings.knowledge_dir, settings.confidence_threshold, settings.admin_user_ids)
            await run_bot(dialogue, settings.telegram_bot_token, settings.telegram_api_base_url, webhook, reminders, source)
    except BotStartError as error:
        raise CommandError(str(error)) from error
    return 0


async def cmd_remind(settings: Settings, args: argparse.Namespace) -> int:
    """One batch of due-date reminders, e.g. from cron; ``--dry-run`` prints them instead."""
    from datetime import datetime

    from bot.clock import FixedClock, SystemClock, today
    from bot.reminders import compose
    from bot.telegram_app import start_errors
    from bot.telegram_config import BotStartError, api_urls, bot_token
    from bot.telegram_reminders import ReminderService, reminder_bot

    token, urls = None, (None, None)
    if not args.dry_run:  # a bad token or address is one line, before the database is touched
        try:
            token = bot_token(settings.telegram_bot_token)
            if settings.telegram_api_base_url:
                urls = api_urls(settings.telegram_api_base_url)
        except BotStartError as error:
            raise CommandError(str(error)) from error
    clock: Clock = SystemClock(settings.zone)
    if args.today is not None:  # that day, at the time it is now
        clock = FixedClock(datetime.combine(args.today, clock.now().timetz()))
    async with database(settings) as sessions:
        reminders = ReminderService.from_settings(sessions, settings, clock)
        if token is None:
            due = await reminders.preview()
            for reminder in due:
                text = compose(reminder).text.replace("\n", " ")
                print(f"chat {reminder.chat_id} [{reminder.lang}] {reminder.kind} bill {reminder.bill_id}: {text}")
            print(f"{len(due)} reminder(s) due on {today(clock)}; dry run: nothing sent, nothing claimed")
            return 0
        bot = reminder_bot(token, *urls)
        try:
            with start_errors(settings.telegram_api_base_url):
                await bot.initialize()
            print(await reminders.run(bot))
        except BotStartError as error:
            raise CommandError(str(error)) from error
        finally:
            await bot.shutdown()
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluation import EvalSetError, evaluate, format_report, read_sets

    try:
        items = read_sets(args.files)
    except EvalSetError as error:
        raise CommandError(str(error)) from error
    dialogue = build_dialogue(settings)
    if args.baseline:
        # Imported only here: scikit-learn is a development-only dependency.
        from bot.baseline import BaselineUnavailable, format_side_by_side, train

        try:
            baseline = train(dialogue.knowledge)
        except BaselineUnavailable as error:
            raise CommandError(str(error)) from error
    matcher = dialogue.matcher
    report = evaluate(items, lambda text: matcher.match(text).intent.value)
    if args.baseline:
        print(baseline.describe())
        print(format_side_by_side(report, evaluate(items, baseline.classify)))
    else:
        print(format_report(report))
    if args.min_accuracy is not None and report.overall.rate < args.min_accuracy:
        print(f"overall accuracy {report.overall.rate:.1%} is below --min-accuracy {args.min_accuracy:.1%}", file=sys.stderr)
        return 1
    return 0


async def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.clock import SystemClock
    from bot.conversation_log import logged_since
    from bot.report import build_report, format_csv, format_text

    if args.days < 1:
        raise CommandError(f"--days must be 1 or more, got {args.days}")
    since = SystemClock(settings.zone).now() - timedelta(days=args.days)
    async with database(settings) as sessions, sessions() as session:
        report = build_report(await logged_since(session, since), args.days)
    if args.format == "csv":
        print(format_csv(report, args.top), end="")
        if not report.messages:
            print(f"note: the conversation log has no messages from the last {args.days} day(s)", file=sys.stderr)
    else:
        print(format_text(report, args.top))
    return 0


async def cmd_log_prune(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.clock import SystemClock
    from bot.conversation_log import prune

    async with database(settings) as sessions, sessions() as session, session.begin():
        deleted = await prune(session, SystemClock(settings.zone).now(), timedelta(days=settings.log_retention_days))
    print(f"deleted {deleted} conversation log entr{'y' if deleted == 1 else 'ies'} older than {settings.log_retention_days} day(s)")
    return 0


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.check import Severity, check_knowledge_base

    directory = args.dir or settings.knowledge_dir
    findings = check_knowledge_base(directory, settings.confidence_threshold)
    for finding in findings:
        print(finding)
    errors = sum(finding.severity is Severity.ERROR for finding in findings)
    print(f"{directory}: {errors} error(s), {len(findings) - errors} warning(s)")
    return 1 if errors else 0


# --- parser --------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py",
        description="Xiaomi Mall installment assistant. Without a command: the terminal chat "
        "(or the Telegram bot when TELEGRAM_BOT_TOKEN is set).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = commands.add_parser("chat", help="chat in the terminal; buttons appear as numbered choices")
    chat.add_argument("--lang", choices=[lang.value for lang in Lang], help="fix the reply language")
    chat.add_argument("--customer", metavar="ID", help="act as this customer (ref or id); default: the demo customer")
    chat.set_defaults(handler=cmd_chat)

    run = commands.add_parser("run", help="run the Telegram bot (TELEGRAM_BOT_TOKEN): long polling, or --webhook")
    run.add_argument("--webhook", metavar="URL", help="receive updates on this public URL instead of polling")
    run.add_argument("--listen", default="0.0.0.0", metavar="ADDRESS", help="webhook server address (default 0.0.0.0)")
    run.add_argument("--port", type=int, default=8443, help="webhook server port (default 8443)")
    run.set_defaults(handler=cmd_run)

    ask = commands.add_parser("ask", help="one reply per message (TEXT, or one message per line on stdin)")
    ask.add_argument("text", nargs="*", metavar="TEXT", help="the message; omit to read standard input")
    ask.add_argument("--json", action="store_true", help="one JSON object per reply: text, intent, confidence, …")
    ask.add_argument("--customer", metavar="ID", help="answer account questions as this customer (ref or id)")
    ask.set_defaults(handler=cmd_ask)

    evaluate = commands.add_parser("eval", help="accuracy on labelled YAML sets")
    evaluate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    evaluate.add_argument(
        "--min-accuracy", type=float, metavar="X", help="exit 1 when the matcher's overall accuracy is below X (0–1)"
    )
    evaluate.add_argument(
        "--baseline",
        action="store_true",
        help="also train a TF-IDF classifier on the knowledge-base examples and print both side by side (dev extras)",
    )
    evaluate.set_defaults(handler=cmd_eval)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations (Alembic) to DATABASE_URL").set_defaults(handler=cmd_db)

    demo = commands.add_parser("demo", help="seed the demo customers (idempotent; due dates relative to today)")
    demo.set_defaults(handler=cmd_demo)

    from bot.importer import file_format_help  # light: the columns, without the database parts

    load = commands.add_parser(
        "import",
        help="import orders and bills from a CSV or JSON file (all or nothing)",
        description="Import orders and bills from a CSV or JSON file, all or nothing: every problem of the\n"
        "file is listed with its row number in one run, and nothing is written while there is any.",
        epilog=file_format_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("file", type=Path, metavar="FILE", help="a .csv or .json file with the columns below")
    load.set_defaults(handler=cmd_import)

    remind = commands.add_parser("remind", help="send one batch of due-date reminders now (e.g. from cron)")
    remind.add_argument("--dry-run", action="store_true", help="print what would be sent; send and claim nothing")
    remind.add_argument(
        "--today", type=date.fromisoformat, metavar="DATE", help="act as if it were this day (YYYY-MM-DD, Asia/Shanghai)"
    )
    remind.set_defaults(handler=cmd_remind)

    report = commands.add_parser("report", help="what customers asked, and the unanswered questions grouped")
    report.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (default 7)")
    report.add_argument("--format", choices=["text", "csv"], default="text", help="text (default) or csv for spreadsheets")
    report.add_argument("--top", type=int, default=20, metavar="K", help="unanswered groups to list (default 20)")
    report.set_defaults(handler=cmd_report)

    conversation_log = commands.add_parser("log", help="the conversation log")
    log_commands = conversation_log.add_subparsers(dest="log_command", metavar="ACTION", required=True)
    log_commands.add_parser(
        "prune", help="delete entries older than LOG_RETENTION_DAYS (default 90)"
    ).set_defaults(handler=cmd_log_prune)

    kb = commands.add_parser("kb", help="the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    check = kb_commands.add_parser(
        "check", help="lint the knowledge base: conflicting or duplicate examples, thin intents, languages, placeholders"
    )
    check.add_argument("--dir", type=Path, metavar="DIR", help="the knowledge base folder (default: KNOWLEDGE_DIR)")
    check.set_defaults(handler=cmd_kb_check)

    link = commands.add_parser("link-code", help="print a one-time code that links a chat to a customer")
    link.add_argument("customer", metavar="CUSTOMER", help="customer ref or id")
    link.set_defaults(handler=cmd_link_code)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command is None:
        args = _parser().parse_args(["run" if settings.telegram_bot_token else "chat"])
    handler = configure_logging(settings.log_level, _secrets(settings))
    try:
        result = args.handler(settings, args)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result
    except KnowledgeBaseError as error:
        print(f"error: the assistant cannot start: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (``report | head``): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes stdout at exit
        return 1
    finally:
        logging.getLogger().removeHandler(handler)


def load_settings() -> Settings:
    """The settings, or a ``CommandError`` naming each wrong one (or the unreadable ``.env``)."""
    try:
        return Settings()
    except ValidationError as error:
        raise CommandError(describe_errors(error)) from error
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read the settings file .env: {error}") from error


def _secrets(settings: Settings) -> list[str]:
    """What must never appear in a log line."""
    return [value.get_secret_value() for value in (settings.telegram_bot_token, settings.pseudonym_secret) if value]
