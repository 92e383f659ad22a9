"""Inputs under fsspec URLs: the same frames as the loader's reader, read whole or in pieces."""

import fsspec
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.core.contract import INDICATOR_TABLES
from pipeline.core.errors import DataContractError
from pipeline.data import reader as io
from pipeline.data.reader import find_table_file, read_table_file


def loader_frame(folder, table):
    return read_table_file(table, find_table_file(folder, table))


DEMO_TABLES = ["customers", *INDICATOR_TABLES]  # the demo writes no retention_actions


@pytest.mark.parametrize("table", DEMO_TABLES)
def test_file_url_of_a_multi_file_folder_reads_like_the_loader(split_demo_data, table):
    frame = io.read_table(f"file://{split_demo_data}", table)
    pd.testing.assert_frame_equal(frame, loader_frame(split_demo_data, table), check_exact=True)


def test_pieces_of_row_groups_concatenate_to_the_loader_frame(split_demo_data):
    fs, root = fsspec.core.url_to_fs(str(split_demo_data))
    source = io.find_table_source(fs, root, "trades")
    units = io.read_units(source, rows_per_unit=5000)
    # Three files of row groups of 4,000 rows: each piece is one whole row group.
    assert len(units) > 3
    assert all(unit.row_groups is not None and len(unit.row_groups) == 1 for unit in units)
    schema = io.table_arrow_schema(source)
    frame = io.concat_pieces([io.read_unit(source, unit, schema) for unit in units])
    pd.testing.assert_frame_equal(frame, loader_frame(split_demo_data, "trades"), check_exact=True)


def test_memory_url_reads_like_the_loader(split_demo_data):
    memory = fsspec.filesystem("memory")
    for path in (split_demo_data / "customers").glob("*.parquet"):
        memory.pipe(f"/demo-io/customers/{path.name}", path.read_bytes())
    memory.pipe("/demo-io/customers/_SUCCESS", b"")
    frame = io.read_table("memory://demo-io", "customers")
    pd.testing.assert_frame_equal(
        frame, loader_frame(split_demo_data, "customers"), check_exact=True
    )


def test_csv_reads_like_the_loader(tmp_path):
    (tmp_path / "customers.csv").write_text(
        "customer_id,open_date,closed_date,branch\n007,2021-01-04,,SH\n010,2021-02-01,2022-03-01,\n"
    )
    frame = io.read_table(f"file://{tmp_path}", "customers")
    pd.testing.assert_frame_equal(frame, loader_frame(tmp_path, "customers"), check_exact=True)
    assert frame["customer_id"].tolist() == ["007", "010"]


def test_table_file_wins_over_folder_and_csv_as_in_the_loader(tmp_path, split_demo_data):
    pq.write_table(
        pq.read_table(next((split_demo_data / "events").glob("*.parquet"))),
        tmp_path / "events.parquet",
    )
    (tmp_path / "events").mkdir()
    (tmp_path / "events.csv").write_text("customer_id,event_date,event_type\n")
    fs, root = fsspec.core.url_to_fs(str(tmp_path))
    source = io.find_table_source(fs, root, "events")
    assert source.files == (f"{tmp_path}/events.parquet",)
    assert find_table_file(tmp_path, "events").name == "events.parquet"


def test_hidden_and_marker_files_are_skipped(tmp_path, split_demo_data):
    folder = tmp_path / "trades"
    folder.mkdir()
    first = next((split_demo_data / "trades").glob("*.parquet"))
    (folder / "part-0.parquet").write_bytes(first.read_bytes())
    (folder / ".part-1.parquet").write_bytes(b"half written")
    (folder / "_SUCCESS").write_bytes(b"")
    fs, root = fsspec.core.url_to_fs(str(tmp_path))
    assert io.find_table_source(fs, root, "trades").files == (f"{folder}/part-0.parquet",)


def test_missing_required_table_names_the_table(tmp_path):
    (tmp_path / "trades").mkdir()
    with pytest.raises(DataContractError, match="customers"):
        io.table_sources(f"file://{tmp_path}")


def test_folder_without_parquet_files_is_an_error(tmp_path):
    (tmp_path / "customers").mkdir()
    fs, root = fsspec.core.url_to_fs(str(tmp_path))
    with pytest.raises(DataContractError, match="holds no .parquet files"):
        io.find_table_source(fs, root, "customers")
