"""A damaged or inconsistent packaged model is refused by `churn score` (exit 2, naming it).

Through the real CLI on the shared demo data and a model trained in the test: the
metadata's feature list must be the booster's own, in order; every model file's
sha256 recorded at training is verified before LightGBM parses anything; the
packaged model holds no pickle.
"""

from __future__ import annotations

import json
import shutil

import pytest
from scoring_fixtures import churn_score, edited_model

pytestmark = pytest.mark.slow
DATA = ("data", "churn_model")


def copied(model_folder, target):
    shutil.copytree(model_folder, target)
    return target, target.joinpath(*DATA)


def refused(result, *words):
    message = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in message, message


def test_a_reversed_feature_list_is_refused(demo_data, model_folder, tracking, tmp_path):
    model = edited_model(
        model_folder, tmp_path / "model", lambda meta: meta["feature_columns"].reverse()
    )
    out = tmp_path / "scores.parquet"
    result = churn_score(demo_data, out, model, tracking)
    refused(result, "the metadata lists the booster's features in another order", "position 0")
    assert not out.exists()


def test_a_truncated_booster_is_refused_naming_the_file(
    demo_data, model_folder, tracking, tmp_path
):
    model, data = copied(model_folder, tmp_path / "model")
    booster = data / "model.lgb"
    booster.write_bytes(booster.read_bytes()[: booster.stat().st_size // 2])
    result = churn_score(demo_data, tmp_path / "s.parquet", model, tracking)
    refused(result, "model.lgb is damaged or was edited")


def test_a_same_size_edit_of_the_booster_is_refused(demo_data, model_folder, tracking, tmp_path):
    model, data = copied(model_folder, tmp_path / "model")
    booster = data / "model.lgb"
    text = booster.read_text()
    at = text.index("leaf_value=") + len("leaf_value=")
    digit = text[at + 1] if text[at] == "-" else text[at]
    position = at + 1 if text[at] == "-" else at
    edited = text[:position] + ("1" if digit != "1" else "2") + text[position + 1 :]
    booster.write_text(edited)
    assert booster.stat().st_size == len(text.encode())
    result = churn_score(demo_data, tmp_path / "s.parquet", model, tracking)
    refused(result, "model.lgb is damaged or was edited")


def test_an_edited_calibrator_is_refused(demo_data, model_folder, tracking, tmp_path):
    model, data = copied(model_folder, tmp_path / "model")
    calibrator = data / "calibrator.json"
    state = json.loads(calibrator.read_text())
    if "y_thresholds" in state:  # isotonic: its steps doubled
        state["y_thresholds"] = [min(1.0, 2 * v) for v in state["y_thresholds"]]
    else:  # sigmoid (the default): a steeper slope
        state["slope"] = 2 * state["slope"] + 1
    calibrator.write_text(json.dumps(state))
    result = churn_score(demo_data, tmp_path / "s.parquet", model, tracking)
    refused(result, "calibrator.json is damaged or was edited")


def test_a_missing_booster_or_broken_metadata_is_refused(
    demo_data, model_folder, tracking, tmp_path
):
    model, data = copied(model_folder, tmp_path / "gone")
    (data / "model.lgb").unlink()
    refused(churn_score(demo_data, tmp_path / "s.parquet", model, tracking), "model.lgb is missing")
    model, data = copied(model_folder, tmp_path / "broken")
    (data / "churn_model.json").write_text('{"feature_columns": [')
    refused(churn_score(demo_data, tmp_path / "s.parquet", model, tracking), "churn_model.json")


def test_the_packaged_model_holds_no_pickle(model_folder):
    files = sorted(p.relative_to(model_folder).as_posix() for p in model_folder.rglob("*"))
    data = [f for f in files if f.startswith("data/")]
    assert data == [
        "data/churn_model",
        "data/churn_model/calibrator.json",
        "data/churn_model/churn_model.json",
        "data/churn_model/model.lgb",
    ]
    for path in model_folder.rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"
    assert not any(f.endswith((".pkl", ".joblib", ".pickle")) for f in files)


def test_a_model_packaged_before_plain_data_asks_for_one_retrain(
    demo_data, model_folder, tracking, tmp_path
):
    old = tmp_path / "old"
    (old / "extra_files").mkdir(parents=True)
    shutil.copy(model_folder.joinpath(*DATA, "churn_model.json"), old / "extra_files")
    (old / "MLmodel").write_text("flavors: {}\n")
    result = churn_score(demo_data, tmp_path / "s.parquet", old, tracking)
    refused(result, "before plain-data packaging", "retrain it once")
