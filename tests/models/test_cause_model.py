"""The cause model on hand-made accounts, and its out-of-time measures checked with a pencil."""

import numpy as np
import pandas as pd
import pytest

from models.cause_model import ChurnCauseModel, cause_evaluation
from models.estimator import InputError


def _accounts(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Complaints mean service, fee-cut requests fee_cut_demand, money out relocation."""
    rng = np.random.default_rng(seed)
    cause = rng.choice(["service", "fee_cut_demand", "relocation"], n)
    frame = pd.DataFrame(
        {
            "complaints_12m": (cause == "service") * rng.integers(1, 4, n) + rng.random(n),
            "fee_cut_requests_12m": (cause == "fee_cut_demand") * 2.0 + rng.random(n),
            "outflow_share_6m": (cause == "relocation") * 0.8 + 0.1 * rng.random(n),
        }
    )
    return frame, cause


def small(**settings) -> ChurnCauseModel:
    columns = ["complaints_12m", "fee_cut_requests_12m", "outflow_share_6m"]
    defaults = {"n_estimators": 30, "min_child_samples": 5, "num_threads": 1}
    return ChurnCauseModel(feature_columns=columns, **(defaults | settings))


def test_learns_causes_that_leave_a_trace_and_round_trips_as_plain_data():
    X, y = _accounts(300, seed=1)
    X_test, y_test = _accounts(100, seed=2)
    model = small().fit(X, y, eval_set=(X_test, y_test))
    assert list(model.classes_) == ["relocation", "service", "fee_cut_demand"]  # guideline order
    assert (model.predict(X_test) == y_test).mean() > 0.9
    probability = model.predict_proba(X_test)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    again = ChurnCauseModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.predict_proba(X_test), probability)


def test_an_unknown_cause_or_a_single_cause_is_refused():
    X, _ = _accounts(20, seed=3)
    with pytest.raises(InputError, match="unknown causes \\['greed'\\]"):
        small().fit(X, ["greed"] * 20)
    with pytest.raises(InputError, match="at least two causes"):
        small().fit(X, ["service"] * 20)


def test_evaluation_counts_hits_top2_and_the_confusion_by_hand():
    classes = ["service", "commission", "other"]
    probability = np.array(
        [
            [0.6, 0.3, 0.1],  # service, 2nd commission
            [0.5, 0.4, 0.1],  # service, 2nd commission
            [0.2, 0.7, 0.1],  # commission, 2nd service
            [0.1, 0.2, 0.7],  # other, 2nd commission
        ]
    )
    recorded = ["service", "commission", "commission", "service"]
    measures, confusion = cause_evaluation(recorded, probability, classes, commonest="service")
    assert measures["accuracy"] == 0.5  # rows 1 and 3
    assert measures["top2_accuracy"] == 0.75  # row 2's commission is second; row 4 misses
    assert measures["commonest_share"] == 0.5
    assert measures["per_cause"]["service"] == {"support": 2, "precision": 0.5, "recall": 0.5}
    assert measures["per_cause"]["commission"] == {"support": 2, "precision": 1.0, "recall": 0.5}
    assert measures["per_cause"]["other"] == {"support": 0, "precision": 0.0, "recall": None}
    assert confusion.loc["service"].tolist() == [1, 0, 1]  # columns: service, commission, other
    assert confusion.loc["commission"].tolist() == [1, 1, 0]
