"""Per-conversation state: what the engine remembers between two messages of one chat."""

from __future__ import annotations

from dataclasses import dataclass

from intents.catalogue import IntentId
from knowledge.text import Lang


@dataclass
class Conversation:
    chat_id: int
    lang: Lang = Lang.ZH
    """The language of the last reply; follows each message unless ``lang_fixed``."""
    lang_fixed: bool = False
    step: int | None = None
    """Position in the checkout walkthrough (0-based), or None when not walking through it."""
    last_topic: IntentId | None = None
    awaiting_amount: bool = False
    """The calculator asked for a price; the next message that holds one answers it."""
    last_amount_fen: int | None = None
