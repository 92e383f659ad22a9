"""The headline figure of a simulated book: its yearly churn rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.calendar import add_months, to_month_end


@dataclass(frozen=True)
class ChurnRate:
    """Closures per account-year of exposure inside a period.

    Attributes:
        closures: accounts closed inside the period.
        account_years: days each account was open inside the period, over 365.25.
    """

    closures: int
    account_years: float

    @property
    def yearly(self) -> float:
        """Closures per account-year (0 when nobody was exposed)."""
        return self.closures / self.account_years if self.account_years else 0.0


def yearly_churn_rate(customers: pd.DataFrame | pa.Table, start: str, months: int) -> ChurnRate:
    """Return the period's closures and exposure from a customers table.

    Args:
        customers: with ``open_date`` and ``closed_date`` (null while open).
        start: first month of the period, ``YYYY-MM``.
        months: length of the period in months.
    """
    first_end = to_month_end(start)
    first_day = (first_end - pd.offsets.MonthBegin(1)).to_datetime64().astype("datetime64[D]")
    last_day = add_months(first_end, months - 1).to_datetime64().astype("datetime64[D]")
    opened = _days(customers, "open_date")
    closed = _days(customers, "closed_date")
    in_period = ~np.isnat(closed) & (closed >= first_day) & (closed <= last_day)
    exposure_start = np.maximum(opened, first_day)
    exposure_end = np.where(np.isnat(closed), last_day + 1, np.minimum(closed, last_day + 1))
    days = np.clip((exposure_end - exposure_start).astype(np.int64), 0, None)
    return ChurnRate(closures=int(in_period.sum()), account_years=float(days.sum()) / 365.25)


def _days(customers: pd.DataFrame | pa.Table, column: str) -> np.ndarray:
    values = customers[column]
    if isinstance(values, pa.ChunkedArray):
        values = values.to_pandas(date_as_object=False)
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]")
