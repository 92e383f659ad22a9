"""Fit the four models on the training months and compare them on the test months.

LightGBM (the model registered), and beside it the guideline's rule baseline,
the logistic reference and the BG/NBD baseline (models/btyd.py), all fitted on
the same training months and compared on the same test months.


:func:`train_models` is the training flow over partitions (pipeline/core/executor.py):
when the training and validation months fit this machine (the executor's
``gather_max_rows``; no limit in process), the cohorts are gathered and
:func:`fit_models` trains exactly as on one machine. Above that, LightGBM trains
where the partitions live (the Dask engine's ``lightgbm.dask``) and the rule
baseline and the logistic reference train on a seeded sample of at most
``gather_max_rows`` rows per part, which is also what the returned cohorts hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from models.btyd import ChurnBTYD
from models.evaluation import Comparison, compare_models
from models.lightgbm_model import ChurnLightGBM
from models.logistic import ChurnLogistic
from models.rules import RuleBaseline
from models.search import search_lightgbm, with_lightgbm_params
from pipeline.cohorts.cohorts import (
    Cohorts,
    gather_cohorts,
    partitioned_cohorts,
    sampled_cohorts,
)
from pipeline.core.errors import ChurnError
from pipeline.core.executor import ClusterExecutor, Executor
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.training.causes import (
    CauseTraining,
    cause_tree,
    gathered_closures,
    train_cause_model,
)
from pipeline.training.value_figures import value_figures


@dataclass
class FittedModels:
    """The fitted models, keyed as they appear in metrics.json, and search trials if any.

    ``refit_months`` are the months LightGBM was refitted on (empty: no refit).
    """

    models: dict[str, Any]
    search_trials: list[dict] = field(default_factory=list)
    lightgbm_params: dict[str, Any] = field(default_factory=dict)
    refit_months: list[pd.Timestamp] = field(default_factory=list)
    cause: CauseTraining | None = None  # the cause model, when close reasons are recorded

    @property
    def lightgbm(self) -> ChurnLightGBM:
        """The LightGBM model (the one registered)."""
        return self.models["lightgbm"]

    @property
    def rules(self) -> RuleBaseline:
        """The rule baseline."""
        return self.models["rules"]

    def baseline_params(self) -> dict[str, float]:
        """Return the BG/NBD baseline's fitted parameters as ``btyd.<name>`` (MLflow params)."""
        btyd = self.models.get("btyd")
        fitted = {} if btyd is None else btyd.fitted_parameters()
        return {f"btyd.{name}": value for name, value in fitted.items()}


@dataclass
class Evaluation:
    """The side-by-side comparison and its metrics.json tree."""

    comparison: Comparison
    metrics: dict[str, Any]


def train_models(
    executor: Executor,
    partitioned: PartitionedTables,
    columns: Sequence[str],
    params: Params,
    console,
) -> tuple[Cohorts, FittedModels]:
    """Build the cohorts over the partitions and fit the four models.

    Args:
        executor: where the partitions run.
        partitioned: the validated tables, partitioned by customer.
        columns: the model's feature columns.
        params: the run's params.
        console: a rich console (or anything with ``print``) for the run's log.

    Returns:
        ``(cohorts, fitted)``: the cohorts here (whole, or sampled above the executor's
        ``gather_max_rows``) and the fitted models.

    Raises:
        ChurnError: a part holds a single class, or ``model.search`` is asked for on
            cohorts too large to gather.
    """
    distributed = partitioned_cohorts(executor, partitioned, params)
    limit = executor.gather_max_rows
    if limit is not None:
        console.print(training_choice(distributed.fit_rows, limit))
    if limit is None or distributed.fit_rows <= limit:
        cohorts = gather_cohorts(executor, distributed)
        console.print(cohorts.split.describe())
        fitted = fit_models(cohorts, columns, params, console)
        return cohorts, with_cause_model(
            fitted, executor, partitioned, cohorts, columns, params, console
        )
    if params.model.search.enabled:
        raise ChurnError(
            "model.search needs the training matrix on one machine: "
            f"raise engine.gather_max_rows above {distributed.fit_rows:,}"
        )
    # Only a ClusterExecutor has a gather limit, so only one gets here.
    lightgbm = cast(ClusterExecutor, executor).fit_lightgbm(distributed, columns, params.model)
    cohorts = sampled_cohorts(executor, distributed, limit, params.model.seed)
    console.print(cohorts.split.describe())
    train, valid = cohorts.train, cohorts.validation
    rules = RuleBaseline(params.rules.weights, params.rules.levels).fit(train, train["label"])
    logistic = ChurnLogistic.from_params(params.model, columns).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )
    btyd = fit_btyd(train, valid, params)
    if params.model.refit:
        console.print(
            "model.refit: LightGBM trained on the cluster keeps its training-month fit "
            "(the refit on every matured month runs on gathered cohorts only)"
        )
    console.print(
        f"fitted LightGBM on {distributed.rows['train']:,} training rows where they live "
        f"(stopped at {lightgbm.best_iteration_} trees); rules, logistic and BG/NBD on "
        f"{len(train):,} sampled rows"
    )
    models = {"lightgbm": lightgbm, "rules": rules, "logistic": logistic, "btyd": btyd}
    fitted = FittedModels(models, lightgbm_params=params.model.lightgbm.model_dump())
    return cohorts, with_cause_model(
        fitted, executor, partitioned, cohorts, columns, params, console
    )


