import pandas as pd
import pytest

from pipeline.cohorts.snapshots import DataSpan, latest_month_end, parse_as_of, resolve_as_of
from pipeline.core.errors import ChurnError


@pytest.mark.parametrize(
    ("observation_end", "latest"),
    [
        ("2023-12-31", "2023-12-31"),  # the data end on a month end: that month
        ("2023-12-30", "2023-11-30"),  # December is not complete: November
        ("2024-02-29", "2024-02-29"),
        ("2024-03-01", "2024-02-29"),
    ],
)
def test_latest_is_the_last_month_end_the_data_cover(observation_end, latest):
    span = DataSpan(0, pd.Timestamp(observation_end))
    assert latest_month_end(span) == pd.Timestamp(latest)
    assert resolve_as_of(["latest", "2023-06"], span) == [
        pd.Timestamp(latest),
        pd.Timestamp("2023-06-30"),
    ]


def test_as_of_texts_are_checked_before_any_data_are_read():
    assert parse_as_of("LATEST ") is None
    assert parse_as_of("2023-06-30") == pd.Timestamp("2023-06-30")
    with pytest.raises(ChurnError, match="--as-of: 2023-06-15 is not a month end"):
        parse_as_of("2023-06-15")
    with pytest.raises(ChurnError, match="no activity"):
        latest_month_end(DataSpan(0, None))
