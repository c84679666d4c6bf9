"""Shared fixtures."""

from __future__ import annotations

import pytest

from bot.dialogue import Dialogue
from bot.settings import Settings
from intents.matcher import Matcher
from knowledge.loader import load_knowledge_base
from knowledge.model import KnowledgeBase

# --- conversation core (knowledge base, matcher, dialogue) -----------------------------------------


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def matcher(knowledge: KnowledgeBase) -> Matcher:
    return Matcher(knowledge, Settings().confidence_threshold)


@pytest.fixture
def dialogue(knowledge: KnowledgeBase, matcher: Matcher) -> Dialogue:
    return Dialogue(knowledge, matcher)
