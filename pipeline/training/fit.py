"""Fit the three models on the training months and compare them on the test months."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from models.evaluation import Comparison, compare_models
from models.lightgbm_model import ChurnLightGBM
from models.logistic import ChurnLogistic
from models.rules import RuleBaseline
from pipeline.cohorts.cohorts import Cohorts
from pipeline.core.params import Params


@dataclass
class FittedModels:
    """The fitted models, keyed as they appear in metrics.json, and search trials if any."""

    models: dict[str, Any]
    search_trials: list[dict] = field(default_factory=list)
    lightgbm_params: dict[str, Any] = field(default_factory=dict)

    @property
    def lightgbm(self) -> ChurnLightGBM:
        """The LightGBM model (the one registered)."""
        return self.models["lightgbm"]

    @property
    def rules(self) -> RuleBaseline:
        """The rule baseline."""
        return self.models["rules"]


@dataclass
class Evaluation:
    """The side-by-side comparison and its metrics.json tree."""

    comparison: Comparison
    metrics: dict[str, Any]


def fit_models(cohorts: Cohorts, columns: Sequence[str], params: Params, console) -> FittedModels:
    """Fit the rule baseline, LightGBM (after an optional search) and the logistic reference."""
    train, valid = cohorts.train, cohorts.validation
    model_params = params.model
    trials: list[dict] = []
    if model_params.search.enabled:
        from models.search import search_lightgbm, with_lightgbm_params

        result = search_lightgbm(
            train,
            train["label"],
            valid,
            valid["label"],
            params=model_params,
            feature_columns=columns,
        )
        model_params = with_lightgbm_params(model_params, result.best_params)
        trials = [
            {"params": t.params, "value": t.value, "best_iteration": t.best_iteration}
            for t in result.trials
        ]
        console.print(
            f"search: {len(trials)} trials, best validation PR-AUC {result.best_value:.4f}"
        )
    rules = RuleBaseline(params.rules.weights, params.rules.levels).fit(train, train["label"])
    validation = (valid, valid["label"])
    lightgbm = ChurnLightGBM.from_params(model_params, columns).fit(
        train, train["label"], eval_set=validation
    )
    logistic = ChurnLogistic.from_params(model_params, columns).fit(
        train, train["label"], eval_set=validation
    )
    console.print(
        f"fitted on {len(train):,} training rows; LightGBM stopped at "
        f"{lightgbm.best_iteration_} trees"
    )
    return FittedModels(
        {"lightgbm": lightgbm, "rules": rules, "logistic": logistic},
        search_trials=trials,
        lightgbm_params=model_params.lightgbm.model_dump(),
    )


def evaluate_models(
    fitted: FittedModels, cohorts: Cohorts, columns: Sequence[str], params: Params
) -> Evaluation:
    """Compare every model on the same out-of-time test cohort."""
    return evaluate_on(fitted.models, cohorts.test, columns, params)


def evaluate_on(
    models: dict[str, Any], cohort: pd.DataFrame, columns: Sequence[str], params: Params
) -> Evaluation:
    """Compare models on a labelled cohort (used by train and by `churn evaluate`)."""
    alerts = models["rules"].alerts(cohort)
    comparison = compare_models(
        models,
        cohort,
        cohort["label"],
        feature_columns=columns,
        evaluation=params.evaluation,
        rule_alerts=alerts,
    )
    return Evaluation(comparison, comparison.to_metrics_json())
