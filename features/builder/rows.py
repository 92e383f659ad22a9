"""Activity tables prepared once per build: numpy columns, enum codes, chunk routing.

The panel (features/builder/panel.py) reads rows through these; nothing here drops or
filters rows (the as-of cut-off lives in the panel alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.builder.partition import RowPartition
from pipeline.core.contract import DIRECTIONS, EVENT_TYPES, SECURITY_TYPES, Tables
from pipeline.core.errors import DataContractError

DATE_COLUMNS = {
    "trades": "trade_date",
    "transfers": "transfer_date",
    "balances": "month_end",
    "events": "event_date",
}


@dataclass(frozen=True)
class ActivityRows:
    """The columns of one activity table the panel reads, and their chunk routing."""

    name: str
    customer_idx: np.ndarray
    dates: np.ndarray
    columns: dict[str, np.ndarray]
    partition: RowPartition


def activity_rows(tables: Tables, chunk_customers: int) -> dict[str, ActivityRows]:
    """Prepare every present activity table once: numpy columns, enum codes, chunk routing."""
    n = len(tables.customers)
    rows = {}
    for name, column in DATE_COLUMNS.items():
        frame = tables.table(name)
        if frame is None:
            continue
        idx = frame["customer_idx"].to_numpy(dtype=np.int32)
        rows[name] = ActivityRows(
            name=name,
            customer_idx=idx,
            dates=frame[column].to_numpy(),
            columns=_value_columns(name, frame),
            partition=RowPartition(idx, chunk_customers, n),
        )
    return rows


def _value_columns(name: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    if name == "trades":
        columns = {c: frame[c].to_numpy(dtype=np.float64) for c in ("amount", "commission")}
        if "security_type" in frame:
            # A missing type gets its own code after the contract's: it counts in no type.
            unknown = len(SECURITY_TYPES)
            columns["security_type"] = enum_codes(frame["security_type"], SECURITY_TYPES, unknown)
        return columns
    if name == "transfers":
        return {
            "amount": frame["amount"].to_numpy(dtype=np.float64),
            "direction": _required_codes(name, frame, "direction", DIRECTIONS),
        }
    if name == "balances":
        return {c: frame[c].to_numpy(dtype=np.float64) for c in ("cash", "market_value")}
    return {"event_type": _required_codes(name, frame, "event_type", EVENT_TYPES)}


def enum_codes(values: pd.Series, allowed: Sequence[str], missing: int = -1) -> np.ndarray:
    """Return each value's position in ``allowed``, ``missing`` for null or unknown values.

    The codes are int8 when ``allowed`` is short (activity enums), else int32.
    """
    categorical = values
    if not isinstance(values.dtype, pd.CategoricalDtype):
        categorical = values.astype("category")
    position = {name: i for i, name in enumerate(allowed)}
    categories = [str(c) for c in categorical.cat.categories]
    dtype = np.int8 if len(allowed) < 100 else np.int32
    lookup = np.array([position.get(c, missing) for c in categories] + [missing], dtype=dtype)
    # A missing value's code is -1, which picks the lookup's last entry: ``missing``.
    return lookup[categorical.cat.codes.to_numpy()]


def _required_codes(table: str, frame: pd.DataFrame, column: str, allowed) -> np.ndarray:
    codes = enum_codes(frame[column], allowed)
    if (codes < 0).any():
        bad = frame.loc[codes < 0, column].head(5).tolist()
        raise DataContractError(table, column, f"one of {list(allowed)}", f"got {bad}")
    return codes
