"""Churn labels at as-of month ends (docs/data-contract.md, "Labels").

At an as-of month end T the population is every account open at T; under the
chosen definition a customer is a churner when something happens in the window
(T, T+H]. T is a month end, so at day level the window is exactly the calendar
months after T's month up to and including T+H's month. A window must end on or
before ``observation_end``: anything else is refused, never labelled 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.cohorts.snapshots import last_complete_as_of
from pipeline.core.calendar import add_months, month_index
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError, IncompleteLabelWindowError
from pipeline.core.params import LabelParams

DEFINITIONS = ("closure", "dormancy", "asset_drain")


def population(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Return which accounts are open at ``as_of``: opened on or before it, not closed by it."""
    closed = customers["closed_date"]
    return (customers["open_date"] <= as_of) & (closed.isna() | (closed > as_of))


def complete_label_months(tables: Tables, label: LabelParams) -> pd.Timestamp:
    """Return the last as-of month end whose (T, T+H] window ends on or before observation_end."""
    return last_complete_as_of(tables, label)


def make_labels(tables: Tables, as_of: Sequence[pd.Timestamp], label: LabelParams) -> pd.DataFrame:
    """Label every account open at each as-of month end under ``label.definition``.

    Args:
        tables: loaded tables (customers sorted by id, activity keyed by ``customer_idx``).
        as_of: month ends T.
        label: ``definition``, ``horizon_months`` (H) and ``asset_drain_fraction``.

    Returns:
        ``customer_id``, ``as_of``, ``label`` (int8, 1 = churner), sorted by as_of
        (each month once) then customer_id. Under ``asset_drain`` an account open
        at T that did not close in the window and lacks a balance row at T or at
        T+H gets no row (it can be neither confirmed nor ruled out).

    Raises:
        IncompleteLabelWindowError: a window (T, T+H] ends after observation_end.
        ChurnError: an as-of date that is not a month end, or asset_drain without balances.
    """
    months = sorted({_checked_as_of(t) for t in as_of})
    _refuse_incomplete_windows(tables, months, label)
    if not months:
        return pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="str"),
                "as_of": pd.Series(dtype="datetime64[us]"),
                "label": pd.Series(dtype="int8"),
            }
        )
    churned, labelled = CHURN_RULES[label.definition](tables, months, label)
    return _stack(tables.customers["customer_id"], months, churned, labelled)


