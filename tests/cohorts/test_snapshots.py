"""Snapshot months: activity from 2023-01-10 to 2024-06-30, observation_end 2024-06-30."""

import pandas as pd
import pytest

from pipeline.cohorts.snapshots import first_data_month, snapshot_months
from pipeline.core.errors import ChurnError, IncompleteLabelWindowError, ParamsError
from pipeline.core.params import LabelParams, SnapshotParams
from pipeline.data.loader import tables_from_frames
from pipeline.data.observation import observation_end


def ts(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def make_tables():
    customers = pd.DataFrame(
        {
            "customer_id": ["old", "new"],
            # "old" opened years before the export starts: that must not pull the start back.
            "open_date": ts(["2015-05-05", "2023-01-10"]),
            "closed_date": ts([None, None]),
        }
    )
    trades = pd.DataFrame(
        {
            "customer_id": ["new", "old", "old"],
            "trade_date": ts(["2023-01-10 10:00", "2023-05-02", "2024-06-30 14:00"]),
            "amount": [1.0, 2.0, 3.0],
            "commission": [0.0, 0.0, 0.0],
        }
    )
    return tables_from_frames({"customers": customers, "trades": trades}).tables


def iso(months) -> list[str]:
    return [str(m.date()) for m in months]


def test_defaults_run_from_min_history_to_the_last_complete_window():
    tables = make_tables()
    assert tables.observation_end == pd.Timestamp("2024-06-30")
    months = snapshot_months(tables, SnapshotParams(), LabelParams(horizon_months=3))
    # Data starts January 2023, six months of it by 2023-06-30; the last window
    # (Mar 31, Jun 30] of 2024 is complete.
    assert iso(months[:2]) == ["2023-06-30", "2023-07-31"]
    assert iso(months[-1:]) == ["2024-03-31"]
    assert len(months) == 10


def test_first_data_month_ignores_old_opening_dates():
    assert first_data_month(make_tables()) == 2023 * 12 + 0


def test_min_history_zero_starts_at_the_first_data_month():
    months = snapshot_months(make_tables(), SnapshotParams(min_history_months=0), LabelParams())
    assert iso(months[:1]) == ["2023-01-31"]


def test_every_n_months_counts_back_from_the_last():
    params = SnapshotParams(first_as_of="2023-06", every_months=4)
    months = snapshot_months(make_tables(), params, LabelParams(horizon_months=3))
    # Back from 2024-03-31 in steps of 4 while on or after 2023-06-30.
    assert iso(months) == ["2023-07-31", "2023-11-30", "2024-03-31"]


def test_explicit_range():
    params = SnapshotParams(first_as_of="2023-09", last_as_of="2023-12-31")
    months = snapshot_months(make_tables(), params, LabelParams())
    assert iso(months) == ["2023-09-30", "2023-10-31", "2023-11-30", "2023-12-31"]


def test_a_last_as_of_with_an_incomplete_window_is_refused():
    params = SnapshotParams(last_as_of="2024-04")
    with pytest.raises(IncompleteLabelWindowError) as err:
        snapshot_months(make_tables(), params, LabelParams(horizon_months=3))
    message = str(err.value)
    assert "2024-04-30" in message and "2024-07-31" in message and "2024-03-31" in message


def test_an_empty_range_is_an_error():
    # Twelve months of history would start at 2023-12-31; a 12-month horizon ends at 2023-06-30.
    with pytest.raises(ChurnError, match="no snapshot months"):
        snapshot_months(
            make_tables(), SnapshotParams(min_history_months=12), LabelParams(horizon_months=12)
        )


def test_a_malformed_month_names_its_key():
    with pytest.raises(ParamsError, match="snapshots.first_as_of"):
        snapshot_months(make_tables(), SnapshotParams(first_as_of="2023-06-15"), LabelParams())


def test_observation_end_from_a_mid_month_date_rolls_back():
    tables = make_tables()
    assert observation_end(tables, None) == pd.Timestamp("2024-06-30")
    assert observation_end(tables, "2024-02") == pd.Timestamp("2024-02-29")
