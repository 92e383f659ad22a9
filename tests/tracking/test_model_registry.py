import numpy as np
import pytest

from models.estimator import feature_frame
from models.lightgbm_model import ChurnLightGBM
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams
from pipeline.tracking.registry import decide_promotion, load_packaged_model, save_model


@pytest.mark.parametrize(
    ("candidate", "rules", "champion", "alias", "why"),
    [
        (0.40, 0.20, None, "champion", "no comparable champion"),
        (0.40, 0.20, 0.35, "champion", "champion 0.3500"),
        (0.40, 0.20, 0.40, "challenger", "does not beat the champion"),  # a tie is not a win
        (0.40, 0.20, 0.45, "challenger", "does not beat the champion"),
        (0.20, 0.20, None, "challenger", "does not beat the rules"),
        (0.10, 0.20, 0.05, "challenger", "does not beat the rules"),
        (float("nan"), 0.20, None, "challenger", "undefined"),
    ],
)
def test_promotion_needs_to_beat_rules_and_champion(candidate, rules, champion, alias, why):
    promotion = decide_promotion("pr_auc", candidate, rules, champion)
    assert promotion.alias == alias
    assert why in promotion.reason


def test_packaged_model_round_trips_through_a_folder(parts, tmp_path):
    (X, y), (Xv, yv), (Xt, _) = parts["train"], parts["valid"], parts["test"]
    FEATURES = [c for c in X.columns if c not in ("customer_id", "as_of")]
    params = ModelParams.model_validate({"lightgbm": {"num_threads": 1, "n_estimators": 80}})
    model = ChurnLightGBM.from_params(params, FEATURES).fit(X, y, eval_set=(Xv, yv))
    meta = {
        "feature_columns": FEATURES,
        "best_iteration": model.best_iteration_,
        "feature_builder_version": "test",
    }
    save_model(
        model.booster_,
        model.calibrator_,
        meta,
        feature_frame(Xt.head(5), FEATURES),
        tmp_path / "model",
    )
    loaded = load_packaged_model(str(tmp_path / "model"))
    assert loaded.meta["feature_columns"] == FEATURES
    again = loaded.churn_model()
    np.testing.assert_allclose(again.predict_proba(Xt), model.predict_proba(Xt), rtol=0, atol=1e-12)


def test_loading_something_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(ChurnError, match="cannot load model"):
        load_packaged_model(str(tmp_path / "nothing-here"))
