import json

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from models.calibration import (
    PROBABILITY_FLOOR,
    Calibrator,
    calibration_report,
    fit_calibrator,
)
from pipeline.core.errors import ChurnError


def test_isotonic_pools_adjacent_violators():
    # Raw .1 .2 .3 .4 with labels 0 1 0 1: .2 -> 1 and .3 -> 0 violate order and pool to .5;
    # the ends stay 0 and 1, kept off exact 0/1 by the floor.
    calibrator = fit_calibrator(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 1]), "isotonic")
    assert calibrator.predict(np.array([0.1, 0.2, 0.3, 0.4])) == pytest.approx(
        [PROBABILITY_FLOOR, 0.5, 0.5, 1 - PROBABILITY_FLOOR]
    )
    # Outside the fitted range the ends are held.
    assert calibrator.predict(np.array([0.9])) == pytest.approx([1 - PROBABILITY_FLOOR])


def test_none_is_the_identity_and_report_is_by_hand():
    calibrator = fit_calibrator(np.array([0.2, 0.8]), np.array([0, 1]), "none")
    report = calibration_report(np.array([0.2, 0.8]), np.array([0, 1]), calibrator)
    # Brier: (.2^2 + .2^2) / 2 = .04; log loss: -ln(.8) = 0.223144.
    assert report["brier_before"] == pytest.approx(0.04)
    assert report["brier_after"] == pytest.approx(0.04)
    assert report["log_loss_before"] == pytest.approx(0.223144, abs=1e-6)
    assert report["method"] == "none" and report["rows"] == 2


def test_sigmoid_recovers_a_known_log_odds_map():
    # Labels drawn with P(churn) = sigmoid(0.5 * logit(raw) - 1): Platt should find ~(0.5, -1).
    rng = np.random.default_rng(3)
    raw = rng.uniform(0.01, 0.99, 20_000)
    logit = np.log(raw / (1 - raw))
    y = (rng.random(raw.size) < 1 / (1 + np.exp(-(0.5 * logit - 1)))).astype(int)
    calibrator = fit_calibrator(raw, y, "sigmoid")
    assert calibrator.slope == pytest.approx(0.5, abs=0.05)
    assert calibrator.intercept == pytest.approx(-1.0, abs=0.05)
    report = calibration_report(raw, y, calibrator)
    assert report["log_loss_after"] < report["log_loss_before"]


def test_single_class_cannot_be_calibrated():
    with pytest.raises(ChurnError, match="no churner"):
        fit_calibrator(np.array([0.1, 0.2]), np.array([0, 0]), "isotonic")


def _noisy_scores(seed=5, n=4_000):
    rng = np.random.default_rng(seed)
    raw = rng.beta(1.5, 6.0, n)
    y = (rng.random(n) < raw).astype(int)
    return raw, y


def test_isotonic_is_its_thresholds_and_predicts_as_scikit_learn_does():
    raw, y = _noisy_scores()
    calibrator = fit_calibrator(raw, y, "isotonic")
    reference = IsotonicRegression(
        y_min=PROBABILITY_FLOOR, y_max=1 - PROBABILITY_FLOOR, out_of_bounds="clip"
    ).fit(raw, y)
    assert calibrator.x_thresholds == tuple(reference.X_thresholds_)
    assert calibrator.y_thresholds == tuple(reference.y_thresholds_)
    grid = np.concatenate([np.linspace(-0.1, 1.1, 2_001), raw])  # beyond both ends too
    np.testing.assert_allclose(
        calibrator.predict(grid),
        np.clip(reference.predict(grid), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("method", ["isotonic", "sigmoid", "none"])
def test_a_calibrator_round_trips_through_json_and_predicts_identically(method):
    raw, y = _noisy_scores(seed=8)
    calibrator = fit_calibrator(raw, y, method)
    state = json.loads(json.dumps(calibrator.to_dict()))
    again = Calibrator.from_dict(state)
    assert again == calibrator
    grid = np.linspace(0.0, 1.0, 1_001)
    np.testing.assert_allclose(again.predict(grid), calibrator.predict(grid), rtol=0, atol=1e-12)


def test_a_broken_calibrator_file_is_refused():
    with pytest.raises(ChurnError, match="unknown method 'platt'"):
        Calibrator.from_dict({"method": "platt"})
    with pytest.raises(ChurnError, match="2 x and 1 y values"):
        Calibrator.from_dict({"method": "isotonic", "x_thresholds": [0, 1], "y_thresholds": [0]})
    with pytest.raises(ChurnError, match="x increasing"):
        Calibrator.from_dict(
            {"method": "isotonic", "x_thresholds": [0.5, 0.1], "y_thresholds": [0, 1]}
        )
