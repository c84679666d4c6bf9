"""The operators' weekly report on the conversation log: what was asked, and what went unanswered.

Pure: it takes logged messages and returns figures, so it is tested without a database. The review
list holds the *unanswered* messages — out of scope, or answered with "did you mean…" because the
match was not confident enough. Customers word one missing question in many ways, so similar messages
are grouped (rapidfuzz's normalised Indel similarity on normalised text, ``GROUP_SIMILARITY``) and
listed once with their count, largest group first, each with the intent the matcher found closest.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process

from intents.catalogue import IntentId
from intents.normalize import normalize

GROUP_SIMILARITY = 70.0
"""Two messages at least this similar (0–100) are variants of one question."""
CSV_HEADER = ("section", "item", "count", "share", "closest_intent")


@dataclass(frozen=True)
class LoggedMessage:
    """One log entry as the report reads it; ``closest`` is the best in-scope intent, if any."""

    logged_at: datetime
    chat: str
    text: str
    intent: str
    confidence: float
    closest: str | None
    fallback: bool


@dataclass(frozen=True)
class Group:
    """Variants of one unanswered question. ``text`` is the most frequent wording."""

    text: str
    count: int
    variants: int
    chats: int
    closest: str | None


@dataclass(frozen=True)
class Report:
    days: int
    messages: int
    chats: int
    intents: list[tuple[str, int]]
    """Every intent answered, most frequent first."""
    fallbacks: int
    out_of_scope: int
    groups: list[Group]
    """Unanswered messages grouped by similarity, largest first (all of them; callers cut)."""

    def share(self, count: int) -> float:
        return count / self.messages if self.messages else 0.0


def build_report(messages: Sequence[LoggedMessage], days: int) -> Report:
    counts = Counter(message.intent for message in messages)
    return Report(
        days=days,
        messages=len(messages),
        chats=len({message.chat for message in messages}),
        intents=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
        fallbacks=sum(message.fallback for message in messages),
        out_of_scope=counts[IntentId.OUT_OF_SCOPE.value],
        groups=group_similar([message for message in messages if message.fallback]),
    )


def group_similar(messages: Sequence[LoggedMessage]) -> list[Group]:
    """Groups messages whose normalised text is at least ``GROUP_SIMILARITY`` similar to a group's
    most frequent wording. Wordings are taken most frequent first, so each group is named by its most
    common form and a one-off variant cannot split a large group."""
    by_key: dict[str, list[LoggedMessage]] = {}
    for message in messages:
        by_key.setdefault(normalize(message.text) or message.text, []).append(message)
    keys = sorted(by_key, key=lambda key: (-len(by_key[key]), key))
    leaders: list[str] = []
    members: dict[str, list[str]] = {}
    for key in keys:
        found = process.extractOne(key, leaders, scorer=fuzz.ratio, score_cutoff=GROUP_SIMILARITY)
        if found is None:
            leaders.append(key)
            members[key] = [key]
        else:
            members[found[0]].append(key)
    groups = []
    for leader in leaders:
        grouped = [message for key in members[leader] for message in by_key[key]]
        wording = Counter(message.text for message in by_key[leader]).most_common(1)[0][0]
        closest = Counter(message.closest for message in grouped if message.closest).most_common(1)
        groups.append(
            Group(
                text=wording,
                count=len(grouped),
                variants=len(members[leader]),
                chats=len({message.chat for message in grouped}),
                closest=closest[0][0] if closest else None,
            )
        )
    return sorted(groups, key=lambda group: (-group.count, group.text))


def format_text(report: Report, top: int) -> str:
    if not report.messages:
        return f"The conversation log has no messages from the last {report.days} day(s): nothing to report."
    lines = [
        f"Last {report.days} day(s): {report.messages} message(s) from {report.chats} chat(s)",
        f"Unanswered (out of scope or \"did you mean\"): {report.fallbacks} ({report.share(report.fallbacks):.1%})",
        f"Out of scope: {report.out_of_scope} ({report.share(report.out_of_scope):.1%})",
        "",
        "Intents:",
        *(f"  {count:5}  {report.share(count):6.1%}  {intent}" for intent, count in report.intents),
        "",
    ]
    if not report.groups:
        lines.append("Every message was answered.")
        return "\n".join(lines)
    lines.append(f"Top unanswered questions (similar wordings grouped; {len(report.groups)} group(s)):")
    lines.append("  count  variants  closest intent             message")
    for group in report.groups[:top]:
        lines.append(f"  {group.count:5}  {group.variants:8}  {group.closest or '-':25}  {group.text}")
    return "\n".join(lines)


def format_csv(report: Report, top: int) -> str:
    """One table for a spreadsheet: summary figures, the intent distribution, the unanswered groups."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(("summary", "messages", report.messages, "", ""))
    writer.writerow(("summary", "chats", report.chats, "", ""))
    writer.writerow(("summary", "unanswered", report.fallbacks, f"{report.share(report.fallbacks):.4f}", ""))
    writer.writerow(("summary", "out_of_scope", report.out_of_scope, f"{report.share(report.out_of_scope):.4f}", ""))
    for intent, count in report.intents:
        writer.writerow(("intent", intent, count, f"{report.share(count):.4f}", ""))
    for group in report.groups[:top]:
        writer.writerow(("unanswered", group.text, group.count, f"{report.share(group.count):.4f}", group.closest or ""))
    return out.getvalue()
