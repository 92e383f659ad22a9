"""`churn score`: score every open account at a month end; write, summarise, track.

Wiring only: the job lives in pipeline/scoring/. Outputs beside ``out`` (all
written atomically): the scores Parquet, the optional CSV export, the drift
table ``<out stem>_drift.csv`` and plot ``<out stem>_drift.png``; quarantined
input rows go to ``<out stem>_rejected/``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.core.atomic import atomic_path, atomic_write_text
from pipeline.core.calendar import to_month_end
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.scoring.job import ScoringResult
from pipeline.scoring.summary import render_summary
from pipeline.tracking.scoring_run import SCORES_FILE, ScoringFiles, log_scoring_run

console = Console(highlight=False)


def score_stage(
    data: Path, as_of: str, out: Path, model: str | None, csv: Path | None, params: Params
) -> ScoringResult:
    """Validate the inputs, score every account open at ``as_of``, write and track the run.

    Args:
        data: the input data folder.
        as_of: the month end to score (``2024-06-30`` or ``2024-06``).
        out: the scores Parquet file (replaced atomically).
        model: a ``models:/`` URI, ``runs:/<id>/model`` or a local model folder; None uses
            ``models:/<tracking.model_name>@champion``.
        csv: an optional CSV export for the CRM.
        params: the run's params.

    Raises:
        ChurnError: bad inputs, an as-of outside the data, or a model that does not match.
    """
    from pipeline.data.loader import load_tables

    started = time.perf_counter()
    month = _as_of(as_of)
    out = Path(out)
    uri = model or f"models:/{params.tracking.model_name}@champion"
    scoring_model, causes = _model_and_playbook(uri, params)
    loaded = load_tables(data, params, rejected_dir=out.with_name(f"{out.stem}_rejected"))
    console.print(loaded.report.render())
    _check_as_of(loaded.tables, month)
    if params.engine.kind == "dask":
        return _score_on_dask(loaded.tables, month, scoring_model, causes, out, data, uri, params)
    with tempfile.TemporaryDirectory(prefix="churn-score-log-") as scratch:
        files = _files(out, csv, Path(scratch))
        result = _score_and_write(loaded.tables, month, scoring_model, causes, files, params)
        summary = render_summary(result, f"model {uri}", params.scoring.psi_threshold)
        run_id = log_scoring_run(result, scoring_model, uri, data, files, summary, params)
    console.print(summary)
    console.print(f"scores: {files.scores}" + (f" and {files.csv}" if files.csv else ""))
    console.print(f"drift:  {files.drift_table} and {files.drift_plot}")
    console.print(f"MLflow scoring run {run_id}; done in {time.perf_counter() - started:.1f} s")
    return result


def _score_on_dask(tables, month, scoring_model, causes, out: Path, data, uri, params: Params):
    """Score partitions on the cluster into a dataset folder published with ``_SUCCESS``.

    The drift table and plot are written beside it and the run is logged to MLflow
    (tag ``churn.kind=scoring-dask``: its rows stay in the dataset, so `churn
    monitor`, which reads the compact scores of local runs, does not pick it up).
    """
    from pipeline.engine import dask_client, score_dask
    from pipeline.engine.dask_scoring import ExplainedRows

    rows = ExplainedRows(scoring_model, causes.playbook, params.scoring.reasons_per_account)
    reference = scoring_model.meta.get("reference") or None
    with dask_client(params.engine) as client:
        dataset = score_dask(
            tables,
            month,
            scoring_model.churn,
            params,
            client,
            out.with_suffix(""),
            partition_rows=rows,
            reference=reference,
        )
    files = _files(out, None, out.parent)
    drift = _write_dask_drift(dataset, scoring_model, files, params)
    run_id = _log_dask_run(dataset, drift, scoring_model, uri, data, files, params)
    bands = ", ".join(f"{name} {n:,}" for name, n in dataset.band_counts.items())
    console.print(f"scored {dataset.accounts:,} accounts on Dask; risk bands: {bands}")
    console.print(f"scores: {dataset.path}/ ({dataset.parts} parts, _SUCCESS written last)")
    console.print(f"MLflow scoring run {run_id}")
    return dataset


def _write_dask_drift(dataset, scoring_model, files: ScoringFiles, params: Params):
    from models.drift import SCORE
    from pipeline.scoring.stability import drift_figure

    if dataset.stability is None:
        return None
    drift = dataset.stability.table(
        params.scoring.psi_threshold, {*scoring_model.feature_columns, SCORE}
    )
    atomic_write_text(drift.to_csv(index=False), files.drift_table)
    figure = drift_figure(drift, params.scoring.psi_threshold, f"Drift at {dataset.as_of.date()}")
    with atomic_path(files.drift_plot) as temp:
        figure.savefig(temp, dpi=100)
    drifted = drift[drift["drifted"]]
    if len(drifted):
        console.print(f"DRIFT: {len(drifted)} columns above PSI {params.scoring.psi_threshold}")
    return drift


def _log_dask_run(dataset, drift, scoring_model, uri, data, files: ScoringFiles, params) -> str:
    import mlflow

    from pipeline.tracking.mlflow_store import mlflow_run
    from pipeline.tracking.scoring_run import KIND_TAG, scoring_tags

    tags = scoring_tags(scoring_model, uri, data, dataset.as_of)
    tags |= {KIND_TAG: "scoring-dask", "churn.output": str(dataset.path)}
    with mlflow_run(params.tracking, f"score {dataset.as_of:%Y-%m} (dask)", tags) as run:
        metrics = {"accounts_scored": float(dataset.accounts), "parts": float(dataset.parts)}
        metrics |= {f"band.{name}": float(n) for name, n in dataset.band_counts.items()}
        metrics |= {f"seconds.{k}": v for k, v in dataset.seconds.items()}
        if drift is not None:
            metrics["drift.columns_drifted"] = float(drift["drifted"].sum())
            metrics["drift.max_psi"] = float(drift["psi"].max()) if len(drift) else 0.0
            mlflow.log_artifact(str(files.drift_table), artifact_path="drift")
            mlflow.log_artifact(str(files.drift_plot), artifact_path="drift")
        mlflow.log_metrics(metrics)
    return run.info.run_id


def _as_of(text: str) -> pd.Timestamp:
    try:
        return to_month_end(text)
    except ValueError as exc:
        raise ChurnError(f"--as-of must be a month end: {exc}") from None


def _check_as_of(tables: Tables, as_of: pd.Timestamp) -> None:
    if as_of > tables.observation_end:
        raise ChurnError(
            f"--as-of {as_of.date()} is after the data's observation_end "
            f"{tables.observation_end.date()}: the data cannot describe that month"
        )


def _model_and_playbook(uri: str, params: Params):
    """Load the model (refusing a mismatch) and the playbook before reading any data."""
    import mlflow

    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from pipeline.scoring.causes import CauseFinder
    from pipeline.scoring.model import scoring_model
    from pipeline.scoring.playbook import load_playbook
    from pipeline.tracking.mlflow_store import tracking_uri
    from pipeline.tracking.registry import load_packaged_model

    mlflow.set_tracking_uri(tracking_uri(params.tracking))
    columns = model_feature_columns()
    playbook = load_playbook(params.scoring.playbook, columns)
    packaged = load_packaged_model(uri)
    return scoring_model(packaged, params, columns, builder_version()), CauseFinder(playbook)


def _files(out: Path, csv: Path | None, scratch: Path) -> ScoringFiles:
    return ScoringFiles(
        scores=out,
        compact=scratch / SCORES_FILE,
        drift_table=out.with_name(f"{out.stem}_drift.csv"),
        drift_plot=out.with_name(f"{out.stem}_drift.png"),
        csv=Path(csv) if csv is not None else None,
    )


def _score_and_write(tables, as_of, scoring_model, causes, files: ScoringFiles, params: Params):
    """Run the job into the output files; write the drift table and plot beside them."""
    from pipeline.scoring.job import score_cohort
    from pipeline.scoring.output import scores_schema, scores_writer
    from pipeline.scoring.stability import drift_figure

    schema = scores_schema(params.scoring.reasons_per_account)
    writer = scores_writer(files.scores, files.csv, files.compact, schema)
    with ChunkProgressBar() as progress, writer as scores:
        result = score_cohort(tables, as_of, scoring_model, causes, params, scores, progress)
    atomic_write_text(result.drift.to_csv(index=False), files.drift_table)
    figure = drift_figure(result.drift, params.scoring.psi_threshold, f"Drift at {as_of.date()}")
    with atomic_path(files.drift_plot) as temp:
        figure.savefig(temp, dpi=100)
    return result


class ChunkProgressBar:
    """A rich progress bar with one line per pass, called as ``progress(phase, done, total)``."""

    def __enter__(self):
        self.bar = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, int] = {}
        self.bar.__enter__()
        return self

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` chunks for a pass."""
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=done)

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)
