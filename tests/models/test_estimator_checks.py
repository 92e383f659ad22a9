"""The three models are scikit-learn estimators: scikit-learn's own checks, clone and params.

``ChurnLightGBM`` and ``ChurnLogistic`` run every check ``parametrize_with_checks``
yields for them (binary classifiers that take NaN and categoricals), none expected
to fail; scikit-learn itself skips its three array-API checks unless SCIPY_ARRAY_API
is set (none of the models claims array-API support).

``RuleBaseline`` scores the guideline's eight ``warn_*`` columns of a feature
matrix, which it reads by name; scikit-learn's checks feed it unnamed arrays of 1
to 20 random columns, which it cannot read. ``RULE_BASELINE_SKIPPED`` lists every
check that fits on such arrays (all of the data checks), each with that reason; the
API checks (cloning, parameters, ``__init__`` storing only, tags, repr, unfitted
``predict``) run. Its fitting and predicting are tested on pencil-checked frames in
test_rules.py, and below it survives ``clone`` and ``set_params`` on a real frame.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from models.lightgbm_model import ChurnLightGBM, classifier_settings
from models.logistic import ChurnLogistic
from models.rules import RULE_FLAGS, RuleBaseline
from pipeline.core.params import ModelParams

_NAMED_COLUMNS = "reads the warn_* columns by name: an unnamed random array has none of them"
RULE_BASELINE_SKIPPED = {
    name: _NAMED_COLUMNS
    for name in (
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_one_label",
        "check_classifiers_train",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_estimators_dtypes",
        "check_estimators_empty_data_messages",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit1d",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_supervised_y_2d",
    )
}

SMALL = {"n_estimators": 5, "num_threads": 1, "min_child_samples": 1}


def _expected_failed(estimator):
    return RULE_BASELINE_SKIPPED if isinstance(estimator, RuleBaseline) else {}


@parametrize_with_checks(
    [ChurnLightGBM(**SMALL), ChurnLogistic(), RuleBaseline()],
    expected_failed_checks=_expected_failed,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_from_params_maps_every_lightgbm_key_and_clone_keeps_them():
    params = ModelParams.model_validate(
        {"seed": 11, "calibration": "sigmoid", "lightgbm": {"num_leaves": 9, "reg_lambda": 3.0}}
    )
    model = ChurnLightGBM.from_params(params, ["a", "b"])
    expected = {
        **params.lightgbm.model_dump(),
        "random_state": 11,
        "calibration": "sigmoid",
        "feature_columns": ["a", "b"],
    }
    assert model.get_params() == expected
    assert clone(model).get_params() == expected
    assert clone(model).set_params(num_leaves=5).get_params()["num_leaves"] == 5
    assert model.num_leaves == 9  # set_params on the clone left the original alone


def test_classifier_settings_are_a_pure_function_of_params_and_labels():
    model = ChurnLightGBM(num_threads=1)
    y = np.array([0, 0, 0, 1])  # three negatives per positive
    settings = classifier_settings(model, y)
    assert settings["scale_pos_weight"] == 3.0 and "class_weight" not in settings
    assert settings["n_jobs"] == 1 and settings["random_state"] == 7
    assert not hasattr(model, "scale_pos_weight_")  # no side effect on the estimator
    fixed = classifier_settings(model.set_params(scale_pos_weight=2.5), y)
    assert fixed["scale_pos_weight"] == 2.5
    balanced = classifier_settings(model.set_params(class_weight="balanced"), y)
    assert balanced["class_weight"] == "balanced" and "scale_pos_weight" not in balanced


def test_a_cloned_lightgbm_refits_to_the_same_trees(fitted, parts):
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    original = fitted["lightgbm"]
    again = clone(original).fit(X, y, eval_set=(X_valid, y_valid))
    assert not hasattr(clone(original), "booster_")
    assert again.booster_.model_to_string() == original.booster_.model_to_string()


def test_set_params_changes_the_trees_that_fit_grows(parts, feature_columns, model_params):
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    model = ChurnLightGBM.from_params(model_params(lightgbm={"n_estimators": 8}), feature_columns)
    stumps = clone(model).set_params(num_leaves=2).fit(X, y, eval_set=(X_valid, y_valid))
    dump = stumps.booster_.dump_model()
    assert {tree["num_leaves"] for tree in dump["tree_info"]} == {2}


def test_the_rule_baseline_clones_with_its_params_and_refits_identically(fitted, parts):
    X, y = parts["train"]
    original = fitted["rules"]
    copy = clone(original)
    assert copy.get_params() == original.get_params()
    assert not hasattr(copy, "churn_rate_")
    np.testing.assert_array_equal(
        copy.fit(X, y).predict_proba(X[list(RULE_FLAGS)]), original.predict_proba(X)
    )
    heavier = clone(original).set_params(weights={"key": 4.0, "auxiliary": 1.0, "qualitative": 0})
    assert heavier.rule_score(X).max() > original.rule_score(X).max()


def test_fit_takes_validation_through_eval_set_only(parts, feature_columns):
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    with pytest.raises(TypeError):
        ChurnLogistic(feature_columns=feature_columns).fit(X, y, X_valid, y_valid)
