"""The command line itself: version, completion, params, verbosity, help text."""

import re
from importlib.metadata import version

import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.params import Params


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_version_names_the_installed_package():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"churn {version('brokerage-churn')}"


def test_shell_completion_can_be_installed():
    result = invoke("--help")
    assert "--install-completion" in result.output and "--show-completion" in result.output


def test_params_prints_the_resolved_params_as_yaml(tmp_path):
    result = invoke("params", "--set", "label.horizon_months=6", "--set", "model.seed=7")
    assert result.exit_code == 0, result.output
    tree = yaml.safe_load(result.output)
    assert tree["label"]["horizon_months"] == 6 and tree["model"]["seed"] == 7
    # The YAML is a params file: read back, it gives the same params.
    path = tmp_path / "resolved.yaml"
    path.write_text(result.output)
    again = invoke("params", "--params", str(path))
    assert again.output == result.output
    assert Params.model_validate(tree).label.horizon_months == 6


def test_params_refuses_an_unknown_key_with_exit_2():
    result = invoke("params", "--set", "label.horizon=6")
    assert result.exit_code == 2 and "label.horizon" in result.output


def test_quiet_prints_nothing_but_errors(tmp_path):
    out = tmp_path / "demo"
    loud = invoke("generate", "--out", str(out), "--customers", "30", "--months", "4")
    assert loud.exit_code == 0 and "customers" in loud.output
    quiet = invoke("--quiet", "generate", "--out", str(tmp_path / "q"), "--customers", "30")
    assert quiet.exit_code == 0 and quiet.output == ""
    invoke("--quiet", "params")  # the next command is not silenced by the last one
    assert "customers" in invoke("generate", "--out", str(out), "--customers", "30").output
    both = invoke("--quiet", "--verbose", "params")
    assert both.exit_code == 2


def test_help_keeps_the_params_hints_and_names_values_not_python_types():
    text = invoke("generate", "--help").output
    assert "[default: data.demo.customers]" in text and "[default: data.demo.seed]" in text
    assert not re.search(r"<(list\[str\]|bool|int|str|path)>", text)
    assert "KEY=VALUE" in text
    assert "latest" in invoke("score", "--help").output
