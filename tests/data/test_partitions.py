"""Hash partitioning by customer: stable, complete, and each customer's rows in one place."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.data.partitions import customer_partitions, split_tables

IDS = np.array(["C0000001", "C0000002", "C0000003", "000123", "Ålesund-7", ""], dtype=object)


def test_partitions_are_pinned_values():
    # Recorded once (pipeline/data/hashing.py's text hash of the UTF-8 bytes, modulo n; the
    # hash itself is checked by hand in test_hashing.py). A change here moves every customer
    # between partitions: it must be deliberate.
    assert customer_partitions(IDS, 8).tolist() == [1, 1, 1, 0, 6, 3]
    assert customer_partitions(IDS, 1000).tolist() == [257, 153, 441, 744, 734, 203]


def test_partitions_agree_in_another_process():
    code = (
        "import numpy as np;"
        "from pipeline.data.partitions import customer_partitions;"
        f"print(customer_partitions(np.array({IDS.tolist()!r}, dtype=object), 1000).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(customer_partitions(IDS, 1000).tolist())


def test_string_and_object_ids_land_alike_and_missing_id_goes_to_zero():
    as_str = pd.Series(IDS, dtype="str")
    assert customer_partitions(as_str, 16).tolist() == customer_partitions(IDS, 16).tolist()
    assert (
        customer_partitions(pd.Series([None, "C1"], dtype=object), 16)[0]
        == customer_partitions(np.array([""], dtype=object), 16)[0]
    )


def test_zero_partitions_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        customer_partitions(IDS, 0)


@given(
    ids=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50),
    n=st.integers(1, 64),
)
def test_partitions_are_in_range_and_depend_only_on_the_id(ids, n):
    parts = customer_partitions(np.array(ids, dtype=object), n)
    assert parts.dtype == np.int32
    assert ((parts >= 0) & (parts < n)).all()
    # The same id gets the same partition wherever it appears and whatever its neighbours.
    alone = [customer_partitions(np.array([i], dtype=object), n)[0] for i in ids]
    assert parts.tolist() == alone


@pytest.fixture(scope="module")
def tables(split_demo_data):
    return load_tables(split_demo_data, Params(), None).tables


def test_split_puts_every_customer_and_row_in_exactly_one_part(tables):
    parts = dict(split_tables(tables, 7))
    ids = pd.concat([p.customers["customer_id"] for p in parts.values()])
    assert sorted(ids) == sorted(tables.customers["customer_id"])
    assert ids.is_unique
    for name in ("trades", "transfers", "balances", "events"):
        whole = tables.table(name)
        assert sum(len(p.table(name)) for p in parts.values()) == len(whole)
        for part in parts.values():
            rows = part.table(name)
            # customer_idx points at the part's own customers, and ids agree with it.
            own = part.customers["customer_id"].to_numpy()[rows["customer_idx"].to_numpy()]
            assert (own == rows["customer_id"].astype("str").to_numpy()).all()


def test_split_keeps_customer_order_and_row_order(tables):
    for partition, part in split_tables(tables, 5):
        assert part.customers["customer_id"].is_monotonic_increasing
        assert (customer_partitions(part.customers["customer_id"], 5) == partition).all()
        members = set(part.customers["customer_id"])
        whole = tables.trades[tables.trades["customer_id"].astype("str").isin(members)]
        pd.testing.assert_frame_equal(
            part.trades.drop(columns=["customer_id", "customer_idx"]),
            whole.drop(columns=["customer_id", "customer_idx"]).reset_index(drop=True),
        )
        assert part.observation_end == tables.observation_end


def test_split_gives_every_part_the_whole_branch_list(tables):
    branches = set(tables.customers["branch"].dropna().astype("str"))
    for _, part in split_tables(tables, 9):
        assert set(part.customers["branch"].cat.categories) == branches


def test_split_is_stable_across_runs(tables):
    first = {p: list(t.customers["customer_id"]) for p, t in split_tables(tables, 6)}
    second = {p: list(t.customers["customer_id"]) for p, t in split_tables(tables, 6)}
    assert first == second
