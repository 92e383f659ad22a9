"""Labels on hand-written accounts: T = 2024-01-31, H = 3, so the window is (Jan 31, Apr 30]."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cohorts.labels import base_rates, complete_label_months, make_labels, population
from pipeline.core.errors import ChurnError, IncompleteLabelWindowError
from pipeline.core.params import LabelParams, Params
from pipeline.data.loader import tables_from_frames

T = pd.Timestamp("2024-01-31")
PARAMS = Params.model_validate({"data": {"observation_end": "2024-06-30"}})


def ts(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C", "D", "E", "F", "G"],
        "open_date": ts(
            [
                "2023-01-01",
                "2023-01-01",
                "2023-01-01",
                "2024-02-01",
                "2024-01-31",
                "2023-01-01",
                "2023-01-01",
            ]
        ),
        "closed_date": ts(
            [
                "2024-01-31",  # A closes on T: not in the population at T
                "2024-04-30",  # B closes on T+H: churner
                "2024-05-01",  # C closes the day after T+H: not a churner under closure
                None,  # D opens after T: not in the population
                None,  # E opens on T: in the population
                "2024-02-01",  # F closes on the first day of the window: churner
                None,
            ]  # G stays open
        ),
    }
)
TRADES = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C", "C", "D", "G"],
        "trade_date": ts(
            [
                "2024-01-02",
                "2024-04-30 10:00",  # B trades on the window's last day, 10:00
                "2024-01-31 15:00",  # C trades on T itself: outside the window
                "2024-05-01 09:00",  # and the day after it: outside too
                "2024-03-01",
                "2024-02-29 23:59",
            ]
        ),
        "amount": [1.0] * 6,
        "commission": [0.0] * 6,
    }
)
TRANSFERS = pd.DataFrame(
    {
        "customer_id": ["E"],
        "transfer_date": ts(["2024-02-15"]),  # E moves money in the window: active
        "direction": ["in"],
        "amount": [100.0],
    }
)
BALANCES = pd.DataFrame(
    {
        "customer_id": ["B", "C", "C", "E", "E", "G", "F"],
        "month_end": ts(
            [
                "2024-01-31",
                "2024-01-31",
                "2024-04-30",
                "2024-01-31",
                "2024-04-30",
                "2024-01-31",
                "2024-01-31",
            ]
        ),
        # C: 100,000 -> 9,999 + 10,000 = 19,999 < 20% of 100,000: drained.
        # E: 100,000 -> 20,000, exactly 20%: not below, not drained.
        # G: no row at T+H and no closure: not labelled.
        "cash": [50_000.0, 60_000.0, 9_999.0, 100_000.0, 0.0, 1.0, 5.0],
        "market_value": [50_000.0, 40_000.0, 10_000.0, 0.0, 20_000.0, 0.0, 0.0],
    }
)


def tables(**replace):
    frames = {
        "customers": CUSTOMERS,
        "trades": TRADES,
        "transfers": TRANSFERS,
        "balances": BALANCES,
        **replace,
    }
    return tables_from_frames(frames, PARAMS).tables


def labels(definition, as_of=(T,), horizon=3, tabs=None) -> dict[str, int]:
    label = LabelParams(definition=definition, horizon_months=horizon)
    frame = make_labels(tabs or tables(), list(as_of), label)
    return dict(zip(frame["customer_id"], frame["label"].tolist(), strict=True))


def test_population_at_t():
    is_open = population(tables().customers, T)
    assert tables().customers["customer_id"][is_open].tolist() == ["B", "C", "E", "F", "G"]


def test_closure():
    assert labels("closure") == {"B": 1, "C": 0, "E": 0, "F": 1, "G": 0}


def test_dormancy_counts_trades_and_transfers_at_day_level():
    # B traded at 10:00 on Apr 30 (inside); C only on T and May 1 (outside); E transferred;
    # F did nothing (it closed); G traded Feb 29 23:59 (inside).
    assert labels("dormancy") == {"B": 0, "C": 1, "E": 0, "F": 1, "G": 0}


def test_dormancy_without_transfers_counts_trades_only():
    assert labels("dormancy", tabs=tables(transfers=None))["E"] == 1


def test_asset_drain():
    # B and F closed in the window (no T+H balance needed); C drained; E exactly at 20%;
    # G lacks a T+H balance and did not close: left out.
    assert labels("asset_drain") == {"B": 1, "C": 1, "E": 0, "F": 1}


def test_asset_drain_without_balances_is_refused():
    with pytest.raises(ChurnError, match="needs the balances table"):
        labels("asset_drain", tabs=tables(balances=None))


def test_several_as_of_months_at_once_are_sorted_by_month_then_id():
    frame = make_labels(tables(), [T, pd.Timestamp("2023-12-31")], LabelParams(horizon_months=3))
    assert frame["label"].dtype == np.int8
    assert (
        frame["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2023-12-31"] * 5 + ["2024-01-31"] * 5
    )
    # At 2023-12-31, A to G less D and E (not yet open) are open; the window
    # (Dec 31, Mar 31] holds A's closing on Jan 31 and F's on Feb 1.
    dec = frame[frame["as_of"] == "2023-12-31"]
    assert dec["customer_id"].tolist() == ["A", "B", "C", "F", "G"]
    assert dec["label"].tolist() == [1, 0, 0, 1, 0]


def test_an_incomplete_window_is_refused_never_labelled_zero():
    # observation_end 2024-06-30, H = 3: the last complete as-of is 2024-03-31.
    assert complete_label_months(tables(), LabelParams(horizon_months=3)) == pd.Timestamp(
        "2024-03-31"
    )
    # At 2024-03-31 the window (Mar 31, Jun 30] is complete and holds C's closing on May 1.
    assert labels("closure", as_of=[pd.Timestamp("2024-03-31")])["C"] == 1
    with pytest.raises(IncompleteLabelWindowError) as err:
        labels("closure", as_of=[T, pd.Timestamp("2024-04-30")])
    message = str(err.value)
    assert "2024-04-30" in message and "3-month" in message and "2024-06-30" in message


def test_a_longer_horizon_reaches_further():
    # H = 4: window (Jan 31, May 31] now holds C's closing on May 1.
    assert labels("closure", horizon=4)["C"] == 1


def test_as_of_must_be_a_month_end():
    with pytest.raises(ChurnError, match="not a month end"):
        labels("closure", as_of=[pd.Timestamp("2024-01-30")])
    with pytest.raises(ChurnError, match="not a month end"):
        labels("closure", as_of=[pd.Timestamp("2024-01-31 12:00")])


def test_base_rates():
    rates = base_rates(tables(), [T], LabelParams(definition="asset_drain"))
    row = rates.iloc[0]
    assert (row["population"], row["labelled"], row["churners"]) == (5, 4, 3)
    assert row["churn_rate"] == pytest.approx(0.75)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(0, 500))),
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 6),
)
def test_closure_matches_a_customer_by_customer_reading(days, horizon):
    base = pd.Timestamp("2023-01-01")
    opened = [base + pd.Timedelta(days=o) for o, _ in days]
    closed = [
        None if c is None else o + pd.Timedelta(days=c)
        for o, (_, c) in zip(opened, days, strict=True)
    ]
    customers = pd.DataFrame(
        {
            "customer_id": [f"K{i:03d}" for i in range(len(days))],
            "open_date": ts(opened),
            "closed_date": ts(closed),
        }
    )
    trades = pd.DataFrame(
        {
            "customer_id": ["K000"],
            "trade_date": ts([opened[0]]),
            "amount": [1.0],
            "commission": [0.0],
        }
    )
    params = Params.model_validate({"data": {"observation_end": "2025-12-31"}})
    tabs = tables_from_frames({"customers": customers, "trades": trades}, params).tables
    as_of = [pd.Timestamp("2023-06-30"), pd.Timestamp("2023-12-31")]
    got = make_labels(tabs, as_of, LabelParams(horizon_months=horizon))
    expected = []
    for t in as_of:
        end = t + pd.offsets.MonthEnd(horizon)
        for cid, o, c in zip(customers["customer_id"], opened, closed, strict=True):
            if o <= t and (c is None or c > t):
                expected.append((t, cid, int(c is not None and t < c <= end)))
    assert list(zip(got["as_of"], got["customer_id"], got["label"], strict=True)) == expected
