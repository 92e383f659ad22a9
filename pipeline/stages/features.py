"""`churn features`: build the feature matrix at chosen as-of month ends, write it to Parquet."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import typer

from pipeline.cohorts.cohorts import data_span_of
from pipeline.cohorts.matrix import feature_matrix, write_feature_dataset
from pipeline.cohorts.snapshots import check_as_of_within, parse_as_of, resolve_as_of
from pipeline.cohorts.streamed import write_feature_file
from pipeline.core.atomic import atomic_write_parquet
from pipeline.core.errors import ChurnError
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.publish import is_dataset_path
from pipeline.engine import LocalEngine, open_engine
from pipeline.stages.progress import StepLog, stage_console

console = stage_console(soft_wrap=True)


def features_stage(data: Path, as_of: list[str], out: Path, params: Params) -> int:
    """Load ``data``, build every feature at each as-of month end, write ``out`` atomically.

    Args:
        data: folder holding the input tables.
        as_of: month ends as text, e.g. ``2023-06-30`` or ``2023-06``.
        out: the Parquet file to write (a temporary sibling is renamed over it at the end),
            or a dataset folder when the path does not end in ``.parquet`` (one part per
            partition, published with ``_SUCCESS`` last).
        params: the run's params (``features``, ``rules``, ``validation``, ``engine``).

    Returns:
        The number of rows written (the rows ``features.builder.build.build_feature_matrix``
        gives).

    Raises:
        ChurnError: no as-of date, or one that is not a month end.
        DataContractError: the input tables break the data contract.
    """
    if not as_of:
        raise ChurnError("give at least one --as-of month end, e.g. --as-of 2023-06-30")
    for text in as_of:
        parse_as_of(text)  # a malformed date is refused before any data are read
    rejected = Path(out).parent / "rejected"
    file_output = [] if is_dataset_path(out) else ["--out"]
    check_outputs(data, {"--out": out, "quarantine folder": rejected}, files=file_output)
    steps = StepLog(console)
    with open_engine(params.engine) as engine:
        with steps.step("load and validate"):
            partitioned = engine.load(data, params, rejected)
        span = data_span_of(engine.executor, partitioned)
        months = resolve_as_of(as_of, span)
        check_as_of_within(months, span)
        started = time.perf_counter()
        with steps.step("features"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shape = ""
            if is_dataset_path(out):
                rows = engine.run(
                    lambda parts: write_feature_dataset(
                        engine.executor, parts, months, params, out
                    ),
                    partitioned,
                )
            elif isinstance(engine, LocalEngine):
                # On this machine: streamed chunk by chunk (partition by partition when they
                # wait on disk), the matrix is never held whole.
                parts = partitioned.local
                if parts is None:
                    parts = engine.executor.results(partitioned.parts)
                rows = write_feature_file(parts, months, params, out)
                shape = f" x {len(pq.read_schema(out).names)} columns"
            else:
                matrix = engine.run(
                    lambda parts: feature_matrix(engine.executor, parts, months, params),
                    partitioned,
                )
                atomic_write_parquet(matrix, out)
                rows = len(matrix)
                shape = f" x {matrix.shape[1]} columns"
    for warning in caught:
        typer.secho(f"warning: {warning.message}", fg=typer.colors.YELLOW, err=True)
    seconds = time.perf_counter() - started
    console.print(
        f"features: {rows:,} rows{shape} for {len(months)} as-of month(s) in {seconds:.1f} s "
        f"-> {out}",
        markup=False,
    )
    console.print(steps.summary())
    return rows
