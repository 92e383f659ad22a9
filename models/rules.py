"""The retention guideline's warning indicators as a scikit-learn-style classifier.

The guideline groups its indicators into key, auxiliary and qualitative ones.
The baseline's score weights the fired indicators by group (params.yaml
``rules.weights``); ``fit`` learns the churn rate of each score value on the
training months so that its probabilities compare with the models'. The
warning levels red / yellow / none (``rules.levels``) are the project's own
convention: the guideline names the indicators but never says how many of them
make a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

from models.estimator import InputError, ModelNotFittedError, binary_target, predicted_class
from pipeline.core.errors import ChurnError
from pipeline.core.params import RuleLevels, RuleWeights

KEY_FLAGS = ("warn_outflow", "warn_commission_drop", "warn_empty_position")
AUXILIARY_FLAGS = ("warn_trade_drop", "warn_big_loss")
QUALITATIVE_FLAGS = ("warn_complaint", "warn_fee_cut_request", "warn_contact_drop")
RULE_FLAGS = KEY_FLAGS + AUXILIARY_FLAGS + QUALITATIVE_FLAGS
LEVELS = ("none", "yellow", "red")


def _settings(value: Mapping[str, Any] | Any, section: type) -> dict[str, Any]:
    """Accept a params section (pydantic), a plain mapping, or None (the section's defaults)."""
    if value is None:
        value = section()
    return dict(value.model_dump()) if hasattr(value, "model_dump") else dict(value)


def fired_count(X: pd.DataFrame, flags: tuple[str, ...]) -> np.ndarray:
    """Return how many of ``flags`` fired per row; a missing value (NaN) has not fired.

    Raises:
        ChurnError: a flag column is absent from X.
    """
    missing = [flag for flag in flags if flag not in X.columns]
    if missing:
        raise ChurnError(f"feature matrix lacks the warning flag columns {missing}")
    fired = [X[flag].astype("float64").fillna(0.0).to_numpy() > 0 for flag in flags]
    return np.sum(fired, axis=0).astype(np.int64) if fired else np.zeros(len(X), np.int64)


class RuleBaseline(ClassifierMixin, BaseEstimator):
    """Weighted count of fired warning indicators, mapped to a churn probability.

    A scikit-learn classifier (``clone``, ``get_params``, ``set_params``); it reads the
    ``warn_*`` columns of a feature matrix by name, so it takes DataFrames only.

    Args:
        weights: ``rules.weights`` (key, auxiliary, qualitative), a RuleWeights or mapping;
            None: params.yaml's defaults.
        levels: ``rules.levels`` (red_key, red_key_plus_others_key,
            red_key_plus_others_others, yellow_key, yellow_others); None: the defaults.
        smoothing: pseudo-customers at the training base rate added to each score
            value's churn rate, so a score seen rarely (or with no churner) does not
            get a probability of 0 or 1.
    """

    def __init__(
        self,
        weights: Mapping[str, float] | Any = None,
        levels: Mapping[str, int] | Any = None,
        smoothing: float = 1.0,
    ):
        self.weights = weights
        self.levels = levels
        self.smoothing = smoothing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def rule_score(self, X: pd.DataFrame) -> pd.Series:
        """Return the weighted count of fired indicators per row."""
        w = _settings(self.weights, RuleWeights)
        score = (
            w["key"] * fired_count(X, KEY_FLAGS)
            + w["auxiliary"] * fired_count(X, AUXILIARY_FLAGS)
            + w["qualitative"] * fired_count(X, QUALITATIVE_FLAGS)
        )
        return pd.Series(score.astype("float64"), index=X.index, name="rule_score")

    def fit(self, X: pd.DataFrame, y: Any) -> RuleBaseline:
        """Learn the smoothed, monotone churn rate of each score value on training rows."""
        if not len(X):
            raise InputError("rule baseline: no training rows")
        self.classes_, labels = binary_target(y, len(X), "rule baseline")
        table = pd.DataFrame({"score": self.rule_score(X).to_numpy(), "churn": labels})
        by_score = table.groupby("score")["churn"].agg(["sum", "count"])
        self.base_rate_ = float(labels.mean())
        smoothed = (by_score["sum"] + self.smoothing * self.base_rate_) / (
            by_score["count"] + self.smoothing
        )
        # Pooled so a higher score never gets a lower probability than a lower one.
        isotonic = IsotonicRegression(increasing=True)
        self.score_values_ = by_score.index.to_numpy(dtype="float64")
        self.churn_rate_ = isotonic.fit_transform(
            self.score_values_, smoothed.to_numpy(), sample_weight=by_score["count"].to_numpy()
        )
        self.rows_per_score_ = by_score["count"].to_numpy()
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters and learned state as JSON-able data (``from_dict`` reads it)."""
        self._check_fitted()
        return {
            "weights": _settings(self.weights, RuleWeights),
            "levels": _settings(self.levels, RuleLevels),
            "smoothing": float(self.smoothing),
            "classes": self.classes_.tolist(),
            "base_rate": float(self.base_rate_),
            "score_values": self.score_values_.tolist(),
            "churn_rate": self.churn_rate_.tolist(),
            "rows_per_score": self.rows_per_score_.tolist(),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> RuleBaseline:
        """Rebuild a fitted baseline from ``to_dict`` data.

        Raises:
            ChurnError: the score values and churn rates are missing or of unequal length.
        """
        values = np.asarray(state.get("score_values", ()), dtype=np.float64)
        rates = np.asarray(state.get("churn_rate", ()), dtype=np.float64)
        if not len(values) or len(values) != len(rates):
            raise ChurnError(
                f"rule baseline: {len(values)} score values but {len(rates)} churn rates"
            )
        baseline = cls(
            dict(state["weights"]), dict(state["levels"]), float(state.get("smoothing", 1.0))
        )
        baseline.classes_ = np.asarray(state.get("classes", [0, 1]))
        baseline.base_rate_ = float(state.get("base_rate", np.nan))
        baseline.score_values_ = values
        baseline.churn_rate_ = rates
        baseline.rows_per_score_ = np.asarray(state.get("rows_per_score", ()), dtype=np.int64)
        return baseline

    def _check_fitted(self) -> None:
        if not hasattr(self, "churn_rate_"):
            raise ModelNotFittedError("RuleBaseline is not fitted: call fit() first")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return ``[[1 - p, p]]`` with p the learned churn rate of each row's score.

        Scores not seen in training take the rate interpolated between the nearest
        seen scores (the nearest one beyond the seen range).
        """
        self._check_fitted()
        p = np.interp(self.rule_score(X).to_numpy(), self.score_values_, self.churn_rate_)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return the more probable class of each row."""
        proba = self.predict_proba(X)
        return predicted_class(self.classes_, proba)

    def warning_level(self, X: pd.DataFrame) -> pd.Series:
        """Return each row's warning level (the project's ``rules.levels``): red, yellow, none."""
        lv = _settings(self.levels, RuleLevels)
        key = fired_count(X, KEY_FLAGS)
        others = fired_count(X, AUXILIARY_FLAGS) + fired_count(X, QUALITATIVE_FLAGS)
        red = (key >= lv["red_key"]) | (
            (key >= lv["red_key_plus_others_key"]) & (others >= lv["red_key_plus_others_others"])
        )
        yellow = (key >= lv["yellow_key"]) | (others >= lv["yellow_others"])
        level = np.where(red, "red", np.where(yellow, "yellow", "none"))
        return pd.Series(
            pd.Categorical(level, categories=LEVELS, ordered=True), index=X.index, name="level"
        )

    def alerts(self, X: pd.DataFrame) -> pd.Series:
        """Return whether the rules raise a warning (red or yellow) for each row."""
        return (self.warning_level(X) != "none").rename("rule_alert")
