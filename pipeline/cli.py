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

EXAMPLES = """Examples (each runs on the demo data; `churn run` writes it to data/demo):

\b
  churn run
  churn evaluate
  churn score --data data/demo --as-of latest --out scores/latest.parquet --csv scores/latest.csv
  churn monitor --data data/demo
  churn params --set label.horizon_months=6
"""

app = typer.Typer(
    help="Churn prediction for securities brokerages: warning rules beside a LightGBM model.",
    epilog=EXAMPLES,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help: rich markup would eat the [data.demo.*] hints and the
    # examples' line breaks, and would label options with Python types.
    rich_markup_mode=None,
)

ParamsOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        metavar="PATH",
        help="params.yaml (default ./params.yaml, else packaged defaults).",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a setting: dotted.key=value (repeatable)."
    ),
]
DataOpt = Annotated[
    str,
    typer.Option("--data", metavar="DIR", help="Folder (or fsspec URL) holding the input tables."),
]
RunFolderOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="DIR",
        help="Run folder (default: a new runs/<time>/, then runs/LATEST names it).",
    ),
]
AS_OF_HELP = "Month end, e.g. 2023-12-31 or 2023-12, or `latest` (the data's last month end)."


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"churn {version('brokerage-churn')}")
        except PackageNotFoundError:  # running from a source tree that is not installed
            typer.echo("churn (not installed)")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print MLflow's and the libraries' logs.")
    ] = False,
) -> None:
    """Churn prediction for securities brokerages: warning rules beside a LightGBM model."""
    if quiet and verbose:
        raise typer.BadParameter("give --quiet or --verbose, not both")
    from pipeline.stages.progress import set_quiet

    set_quiet(quiet)
    if verbose:
        import logging

        from pipeline.tracking.mlflow_store import show_mlflow_logs

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        show_mlflow_logs()


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
    out: Annotated[Path, typer.Option(metavar="DIR", help="Folder to write the five tables into.")],
    customers: Annotated[
        int | None, typer.Option(metavar="N", help="Accounts [default: data.demo.customers].")
    ] = None,
    months: Annotated[
        int | None,
        typer.Option(metavar="N", help="Months of history [default: data.demo.months]."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Random seed [default: data.demo.seed].")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", help="First month [default: data.demo.start]."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="parquet|csv", help="parquet or csv.")
    ] = "parquet",
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
    out: Annotated[
        Path, typer.Option(metavar="DIR", help="Run folder; quarantine goes to OUT/rejected/.")
    ] = Path("runs/validate"),
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Check the input tables against the data contract; quarantine bad rows."""
    from pipeline.stages.validate import validate_stage

    _guard(lambda: validate_stage(data, out, _params(params, set_)))


@app.command()
def labels(
    data: DataOpt,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Optional CSV of the base-rate report.")
    ] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the churn base rate per as-of month under every label definition."""
    from pipeline.stages.labels import labels_stage

    _guard(lambda: labels_stage(data, out, _params(params, set_)))


@app.command()
def features(
    data: DataOpt,
    as_of: Annotated[
        list[str], typer.Option("--as-of", metavar="DATE", help=AS_OF_HELP + " Repeatable.")
    ],
    out: Annotated[Path, typer.Option(metavar="FILE", help="Parquet file for the feature matrix.")],
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Build the feature matrix (one row per open account and as-of month end)."""
    from pipeline.stages.features import features_stage

    _guard(lambda: features_stage(data, as_of, out, _params(params, set_)))


@app.command()
def train(
    data: DataOpt,
    out: RunFolderOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Train LightGBM, logistic and the rule baseline out of time; track in MLflow."""
    from pipeline.stages.train import train_stage

    _guard(lambda: train_stage(data, out, _params(params, set_)))


@app.command()
def evaluate(
    run: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="A run folder of `churn train` or `churn run` (default: the latest).",
        ),
    ] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Recompute the side-by-side evaluation and report from a training run's folder."""
    from pipeline.stages.evaluate import evaluate_stage

    _guard(lambda: evaluate_stage(run, _params(params, set_)))


@app.command()
def score(
    data: DataOpt,
    as_of: Annotated[str, typer.Option("--as-of", metavar="DATE", help=AS_OF_HELP)],
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="Output Parquet file (written atomically).")
    ],
    model: Annotated[
        str | None,
        typer.Option(
            metavar="URI", help="models:/<name>@champion (default), runs:/<id>/model or a folder."
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also export a CSV for the CRM.")
    ] = None,
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
    out: RunFolderOpt = None,
    data: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Input folder (default data.dir).")
    ] = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """The main job: generate demo data if absent, validate, label, train, evaluate."""
    from pipeline.stages.run import run_stage

    _guard(lambda: run_stage(data, out, _params(params, set_)))


@app.command("params")
def show_params(
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the resolved params (file, packaged defaults and --set overrides) as YAML."""
    from pipeline.core.params import params_yaml

    _guard(lambda: typer.echo(params_yaml(_params(params, set_)), nl=False))


def main() -> None:  # pragma: no cover - console entry for `python -m pipeline.cli`
    """Entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
