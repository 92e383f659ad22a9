"""Realised performance: past scoring runs judged once their label windows have completed.

Churn labels arrive months late: a month scored at T is labelled when the data
reach T + horizon. For every past scoring run (MLflow runs tagged
``churn.kind=scoring``, the latest one per as-of month, found by
pipeline/tracking/monitoring_run.py), once the data cover its label window,
the accounts it scored are labelled with the definition its model was trained for
(:func:`pipeline.cohorts.labels.make_labels`) and the model and the
rules are compared by :func:`models.evaluation.compare_models`, so realised
metrics are defined exactly as in training.

The rules are judged by the fitted rule baseline's probabilities the scoring
run recorded; a run whose model carried no fitted baseline recorded none, and
the rules are then ranked by their weighted indicator count: ranking and
selection metrics stay exact, log loss and Brier score are left out (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evaluation import compare_models
from pipeline.cohorts.labels import make_labels
from pipeline.core.calendar import add_months
from pipeline.core.contract import Tables
from pipeline.core.params import EvaluationParams, LabelParams

MODEL, RULES = "lightgbm", "rules"
PROBABILITY_ONLY = ("log_loss", "brier")
KEYS = ["customer_id", "as_of"]


@dataclass(frozen=True)
class PastScoring:
    """One past scoring run: its month, the label its model was trained for, its model."""

    run_id: str
    as_of: pd.Timestamp
    label: LabelParams
    model_uri: str
    model_version: str

    def window_end(self) -> pd.Timestamp:
        """Return the last day of the run's label window, T + horizon."""
        return add_months(self.as_of, self.label.horizon_months)


class StoredScore:
    """A model stand-in that returns a stored score column as its probability."""

    def __init__(self, column: str):
        """Read ``column`` of the cohort."""
        self.column = column

    def predict_proba(self, cohort: pd.DataFrame) -> np.ndarray:
        """Return ``[[1 - p, p]]`` from the stored column."""
        p = cohort[self.column].to_numpy(dtype=np.float64)
        return np.column_stack([1.0 - p, p])


def realised_month(
    tables: Tables, past: PastScoring, scores: pd.DataFrame, evaluation: EvaluationParams
) -> pd.DataFrame:
    """Return one row per model (lightgbm, rules) of realised metrics for one scored month.

    Empty when none of the scored accounts could be labelled.

    Args:
        tables: the loaded data, whose observation_end covers the run's label window.
        past: the scoring run.
        scores: its compact scores (customer_id, as_of, churn_probability, rule_score,
            rule_probability, rule_alert, total_assets, value_tier).
        evaluation: params ``evaluation:`` (call-list capacity, lift fractions).
    """
    labels = make_labels(tables, [past.as_of], past.label)
    cohort = scores.merge(labels, on=KEYS, how="inner", validate="one_to_one")
    if not len(cohort):
        return pd.DataFrame()
    by_probability = bool(cohort["rule_probability"].notna().all())
    if not by_probability:
        # Monotone in the indicator count: ranking metrics equal the fitted baseline's.
        cohort["rule_probability"] = cohort["rule_score"] / (1.0 + cohort["rule_score"])
    comparison = compare_models(
        {MODEL: StoredScore("churn_probability"), RULES: StoredScore("rule_probability")},
        cohort,
        cohort["label"],
        feature_columns=(),
        evaluation=evaluation,
        rule_alerts=cohort["rule_alert"].astype(bool),
    )
    table = comparison.metrics.reset_index(names="model")
    if not by_probability:
        table.loc[table["model"] == RULES, list(PROBABILITY_ONLY)] = np.nan
    table = with_lead_over_rules(table, comparison)
    context = _month_context(past, len(scores), cohort["label"], by_probability)
    return pd.concat([pd.DataFrame([context] * len(table)), table], axis=1)


LEAD_COLUMNS = {"difference": "pr_auc_minus_rules", "low": "pr_auc_minus_rules_low",
                "high": "pr_auc_minus_rules_high"}  # fmt: skip


def with_lead_over_rules(table: pd.DataFrame, comparison) -> pd.DataFrame:
    """Add the model's PR-AUC lead over the rules and its bootstrap interval to the model's row.

    The same paired bootstrap over customers as the training report
    (models/uncertainty.py): an interval holding 0 says the month's lead may be chance.
    """
    lead = comparison.difference(RULES, "pr_auc")
    table = table.assign(**dict.fromkeys(LEAD_COLUMNS.values(), np.nan))
    if lead is not None:
        for figure, column in LEAD_COLUMNS.items():
            table.loc[table["model"] == MODEL, column] = float(lead[figure])
    return table


def _month_context(past: PastScoring, scored: int, labels: pd.Series, by_probability: bool):
    churners = int(labels.sum())
    return {
        "as_of": past.as_of,
        "scored": scored,
        "labelled": len(labels),
        "churners": churners,
        "churn_rate": churners / len(labels),
        "rules_scored_by": "probability" if by_probability else "indicator count",
        "model_version": past.model_version,
        "run_id": past.run_id,
    }
