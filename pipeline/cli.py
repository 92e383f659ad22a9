"""The `churn` command line: parse arguments, read params once, call one stage.

Every command takes ``--params PATH`` and repeatable ``--set dotted.key=value``.
Stages are imported lazily so ``churn --help`` stays fast.
"""

from __future__ import annotations

import errno
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from pipeline.core.errors import ChurnError
from pipeline.core.params import Params, load_params

app = typer.Typer(
    help="Churn prediction for securities brokerages: warning rules beside a LightGBM model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", help="params.yaml (default ./params.yaml, else packaged defaults)."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting: dotted.key=value (repeatable)."),
]
DataOpt = Annotated[
    str, typer.Option("--data", help="Folder (or fsspec URL) holding the input tables.")
]


def _params(path: Path | None, sets: list[str] | None) -> Params:
    from pipeline.tracking.mlflow_store import quiet_mlflow

    quiet_mlflow()
    return load_params(path, sets or [])


USER_FIXABLE = {
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
}
"""File-system errors a user fixes (a path, a permission, a full disk): exit 2, not a traceback."""


def _terminated(signum, frame) -> None:
    # SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C: open MLflow runs end
    # FAILED, temporary files are removed, nothing half-written is published.
    raise SystemExit(128 + signum)


def _guard(action):
    """Run a stage; turn a user-fixable ChurnError or file error into a message and exit 2."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return action()
    except ChurnError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        if exc.errno not in USER_FIXABLE:
            raise
        where = exc.filename or "a file"
        typer.secho(
            f"error: cannot write or read {where}: {USER_FIXABLE[exc.errno]}",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=2) from None


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the five tables into.")],
    customers: Annotated[int | None, typer.Option(help="Accounts [data.demo.customers].")] = None,
    months: Annotated[
        int | None, typer.Option(help="Months of history [data.demo.months].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed [data.demo.seed].")] = None,
    start: Annotated[
        str | None, typer.Option(help="First month YYYY-MM [data.demo.start].")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Write demo brokerage data (all five tables) from the built-in simulator."""
    from pipeline.stages.generate import generate_stage

    def action():
        demo = _params(params, set_).data.demo
        generate_stage(
            out,
            customers=customers or demo.customers,
            months=months or demo.months,
            seed=demo.seed if seed is None else seed,
            start=start or demo.start,
            fmt=fmt,
            bear_spell_months=demo.bear_spell_months,
            silent_leaver_share=demo.silent_leaver_share,
        )

    _guard(action)


@app.command()
def validate(
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="Run folder; quarantine goes to OUT/rejected/.")] = Path(
        "runs/validate"
    ),
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Check the input tables against the data contract; quarantine bad rows."""
    from pipeline.stages.validate import validate_stage

    _guard(lambda: validate_stage(data, out, _params(params, set_)))


@app.command()
def labels(
    data: DataOpt,
    out: Annotated[Path | None, typer.Option(help="Optional CSV of the base-rate report.")] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the churn base rate per as-of month under every label definition."""
    from pipeline.stages.labels import labels_stage

    _guard(lambda: labels_stage(data, out, _params(params, set_)))


@app.command()
def features(
    data: DataOpt,
    as_of: Annotated[list[str], typer.Option("--as-of", help="Month end (repeatable).")],
    out: Annotated[Path, typer.Option(help="Parquet file for the feature matrix.")],
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Build the feature matrix (one row per open account and as-of month end)."""
    from pipeline.stages.features import features_stage

    _guard(lambda: features_stage(data, as_of, out, _params(params, set_)))


@app.command()
def train(
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="Run folder for report, metrics and plots.")] = Path(
        "runs/train"
    ),
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Train LightGBM, logistic and the rule baseline out of time; track in MLflow."""
    from pipeline.stages.train import train_stage

    _guard(lambda: train_stage(data, out, _params(params, set_)))


@app.command()
def evaluate(
    run: Annotated[Path, typer.Option(help="A run folder written by `churn train`.")] = Path(
        "runs/train"
    ),
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Recompute the side-by-side evaluation and report from a training run's folder."""
    from pipeline.stages.evaluate import evaluate_stage

    _guard(lambda: evaluate_stage(run, _params(params, set_)))


@app.command()
def score(
    data: DataOpt,
    as_of: Annotated[str, typer.Option("--as-of", help="Month end to score, e.g. 2024-06-30.")],
    out: Annotated[Path, typer.Option(help="Output Parquet file (written atomically).")],
    model: Annotated[
        str | None,
        typer.Option(help="models:/<name>@champion (default), runs:/<id>/model or a folder."),
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Also export a CSV for the CRM.")] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Score every open account: probability, band, reasons, likely cause and play."""
    from pipeline.stages.score import score_stage

    _guard(lambda: score_stage(data, as_of, out, model, csv, _params(params, set_)))


@app.command()
def monitor(
    data: DataOpt,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Realised performance of past scoring runs whose label windows have completed."""
    from pipeline.stages.monitor import monitor_stage

    _guard(lambda: monitor_stage(data, _params(params, set_)))


@app.command()
def run(
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/latest"),
    data: Annotated[Path | None, typer.Option(help="Input folder (default data.dir).")] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """The main job: generate demo data if absent, validate, label, train, evaluate."""
    from pipeline.stages.run import run_stage

    _guard(lambda: run_stage(data, out, _params(params, set_)))


def main() -> None:  # pragma: no cover - console entry for `python -m pipeline.cli`
    """Entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
