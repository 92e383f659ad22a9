import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.atomic import atomic_path, atomic_write_parquet, atomic_write_text


def test_text_is_written_and_replaces_the_old_content(tmp_path):
    target = tmp_path / "sub" / "report.txt"
    atomic_write_text("first", target)
    atomic_write_text("second", target)
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["report.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    target = tmp_path / "scores.parquet"
    with pytest.raises(ValueError), atomic_path(target) as temp:
        temp.write_bytes(b"PAR1")
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_temporary_is_a_hidden_sibling_with_the_same_suffix(tmp_path):
    target = tmp_path / "plot.png"
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".") and temp.suffix == ".png"
        assert not temp.exists()  # the writer creates it, with ordinary permissions
        temp.write_bytes(b"png")
    assert target.read_bytes() == b"png"


def test_parquet_round_trip_without_index(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[10, 11])
    path = atomic_write_parquet(frame, tmp_path / "t.parquet")
    back = pq.read_table(path)
    assert back.column_names == ["a", "b"]
    assert back.column("a").to_pylist() == [1, 2]


def test_parquet_accepts_an_arrow_table(tmp_path):
    path = atomic_write_parquet(pa.table({"x": [1.5]}), tmp_path / "t.parquet")
    assert pq.read_table(path).column("x").to_pylist() == [1.5]
