"""Side-by-side evaluation of any set of models on the same out-of-time cohort.

Every model is scored on the same rows and judged by the same metrics
(:mod:`models.metrics`), overall, per test month and per value tier; the
rules' alerts are compared with each model's monthly call list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.estimator import churn_labels
from models.metrics import metric_row, selections
from models.overlap import alert_summary, rules_overlap
from models.uncertainty import DIFFERENCE_COLUMNS, paired_differences
from pipeline.core.errors import ChurnError
from pipeline.core.params import EvaluationParams

COHORT_COLUMNS = ("customer_id", "as_of", "total_assets", "value_tier")
UNKNOWN_TIER = "unknown"


@dataclass
class Comparison:
    """The result of :func:`compare_models` (tables indexed by model name)."""

    test_as_of: list[pd.Timestamp]
    rows: int
    churn_rate: float
    call_list_capacity: int
    metrics: pd.DataFrame
    per_month: pd.DataFrame
    per_tier: pd.DataFrame
    overlap: dict[str, pd.DataFrame]
    caught_only_by_model: dict[str, pd.DataFrame]
    caught_only_by_rules: dict[str, pd.DataFrame]
    rule_alerts: dict[str, float]
    scores: pd.DataFrame
    lead: str = ""
    differences_confidence: float = 0.95
    differences: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    )

    @property
    def model_names(self) -> list[str]:
        """Return the compared models' names, in the order given."""
        return list(self.metrics.index)

    def probabilities(self) -> dict[str, np.ndarray]:
        """Return each model's churn probability per cohort row (for the plots)."""
        return {name: self.scores[name].to_numpy() for name in self.model_names}

    def to_metrics_json(self) -> dict[str, Any]:
        """Return the metrics.json tree (NaN as null, dates as ISO strings)."""
        return {
            "cohort": {
                "test_as_of": [month.date().isoformat() for month in self.test_as_of],
                "rows": self.rows,
                "churn_rate": _json_number(self.churn_rate),
            },
            "models": {name: _json_row(row) for name, row in self.metrics.iterrows()},
            "per_month": _json_groups(self.per_month, "as_of"),
            "per_tier": _json_groups(self.per_tier, "value_tier"),
            "rule_alerts": {key: _json_number(value) for key, value in self.rule_alerts.items()},
            "overlap": {
                name: {group: _json_row(row) for group, row in table.iterrows()}
                for name, table in self.overlap.items()
            },
            "call_list_capacity": self.call_list_capacity,
            "differences": self.differences_json(),
        }

    def differences_json(self) -> dict[str, Any]:
        """Return ``{lead, confidence rows: {other: {metric: {difference, low, high}}}}``."""
        against: dict[str, dict[str, Any]] = {}
        for row in self.differences.itertuples(index=False):
            against.setdefault(row.model, {})[row.metric] = {
                "difference": _json_number(row.difference),
                "low": _json_number(row.low),
                "high": _json_number(row.high),
                "resamples": int(row.resamples),
            }
        return {"lead": self.lead, "confidence": self.differences_confidence, "against": against}

    def difference(self, other: str, metric: str) -> pd.Series | None:
        """Return the lead model's difference to ``other`` on ``metric`` (a row), if measured."""
        rows = self.differences[
            (self.differences["model"] == other) & (self.differences["metric"] == metric)
        ]
        return rows.iloc[0] if len(rows) else None


def _json_number(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value if isinstance(value, str) else str(value)


def _json_row(row: pd.Series) -> dict[str, Any]:
    return {key: _json_number(value) for key, value in row.items()}


def _json_groups(table: pd.DataFrame, group: str) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [_json_row(row) for _, row in part.drop(columns="model").iterrows()]
        for name, part in table.groupby("model", sort=False)
    }


def _check_cohort(cohort: pd.DataFrame, feature_columns: Sequence[str], alerts: Any) -> np.ndarray:
    missing = [c for c in (*COHORT_COLUMNS, *feature_columns) if c not in cohort.columns]
    if missing:
        raise ChurnError(f"evaluation cohort lacks columns {missing}")
    if isinstance(alerts, pd.Series) and not alerts.index.equals(cohort.index):
        raise ChurnError("rule_alerts must be indexed like the cohort")
    flags = np.asarray(alerts, dtype=bool)
    if len(flags) != len(cohort):
        raise ChurnError(f"rule_alerts has {len(flags)} rows, the cohort {len(cohort)}")
    return flags


