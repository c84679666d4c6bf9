"""The trained topic model: it must learn which words separate topics, not which ones they share."""

from __future__ import annotations

import numpy as np

from intents.topics import TopicModel, features

AUTO, MANUAL = 0, 1


def model() -> TopicModel:
    documents = [
        "自 动 扣 款 怎 么 开 通",
        "自 动 还 款 失 败",
        "绑 定 卡 自 动 扣",
        "主 动 还 款 在 哪",
        "手 动 还 款 怎 么 操 作",
        "自 己 主 动 还",
    ]
    return TopicModel([features(text.split()) for text in documents], [AUTO, AUTO, AUTO, MANUAL, MANUAL, MANUAL], 2)


def test_the_separating_word_decides_when_the_rest_is_shared() -> None:
    topics = model()
    assert topics.probabilities(features("主 动 还 款".split())).argmax() == MANUAL
    assert topics.probabilities(features("自 动 还 款".split())).argmax() == AUTO


def test_probabilities_are_a_distribution_even_for_unknown_words() -> None:
    probabilities = model().probabilities(features(["天", "气"]))
    assert np.isclose(probabilities.sum(), 1.0)
    assert np.allclose(probabilities, 0.5, atol=0.1)
