"""What the dialogue engine answers with: plain data that any front end can render."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from intents.catalogue import IntentId
from intents.matcher import Candidate


class Action(StrEnum):
    """Button actions. A topic button's action is ``topic:<intent id>``; these are the others."""

    STEP_NEXT = "step:next"
    STEP_BACK = "step:back"
    STEP_ALL = "step:all"
    MENU = "menu"


TOPIC_PREFIX = "topic:"


def topic_action(intent: IntentId) -> str:
    return TOPIC_PREFIX + intent


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    intent: IntentId = IntentId.OUT_OF_SCOPE
    confidence: float = 0.0
    alternatives: tuple[Candidate, ...] = ()
    figures: dict[str, object] = field(default_factory=dict)
    """The account or calculator figures the text was built from (amounts in fen, dates ISO)."""
    fallback: bool = False
    """The question was not answered: out of scope, or "did you mean…" (what operators review)."""
