"""The vectorised row rules agree with their plain definitions (repeated rows, active months)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.calendar import month_index
from pipeline.core.contract import SCHEMAS
from pipeline.data import repeated
from pipeline.data.observation import activity_months
from pipeline.data.repeated import recurring, repeated_rows, row_hashes

rows = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", None]),
        st.sampled_from(["2023-01-03", "2023-01-03 15:00", "2023-02-28", None]),
        st.sampled_from(["stock", "fund", None]),
        st.sampled_from([1.0, 2.5, -0.0, 0.0, np.nan]),
        st.sampled_from([0.0, 0.1]),
    ),
    min_size=0,
    max_size=30,
)


def _trades(values) -> pd.DataFrame:
    frame = pd.DataFrame(
        values, columns=["customer_id", "trade_date", "security_type", "amount", "commission"]
    )
    return frame.assign(
        customer_id=frame["customer_id"].astype("str").where(frame["customer_id"].notna()),
        trade_date=pd.to_datetime(frame["trade_date"], format="ISO8601").astype("datetime64[us]"),
        security_type=frame["security_type"].astype("category"),
        amount=frame["amount"].astype("float64"),
        commission=frame["commission"].astype("float64"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_repeated_rows_are_pandas_duplicates(values):
    frame = _trades(values)
    expected = frame.duplicated(keep="first").to_numpy() if len(frame) > 1 else np.zeros(len(frame))
    np.testing.assert_array_equal(repeated_rows("trades", frame, SCHEMAS["trades"]), expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_known_positions_give_the_same_repeated_rows(values):
    frame = _trades(values)
    codes = {"c1": 0, "c2": 1}
    positions = np.array([codes.get(v, -1) for v in frame["customer_id"]], dtype=np.int32)
    np.testing.assert_array_equal(
        repeated_rows("trades", frame, SCHEMAS["trades"], positions),
        repeated_rows("trades", frame, SCHEMAS["trades"]),
    )


def test_equal_rows_hash_equal_and_zero_signs_and_nans_are_one_value():
    frame = pd.DataFrame({"amount": [0.0, -0.0, np.nan, float("nan"), 1.0]})
    hashed = row_hashes(frame, ["amount"])
    assert hashed[0] == hashed[1] and hashed[2] == hashed[3]
    assert len(set(hashed.tolist())) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), max_size=40))
def test_recurring_hashes_are_pandas_duplicates(parts):
    # Hashes that share their low bits (one bit of the bitmap) without being equal.
    hashes = np.array(
        [(high << 40) | (middle << 24) | low for high, middle, low in parts], dtype=np.uint64
    )
    expected = pd.Series(hashes).duplicated(keep=False).to_numpy()
    np.testing.assert_array_equal(recurring(hashes), expected)
    with pytest.MonkeyPatch.context() as patch:  # looked up a few hashes at a time
        patch.setattr(repeated, "HASH_SLICE_ROWS", 3)
        np.testing.assert_array_equal(recurring(hashes), expected)


def test_recurring_finds_the_largest_hashes_and_a_table_of_repeats():
    top = np.iinfo(np.uint64).max
    hashes = np.array([top, 5, top, 0, 5, 0, 7], dtype=np.uint64)
    expected = [True, True, True, True, True, True, False]
    np.testing.assert_array_equal(recurring(hashes), expected)
    every = np.repeat(np.arange(200_000, dtype=np.uint64) << np.uint64(24), 2)  # low bits equal
    assert recurring(every).all()
    assert not recurring(np.arange(1000, dtype=np.uint64)).any()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_hashes_are_the_same_a_slice_at_a_time(values):
    frame = _trades(values)  # text ids: codes that need the whole column
    columns = list(frame.columns)
    whole = row_hashes(frame, columns)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repeated, "HASH_SLICE_ROWS", 4)
        np.testing.assert_array_equal(row_hashes(frame, columns), whole)


def test_column_order_changes_the_hash():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]})
    first, second = row_hashes(frame, ["a", "b"])
    assert first != second


def test_active_accounts_and_latest_day_per_month_by_pencil():
    # Customer 0: two January rows (one account), customer 1: January and March.
    trades = (
        np.array([0, 0, 1]),
        pd.Series(
            pd.to_datetime(["2023-01-05 10:00", "2023-01-20", "2023-01-31 23:00"], format="ISO8601")
        ),
    )
    events = (np.array([1, 2]), pd.Series(pd.to_datetime(["2023-03-02", None])))
    months = activity_months([trades, events])
    january, march = 2023 * 12, 2023 * 12 + 2
    assert months.active == {january: 2, march: 1}
    assert months.latest_day == {
        january: pd.Timestamp("2023-01-31"),
        march: pd.Timestamp("2023-03-02"),
    }


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(-30_000, 60_000)),
        min_size=1,
        max_size=40,
    )
)
def test_active_accounts_equal_distinct_pairs(pairs):
    customers = np.array([c for c, _ in pairs])
    dates = pd.Series(
        pd.Timestamp("1990-01-01 06:00") + pd.to_timedelta([d for _, d in pairs], "D")
    )
    months = activity_months([(customers, dates)])
    frame = pd.DataFrame({"customer": customers, "month": month_index(dates)})
    expected = frame.drop_duplicates().groupby("month").size()
    assert months.active == {int(m): int(n) for m, n in expected.items()}
    latest = dates.dt.normalize().groupby(month_index(dates)).max()
    assert months.latest_day == {int(m): d for m, d in latest.items()}