def with_cause_model(
    fitted: FittedModels,
    executor: Executor,
    partitioned: PartitionedTables,
    cohorts: Cohorts,
    columns: Sequence[str],
    params: Params,
    console,
) -> FittedModels:
    """Add the cause model learned from the recorded close reasons (pipeline/training/causes.py)."""
    closed = gathered_closures(executor, partitioned)
    fitted.cause = train_cause_model(cohorts, closed, columns, params, console)
    return fitted


def training_choice(rows: int, gather_max_rows: int) -> str:
    """Return the log line saying where LightGBM trains, and why."""
    if rows <= gather_max_rows:
        return (
            f"training: {rows:,} training + validation rows <= engine.gather_max_rows "
            f"({gather_max_rows:,}): gathered to the client, trained as the local engine"
        )
    return (
        f"training: {rows:,} training + validation rows > engine.gather_max_rows "
        f"({gather_max_rows:,}): LightGBM trains on the cluster with lightgbm.dask"
    )


def fit_models(cohorts: Cohorts, columns: Sequence[str], params: Params, console) -> FittedModels:
    """Fit the rule baseline, LightGBM (after an optional search), logistic and BG/NBD."""
    train, valid = cohorts.train, cohorts.validation
    model_params = params.model
    trials: list[dict] = []
    if model_params.search.enabled:
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
    btyd = fit_btyd(train, valid, params)
    console.print(
        f"fitted on {len(train):,} training rows; LightGBM stopped at "
        f"{lightgbm.best_iteration_} trees"
    )
    if params.model.refit:
        lightgbm = refit_on_matured(lightgbm, cohorts, params.model.refit_tree_scale, console)
    return FittedModels(
        {"lightgbm": lightgbm, "rules": rules, "logistic": logistic, "btyd": btyd},
        search_trials=trials,
        lightgbm_params=model_params.lightgbm.model_dump(),
        refit_months=cohorts.split.refit if params.model.refit else [],
    )


def refit_on_matured(
    selected: ChurnLightGBM, cohorts: Cohorts, tree_scale: float, console
) -> ChurnLightGBM:
    """Refit LightGBM on every matured month with the tree count early stopping chose.

    The selection fit stopped and calibrated on the validation months; the refit
    learns from them too, and from the purge gap before them (Split.refit), with
    ``round(best_iteration * tree_scale)`` trees, and keeps the selection's calibrator.
    """
    rows = cohorts.refit_rows()
    trees = max(1, round(selected.best_iteration_ * tree_scale))
    refit = selected.refitted(rows, rows["label"], n_estimators=trees)
    months = cohorts.split.refit
    console.print(
        f"refitted LightGBM on every matured month: {months[0].date()} .. {months[-1].date()} "
        f"({len(months)} months, {len(rows):,} rows), {trees} trees"
    )
    return refit


def fit_btyd(train: pd.DataFrame, valid: pd.DataFrame, params: Params) -> ChurnBTYD:
    """Fit the BG/NBD baseline on the training months, calibrated on the validation months."""
    return ChurnBTYD.from_params(params.model, params.label).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )


def evaluate_models(
    fitted: FittedModels, cohorts: Cohorts, columns: Sequence[str], params: Params
) -> Evaluation:
    """Compare every model on the same out-of-time test cohort (and the cause model, if any)."""
    evaluation = evaluate_on(fitted.models, cohorts.test, columns, params)
    evaluation.metrics["value"] = value_figures(fitted.lightgbm, cohorts.test, params)
    evaluation.metrics["causes"] = cause_tree(fitted.cause)
    return evaluation


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
