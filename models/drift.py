"""Population stability: how far a scoring cohort has moved from the training cohort.

The training run stores a compact reference profile of every model feature and
of the score (bin edges and shares); scoring compares its cohort with it by the
population stability index, PSI = sum((actual - expected) * ln(actual / expected)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SCORE = "churn_probability"
_FLOOR = 1e-4  # share given to an empty bin so the logarithm stays finite


def _numeric_edges(values: np.ndarray, bins: int) -> list[float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return [float(e) for e in edges]


def _numeric_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Shares per bin (edges split the line; values equal to an edge go right), then NaN."""
    finite = np.isfinite(values)
    counts = np.bincount(
        np.searchsorted(edges, values[finite], side="right"), minlength=len(edges) + 1
    ).astype(float)
    counts = np.append(counts, (~finite).sum())
    return (counts / max(len(values), 1)).tolist()


def _category_shares(series: pd.Series, categories: list[str]) -> list[float]:
    text = series.astype("string").fillna("<missing>")
    counts = text.value_counts()
    shares = [float(counts.get(c, 0)) / max(len(series), 1) for c in categories]
    return shares + [1.0 - sum(shares)]


def column_profile(series: pd.Series, bins: int) -> dict[str, Any]:
    """Return the bins and shares that describe one column's distribution."""
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
        categories = sorted(series.astype("string").fillna("<missing>").unique().tolist())
        return {
            "kind": "category",
            "categories": categories,
            "shares": _category_shares(series, categories),
        }
    values = series.astype("float64").to_numpy()
    edges = _numeric_edges(values, bins)
    return {"kind": "numeric", "edges": edges, "shares": _numeric_shares(values, edges)}


def reference_profile(
    frame: pd.DataFrame, columns: Sequence[str], score: np.ndarray, bins: int
) -> dict[str, Any]:
    """Return the training cohort's profile of every model column and of the score."""
    profile = {column: column_profile(frame[column], bins) for column in columns}
    profile[SCORE] = column_profile(pd.Series(score, dtype="float64"), bins)
    return profile


def shares_like(reference: dict[str, Any], series: pd.Series) -> list[float]:
    """Return a column's shares in the reference profile's bins."""
    if reference["kind"] == "category":
        return _category_shares(series, reference["categories"])
    return _numeric_shares(series.astype("float64").to_numpy(), reference["edges"])


def population_stability_index(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Return the PSI between two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=float), _FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_table(reference: dict[str, Any], frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Return PSI per column of the reference found in ``frame``, largest first, flagged."""
    rows = []
    for column, profile in reference.items():
        if column not in frame.columns:
            continue
        psi = population_stability_index(profile["shares"], shares_like(profile, frame[column]))
        rows.append({"column": column, "psi": psi, "drifted": psi > threshold})
    table = pd.DataFrame(rows, columns=["column", "psi", "drifted"])
    return table.sort_values("psi", ascending=False, ignore_index=True)
