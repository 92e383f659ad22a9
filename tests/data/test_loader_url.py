"""Inputs may be any fsspec URL: the same checks and the same tables as a local folder."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.tracking.mlflow_store import data_fingerprint


def test_file_url_loads_the_same_tables_as_the_folder(demo_data):
    local = load_tables(demo_data, Params(), rejected_dir=None).tables
    remote = load_tables(demo_data.as_uri(), Params(), rejected_dir=None).tables
    assert remote.observation_end == local.observation_end
    for name in ("customers", "trades", "transfers", "balances", "events"):
        pd.testing.assert_frame_equal(remote.table(name), local.table(name))


def test_validate_accepts_a_url_and_names_it(demo_data, tmp_path):
    result = CliRunner().invoke(
        app, ["validate", "--data", demo_data.as_uri(), "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert str(demo_data / "customers.parquet") in result.output


def test_url_fingerprint_changes_when_a_table_changes(demo_data, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in demo_data.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    before = data_fingerprint(copy.as_uri())
    assert before == data_fingerprint(copy.as_uri())
    (copy / "events.parquet").write_bytes((copy / "events.parquet").read_bytes() + b"x")
    assert data_fingerprint(copy.as_uri()) != before
