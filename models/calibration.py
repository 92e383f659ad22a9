"""Calibrating a model's raw probabilities on held-out months (isotonic, sigmoid or none).

A calibrator maps a model's raw probability to a calibrated one. It is a small
picklable object with ``predict(raw_probability)``, so the registry can store
it beside the booster and scoring can apply it to ``booster.predict(X)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss

from pipeline.core.errors import ChurnError

Method = Literal["isotonic", "sigmoid", "none"]
# Keeps calibrated probabilities off exact 0 and 1 so log loss stays finite.
PROBABILITY_FLOOR = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return np.log(p / (1 - p))


@dataclass
class Calibrator:
    """A fitted mapping from raw probability to calibrated probability."""

    method: Method
    isotonic: IsotonicRegression | None = None
    slope: float = 1.0
    intercept: float = 0.0

    def predict(self, raw_probability: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw ones."""
        raw = np.asarray(raw_probability, dtype="float64")
        if self.method == "isotonic":
            calibrated = self.isotonic.predict(raw)
        elif self.method == "sigmoid":
            calibrated = 1.0 / (1.0 + np.exp(-(self.slope * _logit(raw) + self.intercept)))
        else:
            calibrated = raw
        return np.clip(calibrated, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


def fit_calibrator(raw_probability: np.ndarray, y: np.ndarray, method: Method) -> Calibrator:
    """Fit a calibrator on held-out raw probabilities and labels.

    isotonic: a monotone step function (least squares, so it never raises the
    Brier score on the rows it is fitted on); sigmoid: Platt scaling on the raw
    log-odds, unpenalised (so it never raises their log loss); none: identity.

    Raises:
        ChurnError: the held-out rows hold a single class (nothing to calibrate on).
    """
    labels = np.asarray(y, dtype="float64")
    if method == "none":
        return Calibrator("none")
    if len(np.unique(labels)) < 2:
        raise ChurnError(
            f"cannot calibrate ({method}): the validation months hold "
            f"{'no churner' if not labels.sum() else 'only churners'}; "
            "widen split.validation_months or set model.calibration=none"
        )
    raw = np.asarray(raw_probability, dtype="float64")
    if method == "isotonic":
        isotonic = IsotonicRegression(
            y_min=PROBABILITY_FLOOR, y_max=1 - PROBABILITY_FLOOR, out_of_bounds="clip"
        )
        return Calibrator("isotonic", isotonic=isotonic.fit(raw, labels))
    platt = LogisticRegression(C=np.inf, max_iter=1000).fit(_logit(raw)[:, None], labels)
    return Calibrator(
        "sigmoid", slope=float(platt.coef_[0, 0]), intercept=float(platt.intercept_[0])
    )


def calibration_report(
    raw_probability: np.ndarray, y: np.ndarray, calibrator: Calibrator
) -> dict[str, float | str | int]:
    """Return log loss and Brier score before and after calibration on the given rows."""
    labels = np.asarray(y, dtype="float64")
    raw = np.clip(
        np.asarray(raw_probability, dtype="float64"), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR
    )
    calibrated = calibrator.predict(raw)
    return {
        "method": calibrator.method,
        "rows": int(len(labels)),
        "log_loss_before": float(log_loss(labels, raw, labels=[0, 1])),
        "log_loss_after": float(log_loss(labels, calibrated, labels=[0, 1])),
        "brier_before": float(brier_score_loss(labels, raw, pos_label=1)),
        "brier_after": float(brier_score_loss(labels, calibrated, pos_label=1)),
    }
