"""`churn features`: build the feature matrix at chosen as-of month ends, write it to Parquet."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd
import typer

from pipeline.core.atomic import atomic_write_parquet
from pipeline.core.calendar import to_month_end
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables


def features_stage(data: Path, as_of: list[str], out: Path, params: Params) -> pd.DataFrame:
    """Load ``data``, build every feature at each as-of month end, write ``out`` atomically.

    Args:
        data: folder holding the input tables.
        as_of: month ends as text, e.g. ``2023-06-30`` or ``2023-06``.
        out: the Parquet file to write (a temporary sibling is renamed over it at the end).
        params: the run's params (``features``, ``rules``, ``validation``).

    Returns:
        The feature matrix (features.builder.build.build_feature_matrix).

    Raises:
        ChurnError: no as-of date, or one that is not a month end.
        DataContractError: the input tables break the data contract.
    """
    months = _as_of_months(as_of)
    rejected = Path(out).parent / "rejected"
    local = params.engine.kind == "local"
    tables = load_tables(data, params, rejected_dir=rejected).tables if local else None
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        matrix = _build(tables, data, months, rejected, params)
    for warning in caught:
        typer.secho(f"warning: {warning.message}", fg=typer.colors.YELLOW, err=True)
    seconds = time.perf_counter() - started
    atomic_write_parquet(matrix, out)
    typer.echo(
        f"features: {len(matrix):,} rows x {matrix.shape[1]} columns for "
        f"{len(months)} as-of month(s) in {seconds:.1f} s -> {out}"
    )
    return matrix


def _build(tables, data, months, rejected: Path, params: Params) -> pd.DataFrame:
    """The local builder on loaded tables, or the Dask engine reading ``data`` on its workers."""
    if tables is not None:
        from features.builder.build import build_feature_matrix

        return build_feature_matrix(tables, months, params)
    from pipeline.engine import build_feature_matrix_dask, dask_client

    with dask_client(params.engine) as client:
        return build_feature_matrix_dask(str(data), months, params, client, rejected_dir=rejected)


def _as_of_months(as_of: list[str]) -> list[pd.Timestamp]:
    if not as_of:
        raise ChurnError("give at least one --as-of month end, e.g. --as-of 2023-06-30")
    try:
        return [to_month_end(value) for value in as_of]
    except ValueError as exc:
        raise ChurnError(f"--as-of: {exc}") from None