def compare_models(
    models: Mapping[str, Any],
    cohort: pd.DataFrame,
    y: Any,
    *,
    feature_columns: Sequence[str],
    evaluation: EvaluationParams,
    rule_alerts: pd.Series,
    lead: str | None = None,
) -> Comparison:
    """Score every fitted model on the cohort and compute identical metrics for each.

    Beside the metrics, the ``lead`` model's ROC-AUC and PR-AUC differences to every
    other model with a bootstrap interval over customers (models/uncertainty.py;
    ``evaluation.bootstrap_resamples``, ``confidence``, ``bootstrap_seed``).

    Args:
        models: name -> fitted model with ``predict_proba(cohort)`` (each model
            picks its own columns from the cohort).
        cohort: the test months' feature matrix with customer_id, as_of,
            total_assets and value_tier.
        y: churn labels (0/1) aligned with the cohort's rows.
        feature_columns: the model columns (checked to be present).
        evaluation: params.yaml ``evaluation:`` (call_list_capacity, lift_fractions).
        rule_alerts: the guideline's alerts (red or yellow) per cohort row.
        lead: the model whose lead is measured; None: the first model.

    Raises:
        ChurnError: missing columns, misaligned labels or alerts, or no models.
    """
    if not models:
        raise ChurnError("compare_models needs at least one model")
    clashing = set(models) & {*COHORT_COLUMNS, "churn", "rule_alert"}
    if clashing:
        raise ChurnError(f"model names {sorted(clashing)} clash with cohort column names")
    alerts = _check_cohort(cohort, feature_columns, rule_alerts)
    labels = churn_labels(y, len(cohort), "evaluation cohort").astype("float64")
    scores = _score_table(models, cohort, labels, alerts)
    frames = [_model_tables(name, scores, evaluation) for name in models]
    overlaps = {name: rules_overlap(scores, name, evaluation.call_list_capacity) for name in models}
    lead = lead or next(iter(models))
    if lead not in models:
        raise ChurnError(f"lead model {lead!r} is not among the compared models {list(models)}")
    differences = paired_differences(
        scores,
        lead,
        [name for name in models if name != lead],
        resamples=evaluation.bootstrap_resamples,
        confidence=evaluation.confidence,
        seed=evaluation.bootstrap_seed,
    )
    return Comparison(
        test_as_of=sorted(pd.DatetimeIndex(scores["as_of"].unique())),
        rows=len(cohort),
        churn_rate=float(labels.mean()) if len(labels) else float("nan"),
        call_list_capacity=evaluation.call_list_capacity,
        metrics=pd.DataFrame({name: f[0] for name, f in zip(models, frames, strict=True)}).T,
        per_month=pd.concat([f[1] for f in frames], ignore_index=True),
        per_tier=pd.concat([f[2] for f in frames], ignore_index=True),
        overlap={name: o[0] for name, o in overlaps.items()},
        caught_only_by_model={name: o[1] for name, o in overlaps.items()},
        caught_only_by_rules={name: o[2] for name, o in overlaps.items()},
        rule_alerts=alert_summary(scores),
        scores=scores,
        lead=lead,
        differences=differences,
        differences_confidence=evaluation.confidence,
    )


def _score_table(
    models: Mapping[str, Any], cohort: pd.DataFrame, labels: np.ndarray, alerts: np.ndarray
) -> pd.DataFrame:
    tiers = cohort["value_tier"].astype(object).where(cohort["value_tier"].notna(), UNKNOWN_TIER)
    known = list(
        getattr(cohort["value_tier"].dtype, "categories", sorted(set(tiers) - {UNKNOWN_TIER}))
    )
    table = pd.DataFrame(
        {
            "customer_id": cohort["customer_id"].to_numpy(),
            "as_of": cohort["as_of"].to_numpy(),
            "value_tier": pd.Categorical(
                tiers.astype(str), categories=[*map(str, known), UNKNOWN_TIER]
            ),
            "total_assets": cohort["total_assets"].to_numpy(dtype="float64"),
            "churn": labels,
            "rule_alert": alerts,
        }
    )
    for name, model in models.items():
        table[name] = np.asarray(model.predict_proba(cohort), dtype="float64")[:, 1]
    return table


def _model_tables(
    name: str, scores: pd.DataFrame, evaluation: EvaluationParams
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """Return one model's overall metrics and its per-month and per-tier tables."""
    months = scores["as_of"].to_numpy()
    picked = selections(
        scores[name].to_numpy(),
        months,
        scores["rule_alert"].to_numpy(),
        lift_fractions=evaluation.lift_fractions,
        call_list_capacity=evaluation.call_list_capacity,
    )

    def on(rows: np.ndarray) -> dict[str, float]:
        return metric_row(
            scores["churn"].to_numpy()[rows],
            scores[name].to_numpy()[rows],
            scores["total_assets"].to_numpy()[rows],
            {key: weights[rows] for key, weights in picked.items()},
            evaluation.lift_fractions,
        )

    everyone = np.ones(len(scores), dtype=bool)
    return (
        on(everyone),
        _by_group(scores, name, "as_of", on),
        _by_group(scores, name, "value_tier", on),
    )


def _by_group(scores: pd.DataFrame, name: str, column: str, on) -> pd.DataFrame:
    records = []
    for value in _group_order(scores[column]):
        rows = (scores[column] == value).to_numpy()
        churners = int(scores["churn"].to_numpy()[rows].sum())
        records.append(
            {
                "model": name,
                column: value,
                "rows": int(rows.sum()),
                "churners": churners,
                **on(rows),
            }
        )
    return pd.DataFrame(records)


def _group_order(values: pd.Series) -> list:
    """Return group values in their natural order (value tiers keep their category order)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [value for value in values.cat.categories if (values == value).any()]
    return sorted(values.unique())
