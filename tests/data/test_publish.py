"""Dataset folders are published whole: staging, rename, _SUCCESS last; readers refuse the rest."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import ChurnError
from pipeline.data.publish import (
    SUCCESS,
    is_complete,
    part_name,
    read_dataset,
    staged_dataset,
)


def write_parts(folder: str, values: list[list[int]]) -> None:
    for number, rows in enumerate(values):
        pq.write_table(pa.table({"x": rows}), f"{folder}/{part_name(number)}")


def test_published_folder_holds_the_parts_and_the_marker(tmp_path):
    target = tmp_path / "scores"
    with staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[1, 2], [3]])
        staging.summary = {"parts": 2}
        assert not target.exists()
    assert sorted(p.name for p in target.iterdir()) == [SUCCESS, part_name(0), part_name(1)]
    assert json.loads((target / SUCCESS).read_text()) == {"parts": 2}
    assert read_dataset(str(target))["x"].tolist() == [1, 2, 3]
    # Nothing is left beside the target.
    assert [p.name for p in tmp_path.iterdir()] == ["scores"]


def test_failure_midway_leaves_no_target(tmp_path):
    target = tmp_path / "scores"
    with pytest.raises(RuntimeError), staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[1]])
        raise RuntimeError("worker lost")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_the_previous_complete_dataset(tmp_path):
    target = tmp_path / "scores"
    with staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[1, 2]])
    with pytest.raises(KeyboardInterrupt), staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[9]])
        raise KeyboardInterrupt
    assert read_dataset(str(target))["x"].tolist() == [1, 2]


def test_a_new_dataset_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "scores"
    with staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[1], [2], [3]])
    with staged_dataset(str(target)) as staging:
        write_parts(staging.url, [[7]])
    assert read_dataset(str(target))["x"].tolist() == [7]
    assert [p.name for p in tmp_path.iterdir()] == ["scores"]


def test_folder_without_marker_is_incomplete(tmp_path):
    folder = tmp_path / "scores"
    folder.mkdir()
    write_parts(str(folder), [[1]])
    assert not is_complete(str(folder))
    with pytest.raises(ChurnError, match="not a complete dataset"):
        read_dataset(str(folder))


def test_memory_filesystem_publishes_too():
    with staged_dataset("memory://publish-test/scores") as staging:
        table = pa.table({"x": [4, 5]})
        import fsspec

        fs, path = fsspec.core.url_to_fs(f"{staging.url}/{part_name(0)}")
        with fs.open(path, "wb") as handle:
            pq.write_table(table, handle)
    assert is_complete("memory://publish-test/scores")
    pd.testing.assert_frame_equal(read_dataset("memory://publish-test/scores"), table.to_pandas())
