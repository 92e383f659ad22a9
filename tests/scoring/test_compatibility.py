import re

import pytest

from pipeline.core.errors import ChurnError
from pipeline.scoring.compatibility import check_model_matches_features, model_mismatches

CODE = ["trades_1m", "warn_outflow", "total_assets", "customer_value"]


def meta(columns, version="fb-aaaaaaaaaaaa"):
    return {"feature_columns": columns, "feature_builder_version": version}


def test_a_model_trained_on_the_same_features_and_builder_passes():
    check_model_matches_features(meta(CODE), CODE, "fb-aaaaaaaaaaaa")
    # the same set in another order is fine: scoring picks columns by name
    assert model_mismatches(meta(CODE[::-1]), CODE, "fb-aaaaaaaaaaaa") == []


def test_missing_and_extra_features_are_named():
    trained = ["trades_1m", "warn_outflow", "outflow_share_6m_old"]
    with pytest.raises(ChurnError) as error:
        check_model_matches_features(meta(trained), CODE, "fb-aaaaaaaaaaaa")
    message = str(error.value)
    assert "the model needs but the code does not build: ['outflow_share_6m_old']" in message
    assert "not trained on: ['total_assets', 'customer_value']" in message
    assert "feature builder version" not in message


def test_a_different_builder_version_is_refused_with_both_versions():
    with pytest.raises(ChurnError, match=re.escape("fb-old000000000 at training, fb-new")):
        check_model_matches_features(meta(CODE, "fb-old000000000"), CODE, "fb-new000000000")


def test_metadata_without_features_or_version_is_refused():
    problems = model_mismatches({}, CODE, "fb-aaaaaaaaaaaa")
    assert "the model's metadata lists no feature_columns" in problems
    assert any("version None at training" in p for p in problems)
