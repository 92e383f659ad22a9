"""The short-history fallback: shorter minimum history, then fewer validation months.

Month indices are calendar months; a span of 18 months starting 2022-01 ends 2023-06.
With H = 3 the last complete as-of is 2023-03 (month 15 of 18). The defaults need
3 test + 3 validation + 1 training month + 2 gaps of 2 = 11 as-of months.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cohorts.short_history import training_calendar
from pipeline.cohorts.snapshots import DataSpan
from pipeline.core.calendar import month_index
from pipeline.core.errors import TooFewMonthsError
from pipeline.core.params import load_params


def span(first: str, end: str) -> DataSpan:
    start = int(month_index(pd.DatetimeIndex([pd.Timestamp(first)]))[0])
    return DataSpan(start, pd.Timestamp(end))


def iso(months) -> list[str]:
    return [str(m.date()) for m in months]


def test_enough_history_keeps_the_configured_calendar():
    months, split = training_calendar(span("2021-01-01", "2023-06-30"), load_params(None, []))
    assert split.fallback == ""
    assert iso(months)[0] == "2021-06-30"  # 6 months of history: Jan..Jun 2021
    assert len(split.validation) == 3


def test_eighteen_months_shorten_the_minimum_history_by_one_month():
    # min history 6 gives 2022-06..2023-03 = 10 as-of months, one short of 11; 5 gives 11.
    months, split = training_calendar(span("2022-01-01", "2023-06-30"), load_params(None, []))
    assert iso(months) == iso(pd.date_range("2022-05-31", "2023-03-31", freq="ME"))
    assert iso(split.train) == ["2022-05-31"]
    assert len(split.validation) == 3 and len(split.test) == 3
    assert "snapshots.min_history_months 6 -> 5 (11 as-of months)" in split.fallback
    assert "validation_months" not in split.fallback
    assert split.fallback in split.describe()


def test_twelve_months_also_take_fewer_validation_months():
    # Ends 2022-12: as-of up to 2022-09; min history 1 gives 2022-01..2022-09 = 9 months,
    # enough for 3 test + 1 validation + 1 training + 2 gaps of 2.
    months, split = training_calendar(span("2022-01-01", "2022-12-31"), load_params(None, []))
    assert len(months) == 9
    assert iso(split.validation) == ["2022-04-30"] and iso(split.train) == ["2022-01-31"]
    assert "min_history_months 6 -> 1, split.validation_months 3 -> 1" in split.fallback


def test_a_fixed_first_as_of_is_never_moved():
    params = load_params(None, ["snapshots.first_as_of=2022-06"])
    months, split = training_calendar(span("2022-01-01", "2023-06-30"), params)
    assert iso(months)[0] == "2022-06-30"
    assert "validation_months 3 -> 2" in split.fallback
    assert "min_history" not in split.fallback


def test_without_the_fallback_or_beyond_it_the_run_refuses():
    off = load_params(None, ["split.short_history_fallback=false"])
    with pytest.raises(TooFewMonthsError, match="too few as-of months"):
        training_calendar(span("2022-01-01", "2023-06-30"), off)
    with pytest.raises(TooFewMonthsError, match="Even the short-history fallback"):
        training_calendar(span("2022-01-01", "2022-09-30"), load_params(None, []))


@pytest.mark.slow
def test_churn_train_on_eighteen_months_with_defaults_prints_the_fallback(tmp_path):
    data, out = tmp_path / "data", tmp_path / "run"
    runner = CliRunner()
    made = runner.invoke(
        app, ["generate", "--out", str(data), "--customers", "1500", "--months", "18"]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(out),
            "--set",
            f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "short history: the configured calendar does not fit these data" in result.output
    assert "snapshots.min_history_months 6 -> 5" in result.output
    split = json.loads((out / "split.json").read_text())
    assert "short history" in split["describe"] and len(split["test"]) == 3
    # The registered LightGBM was refitted on training, the first gap and validation.
    assert split["refit"] == sorted(split["train"] + split["purged"][:2] + split["validation"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["models"]["lightgbm"]["roc_auc"] > 0.5
    assert (out / "model" / "MLmodel").exists()
