"""The out-of-time split: training, validation and test as-of months with purge gaps.

With a label horizon of H months, the label of an as-of month T looks at
(T, T+H]. A later part starting at T' must not have that window pass its
as-of date, so every month T kept before a part starting at T' satisfies
``T + P < T'`` in calendar months, where P is the purge (default H - 1). With
P = H - 1 the window (T, T+H] ends on T' at the latest: a training label uses
no month after the one the validation features end on, so it never overlaps a
validation label window (T', T'+H], and the same holds for validation and test.
A purge of H would throw away one more month of history at every gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.core.calendar import month_end_of_index, month_index, to_month_end
from pipeline.core.errors import ChurnError, TooFewMonthsError
from pipeline.core.params import SplitParams


@dataclass(frozen=True)
class Split:
    """As-of month ends of each part; ``purged`` are left out between parts."""

    train: list[pd.Timestamp]
    validation: list[pd.Timestamp]
    test: list[pd.Timestamp]
    purged: list[pd.Timestamp]
    purge_months: int
    after_test: list[pd.Timestamp] = field(default_factory=list)
    fallback: str = ""

    @property
    def matured_gap(self) -> list[pd.Timestamp]:
        """Return the purged months between training and validation.

        Their labels ended before the validation months began, so they are left out only
        to keep early stopping and calibration honest; the refit may use them.
        """
        return [month for month in self.purged if month < self.validation[0]]

    @property
    def refit(self) -> list[pd.Timestamp]:
        """Return every as-of month whose label window has ended by the first test as-of.

        Training, the first purge gap and validation: a month T kept before the test
        months satisfies ``T + purge < first test month``, so its label window (T, T+H]
        ends on the first test as-of at the latest (purge H - 1) and none reaches into
        the test months' labels.
        """
        return sorted([*self.train, *self.matured_gap, *self.validation])

    def part_of(self, as_of: pd.Series) -> pd.Series:
        """Return "train", "validation", "test" or "unused" for each as-of date."""
        parts = {month: "train" for month in self.train}
        parts.update({month: "validation" for month in self.validation})
        parts.update({month: "test" for month in self.test})
        return as_of.map(parts).fillna("unused").astype(str)

    def describe(self) -> str:
        """Return a few printable lines: each part's months and the purge gaps."""
        first_gap = self.matured_gap
        second_gap = [month for month in self.purged if month > self.validation[-1]]
        lines = [
            f"out-of-time split (purge gap {self.purge_months} months between parts):",
            f"  train       {_span(self.train)}",
            f"  purged      {_span(first_gap)}",
            f"  validation  {_span(self.validation)}",
            f"  purged      {_span(second_gap)}",
            f"  test        {_span(self.test)}",
        ]
        if self.after_test:
            lines.append(f"  not used    {_span(self.after_test)}, after split.test_end")
        if self.fallback:
            lines.append(f"  {self.fallback}")
        return "\n".join(lines)


def _span(months: list[pd.Timestamp]) -> str:
    if not months:
        return "-"
    first, last = months[0].date(), months[-1].date()
    count = f"{len(months)} month{'s' if len(months) != 1 else ''}"
    return f"{first} .. {last} ({count})" if len(months) > 1 else f"{first} ({count})"


def out_of_time_split(
    as_of_months: Sequence[pd.Timestamp], split: SplitParams, horizon_months: int
) -> Split:
    """Split stacked as-of month ends into training, validation and test months.

    Test is the last ``split.test_months`` as-of months (ending at ``split.test_end``
    when set); validation is the ``split.validation_months`` as-of months before
    them once the purge gap is left out; training is every earlier month outside
    the next purge gap.

    Args:
        as_of_months: the stacked as-of month ends (any order, duplicates allowed),
            only months whose label windows are complete.
        split: params.yaml ``split:`` (test_months, validation_months, test_end,
            purge_months; purge_months null means the label horizon minus one).
        horizon_months: the label horizon H.

    Raises:
        ChurnError: a date is not a month end, or test_end is not among the months.
        TooFewMonthsError: too few months for all three parts and both gaps.
    """
    months = _sorted_month_indices(as_of_months)
    purge = horizon_months - 1 if split.purge_months is None else split.purge_months
    last = _test_end_position(months, split.test_end)
    test = months[max(last - split.test_months + 1, 0) : last + 1]
    kept_before = months[: last + 1 - len(test)]
    before_test = kept_before[kept_before + purge < test[0]] if len(test) else kept_before
    validation = before_test[-split.validation_months :]
    before_validation = before_test[: len(before_test) - len(validation)]
    train = before_validation[before_validation + purge < validation[0]] if len(validation) else []
    if len(test) < split.test_months or len(validation) < split.validation_months or not len(train):
        raise TooFewMonthsError(_too_few_months_message(months, split, purge, last))
    used = np.concatenate([train, validation, test])
    purged = np.setdiff1d(months[: last + 1], used)
    return Split(
        train=_month_ends(train),
        validation=_month_ends(validation),
        test=_month_ends(test),
        purged=_month_ends(purged),
        purge_months=purge,
        after_test=_month_ends(months[last + 1 :]),
    )


def _sorted_month_indices(as_of_months: Sequence[pd.Timestamp]) -> np.ndarray:
    stamps = pd.DatetimeIndex(pd.to_datetime(list(as_of_months)))
    not_month_end = stamps[~(stamps.is_month_end & (stamps == stamps.normalize()))]
    if len(not_month_end):
        shown = ", ".join(str(day.date()) for day in not_month_end[:5])
        raise ChurnError(f"as-of dates must be month ends; got {shown}")
    return np.unique(month_index(stamps)).astype(np.int64)


def _test_end_position(months: np.ndarray, test_end: str | None) -> int:
    if test_end is None or len(months) == 0:
        return len(months) - 1
    try:
        end = int(month_index(pd.DatetimeIndex([to_month_end(test_end)]))[0])
    except ValueError as exc:
        raise ChurnError(f"split.test_end={test_end!r} is not a month (YYYY-MM): {exc}") from None
    position = np.flatnonzero(months == end)
    if not len(position):
        raise ChurnError(
            f"split.test_end={test_end} is not one of the stacked as-of months "
            f"({_span(_month_ends(months))})"
        )
    return int(position[0])


def _too_few_months_message(months: np.ndarray, split: SplitParams, purge: int, last: int) -> str:
    parts = split.test_months + split.validation_months + 1
    needed = parts + 2 * purge
    available = _span(_month_ends(months[: last + 1]))
    return (
        f"too few as-of months for an out-of-time split: need at least {needed} consecutive "
        f"monthly as-of months up to the test end ({split.test_months} test + "
        f"{split.validation_months} validation + 1 training + 2 purge gaps of {purge} months); "
        f"have {available}. Add snapshots (snapshots.first_as_of) or lower split.test_months, "
        f"split.validation_months or split.purge_months."
    )


def _month_ends(indices: np.ndarray) -> list[pd.Timestamp]:
    return list(month_end_of_index(np.asarray(indices, dtype=np.int64))) if len(indices) else []
