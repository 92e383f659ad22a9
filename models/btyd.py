"""The BG/NBD ("buy till you die") baseline: the model that lives on trading alone.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") says
an account trades as a Poisson process with a gamma(r, alpha) rate while it is
alive, and after each trade it dies with a beta(a, b) probability. Its inputs
are the point-in-time BTYD summary the feature builder computes at each as-of
month end T from trades on or before T (features/recency.py): frequency
``repeat_trade_days`` (x), recency ``first_to_last_trade_days`` (t_x) and age
``days_since_first_trade`` (T). An account that never traded has x = t_x = 0
and its age counted from its opening, ``tenure_months`` months of
:data:`DAYS_PER_MONTH` days plus half a month (it opened some day in its first
month).

**The churn score is P(no trade in the label horizon)**: the account is dead,
or alive and silent for the next H months,
``1 - P(alive) + P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x)`` with
t = H months in days. That is the BTYD reading of every label definition: a
customer who stops trading is the one the model can see leaving. Like the
logistic reference, the score is then calibrated on the validation months, so
its Brier score and log loss compare fairly; the map is monotone and leaves its
ranking alone.

**Why the closed form here, not a library.** ``lifetimes`` is unmaintained since
2020 and pins old numpy/pandas behaviour; its successor ``pymc-marketing``
brings PyMC and a compiler toolchain. The BG/NBD likelihood is a closed form of
four parameters: written here with ``scipy.special`` it is vectorised over
every (x, t_x, T) at once, the maths is pinned and readable in one place, and
the package needs no new dependency. The fit maximises the log-likelihood
(L-BFGS-B on log-parameters, times rescaled so the largest age is 1, identical
summaries counted once with a weight). The tests check it against hand-computed
values and, where ``lifetimes`` is installed, against ``BetaGeoFitter``.

It is fitted on the training months' rows, every open account at every training
as-of month: the pooled likelihood is the sum of each month's cross-section,
and no label is used (BG/NBD is unsupervised; the calibrator sees the labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln
from sklearn.base import BaseEstimator, ClassifierMixin

from models.calibration import validation_calibration
from models.estimator import (
    BinaryChurnTags,
    InputError,
    ModelNotFittedError,
    as_frame,
    binary_target,
    predicted_class,
)
from pipeline.core.errors import ChurnError
from pipeline.core.params import LabelParams, ModelParams

DAYS_PER_MONTH = 365.25 / 12
FREQUENCY, RECENCY, AGE, TENURE = (
    "repeat_trade_days",
    "first_to_last_trade_days",
    "days_since_first_trade",
    "tenure_months",
)
BTYD_COLUMNS = (FREQUENCY, RECENCY, AGE, TENURE)
# Log-parameters stay within e^-12 .. e^12: beyond them the likelihood is flat
# (a or b without limit means nobody or everybody dies) and the optimum is the bound.
LOG_BOUND = 12.0


@dataclass(frozen=True)
class BGNBDParams:
    """The four BG/NBD parameters; alpha in days (the scale of the trading rate)."""

    r: float
    alpha: float
    a: float
    b: float


def bgnbd_log_likelihood(params: BGNBDParams, frequency: Any, recency: Any, age: Any) -> np.ndarray:
    """Return each account's BG/NBD log-likelihood of its (x, t_x, T).

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``
    (Fader, Hardie & Lee 2005, equation 6).
    """
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, age))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    stays = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dies = np.full_like(x, -np.inf)
    dies[repeat] = betaln(a + 1.0, b + x[repeat] - 1.0) - (r + x[repeat]) * np.log(
        alpha + t_x[repeat]
    )
    return common + np.logaddexp(stays, dies)


def probability_alive(params: BGNBDParams, frequency: Any, recency: Any, age: Any) -> np.ndarray:
    """Return P(alive at T | x, t_x, T): 1 without a repeat trade (death follows a trade)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, age))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds_dead = np.full_like(x, -np.inf)
    repeat = x > 0
    log_odds_dead[repeat] = (
        np.log(a)
        - np.log(b + x[repeat] - 1.0)
        + (r + x[repeat]) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat]))
    )
    return 1.0 / (1.0 + np.exp(log_odds_dead))


def probability_no_trade(
    params: BGNBDParams, frequency: Any, recency: Any, age: Any, horizon_days: float
) -> np.ndarray:
    """Return P(no trade in (T, T + horizon_days] | x, t_x, T): dead, or alive and silent."""
    x, T = np.asarray(frequency, dtype="float64"), np.asarray(age, dtype="float64")
    alive = probability_alive(params, x, recency, T)
    silent = np.exp(
        (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + horizon_days))
    )
    return 1.0 - alive + alive * silent


