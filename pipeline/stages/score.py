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

import mlflow
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from features.builder.registry import model_feature_columns
from features.builder.version import builder_version
from pipeline.cohorts.cohorts import data_span_of
from pipeline.cohorts.snapshots import check_as_of_within, parse_as_of, resolve_as_of
from pipeline.core.atomic import atomic_path, atomic_write_text
from pipeline.core.executor import Executor
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.data.publish import is_dataset_path
from pipeline.engine import open_engine
from pipeline.retention.lists import publish_call_lists
from pipeline.scoring.causes import CauseFinder
from pipeline.scoring.job import ScoringResult, score_partitions
from pipeline.scoring.model import ScoringModel, scoring_model
from pipeline.scoring.output import scores_schema, scores_writer
from pipeline.scoring.playbook import load_playbook
from pipeline.scoring.stability import drift_figure
from pipeline.scoring.summary import render_summary
from pipeline.stages.progress import stage_console
from pipeline.tracking.mlflow_store import check_tracking_store, tracking_uri
from pipeline.tracking.registry import load_packaged_model
from pipeline.tracking.scoring_run import SCORES_FILE, ScoringFiles, log_scoring_run

console = stage_console()


def score_stage(
    data: Path, as_of: str, out: Path, model: str | None, csv: Path | None, params: Params
) -> ScoringResult:
    """Validate the inputs, score every account open at ``as_of``, write and track the run.

    Args:
        data: the input data folder.
        as_of: the month end to score (``2024-06-30`` or ``2024-06``).
        out: the scores Parquet file (replaced atomically), or a dataset folder when the
            path does not end in ``.parquet`` (parts published with ``_SUCCESS`` last).
        model: a ``models:/`` URI, ``runs:/<id>/model`` or a local model folder; None uses
            ``models:/<tracking.model_name>@champion``.
        csv: an optional CSV export for the CRM.
        params: the run's params.

    Raises:
        ChurnError: bad inputs, an as-of outside the data, or a model that does not match.
    """
    started = time.perf_counter()
    parse_as_of(as_of)  # a malformed date is refused before any data are read
    out = Path(out)
    files = _files(out, csv, Path("scratch"))
    file_outputs = ["--csv"] + ([] if is_dataset_path(out) else ["--out"])
    check_outputs(
        data,
        {
            "--out": out,
            "--csv": csv,
            "drift table": files.drift_table,
            "drift plot": files.drift_plot,
            "quarantine folder": out.with_name(f"{out.stem}_rejected"),
            "call lists": files.call_lists,
        },
        files=file_outputs,
    )
    check_tracking_store(params.tracking)
    uri = model or f"models:/{params.tracking.model_name}@champion"
    scoring_model, causes = _model_and_playbook(uri, params)
    with open_engine(params.engine) as engine:
        partitioned = engine.load(data, params, out.with_name(f"{out.stem}_rejected"))
        console.print(partitioned.report.render())
        span = data_span_of(engine.executor, partitioned)
        [month] = resolve_as_of([as_of], span)
        check_as_of_within([month], span)
        console.print(f"scoring as of {month.date()}")
        with tempfile.TemporaryDirectory(prefix="churn-score-log-") as scratch:
            files = _files(out, csv, Path(scratch))
            result = engine.run(
                lambda parts: _score_and_write(
                    engine.executor, parts, month, scoring_model, causes, files, params
                ),
                partitioned,
            )
            calls = publish_call_lists(
                engine.executor, partitioned, files.scores, files.call_lists, month, params
            )
            summary = render_summary(result, f"model {uri}", params.scoring.psi_threshold)
            run_id = log_scoring_run(
                result, scoring_model, uri, data, files, calls, summary, params
            )
    console.print(summary)
    console.print(f"scores: {files.scores}" + (f" and {files.csv}" if files.csv else ""))
    console.print(f"drift:  {files.drift_table} and {files.drift_plot}")
    console.print(calls.describe())
    console.print(f"MLflow scoring run {run_id}; done in {time.perf_counter() - started:.1f} s")
    return result


def _model_and_playbook(uri: str, params: Params) -> tuple[ScoringModel, CauseFinder]:
    """Load the model (refusing a mismatch) and the playbook before reading any data."""
    mlflow.set_tracking_uri(tracking_uri(params.tracking))
    columns = model_feature_columns()
    playbook = load_playbook(params.scoring.playbook, columns, params.features.value_tier_names)
    packaged = load_packaged_model(uri)
    return scoring_model(packaged, params, columns, builder_version()), CauseFinder(playbook)


def _files(out: Path, csv: Path | None, scratch: Path) -> ScoringFiles:
    return ScoringFiles(
        scores=out,
        compact=scratch / SCORES_FILE,
        drift_table=out.with_name(f"{out.stem}_drift.csv"),
        drift_plot=out.with_name(f"{out.stem}_drift.png"),
        csv=Path(csv) if csv is not None else None,
        call_lists=out.with_name(f"{out.stem}_call_lists"),
    )


def _score_and_write(
    executor: Executor,
    partitioned: PartitionedTables,
    as_of: pd.Timestamp,
    model: ScoringModel,
    causes: CauseFinder,
    files: ScoringFiles,
    params: Params,
) -> ScoringResult:
    """Run the job into the output files; write the drift table and plot beside them."""
    schema = scores_schema(params.scoring.reasons_per_account)
    writer = scores_writer(files.scores, files.csv, files.compact, schema)
    with ChunkProgressBar() as progress, writer as scores:
        result = score_partitions(
            executor, partitioned, as_of, model, causes, params, scores, progress
        )
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
