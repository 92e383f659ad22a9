"""The measured effect of each play: realised churn of contacted against control accounts.

An experiment unit is one account at the first call list it appeared on: the
list scored at month end T is called during the next month, so an action dated in month T+1
belongs to the list of T, and its outcome is the account's churn label over
(T, T+H] under the model's label definition. Contacted units (``control``
false: an attempt was made, whatever its outcome) and control units (held back
by design) of the same lists are compared by intention to treat: a play's
effect is the control group's realised churn minus the contacted group's, so a
positive effect is churn prevented, in percentage points of the list.

The interval is Newcombe's hybrid score interval for a difference of two
proportions (Newcombe 1998, method 10), built from the two Wilson intervals:
it stays inside [-1, 1] and behaves on small groups and zero counts, where the
Wald interval does not.

A unit recorded both as control and as contacted (a control account called
anyway) counts as contacted, the treatment it received, and is counted in
``control_breached`` so the report shows the breach.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from pipeline.cohorts.labels import make_labels
from pipeline.core.calendar import add_months, month_end_of_index, month_index
from pipeline.core.contract import Tables
from pipeline.core.params import LabelParams

OVERALL = "all plays"
EFFECT_COLUMNS = [
    "play",
    "contacted",
    "control",
    "churn_contacted",
    "churn_control",
    "effect",
    "effect_low",
    "effect_high",
    "relative_effect",
    "control_breached",
]


def list_month(action_dates: pd.Series) -> pd.Series:
    """Return the month end of the call list an action came from: the month end before it."""
    months = month_index(pd.to_datetime(action_dates)) - 1
    return pd.Series(month_end_of_index(months), index=action_dates.index)


def experiment_units(actions: pd.DataFrame) -> pd.DataFrame:
    """Return one row per account: its first list entry in the recorded actions.

    An account counts once, at the first call list it appeared on. A later list
    would compare accounts already changed by earlier calls: a customer the
    first call saved stays on the lists as a contacted account that does not
    leave, while his counterpart in the control group has left and is no longer
    listed, which would inflate the effect.

    Args:
        actions: the ``retention_actions`` table (customer_id, action_date, play,
            control; other columns are ignored).

    Returns:
        ``customer_id``, ``as_of`` (the first list's month end), ``play`` (its first
        recorded action's), ``control`` (held back and never contacted on that
        list) and ``control_breached`` (recorded as control and as contacted),
        sorted by as_of then customer_id.
    """
    frame = actions.assign(as_of=list_month(actions["action_date"]))
    frame = frame.sort_values(["as_of", "customer_id", "action_date"], kind="stable")
    grouped = frame.groupby(["as_of", "customer_id"], sort=True, observed=True)
    units = grouped.agg(
        play=("play", "first"),
        any_control=("control", "max"),
        all_control=("control", "min"),
    ).reset_index()
    units["control"] = units["all_control"].astype(bool)
    units["control_breached"] = units["any_control"].astype(bool) & ~units["control"]
    units["customer_id"] = units["customer_id"].astype(str)
    units = units.sort_values(["customer_id", "as_of"], kind="stable")
    units = units.drop_duplicates("customer_id", keep="first")
    units = units.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)
    return units[["customer_id", "as_of", "play", "control", "control_breached"]]


def wilson_interval(successes: float, trials: float, z: float) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (NaN, NaN without trials)."""
    if trials <= 0:
        return (np.nan, np.nan)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2))
    return (centre - half, centre + half)


def newcombe_interval(
    x_control: float, n_control: float, x_contacted: float, n_contacted: float, confidence: float
) -> tuple[float, float]:
    """Return the interval of p_control - p_contacted (Newcombe's hybrid score method)."""
    if n_control <= 0 or n_contacted <= 0:
        return (np.nan, np.nan)
    z = float(norm.ppf(0.5 + confidence / 2))
    p1, p2 = x_control / n_control, x_contacted / n_contacted
    l1, u1 = wilson_interval(x_control, n_control, z)
    l2, u2 = wilson_interval(x_contacted, n_contacted, z)
    difference = p1 - p2
    low = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (float(low), float(high))


