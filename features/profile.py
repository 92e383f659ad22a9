"""Profile: tenure, and the optional customer attributes (age, channel, branch).

Attributes come from ``customers`` (optional columns ``birth_year``, ``channel``,
``branch``; absent columns give NaN or a missing category). Categorical features
return integer codes into categories fixed for the whole run, so every chunk and
every engine agrees on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.builder.rows import enum_codes
from pipeline.core.contract import CHANNELS


def tenure_months(history_months: np.ndarray) -> np.ndarray:
    """Count whole months since the account's open month (0 in the open month).

    Business definition: derived signal (tenure): month of the as-of date minus month of
    open_date.
    """
    return history_months - 1.0


def age_years(birth_year: np.ndarray, as_of_year: np.ndarray) -> np.ndarray:
    """Compute the customer's age in the as-of year.

    Business definition: derived signal (optional attribute): as-of year - customers.birth_year;
    NaN without a birth year.
    """
    return as_of_year - birth_year[None, :]


def channel(channel_code: np.ndarray, history_months: np.ndarray) -> np.ndarray:
    """Return the customer's service channel as a category (online, onsite).

    Business definition: derived signal (optional attribute): customers.channel; missing when
    absent.
    """
    return np.broadcast_to(channel_code, history_months.shape)


def branch(branch_code: np.ndarray, history_months: np.ndarray) -> np.ndarray:
    """Return the customer's branch as a category.

    Business definition: derived signal (optional attribute): customers.branch; categories are
    the sorted branches of the whole customers table.
    """
    return np.broadcast_to(branch_code, history_months.shape)


def channel_categories(customers: pd.DataFrame) -> tuple[str, ...]:
    """Return the fixed channel categories (the contract's)."""
    return CHANNELS


def branch_categories(customers: pd.DataFrame) -> tuple[str, ...]:
    """Return the fixed, sorted branch categories of the whole customers table.

    A categorical ``branch`` column contributes all its categories (used or not),
    so partitions given the same categorical dtype agree; otherwise its distinct values.
    """
    if "branch" not in customers:
        return ()
    column = customers["branch"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = column.cat.categories
    else:
        values = column.dropna().unique()
    return tuple(sorted(str(v) for v in values))


def customer_attributes(customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return the optional attributes of all customers as arrays (codes, not strings)."""
    n = len(customers)
    out = {
        "birth_year": np.full(n, np.nan),
        "channel_code": np.full(n, -1, np.int32),
        "branch_code": np.full(n, -1, np.int32),
    }
    if "birth_year" in customers:
        out["birth_year"] = customers["birth_year"].to_numpy(np.float64, na_value=np.nan)
    if "channel" in customers:
        out["channel_code"] = enum_codes(customers["channel"], channel_categories(customers))
    if "branch" in customers:
        out["branch_code"] = enum_codes(customers["branch"], branch_categories(customers))
    return out
