"""The loader's last step: rows after the observation end quarantined, the tables assembled.

Once the observation end is settled (pipeline/data/observation.py), the rows dated
after it join the other rejected rows in quarantine, and the kept rows become
the :class:`Tables` every stage receives, keyed by customer position.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.contract import INDICATOR_TABLES, SCHEMAS, Tables
from pipeline.data import validation
from pipeline.data.checks import CheckedFrames
from pipeline.data.observation import ObservationEnd, observation_end_warnings
from pipeline.data.quarantine import LoadReport, RowProblems, quarantine_tables

SWITCHED_OFF = {
    "transfers": "fund-flow indicators (outflow share, transfers out) switch off and the "
    "dormancy label counts trades only",
    "balances": "asset indicators (total assets, empty positions, big losses, value tiers) "
    "and the asset_drain label switch off",
    "events": "service indicators (complaints, fee-cut requests, contacts) switch off",
}


@dataclass(frozen=True)
class LoadResult:
    """Checked tables and what loading did to them."""

    tables: Tables
    report: LoadReport


def finish_frames(
    checked: CheckedFrames,
    decided: ObservationEnd,
    rejected_dir: Path | str | None,
    *,
    release: bool = False,
    whole: bool = True,
) -> LoadResult:
    """Quarantine the rows dated after the observation end with the rest, and assemble.

    The rejected share is left to the caller (for the whole data, not one partition).

    Args:
        checked: the checked frames (:func:`pipeline.data.checks.check_frames`).
        decided: the observation end.
        rejected_dir: folder for the quarantine files; None writes none.
        release: drop each table's frames from ``checked`` as soon as its kept rows are
            assembled, so the load holds one table's copy at a time rather than every
            table twice; only for a caller that has no further use of ``checked`` (a
            task a cluster may retry must keep its input).
        whole: ``checked`` is the whole data; False for one partition of customers, whose
            report then counts the accounts closed or opened after the end
            (``closed_after``, ``opened_after``) without warning of them: the
            partitions' counts add up to the one warning of the whole load
            (pipeline/data/partitioned.py).
    """
    typed, customers = checked.typed, checked.customers
    for name, positions in checked.positions.items():
        frame, problems = typed[name]
        validation.check_after_observation_end(
            frame, SCHEMAS[name].date_column, positions, decided.quarantine_after, problems
        )
    problems = {name: table_problems for name, (_, table_problems) in typed.items()}
    report = quarantine_tables(
        checked.raw, problems, checked.sources, rejected_dir, tuple(SCHEMAS), checked.source_rows
    )
    tables = _assemble(customers, typed, checked.positions, checked.raw if release else None)
    tables = dataclasses.replace(tables, observation_end=decided.end)
    report.warnings = [
        f"optional table {name} is missing or empty: {SWITCHED_OFF[name]}"
        for name in tables.missing_tables
    ]
    report.closed_after = int((customers["closed_date"] > decided.end).sum())
    report.opened_after = int((customers["open_date"] > decided.end).sum())
    if whole:
        report.warnings += observation_end_warnings(
            decided, checked.months, report.closed_after, report.opened_after
        )
    report.observation_end = decided.end
    report.observation_rule = decided.rule
    return LoadResult(tables, report)


def _assemble(
    customers: pd.DataFrame,
    typed: dict[str, tuple[pd.DataFrame, RowProblems]],
    positions: dict[str, np.ndarray],
    raw: dict[str, pd.DataFrame] | None = None,
) -> Tables:
    """Return the kept rows as tables; with ``raw``, release each table's frames once done."""
    id_dtype = pd.CategoricalDtype(pd.Index(customers["customer_id"]))
    activity = {}
    for name in positions:
        activity[name] = _kept_activity(*typed[name], positions[name], id_dtype)
        if raw is not None:
            del typed[name], raw[name]
    missing = tuple(name for name in INDICATOR_TABLES if name not in activity)
    return Tables(customers=customers, **activity, missing_tables=missing)


def _kept_activity(
    frame: pd.DataFrame,
    problems: RowProblems,
    positions: np.ndarray,
    id_dtype: pd.CategoricalDtype,
) -> pd.DataFrame:
    """Drop the quarantined rows; key the rest by their customer's position.

    ``customer_id`` becomes a categorical over the customers' ids whose codes are
    ``customer_idx``: the same values at a fraction of the memory of strings.
    """
    if problems.counts():
        kept = ~problems.rejected_mask()
        frame, positions = frame[kept], positions[kept]
    frame = frame.reset_index(drop=True)
    customer_idx = positions.astype(np.int32)
    # Beyond 32,767 customers the id codes and customer_idx are one array (Series made
    # without copying), read-only so that a write into one cannot change the other.
    customer_idx.flags.writeable = False
    customer_id = pd.Categorical.from_codes(customer_idx, dtype=id_dtype, validate=False)
    return frame.assign(
        customer_id=pd.Series(customer_id, copy=False),
        customer_idx=pd.Series(customer_idx, copy=False),
    )
