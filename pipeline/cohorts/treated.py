"""Accounts the retention loop contacted: their outcome is the call's, not their warning signs'.

An account-month (customer, T) is *treated* when a retention action that was not
a control (``retention_actions.control`` false) is dated inside its label window
(T, T+H]. Its label then says what happened after a call: a model trained on it
learns that the warning signs of the accounts advisors saved are harmless. The
policy (params ``retention.treated_in_training``) decides: ``exclude`` leaves
these account-months out of training, validation and test, so the reported
metrics are those of untreated accounts; ``keep`` keeps them (to compare).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.calendar import month_index
from pipeline.core.contract import Tables

TREATED = "treated"


def treated_account_months(tables: Tables, labels: pd.DataFrame, horizon_months: int) -> np.ndarray:
    """Return, per row of ``labels`` (customer_id, as_of), whether it was contacted in its window.

    An action dated in calendar month m lies in the window of every month end T
    with month(T) < m <= month(T) + H (T is a month end, so the window is the
    whole calendar months after T up to T+H). Control actions never treat.
    """
    actions = tables.retention_actions
    if actions is None or not len(actions) or not len(labels):
        return np.zeros(len(labels), dtype=bool)
    called = actions[~actions["control"].to_numpy(dtype=bool)]
    month = month_index(called["action_date"]).astype(np.int64)
    customer = called["customer_idx"].to_numpy(np.int64)
    offsets = np.arange(1, horizon_months + 1, dtype=np.int64)
    treated_keys = np.unique(
        (np.repeat(customer, horizon_months) << 32)
        | (np.repeat(month, horizon_months) - np.tile(offsets, len(month)))
    )
    positions = pd.Index(tables.customers["customer_id"]).get_indexer(
        labels["customer_id"].astype(str)
    )
    label_keys = (positions.astype(np.int64) << 32) | month_index(labels["as_of"]).astype(np.int64)
    return (positions >= 0) & np.isin(label_keys, treated_keys)
