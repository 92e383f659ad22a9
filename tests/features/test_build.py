"""The matrix's population, order, dtypes and the chunking and partition guarantees."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from feature_fixtures import build, customers, load, row, trades

from features.builder.build import build_customer_features
from features.builder.registry import FEATURES, INDICATOR_FLAGS, market_features
from pipeline.core.params import Params
from pipeline.data.loader import tables_from_frames
from pipeline.demo import simulate

JUNE, MAY = pd.Timestamp("2023-06-30"), pd.Timestamp("2023-05-31")


def _params(chunk: int) -> Params:
    params = Params()
    params.features.chunk_customers = chunk
    return params


@pytest.fixture(scope="module")
def demo_tables():
    frames = simulate(customers=300, months=18, seed=5, start="2022-01")
    return tables_from_frames(frames).tables


def test_population_is_the_accounts_open_at_each_as_of():
    people = pd.DataFrame(
        {
            "customer_id": ["opened_on_T", "opened_after", "closed_on_T", "closed_after", "open"],
            "open_date": ["2023-06-30", "2023-07-01", "2022-01-03", "2022-01-03", "2022-01-03"],
            "closed_date": [None, None, "2023-06-30", "2023-07-01", None],
        }
    )
    matrix = build(load(customers=people), as_of=(JUNE, MAY))
    at_june = matrix.loc[matrix.as_of == JUNE, "customer_id"].tolist()
    at_may = matrix.loc[matrix.as_of == MAY, "customer_id"].tolist()
    assert at_june == ["closed_after", "open", "opened_on_T"]
    assert at_may == ["closed_after", "closed_on_T", "open"]
    assert row(matrix, "opened_on_T")["tenure_months"] == 0


def test_rows_sorted_by_as_of_then_customer_with_fixed_dtypes(demo_tables):
    ends = [pd.Timestamp("2023-04-30"), pd.Timestamp("2023-02-28"), pd.Timestamp("2023-04-30")]
    matrix = build(demo_tables, as_of=ends)
    assert list(matrix.columns[:2]) == ["customer_id", "as_of"]
    assert list(matrix.columns[2:]) == [f.name for f in FEATURES]
    assert matrix["as_of"].unique().tolist() == [pd.Timestamp("2023-02-28"), ends[0]]
    keys = list(zip(matrix["as_of"], matrix["customer_id"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert str(matrix["customer_id"].dtype) == "str"
    assert str(matrix["as_of"].dtype) == "datetime64[us]"
    for name in INDICATOR_FLAGS:
        assert matrix[name].dtype == bool
    assert list(matrix["channel"].cat.categories) == ["online", "onsite"]
    assert list(matrix["value_tier"].cat.categories) == ["mass", "affluent", "high_net_worth"]
    assert matrix["trades_12m"].dtype == np.float32


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunk_size_changes_nothing(demo_tables, chunk):
    ends = [pd.Timestamp("2023-03-31"), pd.Timestamp("2023-06-30")]
    whole = build(demo_tables, as_of=ends, params=_params(100_000))
    pd.testing.assert_frame_equal(build(demo_tables, as_of=ends, params=_params(chunk)), whole)


def test_a_partition_of_customers_gets_exactly_its_rows_of_the_whole(demo_tables):
    # What a distributed engine relies on: per-customer features depend on own rows only.
    ends = [pd.Timestamp("2023-06-30")]
    whole = build_customer_features(demo_tables, ends, Params())
    part_ids = demo_tables.customers["customer_id"].iloc[::3]
    branch = demo_tables.customers["branch"]
    frames = {
        "customers": demo_tables.customers[demo_tables.customers.customer_id.isin(part_ids)],
        **{
            name: table[table.customer_id.isin(part_ids)].drop(columns="customer_idx")
            for name in ("trades", "transfers", "balances", "events")
            if (table := demo_tables.table(name)) is not None
        },
    }
    part_tables = tables_from_frames(frames).tables
    # Same branch categories everywhere, as a distributed engine must arrange.
    categories = pd.CategoricalDtype(sorted(branch.dropna().astype(str).unique()))
    customers_part = part_tables.customers.assign(
        branch=part_tables.customers.branch.astype(categories)
    )
    part_tables = dataclasses.replace(part_tables, customers=customers_part)
    part = build_customer_features(part_tables, ends, Params())
    expected = whole[whole.customer_id.isin(part_ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected)


def test_market_columns_come_last_in_the_per_customer_step(demo_tables):
    frame = build_customer_features(demo_tables, [JUNE], Params())
    assert not set(f.name for f in market_features()) & set(frame.columns)


def test_as_of_must_be_month_ends():
    tables = load(customers=customers("x"), trades=trades([("x", "2023-01-05", 1.0, 0.1)]))
    with pytest.raises(ValueError, match="month ends"):
        build(tables, as_of=(pd.Timestamp("2023-06-29"),))
    with pytest.raises(ValueError, match="at least one"):
        build(tables, as_of=())


def test_as_of_before_any_data_gives_rows_without_history():
    tables = load(
        customers=customers("x", opened="2020-01-01"),
        trades=trades([("x", "2023-01-05", 1.0, 0.1)]),
    )
    got = row(build(tables, as_of=(pd.Timestamp("2021-06-30"),)), "x", pd.Timestamp("2021-06-30"))
    assert got["trades_12m"] == 0 and np.isnan(got["months_since_last_trade"])
