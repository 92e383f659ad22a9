"""How the guideline's indicators behave per cause of churn: what each rule catches."""

from __future__ import annotations

import pandas as pd

from models.rules import RULE_FLAGS

STAYED = "(stayed)"


def indicator_hit_rates(labelled: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Return, per cause of churn, the share of rows on which each warning flag fired.

    Churners (label 1) are grouped by their account's ``close_reason``; customers
    who stayed form one more group, whose rates are the rules' false-alarm rates.

    Args:
        labelled: feature rows with the eight ``warn_*`` flags and a 0/1 ``label``.
        customers: the customers table (``customer_id``, ``close_reason``).
    """
    reasons = customers.set_index("customer_id")["close_reason"].astype("string")
    cause = labelled["customer_id"].map(reasons).fillna("unknown")
    group = cause.where(labelled["label"] == 1, STAYED).rename("cause")
    flags = labelled[list(RULE_FLAGS)].astype("float64").fillna(0.0) > 0
    flags["any_warning"] = flags.any(axis=1)
    table = flags.groupby(group).mean()
    table.insert(0, "rows", group.value_counts())
    return table.sort_values("rows", ascending=False)
