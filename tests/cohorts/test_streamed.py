"""The streamed feature file equals the matrix built whole, whatever the chunk size."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.builder.build import build_feature_matrix
from pipeline.cohorts.streamed import write_feature_file
from pipeline.core.params import Params
from pipeline.data.loader import load_tables

MONTHS = [pd.Timestamp("2022-06-30"), pd.Timestamp("2023-03-31"), pd.Timestamp("2022-12-31")]


@pytest.fixture(scope="module")
def demo_tables(demo_data):
    return load_tables(demo_data, Params(), None).tables


@pytest.mark.parametrize("chunk", [700, 3000, 100_000])
def test_streamed_file_equals_the_whole_build(demo_tables, tmp_path, chunk):
    params = Params.model_validate({"engine": {"chunk_customers": chunk}})
    out = tmp_path / "features.parquet"
    rows = write_feature_file(demo_tables, MONTHS, params, out)
    expected = build_feature_matrix(demo_tables, MONTHS, Params())
    written = pq.read_table(out).to_pandas(date_as_object=False)
    assert rows == len(expected) == len(written)
    pd.testing.assert_frame_equal(written, expected, check_exact=True)


def test_small_chunks_write_one_row_group_per_month_and_chunk(demo_tables, tmp_path):
    params = Params.model_validate({"engine": {"chunk_customers": 1000}})
    out = tmp_path / "features.parquet"
    write_feature_file(demo_tables, MONTHS[:2], params, out)
    # 3,000 customers in chunks of 1,000, two months: six row groups, none holding the whole.
    assert pq.ParquetFile(out).num_row_groups == 6


def test_no_open_account_writes_nothing(demo_tables, tmp_path):
    out = tmp_path / "features.parquet"
    with pytest.raises(ValueError, match="no account is open"):
        write_feature_file(demo_tables, [pd.Timestamp("1999-12-31")], Params(), out)
    assert list(tmp_path.iterdir()) == []


def test_partitions_on_disk_write_the_same_rows_through_the_cli(demo_data, demo_tables, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = tmp_path / "features.parquet"
    args = ["features", "--data", str(demo_data), "--as-of", "2022-12-31", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--set", "engine.partitions=3"])
    assert result.exit_code == 0, result.output
    expected = build_feature_matrix(demo_tables, [pd.Timestamp("2022-12-31")], Params())
    written = pq.read_table(out).to_pandas(date_as_object=False)
    # Partition after partition, each in id order: not one id order over the file.
    assert not written["customer_id"].astype(str).is_monotonic_increasing
    written = written.sort_values("customer_id", ignore_index=True)
    expected = expected.sort_values("customer_id", ignore_index=True)
    # Categories of partitions' text columns may come in another order; values are exact.
    pd.testing.assert_frame_equal(written, expected, check_exact=True, check_categorical=False)