def _effect_row(play: str, group: pd.DataFrame, confidence: float) -> dict:
    contacted = group.loc[~group["control"], "label"]
    control = group.loc[group["control"], "label"]
    n1, x1 = len(control), float(control.sum())
    n2, x2 = len(contacted), float(contacted.sum())
    p1 = x1 / n1 if n1 else np.nan
    p2 = x2 / n2 if n2 else np.nan
    low, high = newcombe_interval(x1, n1, x2, n2, confidence)
    effect = p1 - p2
    return {
        "play": play,
        "contacted": n2,
        "control": n1,
        "churn_contacted": p2,
        "churn_control": p1,
        "effect": effect,
        "effect_low": low,
        "effect_high": high,
        "relative_effect": effect / p1 if n1 and n2 and p1 > 0 else np.nan,
        "control_breached": int(group["control_breached"].sum()),
    }


def measured_effects(labelled_units: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Return the effect per play and over all plays (last row), from labelled units.

    Args:
        labelled_units: :func:`experiment_units` rows with ``label`` (1 = churned in
            the list month's label window); units not yet labelled are left out
            by the caller.
        confidence: the interval's coverage, e.g. 0.95.
    """
    rows = [
        _effect_row(str(play), group, confidence)
        for play, group in labelled_units.groupby("play", sort=True, observed=True)
    ]
    rows.append(_effect_row(OVERALL, labelled_units, confidence))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def save_rates(
    effects: pd.DataFrame, plays: list[str], prior: float, prior_accounts: int
) -> dict[str, float]:
    """Return each play's expected relative churn reduction for the next call list.

    The measured relative effect is shrunk towards the prior in proportion to
    the evidence: ``(n * measured + prior_accounts * prior) / (n + prior_accounts)``
    with n the play's control accounts (the scarcer group). A play never
    measured gets the prior; ``prior_accounts`` = 0 trusts any measurement.
    """
    measured = effects.set_index("play") if len(effects) else pd.DataFrame()
    rates = {}
    for play in plays:
        rate = prior
        if play in measured.index:
            row = measured.loc[play]
            n = float(row["control"]) if np.isfinite(row["relative_effect"]) else 0.0
            if n + prior_accounts > 0 and n > 0:
                rate = (n * float(row["relative_effect"]) + prior_accounts * prior) / (
                    n + prior_accounts
                )
        rates[play] = float(np.clip(rate, -1.0, 1.0))
    return rates


def window_closed(
    as_of: pd.Series, horizon_months: int, observation_end: pd.Timestamp
) -> pd.Series:
    """Return which list months' label windows (T, T+H] end on or before the data's end."""
    ends = pd.Series([add_months(t, horizon_months) for t in as_of], index=as_of.index)
    return ends <= observation_end


def labelled_units(tables: Tables, label: LabelParams) -> pd.DataFrame:
    """Return the experiment units of ``tables`` whose label windows have closed, labelled.

    Units whose account was not open at its list's month end (an action on an
    account that had already closed) have no label and are left out, as are
    units whose window (T, T+H] ends after the data's observation end.
    """
    actions = tables.retention_actions
    if actions is None or not len(actions):
        return pd.DataFrame(
            columns=["customer_id", "as_of", "play", "control", "control_breached", "label"]
        )
    units = experiment_units(actions)
    units = units[window_closed(units["as_of"], label.horizon_months, tables.observation_end)]
    if not len(units):
        return units.assign(label=pd.Series(dtype="int8"))
    labels = make_labels(tables, [pd.Timestamp(t) for t in units["as_of"].unique()], label)
    labels = labels.assign(
        customer_id=labels["customer_id"].astype(str),
        as_of=labels["as_of"].astype("datetime64[ns]"),
    )
    units = units.assign(as_of=units["as_of"].astype("datetime64[ns]"))
    return units.merge(labels, on=["customer_id", "as_of"], how="inner", validate="one_to_one")
