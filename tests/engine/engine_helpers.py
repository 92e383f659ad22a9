"""The Dask engine's flows on a test's own client: tables or files in, the stage's result out."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from pipeline.cohorts.matrix import feature_matrix, write_feature_dataset
from pipeline.core.contract import Tables
from pipeline.core.params import Params
from pipeline.engine.dask_engine import DaskEngine
from pipeline.scoring.job import score_partitions
from pipeline.scoring.output import scores_schema, scores_writer
from pipeline.training.fit import train_models


def partitioned(engine: DaskEngine, source: Tables | str | Path, params: Params):
    """Partition tables held here, or have the workers read a data location."""
    if isinstance(source, Tables):
        return engine.partition(source)
    return engine.load(str(source), params, None)


def dask_features(source, as_of, params: Params, client):
    engine = DaskEngine(client, params.engine)
    return engine.run(
        lambda parts: feature_matrix(engine.executor, parts, as_of, params),
        partitioned(engine, source, params),
    )


def dask_feature_dataset(source, as_of, params: Params, client, out) -> int:
    engine = DaskEngine(client, params.engine)
    return engine.run(
        lambda parts: write_feature_dataset(engine.executor, parts, as_of, params, out),
        partitioned(engine, source, params),
    )


def dask_train(source, columns, params: Params, client, console: Console):
    engine = DaskEngine(client, params.engine)
    return engine.run(
        lambda parts: train_models(engine.executor, parts, columns, params, console),
        partitioned(engine, source, params),
    )


def dask_score(source, as_of, model, causes, params: Params, client, out, compact=None):
    """Score on the cluster into ``out`` (a file, or a dataset folder); return the result."""
    engine = DaskEngine(client, params.engine)
    schema = scores_schema(params.scoring.reasons_per_account)

    def step(parts):
        with scores_writer(Path(out), None, compact, schema) as writer:
            return score_partitions(engine.executor, parts, as_of, model, causes, params, writer)

    return engine.run(step, partitioned(engine, source, params))
