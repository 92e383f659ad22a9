"""Helpers for hand-written customers in the feature tests, loaded through the real loader."""

from __future__ import annotations

import warnings

import pandas as pd

from features.builder.build import build_feature_matrix
from pipeline.core.params import Params
from pipeline.data.loader import tables_from_frames

AS_OF = pd.Timestamp("2023-06-30")
OPENED = "2022-01-03"  # 18 months of history at AS_OF: every window is defined


def customers(*ids: str, opened: str = OPENED, **columns) -> pd.DataFrame:
    """Customers opened on the same day (override per id with ``opened={id: date}``)."""
    frame = pd.DataFrame({"customer_id": list(ids), "open_date": opened, "closed_date": None})
    for name, values in columns.items():
        frame[name] = values
    return frame


def trades(rows: list[tuple], **extra) -> pd.DataFrame:
    """Trades from ``(customer_id, trade_date, amount, commission)`` tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "trade_date", "amount", "commission"])
    for name, values in extra.items():
        frame[name] = values
    return frame


def transfers(rows: list[tuple]) -> pd.DataFrame:
    """Transfers from ``(customer_id, transfer_date, direction, amount)`` tuples."""
    return pd.DataFrame(rows, columns=["customer_id", "transfer_date", "direction", "amount"])


def balances(rows: list[tuple]) -> pd.DataFrame:
    """Balances from ``(customer_id, month_end, cash, market_value)`` tuples."""
    return pd.DataFrame(rows, columns=["customer_id", "month_end", "cash", "market_value"])


def events(rows: list[tuple]) -> pd.DataFrame:
    """Events from ``(customer_id, event_date, event_type)`` tuples."""
    return pd.DataFrame(rows, columns=["customer_id", "event_date", "event_type"])


def monthly_balances(customer_id: str, values: dict[str, tuple[float, float]]) -> list[tuple]:
    """Balance rows from ``{"2023-05": (cash, market_value)}``."""
    return [
        (customer_id, (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date().isoformat(), c, m)
        for month, (c, m) in values.items()
    ]


def load(**frames) -> object:
    """Check and assemble frames with the real loader; absent tables are missing.

    Trades are a required, non-empty table: tests about other tables get one small trade
    of their first customer on its open date (far from the windows they look at).
    """
    if "trades" not in frames:
        first = frames["customers"].iloc[0]
        frames["trades"] = trades([(first.customer_id, first.open_date, 1.0, 0.0)])
    return tables_from_frames(frames).tables


def build(tables, as_of=(AS_OF,), params: Params | None = None, quiet: bool = True):
    """Build the matrix; ``quiet`` silences the missing-table warnings tests did not ask about."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        return build_feature_matrix(tables, list(as_of), params or Params())


def row(matrix: pd.DataFrame, customer_id: str, as_of=AS_OF) -> pd.Series:
    """The one row of a customer at an as-of date."""
    hit = matrix[(matrix["customer_id"] == customer_id) & (matrix["as_of"] == as_of)]
    assert len(hit) == 1, f"{customer_id} at {as_of}: {len(hit)} rows"
    return hit.iloc[0]
