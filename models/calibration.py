"""Calibrating a model's raw probabilities on held-out months (isotonic, sigmoid or none).

A calibrator maps a model's raw probability to a calibrated one. Its learned
state is plain numbers (an isotonic fit is its thresholds, Platt scaling its
slope and intercept), saved as JSON-able data with ``to_dict`` / ``from_dict``,
so the packaged model carries no pickle and a refactor of this module leaves
saved calibrators readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss

from models.estimator import as_frame, binary_target
from pipeline.core.errors import ChurnError

Method = Literal["isotonic", "sigmoid", "none"]
METHODS: tuple[str, ...] = get_args(Method)
# Keeps calibrated probabilities off exact 0 and 1 so log loss stays finite.
PROBABILITY_FLOOR = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Calibrator:
    """A fitted mapping from raw probability to calibrated probability.

    Attributes:
        method: ``isotonic``, ``sigmoid`` or ``none`` (identity).
        x_thresholds: isotonic only: the raw probabilities where the step function bends,
            increasing (scikit-learn's ``IsotonicRegression.X_thresholds_``).
        y_thresholds: isotonic only: the calibrated probability at each threshold.
        slope: sigmoid only: Platt scaling's weight on the raw log-odds.
        intercept: sigmoid only: Platt scaling's intercept.
    """

    method: Method
    x_thresholds: tuple[float, ...] = ()
    y_thresholds: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0

    def predict(self, raw_probability: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw ones."""
        raw = np.asarray(raw_probability, dtype="float64")
        if self.method == "isotonic":
            x = np.asarray(self.x_thresholds, dtype="float64")
            # Linear between thresholds, flat beyond them: IsotonicRegression's
            # out_of_bounds="clip" prediction.
            calibrated = np.interp(np.clip(raw, x[0], x[-1]), x, self.y_thresholds)
        elif self.method == "sigmoid":
            calibrated = 1.0 / (1.0 + np.exp(-(self.slope * _logit(raw) + self.intercept)))
        else:
            calibrated = raw
        return np.clip(calibrated, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    def to_dict(self) -> dict[str, Any]:
        """Return the learned state as JSON-able data (``from_dict`` reads it back)."""
        state: dict[str, Any] = {"method": self.method}
        if self.method == "isotonic":
            state["x_thresholds"] = [float(v) for v in self.x_thresholds]
            state["y_thresholds"] = [float(v) for v in self.y_thresholds]
        elif self.method == "sigmoid":
            state.update(slope=float(self.slope), intercept=float(self.intercept))
        return state

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Calibrator:
        """Rebuild a calibrator from ``to_dict`` data.

        Raises:
            ChurnError: an unknown method, or isotonic thresholds that are missing, of
                unequal length or not increasing.
        """
        method = state.get("method")
        if method not in METHODS:
            raise ChurnError(f"calibrator: unknown method {method!r}, expected one of {METHODS}")
        if method == "isotonic":
            x = tuple(float(v) for v in state.get("x_thresholds", ()))
            y = tuple(float(v) for v in state.get("y_thresholds", ()))
            if not x or len(x) != len(y) or np.any(np.diff(x) < 0):
                raise ChurnError(
                    "calibrator: isotonic thresholds must be two equally long lists, "
                    f"x increasing (got {len(x)} x and {len(y)} y values)"
                )
            return cls("isotonic", x_thresholds=x, y_thresholds=y)
        if method == "sigmoid":
            return cls("sigmoid", slope=float(state["slope"]), intercept=float(state["intercept"]))
        return cls("none")


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
        ).fit(raw, labels)
        return Calibrator(
            "isotonic",
            x_thresholds=tuple(isotonic.X_thresholds_.tolist()),
            y_thresholds=tuple(isotonic.y_thresholds_.tolist()),
        )
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


def validation_calibration(
    model: Any, eval_set: tuple[Any, Any] | None, columns: Any, method: Method
) -> tuple[Calibrator, dict[str, float] | None]:
    """Fit ``method`` to a fitted model's raw scores of the validation rows, with its report.

    Args:
        model: a fitted churn model with ``classes_`` and ``predict_raw``.
        eval_set: ``(X_valid, y_valid)``; None: the identity and no report.
        columns: names for the columns of an array ``X_valid``.
        method: ``isotonic``, ``sigmoid`` or ``none``.
    """
    if eval_set is None:
        return Calibrator("none"), None
    X_valid = as_frame(eval_set[0], columns)
    y_valid = binary_target(eval_set[1], len(X_valid), "validation months", model.classes_)[1]
    raw = model.predict_raw(X_valid)
    calibrator = fit_calibrator(raw, y_valid, method)
    return calibrator, calibration_report(raw, y_valid, calibrator)
