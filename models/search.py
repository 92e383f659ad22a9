"""Optional hyperparameter search for LightGBM (Optuna TPE, seeded), off by default.

Each trial trains :class:`~models.lightgbm_model.ChurnLightGBM` on the training
months with early stopping on the validation months and is scored by the
validation PR-AUC of its raw scores (calibration cannot change a ranking).
The same seed and trial budget give the same trials; a ``timeout_seconds``
budget can cut the search at a different trial from run to run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sklearn.metrics import average_precision_score

from models.estimator import churn_labels, model_params
from models.lightgbm_model import ChurnLightGBM
from pipeline.core.errors import ParamsError
from pipeline.core.params import LightGBMParams, ModelParams

TrialCallback = Callable[[int, dict[str, Any], float], None]


@dataclass(frozen=True)
class TrialRecord:
    """One search trial: its number, the LightGBM settings tried and the validation PR-AUC."""

    number: int
    params: dict[str, Any]
    value: float
    best_iteration: int


@dataclass(frozen=True)
class SearchResult:
    """The best LightGBM settings found and every trial."""

    best_params: dict[str, Any]
    best_value: float
    trials: list[TrialRecord] = field(default_factory=list)


def suggest_lightgbm_params(trial: Any) -> dict[str, Any]:
    """Return one trial's LightGBM settings (keys of params.yaml ``model.lightgbm``)."""
    return {
        "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 200, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def with_lightgbm_params(
    params: ModelParams | Mapping[str, Any], overrides: Mapping[str, Any]
) -> ModelParams:
    """Return model params whose ``lightgbm`` section takes the given settings."""
    settings = model_params(params)
    try:
        lightgbm = LightGBMParams.model_validate({**settings.lightgbm.model_dump(), **overrides})
    except ValidationError as exc:
        problems = "; ".join(f"{err['loc'][0]}: {err['msg']}" for err in exc.errors())
        raise ParamsError(f"invalid model.lightgbm settings from the search: {problems}") from None
    return settings.model_copy(update={"lightgbm": lightgbm})


def search_lightgbm(
    X: pd.DataFrame,
    y: Any,
    X_valid: pd.DataFrame,
    y_valid: Any,
    *,
    params: ModelParams | Mapping[str, Any],
    feature_columns: Sequence[str],
    on_trial: TrialCallback | None = None,
) -> SearchResult:
    """Search LightGBM settings by validation PR-AUC within ``model.search``'s budget.

    Args:
        X: training months' feature matrix.
        y: training labels (0/1).
        X_valid: validation months' feature matrix (early stopping and objective).
        y_valid: validation labels.
        params: params.yaml ``model:`` (seed, search.trials, search.timeout_seconds,
            and the lightgbm settings not searched).
        feature_columns: the model's input columns.
        on_trial: called after each trial with (trial number, settings, PR-AUC),
            e.g. to log the trial as a nested MLflow run.
    """
    import optuna

    settings = model_params(params)
    labels_valid = churn_labels(y_valid, len(X_valid), "validation months")
    records: list[TrialRecord] = []

    def objective(trial: Any) -> float:
        tried = suggest_lightgbm_params(trial)
        candidate = with_lightgbm_params(settings, tried).model_copy(update={"calibration": "none"})
        model = ChurnLightGBM.from_params(candidate, feature_columns).fit(
            X, y, eval_set=(X_valid, y_valid)
        )
        value = float(average_precision_score(labels_valid, model.predict_raw(X_valid)))
        records.append(TrialRecord(trial.number, tried, value, model.best_iteration_))
        if on_trial is not None:
            on_trial(trial.number, tried, value)
        return value

    optuna.logging.set_verbosity(logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=settings.seed)
    )
    study.optimize(
        objective, n_trials=settings.search.trials, timeout=settings.search.timeout_seconds
    )
    best = max(records, key=lambda record: (record.value, -record.number))
    return SearchResult(best_params=dict(best.params), best_value=best.value, trials=records)


def trial_table(result: SearchResult) -> pd.DataFrame:
    """Return the trials as a table (one row per trial, settings as columns)."""
    rows = [
        {"trial": r.number, "pr_auc": r.value, "best_iteration": r.best_iteration, **r.params}
        for r in result.trials
    ]
    return pd.DataFrame(rows).sort_values("pr_auc", ascending=False, kind="stable")