def fit_bgnbd(frequency: Any, recency: Any, age: Any) -> BGNBDParams:
    """Return the maximum-likelihood BG/NBD parameters of these summaries.

    Raises:
        ChurnError: no summaries, a summary outside 0 <= t_x <= T or x < 0, or an
            optimiser that does not converge.
    """
    summary = np.column_stack([np.asarray(v, dtype="float64") for v in (frequency, recency, age)])
    _check_summaries(summary)
    unique, weights = np.unique(summary, axis=0, return_counts=True)
    scale = max(float(unique[:, 2].max()), 1.0)
    x, t_x, T = unique[:, 0], unique[:, 1] / scale, unique[:, 2] / scale
    total = float(weights.sum())

    def loss(log_params: np.ndarray) -> float:
        value = bgnbd_log_likelihood(BGNBDParams(*np.exp(log_params)), x, t_x, T)
        return float(-(weights * value).sum() / total)

    result = minimize(
        loss,
        np.zeros(4),
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
        options={"maxiter": 2000},
    )
    if not (result.success and np.isfinite(result.fun)):
        raise ChurnError(f"BG/NBD fit did not converge on {total:,.0f} accounts: {result.message}")
    r, alpha, a, b = np.exp(result.x)
    return BGNBDParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))


def _check_summaries(summary: np.ndarray) -> None:
    if not len(summary):
        raise ChurnError("BG/NBD needs at least one account to fit")
    x, t_x, T = summary.T
    bad = ~(np.isfinite(summary).all(axis=1) & (x >= 0) & (t_x >= 0) & (t_x <= T))
    if bad.any():
        shown = summary[bad][:5].tolist()
        raise ChurnError(
            f"BG/NBD summaries need finite x >= 0 and 0 <= t_x <= T; {int(bad.sum())} rows "
            f"are not, e.g. (x, t_x, T) = {shown}"
        )


def btyd_summary(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (x, t_x, T) in days per row from the feature matrix's BTYD columns.

    An account without a trade (NaN summary) has x = t_x = 0 and its age from its
    opening: ``tenure_months`` months plus half a month.

    Raises:
        InputError: a BTYD column is missing, or an account without any age.
    """
    missing = [column for column in BTYD_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"the BTYD baseline needs the feature columns {missing}")
    traded = frame[AGE].notna().to_numpy()
    tenure_days = (frame[TENURE].to_numpy(dtype="float64") + 0.5) * DAYS_PER_MONTH
    age = np.where(traded, frame[AGE].to_numpy(dtype="float64"), tenure_days)
    if np.isnan(age).any():
        rows = frame.index[np.isnan(age)][:5].tolist()
        raise InputError(f"the BTYD baseline: rows {rows} have neither a trade nor a tenure")
    frequency = np.where(traded, frame[FREQUENCY].to_numpy(dtype="float64"), 0.0)
    recency = np.where(traded, frame[RECENCY].to_numpy(dtype="float64"), 0.0)
    return frequency, recency, age


_DEFAULTS = ModelParams()


class ChurnBTYD(BinaryChurnTags, ClassifierMixin, BaseEstimator):
    """BG/NBD's probability of no trade in the label horizon, calibrated on validation months.

    Args:
        horizon_months: the label horizon H (``label.horizon_months``).
        calibration: ``isotonic``, ``sigmoid`` or ``none``, fitted on the validation rows.
    """

    def __init__(
        self,
        horizon_months: int = LabelParams().horizon_months,
        calibration: str = _DEFAULTS.calibration,
    ):
        self.horizon_months = horizon_months
        self.calibration = calibration

    @classmethod
    def from_params(cls, model: ModelParams | Mapping[str, Any], label: LabelParams) -> ChurnBTYD:
        """Return the baseline for params.yaml's ``model:`` (calibration) and ``label:``."""
        settings = model if isinstance(model, ModelParams) else ModelParams.model_validate(model)
        return cls(horizon_months=label.horizon_months, calibration=settings.calibration)

    def fit(self, X: Any, y: Any, *, eval_set: tuple[Any, Any] | None = None) -> ChurnBTYD:
        """Fit BG/NBD on the training rows' summaries; calibrate on ``eval_set`` if given.

        The labels ``y`` are only checked (BG/NBD learns from trading alone).

        Raises:
            ChurnError: missing BTYD columns, bad labels, or a fit that does not converge.
        """
        X = as_frame(X, BTYD_COLUMNS, type(self).__name__)
        self.classes_ = binary_target(y, len(X), "training months")[0]
        self.params_ = fit_bgnbd(*btyd_summary(X))
        self.feature_columns_ = list(BTYD_COLUMNS)
        self.n_features_in_ = len(BTYD_COLUMNS)
        self.calibrator_, self.calibration_report_ = validation_calibration(
            self, eval_set, BTYD_COLUMNS, self.calibration
        )
        return self

    def predict_raw(self, X: Any) -> np.ndarray:
        """Return P(no trade in the next ``horizon_months`` months) per row."""
        if not hasattr(self, "params_"):
            raise ModelNotFittedError("ChurnBTYD is not fitted: call fit() first")
        frequency, recency, age = btyd_summary(as_frame(X, BTYD_COLUMNS, type(self).__name__))
        horizon = self.horizon_months * DAYS_PER_MONTH
        return probability_no_trade(self.params_, frequency, recency, age, horizon)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return calibrated ``[[1 - p, p]]`` per row."""
        p = self.calibrator_.predict(self.predict_raw(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Return the more probable class of each row."""
        return predicted_class(self.classes_, self.predict_proba(X))

    def fitted_parameters(self) -> dict[str, float]:
        """Return the fitted r, alpha (days), a and b, for the report and MLflow."""
        if not hasattr(self, "params_"):
            raise ModelNotFittedError("ChurnBTYD is not fitted: call fit() first")
        return asdict(self.params_)
