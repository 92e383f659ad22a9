"""The market reference (histogram median and percentile) and the market-relative signals."""

import numpy as np
import pandas as pd
import pytest
from feature_fixtures import build, customers, load, row, trades
from hypothesis import given, settings
from hypothesis import strategies as st

from features.builder.build import (
    apply_market_reference,
    build_customer_features,
    combine_market_references,
    market_reference,
)
from features.builder.reference import bin_centres, histogram_reference, value_bins
from pipeline.core.params import Params
from pipeline.data.loader import tables_from_frames
from pipeline.demo import simulate

T = np.datetime64("2023-06-30", "us")


def test_bins_follow_the_order_of_values():
    values = np.array([-1e15, -3.0, -1e-9, 0.0, 1e-9, 0.5, 0.501, 2.0, 1e15, np.nan, np.inf])
    bins = value_bins(values)
    assert list(bins[-2:]) == [-1, -1]  # NaN and inf are left out
    assert np.all(np.diff(bins[:-2]) >= 0)
    assert bins[3] == value_bins(np.array([-0.0]))[0]  # both zeros share the zero bin


@given(st.floats(min_value=1e-6, max_value=1e12))
def test_bin_centre_is_within_half_a_percent(value):
    for signed in (value, -value):
        centre = bin_centres(value_bins(np.array([signed])))[0]
        assert abs(centre - signed) <= 0.004 * abs(signed)


def test_median_and_percentile_of_a_small_month():
    # Values 1, 2, 3, 4, 10: lower median is 3 (rank 2 of 0..4); 3 has 2 below, itself 1.
    reference = histogram_reference(np.full(5, T), {"r": np.array([4.0, 1.0, 10.0, 3.0, 2.0])})
    assert reference.medians("r")[0] == pytest.approx(3.0, rel=0.004)
    share = reference.percentiles("r", np.zeros(1, dtype=np.int64), value_bins(np.array([3.0])))
    assert share[0] == pytest.approx((2 + 0.5) / 5)


def test_month_without_values_has_no_median():
    reference = histogram_reference(np.full(2, T), {"r": np.array([np.nan, np.nan])})
    assert np.isnan(reference.medians("r")[0])


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e9, 1e9, allow_nan=False) | st.just(np.nan), min_size=1, max_size=60
    ),
    cut=st.integers(0, 60),
)
def test_references_of_parts_combine_to_the_whole_exactly(values, cut):
    values = np.array(values)
    months = np.where(np.arange(len(values)) % 2 == 0, T, T - np.timedelta64(30, "D"))
    whole = histogram_reference(months, {"r": values})
    parts = [
        histogram_reference(months[s], {"r": values[s]}) for s in (slice(0, cut), slice(cut, None))
    ]
    combined = combine_market_references([p for p in parts if len(p.as_of)])
    assert np.array_equal(combined.as_of, whole.as_of)
    assert np.array_equal(combined.counts["r"], whole.counts["r"])


def test_distributed_build_equals_local_to_the_last_bit():
    tables = tables_from_frames(simulate(customers=400, months=15, seed=3, start="2022-01")).tables
    ends = [pd.Timestamp("2022-12-31"), pd.Timestamp("2023-03-31")]
    local = build(tables, as_of=ends)
    frame = build_customer_features(tables, ends, Params())
    parts = [frame.iloc[i::3].reset_index(drop=True) for i in range(3)]
    reference = combine_market_references([market_reference(p) for p in parts])
    applied = [apply_market_reference(p, reference, Params()) for p in parts]
    distributed = pd.concat(applied).sort_values(["as_of", "customer_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(distributed, local)


def test_trade_ratio_is_read_against_the_market():
    # Everyone halves their trading (2 a month in Jan..Mar, 1 in Apr..Jun) except "steady".
    ids = ["a", "b", "c", "d", "steady"]
    rows = []
    for customer in ids:
        for month in range(1, 7):
            count = 2 if month <= 3 or customer == "steady" else 1
            rows += [
                (customer, f"2023-{month:02d}-{day + 1:02d}", 10.0, 0.1) for day in range(count)
            ]
    matrix = build(load(customers=customers(*ids), trades=trades(rows)))
    quiet, steady = row(matrix, "a"), row(matrix, "steady")
    assert quiet["trades_3m_vs_prev_3m"] == pytest.approx(0.5)
    assert quiet["trades_ratio_vs_market"] == pytest.approx(1.0, rel=0.01)  # like the market
    assert steady["trades_ratio_vs_market"] == pytest.approx(2.0, rel=0.01)
    assert steady["trades_ratio_market_pct"] == pytest.approx(0.9)  # 4 below, alone in its bin
    assert quiet["trades_ratio_market_pct"] == pytest.approx(0.4)  # 4 tied: (0 + 2) / 5


def test_customer_value_weights_and_missing_parts():
    from features.value import customer_value

    full = customer_value(
        *(np.array([p]) for p in (1.0, 0.0, 0.0, 0.0, 0.0)),
        value_weight_contribution=0.5,
        value_weight_growth=0.2,
        value_weight_product_appetite=0.1,
        value_weight_influence=0.1,
        value_weight_resources=0.1,
    )
    assert full[0] == pytest.approx(50.0)  # 100 x 0.5 x 1.0
    partial = customer_value(
        *(np.array([p]) for p in (1.0, np.nan, np.nan, np.nan, 0.5)),
        value_weight_contribution=0.5,
        value_weight_growth=0.2,
        value_weight_product_appetite=0.1,
        value_weight_influence=0.1,
        value_weight_resources=0.1,
    )
    assert partial[0] == pytest.approx(100 * (0.5 * 1.0 + 0.1 * 0.5) / 0.6)
