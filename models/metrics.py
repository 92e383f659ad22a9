"""The evaluation metrics, computed identically for every model.

Selection metrics (lift, precision and recall at K, recall at the rules'
volume, assets at risk) select customers month by month, because advisors
work a monthly call list: each as-of month's top ``k`` by the model's score.
Customers tied on the score at the cut-off share the remaining places
equally (fractional membership), which is the expected result of breaking the
tie at random; it keeps results independent of row order and fair to a
coarse score such as the rule baseline's. A selection is therefore a weight
per row in [0, 1] that sums to ``k`` in each month.

Definitions (``w`` selection weight, ``y`` churned 0/1, ``a`` total assets at
the as-of date, NaN assets count as 0), over any group of rows:

- precision = sum(w*y) / sum(w); recall = sum(w*y) / sum(y);
- lift_at_Fpct = precision of each month's top F% / the group's churn rate;
- precision_at_k, recall_at_k: each month's top K (``call_list_capacity``);
- recall_at_rule_volume: each month's top n_m, n_m = the rules' alerts that month;
- assets_at_risk_recall = sum(w*y*a) / sum(y*a) for the top-K call list: the
  share of churned customers' assets that were on the call list.

A metric with an empty denominator (no churner, nobody selected) is NaN, and so
are ROC-AUC and PR-AUC on a group holding a single class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from pipeline.core.errors import ChurnError


def lift_name(fraction: float) -> str:
    """Return the metric name of a lift fraction: 0.1 -> ``lift_at_10pct``."""
    return f"lift_at_{round(fraction * 100, 6):g}pct"


def top_weights(scores: np.ndarray, k: float) -> np.ndarray:
    """Return each row's membership of the top ``k`` by score, ties sharing the last places.

    Rows scoring above the k-th highest score get 1, rows tied with it share the
    remaining ``k - above`` places equally, the rest get 0; ``k`` may be fractional.
    """
    scores = np.asarray(scores, dtype="float64")
    k = float(min(max(k, 0.0), len(scores)))
    weights = np.zeros(len(scores))
    if k <= 0:
        return weights
    threshold = np.sort(scores)[::-1][math.ceil(k) - 1]
    above = scores > threshold
    tied = scores == threshold
    weights[above] = 1.0
    weights[tied] = (k - above.sum()) / tied.sum()
    return weights


def monthly_top_weights(
    scores: np.ndarray, months: np.ndarray, places: Mapping[object, float]
) -> np.ndarray:
    """Return top-``places[month]`` membership computed separately within each month."""
    weights = np.zeros(len(scores))
    for month, k in places.items():
        rows = months == month
        weights[rows] = top_weights(scores[rows], k)
    return weights


def selections(
    scores: np.ndarray,
    months: np.ndarray,
    alerts: np.ndarray,
    *,
    lift_fractions: Sequence[float],
    call_list_capacity: int,
) -> dict[str, np.ndarray]:
    """Return the monthly selections every model is judged on, by name."""
    month_values, month_rows = np.unique(months, return_counts=True)
    rows_of = dict(zip(month_values, month_rows, strict=True))
    picked = {
        lift_name(f): monthly_top_weights(scores, months, {m: f * n for m, n in rows_of.items()})
        for f in lift_fractions
    }
    capacity = {m: min(call_list_capacity, n) for m, n in rows_of.items()}
    picked["at_k"] = monthly_top_weights(scores, months, capacity)
    volume = {m: float(alerts[months == m].sum()) for m in month_values}
    picked["at_rule_volume"] = monthly_top_weights(scores, months, volume)
    return picked


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def selection_metrics(weights: np.ndarray, y: np.ndarray, assets: np.ndarray) -> dict[str, float]:
    """Return precision, recall and assets-at-risk recall of one selection on a group."""
    caught = weights * y
    churned_assets = y * np.nan_to_num(assets, nan=0.0)
    return {
        "precision": _ratio(caught.sum(), weights.sum()),
        "recall": _ratio(caught.sum(), y.sum()),
        "assets_recall": _ratio((weights * churned_assets).sum(), churned_assets.sum()),
    }


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Return ROC-AUC, PR-AUC, log loss and Brier score (NaN where undefined)."""
    if not len(y):
        return dict.fromkeys(("roc_auc", "pr_auc", "log_loss", "brier"), float("nan"))
    both_classes = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both_classes else float("nan"),
        "log_loss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "brier": float(brier_score_loss(y, p, pos_label=1)),
    }


def metric_row(
    y: np.ndarray,
    p: np.ndarray,
    assets: np.ndarray,
    picked: Mapping[str, np.ndarray],
    lift_fractions: Sequence[float],
) -> dict[str, float]:
    """Return every metric of one model on one group of rows (selections already masked)."""
    if not np.isfinite(p).all():
        raise ChurnError("a model returned non-finite probabilities")
    row = probability_metrics(y, p)
    churn_rate = _ratio(y.sum(), len(y))
    for fraction in lift_fractions:
        name = lift_name(fraction)
        row[name] = _ratio(selection_metrics(picked[name], y, assets)["precision"], churn_rate)
    at_k = selection_metrics(picked["at_k"], y, assets)
    at_volume = selection_metrics(picked["at_rule_volume"], y, assets)
    row.update(
        precision_at_k=at_k["precision"],
        recall_at_k=at_k["recall"],
        recall_at_rule_volume=at_volume["recall"],
        precision_at_rule_volume=at_volume["precision"],
        assets_at_risk_recall=at_k["assets_recall"],
        assets_at_risk_recall_at_rule_volume=at_volume["assets_recall"],
    )
    return row
