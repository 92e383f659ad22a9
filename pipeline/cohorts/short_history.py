"""Short histories: shorten the minimum history, then the validation months, until a split fits.

The defaults (6 months of history before the first snapshot, 3 validation and 3
test months, purge gaps of H - 1) need about 17 months of data with a 3-month
horizon. An export of 12 to 18 months is common (a new brokerage, a recent
migration); refusing it would send the user hunting for four settings. With
``split.short_history_fallback`` (default true) the calendar is shortened one
month at a time, in this order, and the first that fits is used:

1. ``snapshots.min_history_months`` down to 1 (unless ``snapshots.first_as_of``
   fixes the first month): young snapshots still have every feature, as windows
   cover the months an account has existed;
2. ``split.validation_months`` down to 1: early stopping and calibration then
   see fewer months.

The test months and the purge are never shortened: they are what makes the
evaluation out of time. The split's description (printed by the run, kept in
split.json and the report) says what was shortened and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pandas as pd

from pipeline.cohorts.snapshots import DataSpan, snapshot_months
from pipeline.cohorts.split import Split, out_of_time_split
from pipeline.core.errors import TooFewMonthsError
from pipeline.core.params import LabelParams, Params, SnapshotParams, SplitParams


def training_calendar(span: DataSpan, params: Params) -> tuple[list[pd.Timestamp], Split]:
    """Return the snapshot months and their out-of-time split, shortened if the data need it.

    Raises:
        TooFewMonthsError: the configured calendar does not fit and the fallback is off,
            or even the shortest calendar does not fit (the message of the configured one,
            with what the fallback tried).
    """
    try:
        return calendar_for(span, params.snapshots, params.split, params.label)
    except TooFewMonthsError as refusal:
        if not params.split.short_history_fallback:
            raise
        for snapshots, split in shorter_settings(params.snapshots, params.split):
            try:
                months, chosen = calendar_for(span, snapshots, split, params.label)
            except TooFewMonthsError:
                continue
            note = fallback_note(params.snapshots, params.split, snapshots, split, len(months))
            return months, replace(chosen, fallback=note)
        raise TooFewMonthsError(
            f"{refusal} Even the short-history fallback (snapshots.min_history_months and "
            "split.validation_months down to 1) does not fit these data."
        ) from None


def calendar_for(
    span: DataSpan, snapshots: SnapshotParams, split: SplitParams, label: LabelParams
) -> tuple[list[pd.Timestamp], Split]:
    """Return the snapshot months and their split for exactly these settings."""
    months = snapshot_months(span, snapshots, label)
    return months, out_of_time_split(months, split, label.horizon_months)


def shorter_settings(
    snapshots: SnapshotParams, split: SplitParams
) -> Iterator[tuple[SnapshotParams, SplitParams]]:
    """Yield ever shorter settings: minimum history first, then validation months, to 1."""
    history = snapshots.min_history_months
    if snapshots.first_as_of is None:
        for months in range(history - 1, 0, -1):
            yield snapshots.model_copy(update={"min_history_months": months}), split
        history = min(history, 1)
    shortest = snapshots.model_copy(update={"min_history_months": history})
    for months in range(split.validation_months - 1, 0, -1):
        yield shortest, split.model_copy(update={"validation_months": months})


def fallback_note(
    configured_snapshots: SnapshotParams,
    configured_split: SplitParams,
    snapshots: SnapshotParams,
    split: SplitParams,
    as_of_months: int,
) -> str:
    """Return the printed line saying which settings the short history shortened."""
    changes = [
        f"{key} {before} -> {after}"
        for key, before, after in (
            (
                "snapshots.min_history_months",
                configured_snapshots.min_history_months,
                snapshots.min_history_months,
            ),
            (
                "split.validation_months",
                configured_split.validation_months,
                split.validation_months,
            ),
        )
        if before != after
    ]
    return (
        f"short history: the configured calendar does not fit these data, so "
        f"{', '.join(changes)} ({as_of_months} as-of months); "
        "set split.short_history_fallback=false to refuse instead"
    )
