"""Faults of the run around the data, through the real `churn` CLI: outputs over inputs,
as-of dates and params out of range, a tracking server that does not answer, unwritable
folders, stray files. Each is refused with exit 2 naming what is wrong.
"""

from __future__ import annotations

import shutil

import pytest
from cli_faults import END, churn, copy_of, validate


def test_an_unknown_url_scheme_is_a_message(tmp_path):
    code, output = validate("foo://x", tmp_path / "run")
    assert code == 2 and "foo://x" in output


def test_outputs_never_overwrite_inputs_or_each_other(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    before = (data / "trades.parquet").read_bytes()
    args = ["--data", str(data), "--as-of", END]
    into_data = churn("features", *args, "--out", str(data / "trades.parquet"))
    assert into_data.exit_code == 2 and "inside the data folder" in into_data.output
    assert (data / "trades.parquet").read_bytes() == before
    same = churn(
        "score", *args, "--out", str(tmp_path / "s.parquet"), "--csv", str(tmp_path / "s.parquet")
    )
    assert same.exit_code == 2 and "same path" in same.output
    folder = tmp_path / "a-folder.parquet"
    folder.mkdir()
    onto_folder = churn("features", *args, "--out", str(folder))
    assert onto_folder.exit_code == 2 and "is a folder" in onto_folder.output


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2015-12-31", "before the first month with activity data"),
        ("2024-06-30", "after the data's observation_end"),
        ("2022", "is not a month"),
        ("", "is not a month"),
    ],
)
def test_as_of_dates_outside_the_data_or_in_no_documented_format_are_refused(
    demo_data, tmp_path, as_of, message
):
    result = churn(
        "features", "--data", str(demo_data), "--as-of", as_of, "--out", str(tmp_path / "f.parquet")
    )
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "f.parquet").exists()


def test_snapshot_months_before_the_data_and_absurd_history_are_refused(demo_data, tmp_path):
    early = churn("labels", "--data", str(demo_data), "--set", "snapshots.first_as_of=1900-01")
    # `churn labels` reports every month; training refuses a first_as_of before the data.
    assert early.exit_code == 0
    train = churn(
        "train",
        "--data",
        str(demo_data),
        "--out",
        str(tmp_path / "run"),
        "--set",
        "snapshots.first_as_of=1900-01",
        "--set",
        f"tracking.uri=sqlite:///{tmp_path / 'm.db'}",
    )
    assert train.exit_code == 2 and "before the first month with" in train.output
    absurd = churn(
        "labels", "--data", str(demo_data), "--set", "snapshots.min_history_months=1000000000"
    )
    assert absurd.exit_code == 2 and "snapshots.min_history_months" in absurd.output


def test_unquoted_yaml_dates_in_params_are_accepted(demo_data, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  observation_end: 2023-06-30\n")
    result = churn(
        "validate",
        "--data",
        str(demo_data),
        "--out",
        str(tmp_path / "run"),
        "--params",
        str(params),
    )
    assert result.exit_code == 0, result.output
    assert "set by data.observation_end in params" in " ".join(result.output.split())


def test_duplicate_csv_column_names_are_a_message(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    (data / "events.parquet").unlink()
    (data / "events.csv").write_text(
        "customer_id,event_date,event_type,event_type\nC0000001,2021-03-01,contact,complaint\n"
    )
    code, output = validate(data, tmp_path / "run")
    assert code == 2 and "duplicate column name" in output and "event_type" in output


def test_a_tracking_server_that_does_not_answer_stops_the_run_first(demo_data, tmp_path):
    result = churn(
        "train",
        "--data",
        str(demo_data),
        "--out",
        str(tmp_path / "run"),
        "--set",
        "tracking.uri=http://127.0.0.1:9",
        "--set",
        "tracking.request_retries=0",
        "--set",
        "tracking.request_timeout_seconds=2",
    )
    assert result.exit_code == 2, result.output
    assert "http://127.0.0.1:9" in result.output and "does not answer" in result.output
    assert not (tmp_path / "run").exists()  # nothing was trained


def test_an_output_folder_that_cannot_be_written_is_a_message(demo_data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = churn(
        "features", "--data", str(demo_data), "--as-of", END, "--out", str(blocker / "f.parquet")
    )
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.output


def test_a_file_that_is_no_contract_table_is_named_not_ignored(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    shutil.copy(data / "trades.parquet", data / "orders.parquet")
    (data / "_SUCCESS").write_text("")
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert "not a contract table, not read: orders.parquet" in output
    assert "_SUCCESS" not in output
