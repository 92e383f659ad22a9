"""Who is caught: the rules' alerts against a model's monthly call list, on the same customers.

The report's overlap tables and the rules' own figures as a selection come from
here (:func:`models.evaluation.compare_models` calls both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import selection_metrics

OVERLAP_GROUPS = ("both", "model only", "rules only", "neither")


def call_list(scores: pd.DataFrame, name: str, capacity: int) -> np.ndarray:
    """Return whether each row is on the model's monthly top-K call list.

    Ties at the cut-off are broken by customer_id so the list is a definite set.
    """
    ranked = scores.sort_values(["as_of", name, "customer_id"], ascending=[True, False, True])
    on_list = ranked.groupby("as_of", sort=False).cumcount() < capacity
    return on_list.reindex(scores.index).to_numpy()


def rules_overlap(
    scores: pd.DataFrame, name: str, capacity: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return rule alerts vs the model's call list, and the churners only one of them caught."""
    on_list = call_list(scores, name, capacity)
    alert = scores["rule_alert"].to_numpy()
    churned = scores["churn"].to_numpy() == 1
    assets = np.nan_to_num(scores["total_assets"].to_numpy(), nan=0.0)
    groups = {
        "both": on_list & alert,
        "model only": on_list & ~alert,
        "rules only": ~on_list & alert,
        "neither": ~on_list & ~alert,
    }
    table = pd.DataFrame(
        {
            group: {
                "customers": int(rows.sum()),
                "churners": int((rows & churned).sum()),
                "churned_assets": float(assets[rows & churned].sum()),
            }
            for group, rows in groups.items()
        }
    ).T.loc[list(OVERLAP_GROUPS)]
    table[["customers", "churners"]] = table[["customers", "churners"]].astype("int64")
    columns = ["customer_id", "as_of", "value_tier", "total_assets", name]
    only_model = scores.loc[groups["model only"] & churned, columns].reset_index(drop=True)
    only_rules = scores.loc[groups["rules only"] & churned, columns].reset_index(drop=True)
    return table, only_model, only_rules


def alert_summary(scores: pd.DataFrame) -> dict[str, float]:
    """Return how the rules' alerts themselves do as a selection."""
    alerts = scores["rule_alert"].to_numpy().astype("float64")
    result = selection_metrics(
        alerts, scores["churn"].to_numpy(), scores["total_assets"].to_numpy()
    )
    return {
        "flagged": int(alerts.sum()),
        "precision": result["precision"],
        "recall": result["recall"],
        "assets_at_risk_recall": result["assets_recall"],
    }
