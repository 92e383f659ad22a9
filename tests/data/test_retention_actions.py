"""The optional retention_actions table: read, typed, checked and quarantined like every table."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.params import Params
from pipeline.data.loader import load_tables


@pytest.fixture(scope="module")
def clean(demo_data):
    return load_tables(demo_data, Params(), None).tables


def _with_actions(demo_data, tmp_path, rows: list[dict]):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    pd.DataFrame(rows).to_csv(data / "retention_actions.csv", index=False)
    return data


def test_actions_are_typed_and_keyed_to_their_customer(demo_data, clean, tmp_path):
    who = clean.customers.loc[clean.customers["closed_date"].isna(), "customer_id"].iloc[:2]
    rows = [
        {"customer_id": who.iloc[0], "action_date": "2023-03-02 10:15", "play": "service",
         "channel": "phone", "outcome": "reached", "control": "false"},
        {"customer_id": who.iloc[1], "action_date": "2023-03-03", "play": "commission",
         "channel": "", "outcome": "not_contacted", "control": "TRUE"},
    ]  # fmt: skip
    tables = load_tables(_with_actions(demo_data, tmp_path, rows), Params(), None).tables
    actions = tables.retention_actions
    assert actions["control"].tolist() == [False, True]
    assert actions["play"].astype(str).tolist() == ["service", "commission"]
    assert actions["customer_idx"].tolist() == [
        int(clean.customers.index[clean.customers["customer_id"] == w][0]) for w in who
    ]
    assert tables.observation_end == clean.observation_end
    assert "retention_actions" not in tables.missing_tables


def test_faulty_actions_go_to_quarantine_with_their_reason(demo_data, clean, tmp_path):
    someone = clean.customers.loc[clean.customers["closed_date"].isna(), "customer_id"].iloc[0]
    good = {"customer_id": someone, "action_date": "2023-03-02", "play": "service",
            "channel": "phone", "outcome": "reached", "control": "no"}  # fmt: skip
    rows = [good] * 300 + [
        {**good, "control": "maybe"},
        {**good, "play": "bribery"},
        {**good, "customer_id": "NOBODY"},
        {**good, "action_date": "2023-11-30"},  # after the data's end
    ]
    data = _with_actions(demo_data, tmp_path, rows)
    params = Params().model_copy(deep=True)
    params.validation.max_rejected_share = 0.5
    loaded = load_tables(data, params, tmp_path / "rejected")
    assert len(loaded.tables.retention_actions) == 300
    rejected = pd.read_parquet(tmp_path / "rejected" / "retention_actions.parquet")
    reasons = " | ".join(rejected.astype(str).agg(" ".join, axis=1))
    assert len(rejected) == 4
    for words in ("control: not true or false", "play", "NOBODY", "2023-11-30"):
        assert words in reasons


def test_a_file_of_unreadable_flags_stops_the_load_with_exit_2(demo_data, clean, tmp_path):
    someone = clean.customers["customer_id"].iloc[0]
    rows = [{"customer_id": someone, "action_date": "2023-03-02", "play": "service",
             "control": "perhaps"}]  # fmt: skip
    data = _with_actions(demo_data, tmp_path, rows)
    out = str(tmp_path / "r")
    result = CliRunner().invoke(app, ["validate", "--data", str(data), "--out", out])
    assert result.exit_code == 2
    assert "retention_actions" in result.output and "control" in result.output
