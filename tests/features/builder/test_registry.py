"""The registry's contract: documented features, every params key read, stable names and words."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from features.builder.registry import (
    BUILDER_KEYS,
    BY_NAME,
    FEATURES,
    INDICATOR_FLAGS,
    INDICATOR_MEASURES,
    business_words,
    customer_features,
    describe,
    market_features,
    model_feature_columns,
    reference_columns,
)
from features.builder.version import builder_version
from features.words import UNITS
from pipeline.core.params import Params

PARAMS_YAML = Path(__file__).resolve().parents[3] / "params.yaml"
RULE_MODEL_SECTIONS = ("weights", "levels")  # read by the rule baseline model, not by features


def _scalar_keys(section: dict, skip: tuple[str, ...]) -> set[str]:
    return {
        key for key, value in section.items() if key not in skip and not isinstance(value, dict)
    }


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_every_feature_is_documented(feature):
    doc = inspect.getdoc(feature.func) or ""
    first = doc.splitlines()[0] if doc else ""
    assert first and first.split()[0][0].isupper(), f"{feature.name}: a verb first"
    assert "Business definition:" in doc, f"{feature.name} lacks a 'Business definition:' line"
    if feature.params_keys:
        args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
        for key in feature.params_keys:
            assert re.search(rf"\b{key}\b", args), f"{feature.name}: Args does not name {key}"
    assert feature.unit in UNITS


def test_every_params_key_is_read_by_a_feature():
    tree = yaml.safe_load(PARAMS_YAML.read_text())
    read = {key for f in FEATURES for key in f.params_keys}
    rules = _scalar_keys(tree["rules"], RULE_MODEL_SECTIONS)
    feature_keys = _scalar_keys(tree["features"], BUILDER_KEYS)
    assert rules - read == set(), "rules: keys no feature reads"
    assert feature_keys - read == set(), "features: keys no feature reads"
    assert read <= rules | feature_keys, "features read keys params.yaml lacks"


def test_feature_params_come_from_the_run(monkeypatch):
    params = Params()
    params.rules.outflow_share = 0.5
    assert BY_NAME["warn_outflow"].param_values(params) == {
        "outflow_share": 0.5,
        "outflow_min_count": 1,
    }


def test_names_are_unique_and_steps_partition_the_registry():
    names = model_feature_columns()
    assert len(names) == len(set(names)) and 60 <= len(names) <= 100
    assert [f.name for f in customer_features() + market_features()] != []
    assert {f.name for f in customer_features()} | {f.name for f in market_features()} == set(names)
    assert set(reference_columns()) <= {f.name for f in customer_features()}
    assert "customer_id" not in names and "as_of" not in names


def test_indicator_flags_in_order_with_their_groups():
    assert list(INDICATOR_FLAGS.items()) == [
        ("warn_outflow", "key"),
        ("warn_commission_drop", "key"),
        ("warn_empty_position", "key"),
        ("warn_trade_drop", "auxiliary"),
        ("warn_big_loss", "auxiliary"),
        ("warn_complaint", "qualitative"),
        ("warn_fee_cut_request", "qualitative"),
        ("warn_contact_drop", "qualitative"),
    ]
    for flag, measure in INDICATOR_MEASURES.items():
        assert BY_NAME[flag].kind == "flag" and BY_NAME[measure].kind == "number"


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("outflow_share_6m", 0.64, "funds out in 6 months = 64% of assets"),
        ("commission_1m", 1234.4, "commission this month = CNY 1,234"),
        ("months_since_last_trade", 3.0, "months since last trade = 3 months"),
        ("warn_complaint", True, "complained this or last month: yes"),
        ("value_tier", "affluent", "value tier = affluent"),
        ("total_assets", float("nan"), "total assets = unknown"),
        ("customer_value", 72.4, "customer value = 72/100"),
    ],
)
def test_describe_in_business_words(column, value, text):
    assert describe(column, value) == text


def test_business_words_cover_every_feature():
    words = business_words()
    assert list(words) == model_feature_columns()
    assert words["outflow_share_6m"] == ("funds out in 6 months", "share_of_assets")


def test_builder_version_is_a_stable_fingerprint():
    assert re.fullmatch(r"fb-[0-9a-f]{12}", builder_version())
    # In a fresh interpreter, as the scoring job imports it (under pytest the tests/features
    # folder can shadow the package name, see the lead's note on pytest's pythonpath).
    code = "import features; print(features.FEATURE_BUILDER_VERSION)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == builder_version()
