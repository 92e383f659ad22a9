"""A control group by design: a seeded, stable, random share of the call list is not called.

Whether an account is held back is a property of the account and the seed
alone, never of the month, the list's order, the chunking or the engine: the
draw is a keyed 64-bit hash of the customer id (pandas' SipHash with a key
made from ``retention.control_seed``) mapped to [0, 1). An account held back
once stays held back in every month with the same seed, so control accounts
are never contacted later and their realised churn stays an untreated
reference. Changing the seed draws a new control group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_TWO_TO_53 = float(2**53)


def _hash_key(seed: int) -> str:
    """Return pandas' 16-character hash key for a seed (distinct seeds, distinct keys)."""
    return f"{seed & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def control_draw(customer_ids: pd.Series | np.ndarray, seed: int) -> np.ndarray:
    """Return each account's draw, uniform on [0, 1), from its id and the seed only."""
    ids = pd.Series(np.asarray(customer_ids, dtype=object)).astype("string")
    hashed = pd.util.hash_pandas_object(ids, index=False, hash_key=_hash_key(seed))
    return (hashed.to_numpy(dtype=np.uint64) >> np.uint64(11)).astype(np.float64) / _TWO_TO_53


def held_back(customer_ids: pd.Series | np.ndarray, share: float, seed: int) -> np.ndarray:
    """Return True for the accounts the control group holds back (``share`` of them on average)."""
    if not 0.0 <= share < 1.0:
        raise ValueError("the control share is a share of the call list, in [0, 1)")
    return control_draw(customer_ids, seed) < share


def account_owners(customers: pd.DataFrame, customer_ids: np.ndarray) -> pd.DataFrame:
    """Return each account's ``advisor_id`` and ``branch`` (None where the customers lack them).

    Args:
        customers: the customers table, sorted by ``customer_id`` (pipeline.data.loader).
        customer_ids: the accounts, all present in ``customers``.
    """
    position = np.searchsorted(
        customers["customer_id"].to_numpy(dtype=str), customer_ids.astype(str)
    )
    owners = {}
    for column in ("advisor_id", "branch"):
        if column in customers:
            values = customers[column].astype(object).to_numpy()[position]
            owners[column] = np.where(pd.isna(values), None, values)
        else:
            owners[column] = np.full(len(customer_ids), None, dtype=object)
    return pd.DataFrame(owners, dtype=object)
