"""Which topic a message's words point to: a softmax regression trained on the examples at load.

A similarity to the average example of each intent (a TF-IDF centroid) weighs every shared word
alike; a trained model learns which words *separate* neighbouring intents (自动 for auto-debit
versus 主动 for manual repayment) and which say nothing (分期 occurs everywhere). Trained here
with numpy on sparse features, in a fraction of a second, so the runtime needs no machine-learning
library and an edited knowledge base is picked up by building a new matcher.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

REGULARISATION = 1 / 30
"""L2 penalty on the weights (C = 30 in scikit-learn's terms): weak, since the examples are clean."""
STEPS = 50
"""Adam steps from zero weights; more do not improve held-out accuracy, and stopping early also regularises."""
LEARNING_RATE = 0.5


def features(tokens: Sequence[str]) -> set[str]:
    """Token unigrams and bigrams: the bigrams keep word order where it matters (提前 还 vs 还 提前)."""
    return set(tokens) | {a + " " + b for a, b in zip(tokens, tokens[1:])}


class TopicModel:
    """Multinomial logistic regression over TF-IDF weighted features, one row per example."""

    def __init__(self, documents: Sequence[set[str]], labels: Sequence[int], classes: int) -> None:
        kept = [(document, label) for document, label in zip(documents, labels) if document]
        counts = Counter(feature for document, _ in kept for feature in document)
        self._index = {feature: i for i, feature in enumerate(counts)}
        self._idf = np.array([math.log((1 + len(kept)) / (1 + n)) + 1 for n in counts.values()], dtype=np.float32)
        encoded = [self._encode(document) for document, _ in kept]
        rows = np.repeat(np.arange(len(encoded)), [len(ids) for ids, _ in encoded])
        columns = np.concatenate([ids for ids, _ in encoded])
        values = np.concatenate([weights for _, weights in encoded])
        self.weights, self.bias = _train(rows, columns, values, np.array([label for _, label in kept]), classes)

    def _encode(self, document: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """Known feature ids and their weights, L2-normalised over the known features."""
        ids = np.array([self._index[f] for f in document if f in self._index], dtype=np.int64)
        weights = self._idf[ids]
        norm = float(np.sqrt((weights**2).sum()))
        return ids, weights / norm if norm else weights

    def probabilities(self, document: set[str]) -> np.ndarray:
        """Probability of each class; a message of unknown words only gets the class priors."""
        ids, weights = self._encode(document)
        logits = weights @ self.weights[ids] + self.bias
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()


def _train(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray, labels: np.ndarray, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch Adam on the summed cross-entropy plus the L2 penalty.

    The design matrix stays sparse as (row, column, value) triples: products with it are a gather
    and a segmented sum (``np.add.reduceat``), sorted once by row and once by column.
    """
    n_features = int(columns.max()) + 1
    row_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    by_column = np.argsort(columns, kind="stable")
    sorted_columns = columns[by_column]
    column_starts = np.flatnonzero(np.r_[True, sorted_columns[1:] != sorted_columns[:-1]])
    present = sorted_columns[column_starts]
    column_values, column_rows = values[by_column][:, None], rows[by_column]
    targets = np.eye(classes, dtype=np.float32)[labels]

    weights = np.zeros((n_features, classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, STEPS + 1):
        logits = np.add.reduceat(values[:, None] * weights[columns], row_starts) + bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = probabilities - targets
        gradient = REGULARISATION * weights
        gradient[present] += np.add.reduceat(column_values * error[column_rows], column_starts)
        for parameter, grad, first, second in (
            (weights, gradient, moments[0], moments[1]),
            (bias, error.sum(axis=0), moments[2], moments[3]),
        ):
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            second += (1 - beta2) * grad * grad
            parameter -= (
                LEARNING_RATE * (first / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + 1e-8)
            )
    return weights, bias