def _checked_as_of(value: pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts != ts.normalize() or not ts.is_month_end:
        raise ChurnError(f"as-of {value} is not a month end (midnight of a month's last day)")
    return ts


def _refuse_incomplete_windows(
    tables: Tables, months: list[pd.Timestamp], label: LabelParams
) -> None:
    last = last_complete_as_of(tables, label)
    for t in sorted(months):
        if t > last:
            end = add_months(t, label.horizon_months)
            raise IncompleteLabelWindowError(
                f"as-of {t.date()}: the {label.horizon_months}-month label window "
                f"({t.date()}, {end.date()}] ends after observation_end "
                f"{tables.observation_end.date()}; the last as-of with a complete "
                f"window is {last.date()}"
            )


def _stack(
    ids: pd.Series, months: list[pd.Timestamp], churned: np.ndarray, labelled: np.ndarray
) -> pd.DataFrame:
    """Turn [as_of x customer] arrays into one row per labelled (customer, as-of)."""
    month_pos, customer_pos = np.nonzero(labelled)
    return pd.DataFrame(
        {
            "customer_id": ids.astype("str").iloc[customer_pos].reset_index(drop=True),
            "as_of": pd.DatetimeIndex(months).astype("datetime64[us]")[month_pos],
            "label": churned[month_pos, customer_pos].astype(np.int8),
        }
    )


def _open_at(customers: pd.DataFrame, months: list[pd.Timestamp]) -> np.ndarray:
    return np.stack([population(customers, t).to_numpy() for t in months])


def closed_in_window(
    customers: pd.DataFrame, months: list[pd.Timestamp], horizon: int
) -> np.ndarray:
    """Return [as_of x customer]: closed_date falls in (T, T+H]."""
    closed = customers["closed_date"]
    return np.stack(
        [((closed > t) & (closed <= add_months(t, horizon))).to_numpy() for t in months]
    )


def _closure(tables: Tables, months: list[pd.Timestamp], label: LabelParams):
    is_open = _open_at(tables.customers, months)
    return closed_in_window(tables.customers, months, label.horizon_months), is_open


def _dormancy(tables: Tables, months: list[pd.Timestamp], label: LabelParams):
    is_open = _open_at(tables.customers, months)
    as_of_month = month_index(pd.DatetimeIndex(months))
    first, last = int(as_of_month.min()) + 1, int(as_of_month.max()) + label.horizon_months
    active = np.zeros((last - first + 1, len(tables.customers)), dtype=bool)
    for table, column in ((tables.trades, "trade_date"), (tables.transfers, "transfer_date")):
        if table is not None:
            _mark_active(active, month_index(table[column]) - first, table["customer_idx"])
    window_active = np.stack(
        [
            active[m - first + 1 : m - first + 1 + label.horizon_months].any(axis=0)
            for m in as_of_month
        ]
    )
    return ~window_active, is_open


def _mark_active(active: np.ndarray, month_offset: np.ndarray, customer_idx: pd.Series) -> None:
    inside = (month_offset >= 0) & (month_offset < active.shape[0])
    active[month_offset[inside], customer_idx.to_numpy()[inside]] = True


def _asset_drain(tables: Tables, months: list[pd.Timestamp], label: LabelParams):
    if tables.balances is None:
        raise ChurnError("the asset_drain label needs the balances table, which is missing")
    is_open = _open_at(tables.customers, months)
    closed = closed_in_window(tables.customers, months, label.horizon_months)
    as_of_month = month_index(pd.DatetimeIndex(months))
    assets = total_assets_at(
        tables, np.concatenate([as_of_month, as_of_month + label.horizon_months])
    )
    assets_at_t, assets_at_end = assets[: len(months)], assets[len(months) :]
    both = ~np.isnan(assets_at_t) & ~np.isnan(assets_at_end)
    with np.errstate(invalid="ignore"):
        drained = both & (assets_at_end < label.asset_drain_fraction * assets_at_t)
    return closed | drained, is_open & (closed | both)


def total_assets_at(tables: Tables, months: np.ndarray) -> np.ndarray:
    """Return [month x customer] cash + market_value at the given month indices (NaN: no row)."""
    balances = tables.balances
    wanted, where = np.unique(months, return_inverse=True)
    assets = np.full((wanted.size, len(tables.customers)), np.nan)
    row_month = month_index(balances["month_end"])
    slot = np.searchsorted(wanted, row_month).clip(0, wanted.size - 1)
    hit = wanted[slot] == row_month
    total = (balances["cash"] + balances["market_value"]).to_numpy()
    assets[slot[hit], balances["customer_idx"].to_numpy()[hit]] = total[hit]
    return assets[where]


CHURN_RULES = {"closure": _closure, "dormancy": _dormancy, "asset_drain": _asset_drain}


def base_rates(tables: Tables, months: Sequence[pd.Timestamp], label: LabelParams) -> pd.DataFrame:
    """Return, per as-of month, the population, labelled accounts, churners and churn rate.

    ``labelled`` equals ``population`` except under asset_drain, where accounts
    without a balance row at T or T+H (and no closure) are not labelled.
    """
    labels = make_labels(tables, months, label)
    counts = labels.groupby("as_of")["label"].agg(labelled="size", churners="sum")
    rows = pd.DataFrame({"as_of": pd.DatetimeIndex(months).astype("datetime64[us]")})
    rows["population"] = [int(population(tables.customers, t).sum()) for t in months]
    rows = rows.merge(counts.reset_index(), on="as_of", how="left").fillna(0)
    rows = rows.astype({"labelled": "int64", "churners": "int64"})
    rows["churn_rate"] = rows["churners"] / rows["labelled"].where(rows["labelled"] > 0)
    rows.insert(0, "definition", label.definition)
    return rows
