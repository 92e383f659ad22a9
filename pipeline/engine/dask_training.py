"""Training on a Dask cluster: gather the matrix when it fits one machine, else ``lightgbm.dask``.

The choice is made by size and logged: when the training and validation months
hold at most ``engine.gather_max_rows`` rows, the cohorts come to the client and
:func:`pipeline.training.fit.fit_models` trains exactly as the local engine does (the
same models, bit for bit). Above that, LightGBM trains on the workers with
``lightgbm.dask.DaskLGBMClassifier`` (data parallel; it sets its own threads, so
``model.lightgbm.num_threads`` is ignored), with the local model's settings. Its
early stopping is read off the validation metric each worker recorded, on the
validation rows that worker held, with the local rule (stop after
``early_stopping_rounds`` rounds without improvement, keep the best). The
calibrator is fitted on the client to the raw validation scores of all rows. The
rule baseline and the logistic reference train on a seeded sample of at most
``engine.gather_max_rows`` rows per part, which is also what the returned cohorts
hold (the test part included).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.calibration import calibration_report, fit_calibrator
from models.lightgbm_model import ChurnLightGBM, classifier_settings, feature_frame
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams, Params
from pipeline.engine.dask_cluster import broadcast
from pipeline.engine.dask_cohorts import (
    DistributedCohorts,
    build_cohorts_dask,
    gather_cohorts,
    sampled_cohorts,
)

log = logging.getLogger(__name__)


def train_models_dask(tables: Tables, columns: Sequence[str], params: Params, client, console):
    """Build the cohorts on the cluster and fit the three models; log where LightGBM trained.

    Args:
        tables: validated tables held by the client.
        columns: the model's feature columns.
        params: the run's params.
        client: a ``distributed.Client``.
        console: a rich console (or anything with ``print``) for the run's log.

    Returns:
        ``(cohorts, fitted)``: the cohorts on the client (whole, or sampled above
        ``engine.gather_max_rows``) and :class:`pipeline.training.fit.FittedModels`.
    """
    from distributed.client import FutureCancelledError

    attempts_left = params.engine.retries
    while True:
        try:
            return _train(tables, columns, params, client, console)
        except FutureCancelledError:
            if attempts_left == 0:
                raise
            attempts_left -= 1
            log.warning("dask: partitions were lost with a worker; training again")


def _train(tables: Tables, columns: Sequence[str], params: Params, client, console):
    from models.logistic import ChurnLogistic
    from models.rules import RuleBaseline
    from pipeline.training.fit import FittedModels, fit_models

    distributed = build_cohorts_dask(tables, params, client)
    limit = params.engine.gather_max_rows
    message = training_choice(distributed.fit_rows, limit)
    log.info(message)
    console.print(message)
    if distributed.fit_rows <= limit:
        cohorts = gather_cohorts(distributed, client)
        return cohorts, fit_models(cohorts, columns, params, console)
    if params.model.search.enabled:
        raise ChurnError(
            "model.search needs the training matrix on one machine: "
            f"raise engine.gather_max_rows above {distributed.fit_rows:,}"
        )
    lightgbm = fit_lightgbm_dask(distributed, columns, params.model, client)
    cohorts = sampled_cohorts(distributed, limit, params.model.seed, client)
    train, valid = cohorts.train, cohorts.validation
    rules = RuleBaseline(params.rules.weights, params.rules.levels).fit(train, train["label"])
    logistic = ChurnLogistic.from_params(params.model, columns).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )
    console.print(
        f"fitted LightGBM on {distributed.rows['train']:,} training rows on the cluster "
        f"(stopped at {lightgbm.best_iteration_} trees); rules and logistic on "
        f"{len(train):,} sampled rows"
    )
    models = {"lightgbm": lightgbm, "rules": rules, "logistic": logistic}
    return cohorts, FittedModels(models, lightgbm_params=params.model.lightgbm.model_dump())


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


def fit_lightgbm_dask(
    cohorts: DistributedCohorts, columns: Sequence[str], model: ModelParams, client
) -> ChurnLightGBM:
    """Train LightGBM on the workers; return a calibrated :class:`ChurnLightGBM`."""
    from lightgbm.dask import DaskLGBMClassifier

    X, y = _dask_part(cohorts, "train", columns, client)
    X_valid, y_valid = _dask_part(cohorts, "validation", columns, client)
    template = ChurnLightGBM.from_params(model, columns)
    settings = classifier_settings(template, y.compute().to_numpy())
    settings.pop("n_jobs", None)
    estimator = DaskLGBMClassifier(client=client, **settings)
    estimator.fit(X, y, eval_set=[(X_valid, y_valid)], eval_names=["validation"])
    history = estimator.evals_result_.get("validation", {}).get("average_precision", [])
    best = early_stopping_iteration(history, model.lightgbm.early_stopping_rounds)
    booster = estimator.booster_
    raw, labels = _raw_validation_scores(cohorts, booster, columns, best or None, client)
    calibrator = fit_calibrator(raw, labels, model.calibration)
    fitted = ChurnLightGBM.from_parts(
        booster,
        calibrator,
        feature_columns=columns,
        best_iteration=best or booster.num_trees(),
        params=model,
    )
    fitted.calibration_report_ = calibration_report(raw, labels, calibrator)
    fitted.scale_pos_weight_ = settings.get("scale_pos_weight")
    return fitted


def early_stopping_iteration(history: Sequence[float], rounds: int) -> int:
    """Return the tree count early stopping keeps, replayed on a recorded metric (higher wins).

    Stops at the first round ``rounds`` rounds after the best so far, like LightGBM's
    callback; 0 when nothing was recorded (keep every tree).
    """
    best, best_round = -np.inf, 0
    for number, value in enumerate(history, start=1):
        if value > best:
            best, best_round = value, number
        elif number - best_round >= rounds:
            break
    return best_round


def _dask_part(cohorts: DistributedCohorts, name: str, columns: Sequence[str], client):
    """Return a part's model columns and labels as Dask collections (without empty partitions)."""
    import dask.dataframe as dd

    frames = cohorts.part(name, client)
    sizes = client.gather([client.submit(len, f) for f in frames])
    frames = [f for f, size in zip(frames, sizes, strict=True) if size]
    X_parts = [client.submit(feature_frame, f, list(columns)) for f in frames]
    y_parts = [client.submit(_labels_of, f) for f in frames]
    X_meta = client.submit(_empty, X_parts[0]).result()
    y_meta = pd.Series(dtype="int64", name="label")
    return dd.from_delayed(X_parts, meta=X_meta), dd.from_delayed(y_parts, meta=y_meta)


def _raw_validation_scores(cohorts, booster, columns, best, client):
    model = broadcast(client, booster)
    scored = [
        client.submit(_raw_scores, f, model, list(columns), best)
        for f in cohorts.part("validation", client)
    ]
    pairs = client.gather(scored)
    return np.concatenate([r for r, _ in pairs]), np.concatenate([y for _, y in pairs])


def _raw_scores(frame: pd.DataFrame, booster, columns: list[str], best: int | None):
    raw = booster.predict(feature_frame(frame, columns), num_iteration=best)
    return raw, frame["label"].to_numpy(np.int64)


def _labels_of(frame: pd.DataFrame) -> pd.Series:
    return frame["label"].astype("int64")


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]
