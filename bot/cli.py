"""The command line: ``python bot.py COMMAND``. Each command parses, builds what it needs and runs.

Imports of heavy parts (the database, Telegram) happen inside the commands that need them, so that
``ask`` starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.conversation import Conversation
from bot.dialogue import Dialogue
from bot.replies import Reply
from bot.settings import Settings
from intents.matcher import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.text import Lang
from knowledge.yamlnodes import KnowledgeBaseError

TERMINAL_CHAT_ID = 0
"""The chat id the terminal front ends use; Telegram chat ids are never 0."""


class CommandError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def build_dialogue(settings: Settings) -> Dialogue:
    knowledge = load_knowledge_base(settings.knowledge_dir)
    return Dialogue(knowledge, Matcher(knowledge, settings.confidence_threshold))


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
    if args.text:
        messages = [" ".join(args.text)]
    else:
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
        messages = (line.rstrip("\n") for line in sys.stdin)  # type: ignore[assignment]
    single = bool(args.text)
    for message in messages:
        # Each line is its own conversation: a batch of unrelated messages must not leak context.
        reply = await dialogue.handle(Conversation(TERMINAL_CHAT_ID), message)
        if args.json:
            print(reply_json(message, reply), flush=True)
        else:
            print(reply.text if single else reply.text.replace("\n", " / "), flush=True)
    return 0


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    dialogue = build_dialogue(settings)
    conversation = Conversation(TERMINAL_CHAT_ID)
    if args.lang:
        dialogue.set_language(conversation, Lang(args.lang))
    print("小米商城分期助手 · Xiaomi Mall installment assistant — 输入问题，数字选择按钮，/quit 退出 (quit with /quit)")
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


def _render(reply: Reply) -> str:
    buttons = "  ".join(f"[{number}] {button.label}" for number, button in enumerate(reply.buttons, start=1))
    return f"\n{reply.text}" + (f"\n{buttons}" if buttons else "")


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluation import EvalSetError, evaluate, format_report, read_sets

    try:
        items = read_sets(args.files)
    except EvalSetError as error:
        raise CommandError(str(error)) from error
    matcher = build_dialogue(settings).matcher
    report = evaluate(items, lambda text: matcher.match(text).intent.value)
    print(format_report(report))
    if args.min_accuracy is not None and report.overall.rate < args.min_accuracy:
        print(f"overall accuracy {report.overall.rate:.1%} is below --min-accuracy {args.min_accuracy:.1%}", file=sys.stderr)
        return 1
    return 0


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
    chat.set_defaults(handler=cmd_chat)

    ask = commands.add_parser("ask", help="one reply per message (TEXT, or one message per line on stdin)")
    ask.add_argument("text", nargs="*", metavar="TEXT", help="the message; omit to read standard input")
    ask.add_argument("--json", action="store_true", help="one JSON object per reply: text, intent, confidence, …")
    ask.set_defaults(handler=cmd_ask)

    evaluate = commands.add_parser("eval", help="accuracy on labelled YAML sets")
    evaluate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    evaluate.add_argument("--min-accuracy", type=float, metavar="X", help="exit 1 when overall accuracy is below X (0–1)")
    evaluate.set_defaults(handler=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command is None:
        args = _parser().parse_args(["chat"])
    try:
        result = args.handler(settings, args)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result
    except KnowledgeBaseError as error:
        print(f"error: the assistant cannot start: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
