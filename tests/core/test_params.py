from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ParamsError
from pipeline.core.params import Params, load_params

REPO = Path(__file__).resolve().parents[2]


def test_params_yaml_equals_packaged_defaults():
    assert load_params(REPO / "params.yaml") == Params()


def test_params_yaml_has_one_section_per_stage():
    sections = set(yaml.safe_load((REPO / "params.yaml").read_text()))
    expected = {
        "data",
        "validation",
        "label",
        "snapshots",
        "features",
        "rules",
        "model",
        "split",
        "evaluation",
        "scoring",
        "tracking",
    }
    assert expected <= sections


def test_set_overrides_nested_keys_with_typed_values():
    params = load_params(
        REPO / "params.yaml",
        ["label.horizon_months=6", "rules.weights.key=3.5", "label.definition=dormancy"],
    )
    assert params.label.horizon_months == 6
    assert params.rules.weights.key == 3.5
    assert params.label.definition == "dormancy"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("label.horizon=6", "unknown key 'horizon' under label"),
        ("nosuch.key=1", "unknown key 'nosuch' under params"),
        ("label.horizon_months=six", "label.horizon_months"),
        ("label.definition=churned", "label.definition"),
        ("label.horizon_months", "expected dotted.key=value"),
        ("label.horizon_months.deeper=1", "unknown key 'deeper'"),
    ],
)
def test_bad_overrides_are_clear_errors(override, message):
    with pytest.raises(ParamsError, match=message):
        load_params(REPO / "params.yaml", [override])


def test_unknown_key_in_file_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("label:\n  horizon_months: 3\n  horizont: 2\n")
    with pytest.raises(ParamsError, match="label.horizont"):
        load_params(path)


def test_missing_params_file_is_an_error(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_defaults_used_without_params_yaml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_params(None) == Params()


def test_cli_rejects_bad_set_with_exit_code_2(tmp_path):
    result = CliRunner().invoke(
        app, ["labels", "--data", str(tmp_path), "--set", "label.horizon=6"]
    )
    assert result.exit_code == 2
    assert "unknown key 'horizon' under label" in result.output


def test_flat_params_name_every_leaf():
    flat = Params().flat()
    assert flat["label.horizon_months"] == 3
    assert flat["rules.weights.key"] == 2.0
    assert all(not isinstance(v, dict) for v in flat.values())
