"""How sure a difference between two models is: a paired bootstrap over customers.

A gap of 0.003 in ROC-AUC between two models on one test cohort can be chance.
The honest statement is an interval: resample the cohort's **customers** with
replacement (every month of a drawn customer comes along, because a customer's
test months are not independent of one another), score both models on each
resample, and take the percentile interval of the difference. Both models are
judged on the same resampled customers, so what they share cancels (a paired
design), and the interval is much narrower than either model's own.

The metrics are the evaluation's own (ROC-AUC, and PR-AUC as scikit-learn's
``average_precision_score``) with the resample counts as weights. They are
computed here in one pass over each model's scores sorted once, so a
resample costs a few array operations, not a sort; the tests check them against
scikit-learn's weighted metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DIFFERENCE_METRICS = ("roc_auc", "pr_auc")
DIFFERENCE_COLUMNS = ["model", "metric", "difference", "low", "high", "resamples"]


@dataclass(frozen=True)
class RankedScores:
    """One model's scores sorted once (highest first) with their groups of equal scores.

    ``order`` sorts the rows by descending score; ``starts`` are the first position of
    each run of equal scores in that order (ties are scored as scikit-learn does).
    """

    order: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray) -> RankedScores:
        """Sort ``scores`` once (stable, highest first) and find the runs of equal values."""
        scores = np.asarray(scores, dtype="float64")
        order = np.argsort(-scores, kind="stable")
        ranked = scores[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ranked) else ranked
        return cls(order, starts.astype(np.int64))

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """Add ``values`` (per row, in the input order) up within each group of equal scores."""
        return np.add.reduceat(values[self.order], self.starts) if len(self.order) else values


def weighted_roc_auc(ranked: RankedScores, churn: np.ndarray, weights: np.ndarray) -> float:
    """Return the ROC-AUC of the ranked scores with row weights (ties count one half).

    Business meaning: the chance that a randomly drawn churner (by weight) is ranked above
    a randomly drawn stayer; NaN when the weighted rows hold only one class.
    """
    positives = ranked.group_sums(weights * churn)
    negatives = ranked.group_sums(weights * (1.0 - churn))
    total_pos, total_neg = positives.sum(), negatives.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    # groups run from the highest score down: the negatives ranked below a group are
    # those of every later group
    below = total_neg - np.cumsum(negatives)
    return float(np.sum(positives * (below + 0.5 * negatives)) / (total_pos * total_neg))


def weighted_average_precision(
    ranked: RankedScores, churn: np.ndarray, weights: np.ndarray
) -> float:
    """Return the average precision (PR-AUC) of the ranked scores with row weights.

    Business meaning: the precision of the call list averaged over the churners it reaches,
    cutting at every distinct score from the top (scikit-learn's step-wise definition);
    NaN without a weighted churner.
    """
    positives = ranked.group_sums(weights * churn)
    flagged = ranked.group_sums(weights)
    total_pos = positives.sum()
    if total_pos <= 0:
        return float("nan")
    caught, listed = np.cumsum(positives), np.cumsum(flagged)
    precision = np.divide(caught, listed, out=np.zeros_like(caught), where=listed > 0)
    return float(np.sum(positives / total_pos * precision))


METRIC_FUNCTIONS = {"roc_auc": weighted_roc_auc, "pr_auc": weighted_average_precision}


def customer_resample_weights(
    customer_ids: Sequence, resamples: int, seed: int
) -> list[np.ndarray]:
    """Return one row-weight vector per bootstrap resample of the customers.

    Each resample draws as many customers as there are, with replacement; a row's weight
    is how often its customer was drawn (all of a customer's months move together).
    """
    codes, uniques = pd.factorize(pd.Series(customer_ids).astype(str), sort=True)
    rng = np.random.default_rng(seed)
    n = len(uniques)
    weights = []
    for _ in range(resamples):
        counts = np.bincount(rng.integers(0, n, n), minlength=n) if n else np.zeros(0)
        weights.append(counts[codes].astype("float64"))
    return weights


def paired_differences(
    scores: pd.DataFrame,
    model: str,
    others: Sequence[str],
    *,
    resamples: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Return ``model`` minus each other model on ROC-AUC and PR-AUC, with bootstrap intervals.

    Args:
        scores: one row per customer-month with ``customer_id``, ``churn`` (0/1) and a
            score column per model (the comparison's score table).
        model: the model whose lead is measured (the registered one).
        others: the models it is compared with.
        resamples: bootstrap resamples of the customers (0: no interval, only the
            differences).
        confidence: the interval's coverage, e.g. 0.95.
        seed: the resampling's seed.

    Returns:
        One row per (other model, metric): ``difference`` on the cohort itself and the
        percentile interval ``low``..``high`` (NaN without resamples).
    """
    churn = scores["churn"].to_numpy("float64")
    ranked = {name: RankedScores.of(scores[name].to_numpy("float64")) for name in [model, *others]}
    ones = np.ones(len(scores))
    draws = customer_resample_weights(scores["customer_id"], resamples, seed)
    tail = (1.0 - confidence) / 2.0
    rows = []
    for metric in DIFFERENCE_METRICS:
        measure = METRIC_FUNCTIONS[metric]
        ours = np.array([measure(ranked[model], churn, w) for w in draws])
        for other in others:
            point = measure(ranked[model], churn, ones) - measure(ranked[other], churn, ones)
            theirs = np.array([measure(ranked[other], churn, w) for w in draws])
            spread = (ours - theirs)[np.isfinite(ours - theirs)]
            low, high = np.quantile(spread, [tail, 1.0 - tail]) if len(spread) else (np.nan, np.nan)
            rows.append([other, metric, point, float(low), float(high), len(spread)])
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
