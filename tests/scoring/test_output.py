import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.scoring.output import compact_schema, scores_schema, scores_writer

SCHEMA = scores_schema(3)


def chunk(ids: list[str], ranks: list[int] | None = None, **numbers) -> pa.Table:
    """Scored rows with every column filled (reasons 2 and 3 empty)."""
    n = len(ids)
    values = {
        "customer_id": ids,
        "as_of": [dt.datetime(2024, 6, 30)] * n,
        "churn_probability": [0.5] * n,
        "rank": ranks or list(range(1, n + 1)),
        **numbers,
        "reason_1": ["funds out in 6 months = 64% of assets"] * n,
        "reason_2": [None] * n,
        "reason_3": [None] * n,
    }
    columns = {}
    for field in SCHEMA:
        if field.name in values:
            columns[field.name] = values[field.name]
        elif pa.types.is_boolean(field.type):
            columns[field.name] = [False] * n
        elif pa.types.is_floating(field.type):
            columns[field.name] = [1.0] * n
        else:
            columns[field.name] = ["x"] * n
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def hidden_temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_chunks_are_appended_and_the_csv_says_the_same_rows(tmp_path):
    out, csv = tmp_path / "scores.parquet", tmp_path / "scores.csv"
    with scores_writer(out, csv, None, SCHEMA) as writer:
        writer.write(chunk(["C1", "C2"]))
        writer.write(chunk(["C3"], ranks=[3]))
    table = pq.read_table(out)
    assert table.schema.equals(SCHEMA)
    assert table.column("customer_id").to_pylist() == ["C1", "C2", "C3"]
    exported = pd.read_csv(csv, dtype={"customer_id": str})
    assert exported["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert exported["as_of"].tolist() == ["2024-06-30"] * 3  # a date for the CRM
    assert exported["reason_2"].isna().all()
    assert list(exported.columns) == SCHEMA.names
    assert hidden_temps(tmp_path) == []


def test_a_failure_mid_write_leaves_the_previous_files_untouched(tmp_path):
    out, csv = tmp_path / "scores.parquet", tmp_path / "scores.csv"
    compact = tmp_path / "compact.parquet"
    with scores_writer(out, csv, compact, SCHEMA) as writer:
        writer.write(chunk(["OLD"]))
    before = out.read_bytes(), csv.read_bytes(), compact.read_bytes()
    with pytest.raises(RuntimeError), scores_writer(out, csv, compact, SCHEMA) as writer:
        writer.write(chunk(["NEW1"]))
        raise RuntimeError("killed between chunks")
    assert (out.read_bytes(), csv.read_bytes(), compact.read_bytes()) == before
    assert hidden_temps(tmp_path) == []


def test_nothing_appears_at_the_target_until_the_writer_closes(tmp_path):
    out = tmp_path / "scores.parquet"
    with scores_writer(out, None, None, SCHEMA) as writer:
        writer.write(chunk(["C1"]))
        assert not out.exists()
        assert len(hidden_temps(tmp_path)) == 1
    assert out.exists()


def test_the_compact_schema_carries_what_monitoring_reads():
    assert compact_schema().names == [
        "customer_id",
        "as_of",
        "churn_probability",
        "rule_score",
        "rule_probability",
        "rule_level",
        "rule_alert",
        "total_assets",
        "value_tier",
    ]


def test_the_csv_export_is_in_rank_order_and_rounded_for_people(tmp_path):
    out, csv = tmp_path / "scores.parquet", tmp_path / "scores.csv"
    with scores_writer(out, csv, None, SCHEMA) as writer:
        # Partitions arrive in customer order; ranks run across them.
        writer.write(chunk(["C1", "C2"], ranks=[3, 1], churn_probability=[0.012345678, 0.87654321]))
        money = {"value_at_risk_cny": [1234.5678]}
        writer.write(chunk(["C3"], ranks=[2], churn_probability=[0.5], **money))
    assert pq.read_table(out).column("customer_id").to_pylist() == ["C1", "C2", "C3"]
    text = csv.read_text().splitlines()
    exported = pd.read_csv(csv, dtype={"customer_id": str})
    assert exported["customer_id"].tolist() == ["C2", "C3", "C1"]
    assert exported["rank"].tolist() == [1, 2, 3]
    assert exported["churn_probability"].tolist() == [0.8765, 0.5, 0.0123]
    assert exported["value_at_risk_cny"].tolist() == [1.0, 1234.57, 1.0]
    assert "0.012345678" not in "".join(text) and "1234.5678" not in "".join(text)
    # The Parquet file keeps full precision.
    assert pq.read_table(out).column("churn_probability").to_pylist()[0] == 0.012345678
