"""Why an account leaves, learned from the reasons recorded when accounts closed.

The retention guideline lists eleven causes of churn (``CLOSE_REASONS``). When the
customers table records ``close_reason`` for closed accounts, a LightGBM
multiclass model learns the cause from the features of each closed account at the
as-of month end before it closed; scoring then names each account's most likely
cause with its probability. :func:`cause_evaluation` measures it out of time:
accuracy, top-2 accuracy, per-cause precision and recall, and the confusion table
of recorded against predicted causes, beside the share that always naming the
commonest reason would get.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from models.estimator import InputError, ModelNotFittedError
from pipeline.core.contract import CLOSE_REASONS


class ChurnCauseModel(ClassifierMixin, BaseEstimator):
    """A LightGBM multiclass model over the guideline's causes (scikit-learn style).

    Args:
        feature_columns: the input columns, in order.
        num_leaves, learning_rate, n_estimators, min_child_samples, early_stopping_rounds:
            LightGBM settings (params ``model.cause``).
        seed: params ``model.seed``.
        num_threads: LightGBM threads (fixed for determinism).
    """

    def __init__(
        self,
        feature_columns: Sequence[str] = (),
        num_leaves: int = 15,
        learning_rate: float = 0.05,
        n_estimators: int = 400,
        min_child_samples: int = 20,
        early_stopping_rounds: int = 30,
        seed: int = 7,
        num_threads: int = 2,
    ):
        self.feature_columns = feature_columns
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.min_child_samples = min_child_samples
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed
        self.num_threads = num_threads

    def _settings(self, classes: int) -> dict[str, Any]:
        return {
            "objective": "multiclass",
            "num_class": classes,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }

    def fit(self, X: pd.DataFrame, y, eval_set: tuple[pd.DataFrame, Any] | None = None):
        """Learn the causes; ``eval_set`` (later months) stops the boosting early.

        Raises:
            InputError: a cause outside the guideline's, or fewer than two causes.
        """
        labels = pd.Series(np.asarray(y, dtype=object))
        unknown = sorted(set(labels) - set(CLOSE_REASONS), key=str)
        if unknown:
            raise InputError(f"unknown causes {unknown}; the guideline's are {CLOSE_REASONS}")
        self.classes_ = np.array([c for c in CLOSE_REASONS if c in set(labels)], dtype=object)
        if len(self.classes_) < 2:
            raise InputError(f"a cause model needs at least two causes, got {list(self.classes_)}")
        self.feature_columns_ = list(self.feature_columns)
        train = lightgbm.Dataset(X.loc[:, self.feature_columns_], self._codes(labels))
        callbacks, valid_sets = [], []
        if eval_set is not None and len(eval_set[0]):
            known = pd.Series(np.asarray(eval_set[1], dtype=object)).isin(self.classes_)
            rows = eval_set[0].loc[known.to_numpy(), self.feature_columns_]
            codes = self._codes(pd.Series(np.asarray(eval_set[1], dtype=object))[known])
            valid_sets = [lightgbm.Dataset(rows, codes, reference=train)]
            callbacks = [lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)]
        self.booster_ = lightgbm.train(
            self._settings(len(self.classes_)),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        self.best_iteration_ = int(
            self.booster_.best_iteration or self.booster_.current_iteration()
        )
        return self

    def _codes(self, labels: pd.Series) -> np.ndarray:
        position = {cause: i for i, cause in enumerate(self.classes_)}
        return labels.map(position).to_numpy(dtype=np.int32)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return each row's probability of each cause in ``classes_`` (rows sum to 1)."""
        if not hasattr(self, "booster_"):
            raise ModelNotFittedError("ChurnCauseModel is not fitted")
        missing = [c for c in self.feature_columns_ if c not in X.columns]
        if missing:
            raise InputError(f"the cause model needs the feature columns {missing}")
        if not len(X):
            return np.empty((0, len(self.classes_)))
        raw = self.booster_.predict(
            X.loc[:, self.feature_columns_], num_iteration=self.best_iteration_
        )
        return np.asarray(raw, dtype=np.float64).reshape(len(X), len(self.classes_))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return each row's most likely cause."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def to_dict(self) -> dict[str, Any]:
        """Return the fitted model as plain data (the booster in LightGBM's text format)."""
        return {
            "booster": self.booster_.model_to_string(num_iteration=self.best_iteration_),
            "classes": list(self.classes_),
            "feature_columns": self.feature_columns_,
            "best_iteration": self.best_iteration_,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ChurnCauseModel:
        """Rebuild a fitted model from :meth:`to_dict` data."""
        model = cls(feature_columns=state["feature_columns"])
        model.booster_ = lightgbm.Booster(model_str=state["booster"])
        model.classes_ = np.array(state["classes"], dtype=object)
        model.feature_columns_ = list(state["feature_columns"])
        model.best_iteration_ = int(state["best_iteration"])
        return model


def cause_evaluation(
    recorded: Sequence[str], probability: np.ndarray, classes: Sequence[str], commonest: str
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Return the cause model's out-of-time measures and its confusion table.

    Args:
        recorded: the recorded close reason of each evaluated account.
        probability: the model's cause probabilities, one column per class.
        classes: the model's causes, in column order.
        commonest: the commonest reason of the training accounts (the naive guess).

    Returns:
        ``(measures, confusion)``: accounts, accuracy, top-2 accuracy, the commonest
        reason and its share, and per cause its support, precision and recall;
        confusion counts recorded causes (rows) against predicted ones (columns).
    """
    truth = np.asarray(recorded, dtype=object)
    names = np.asarray(classes, dtype=object)
    order = np.argsort(-probability, axis=1, kind="stable")
    predicted = names[order[:, 0]] if len(truth) else np.empty(0, object)
    top2 = names[order[:, :2]] if len(truth) else np.empty((0, 2), object)
    in_top2 = (top2 == truth[:, None]).any(axis=1)
    labels = [c for c in CLOSE_REASONS if c in set(truth) | set(names)]
    confusion = pd.crosstab(
        pd.Categorical(truth, categories=labels),
        pd.Categorical(predicted, categories=labels),
        dropna=False,
    )
    confusion.index.name, confusion.columns.name = "recorded", "predicted"
    per_cause = {}
    for cause in labels:
        hits = float(confusion.loc[cause, cause])
        named, support = float(confusion[cause].sum()), float(confusion.loc[cause].sum())
        per_cause[cause] = {
            "support": int(support),
            "precision": hits / named if named else None,
            "recall": hits / support if support else None,
        }
    accounts = len(truth)
    measures = {
        "accounts": accounts,
        "accuracy": float(np.mean(predicted == truth)) if accounts else None,
        "top2_accuracy": float(np.mean(in_top2)) if accounts else None,
        "commonest_reason": commonest,
        "commonest_share": float(np.mean(truth == commonest)) if accounts else None,
        "per_cause": per_cause,
    }
    return measures, confusion
