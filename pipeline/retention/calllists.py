"""Call lists for people: one list per advisor, capped, ordered by expected saved value.

Each account's expected saved value is what a call is worth:
``value_at_risk_cny x save_rate(play) - contact_cost`` (CNY), with the play's save rate
measured by the retention loop (pipeline/retention/effect.py) or its prior. An
advisor's list holds at most ``calls_per_advisor`` accounts with a positive
expected saved value, best first; accounts without an advisor go to their
branch's pool list, capped the same way; accounts without a branch go to the
``unassigned`` branch. The control group (pipeline/retention/control.py) is
drawn among the selected accounts and taken off the lists advisors see, so the
called and the held-back accounts come from the same selection; the page says
how many were held back.

The lists are written as files by pipeline/retention/pages.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as pads

POOL = "(branch pool)"
UNASSIGNED_BRANCH = "unassigned"
LIST_COLUMNS = [
    "position",
    "customer_id",
    "churn_probability",
    "risk_band",
    "reasons",
    "likely_cause",
    "retention_play",
    "value_at_risk",
    "save_rate",
    "expected_saved_value",
]


@dataclass(frozen=True)
class CallList:
    """One advisor's (or one branch pool's) list, and what was held back from it."""

    branch: str
    advisor: str
    accounts: pd.DataFrame  # LIST_COLUMNS, best first
    held: pd.DataFrame  # the control accounts of the selection, same columns

    @property
    def held_back(self) -> int:
        """How many accounts of the selection the control group holds back."""
        return len(self.held)


def expected_saved_value(
    value_at_risk: np.ndarray, plays: Sequence[str], save_rates: Mapping[str, float], cost: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return each account's save rate (by its play) and expected saved value."""
    rate = np.array([save_rates[str(p)] for p in plays], dtype=np.float64)
    return rate, np.asarray(value_at_risk, dtype=np.float64) * rate - cost


def _owners(scores: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    branch = scores["branch"].astype(object).where(scores["branch"].notna(), UNASSIGNED_BRANCH)
    advisor = scores["advisor_id"].astype(object).where(scores["advisor_id"].notna(), POOL)
    return branch.astype(str), advisor.astype(str)


def select_calls(
    scores: pd.DataFrame, calls_per_advisor: int, control: np.ndarray
) -> list[CallList]:
    """Return the call lists, by branch then advisor (the branch pool last in its branch).

    Args:
        scores: one row per scored account with ``customer_id``, ``branch``,
            ``advisor_id``, ``expected_saved_value``, ``save_rate`` and the list's
            other columns (:data:`LIST_COLUMNS` without ``position`` and ``reasons``,
            plus ``reason_1`` ..).
        calls_per_advisor: the most accounts one list holds, before the control
            group is taken off.
        control: per row of ``scores``, whether the account belongs to the control group.
    """
    branch, advisor = _owners(scores)
    frame = scores.assign(_branch=branch, _advisor=advisor, _control=np.asarray(control, bool))
    frame = frame[frame["expected_saved_value"] > 0]
    frame = frame.sort_values(
        ["_branch", "_advisor", "expected_saved_value", "customer_id"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    chosen = frame.groupby(["_branch", "_advisor"], sort=False).head(calls_per_advisor)
    lists = []
    for (b, a), group in chosen.groupby(["_branch", "_advisor"], sort=False):
        called, held = group[~group["_control"]], group[group["_control"]]
        lists.append(CallList(b, a, _list_rows(called), _list_rows(held)))
    return sorted(lists, key=lambda c: (c.branch, c.advisor == POOL, c.advisor))


def _list_rows(called: pd.DataFrame) -> pd.DataFrame:
    reason_cols = [c for c in called.columns if re.fullmatch(r"reason_\d+", c)]
    reasons = (
        called[reason_cols].apply(
            lambda row: "; ".join(str(r) for r in row if isinstance(r, str) and r), axis=1
        )
        if len(called)
        else pd.Series(dtype=object)
    )
    rows = called.assign(position=np.arange(1, len(called) + 1), reasons=reasons)
    return rows[LIST_COLUMNS].reset_index(drop=True)


VALUE_AT_RISK = "value_at_risk_cny"
"""The scores column call lists weigh: probability x the account's lifetime value, in CNY."""
VALUE_UNIT = "CNY"
"""The unit of :data:`VALUE_AT_RISK`, shown on the pages."""


def candidate_scores(
    scores: str | Path, save_rates: Mapping[str, float], cost: float
) -> pd.DataFrame:
    """Read from a scores file (or dataset folder) the accounts a call could be worth.

    Only rows whose value at risk could pay for a contact at the best save rate,
    and that carry at least one reason, are read (a filter pushed down to
    Parquet), so memory follows the candidates, not the book.
    """
    best = max(save_rates.values(), default=0.0)
    dataset = pads.dataset(str(scores), format="parquet")
    reasons = [name for name in dataset.schema.names if re.fullmatch(r"reason_\d+", name)]
    columns = [
        "customer_id",
        "churn_probability",
        "risk_band",
        *reasons,
        "likely_cause",
        "retention_play",
        VALUE_AT_RISK,
        "advisor_id",
        "branch",
        "control_group",
    ]
    if best <= 0:
        frame = dataset.head(0, columns=columns).to_pandas()
    else:
        # An account with no reason at all (outside scoring.reasons_top_share and no
        # rule fired) gives the advisor nothing to talk about: it is not listed.
        worth = (pc.field(VALUE_AT_RISK) * best > cost) & pc.field("reason_1").is_valid()
        frame = dataset.to_table(columns=columns, filter=worth).to_pandas()
    rate, saved = expected_saved_value(
        frame[VALUE_AT_RISK], frame["likely_cause"], save_rates, cost
    )
    return frame.rename(columns={VALUE_AT_RISK: "value_at_risk"}).assign(
        save_rate=rate, expected_saved_value=saved
    )
