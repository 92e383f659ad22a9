"""Recency and regularity in days and the BTYD summary, on hand-written customers.

As-of 2023-06-30 (and 2023-03-31 to show nothing later is seen). Customer "r"
trades on Mar 1 (twice), Mar 11, Apr 10 and Jun 20 (10:00): distinct trade days
Mar 1, Mar 11, Apr 10, Jun 20, gaps of 10, 30 and 71 days.
"""

import math

import numpy as np
import pandas as pd
import pytest
from feature_fixtures import build, customers, load, row, trades, transfers

MARCH = pd.Timestamp("2023-03-31")
JUNE = pd.Timestamp("2023-06-30")


@pytest.fixture(scope="module")
def matrix():
    rows = [
        ("r", "2023-03-01", 100.0, 1.0),
        ("r", "2023-03-01", 100.0, 1.0),
        ("r", "2023-03-11", 100.0, 1.0),
        ("r", "2023-04-10", 100.0, 1.0),
        ("r", "2023-06-20 10:00:00", 100.0, 1.0),
        ("r", "2023-07-05", 100.0, 1.0),  # after T: never seen at T
        ("on_day", "2023-06-30 23:59:59", 100.0, 1.0),
        ("year_gap", "2022-06-10", 100.0, 1.0),
        ("year_gap", "2023-06-10", 100.0, 1.0),
    ]
    rows += [("weekly", f"2023-05-{d:02d}", 100.0, 1.0) for d in (1, 8, 15, 22, 29)]
    rows += [("weekly", "2023-06-05", 100.0, 1.0)]
    moves = [("r", "2023-05-15 09:00:00", "in", 10.0), ("r", "2023-07-01", "out", 10.0)]
    people = customers("never", "on_day", "r", "weekly", "year_gap")
    tables = load(customers=people, trades=trades(rows), transfers=transfers(moves))
    return build(tables, as_of=(MARCH, JUNE))


def test_days_since_last_trade_and_transfer(matrix):
    got = row(matrix, "r")
    assert got["days_since_last_trade"] == 10  # Jun 20 -> Jun 30
    assert got["days_since_last_transfer"] == 46  # May 15 -> Jun 30
    assert row(matrix, "on_day")["days_since_last_trade"] == 0


def test_btyd_frequency_recency_and_age(matrix):
    got = row(matrix, "r")
    assert got["repeat_trade_days"] == 3  # 4 distinct days, the first is not a repeat
    assert got["first_to_last_trade_days"] == 111  # Mar 1 -> Jun 20
    assert got["days_since_first_trade"] == 121  # Mar 1 -> Jun 30


def test_gaps_between_trade_days(matrix):
    got = row(matrix, "r")
    assert got["trade_gap_mean_days_12m"] == pytest.approx(111 / 3)  # (10 + 30 + 71) / 3
    mean = 111 / 3
    spread = math.sqrt((10**2 + 30**2 + 71**2) / 3 - mean**2)
    assert got["trade_gap_cv_12m"] == pytest.approx(spread / mean, rel=1e-6)
    assert got["trades_per_active_month_12m"] == pytest.approx(5 / 3)  # Mar, Apr, Jun


def test_a_regular_rhythm_has_no_spread(matrix):
    got = row(matrix, "weekly")
    assert got["trade_gap_mean_days_12m"] == 7
    assert got["trade_gap_cv_12m"] == 0


def test_a_gap_ending_in_the_window_counts_whole(matrix):
    got = row(matrix, "year_gap")  # Jun 10 2022 falls before Jul 2022..Jun 2023
    assert got["trade_gap_mean_days_12m"] == 365
    assert math.isnan(got["trade_gap_cv_12m"])  # one gap: no spread
    assert got["trades_12m"] == 1


def test_nothing_after_the_as_of_date_is_seen(matrix):
    got = row(matrix, "r", as_of=MARCH)
    assert got["repeat_trade_days"] == 1  # Mar 1 and Mar 11
    assert got["days_since_last_trade"] == 20
    assert got["days_since_first_trade"] == 30
    assert got["trade_gap_mean_days_12m"] == 10
    assert math.isnan(got["trade_gap_cv_12m"])
    assert math.isnan(got["days_since_last_transfer"])  # the first transfer is in May


def test_an_account_that_never_traded_has_no_day_signals(matrix):
    got = row(matrix, "never")
    names = [
        "days_since_last_trade",
        "trade_gap_mean_days_12m",
        "trade_gap_cv_12m",
        "trades_per_active_month_12m",
        "repeat_trade_days",
        "first_to_last_trade_days",
        "days_since_first_trade",
        "days_since_last_transfer",
    ]
    assert np.isnan(got[names].to_numpy(dtype=float)).all()
