import pytest

from models.search import search_lightgbm, trial_table, with_lightgbm_params
from pipeline.core.errors import ParamsError
from pipeline.core.params import ModelParams


def run_search(parts, feature_columns, model_params, on_trial=None):
    params = model_params(search={"enabled": True, "trials": 3}, lightgbm={"n_estimators": 60})
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    return search_lightgbm(
        X, y, X_valid, y_valid, params=params, feature_columns=feature_columns, on_trial=on_trial
    )


def test_search_runs_the_budget_and_reports_each_trial(parts, feature_columns, model_params):
    seen = []
    result = run_search(
        parts, feature_columns, model_params, lambda n, p, v: seen.append((n, p, v))
    )
    assert [n for n, _, _ in seen] == [0, 1, 2]
    assert [r.value for r in result.trials] == [v for _, _, v in seen]
    assert result.best_value == max(v for _, _, v in seen)
    assert set(result.best_params) == {
        "num_leaves",
        "learning_rate",
        "min_child_samples",
        "colsample_bytree",
        "subsample",
        "reg_lambda",
    }
    assert trial_table(result)["pr_auc"].is_monotonic_decreasing


def test_search_is_reproducible_with_the_seed(parts, feature_columns, model_params):
    first = run_search(parts, feature_columns, model_params)
    second = run_search(parts, feature_columns, model_params)
    assert first.best_params == second.best_params
    assert [r.value for r in first.trials] == [r.value for r in second.trials]


def test_best_params_apply_to_model_params():
    params = with_lightgbm_params(ModelParams(), {"num_leaves": 12, "learning_rate": 0.1})
    assert (params.lightgbm.num_leaves, params.lightgbm.learning_rate) == (12, 0.1)
    assert params.lightgbm.n_estimators == ModelParams().lightgbm.n_estimators
    with pytest.raises(ParamsError, match="num_leafs"):
        with_lightgbm_params(ModelParams(), {"num_leafs": 12})
