"""The loader's first step: every table typed and checked against the contract's row rules.

Run on the whole data by the local loader, per partition of customers on a
cluster (pipeline/data/partitioned.py); nothing is dropped or written here: each
rule adds the rows it rejects to the table's :class:`RowProblems`, and the
partitions' active months add up to the whole data's (pipeline/data/observation.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.contract import ACTIVITY_TABLES, INDICATOR_TABLES, SCHEMAS
from pipeline.core.params import ValidationParams
from pipeline.data import coercion, validation
from pipeline.data.arrow_frames import release_arrow_memory
from pipeline.data.observation import ActivityMonths, activity_months
from pipeline.data.quarantine import RowProblems
from pipeline.data.repeated import DUPLICATE_ROW, repeated_rows


@dataclass
class CheckedFrames:
    """Tables typed and checked against every row rule, before the observation end is known.

    The loader's first step, run per partition of customers on a cluster; the
    partitions' :attr:`months` add up to the whole data's (pipeline/data/observation.py).
    """

    raw: dict[str, pd.DataFrame]
    sources: dict[str, str]
    typed: dict[str, tuple[pd.DataFrame, RowProblems]]
    customers: pd.DataFrame
    positions: dict[str, np.ndarray]
    months: ActivityMonths
    source_rows: dict[str, np.ndarray] | None = None
    """Each raw row's position in its whole table, when these frames are part of it."""


def check_frames(
    raw: dict[str, pd.DataFrame],
    sources: dict[str, str],
    rules: ValidationParams,
    source_rows: dict[str, np.ndarray] | None = None,
) -> CheckedFrames:
    """Coerce every table and apply the contract's row rules (nothing is written).

    ``source_rows`` gives each row's position in its whole table when ``raw`` holds one
    partition of customers; the quarantine reports those (None: the rows of ``raw``).

    Raises:
        DataContractError: a required column is missing, a required table is empty, or a
            column cannot be read as its type.
    """
    for name, frame in raw.items():
        coercion.check_structure(name, frame, SCHEMAS[name])
    typed = {name: coercion.coerce_table(name, raw[name], SCHEMAS[name]) for name in raw}
    customers, rejected_ids = _customer_spine(*typed["customers"], rules)
    customer_days = validation.open_and_close_days(customers)
    positions = {}
    kept_ids = pd.CategoricalDtype(pd.Index(customers["customer_id"]))
    for name in (name for name in ACTIVITY_TABLES if name in typed):
        frame, problems = typed[name]
        ids = frame["customer_id"]
        positions[name] = validation.customer_positions(ids, customers["customer_id"])
        release_arrow_memory()  # the lookup's buffers
        compact = _ids_as_codes(ids, positions[name], kept_ids)
        if raw[name]["customer_id"].array is ids.array:  # read as typed: the same values
            raw[name] = raw[name].assign(customer_id=compact)
        typed[name] = (frame.assign(customer_id=compact), problems)
        del ids, frame, compact
        release_arrow_memory()  # the ids as read
        _check_activity(name, *typed[name], positions[name], rejected_ids, customer_days, rules)
    dated = [
        _kept_dates(name, *typed[name], positions[name])
        for name in positions
        if name in INDICATOR_TABLES
    ]
    months = activity_months(dated)
    return CheckedFrames(raw, sources, typed, customers, positions, months, source_rows)


def _customer_spine(
    frame: pd.DataFrame, problems: RowProblems, rules: ValidationParams
) -> tuple[pd.DataFrame, pd.Series]:
    """Return the kept customers sorted by customer_id, and the ids of rejected customers."""
    validation.check_columns(frame, SCHEMAS["customers"], problems)
    validation.check_ranges("customers", frame, rules, problems)
    validation.check_customers(frame, problems)
    rejected = problems.rejected_mask()
    ids = frame["customer_id"].astype("str")
    kept = frame[~rejected].assign(customer_id=ids[~rejected])
    kept = kept.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return kept, ids[rejected].dropna()


def _ids_as_codes(
    ids: pd.Series, positions: np.ndarray, kept_ids: pd.CategoricalDtype
) -> pd.Series:
    """Return the same ids as a categorical whose codes are the customer positions.

    ``kept_ids`` holds the kept customers' ids, in their order; the ids of no kept
    customer come after them: a table's ids held in a quarter of the memory of strings.
    """
    elsewhere = positions < 0
    # A mask, not positions: taking rows of a column read in chunks would join the chunks.
    codes, others = pd.factorize(ids[elsewhere].astype("str"))
    everywhere, dtype = positions, kept_ids
    if len(others):  # ids of no kept customer, coded after the kept customers' ids
        everywhere = positions.copy()
        everywhere[elsewhere] = np.where(codes >= 0, codes + len(kept_ids.categories), -1)
        dtype = pd.CategoricalDtype(kept_ids.categories.append(pd.Index(others, dtype="str")))
    codes = pd.Categorical.from_codes(everywhere, dtype=dtype, validate=False)
    return pd.Series(codes, copy=False)  # the codes are the positions when all are known


def _check_activity(
    name: str,
    frame: pd.DataFrame,
    problems: RowProblems,
    positions: np.ndarray,
    rejected_ids: pd.Series,
    customer_days: tuple[np.ndarray, np.ndarray],
    rules: ValidationParams,
) -> None:
    """Apply an activity table's row rules, given each row's customer position (-1: none)."""
    schema = SCHEMAS[name]
    validation.check_columns(frame, schema, problems)
    validation.check_ranges(name, frame, rules, problems)
    repeated = repeated_rows(name, frame, schema, positions)
    if rules.duplicate_rows == "quarantine":
        problems.add(DUPLICATE_ROW, repeated)
    else:
        problems.note_repeated(int(repeated.sum()))
    validation.check_customer_reference(frame["customer_id"], positions, rejected_ids, problems)
    validation.check_activity_dates(frame, schema.date_column, positions, customer_days, problems)
    if name == "balances":
        validation.check_balances(frame, positions, problems)


def _kept_dates(
    name: str, frame: pd.DataFrame, problems: RowProblems, positions: np.ndarray
) -> tuple[np.ndarray, pd.Series]:
    """Return each row's customer position, -1 unless it passed every rule so far, and date."""
    kept_positions = positions.copy()
    kept_positions[problems.rejected_rows()] = -1
    return kept_positions, frame[SCHEMAS[name].date_column]
