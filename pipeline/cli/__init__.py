"""The `churn` command line: parse arguments, read params once, call one stage.

Every command takes ``--params PATH`` and repeatable ``--set dotted.key=value``.
Stages are imported lazily so ``churn --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.guard import guard, read_params
from pipeline.cli.options import AS_OF_HELP, DataOpt, ParamsOpt, RunFolderOpt, SetOpt

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
        demo = read_params(params, set_).data.demo
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

    guard(action)


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

    guard(lambda: validate_stage(data, out, read_params(params, set_)))


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

    guard(lambda: labels_stage(data, out, read_params(params, set_)))


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

    guard(lambda: features_stage(data, as_of, out, read_params(params, set_)))


@app.command()
def train(
    data: DataOpt,
    out: RunFolderOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Train LightGBM, logistic and the rule baseline out of time; track in MLflow."""
    from pipeline.stages.train import train_stage

    guard(lambda: train_stage(data, out, read_params(params, set_)))


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

    guard(lambda: evaluate_stage(run, read_params(params, set_)))


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

    guard(lambda: score_stage(data, as_of, out, model, csv, read_params(params, set_)))


@app.command()
def monitor(
    data: DataOpt,
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Realised performance of past scoring runs whose label windows have completed."""
    from pipeline.stages.monitor import monitor_stage

    guard(lambda: monitor_stage(data, read_params(params, set_)))


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

    guard(lambda: run_stage(data, out, read_params(params, set_)))


@app.command("params")
def show_params(
    params: ParamsOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the resolved params (file, packaged defaults and --set overrides) as YAML."""
    from pipeline.core.params import params_yaml

    guard(lambda: typer.echo(params_yaml(read_params(params, set_)), nl=False))


def main() -> None:  # pragma: no cover - console entry (also `python -m pipeline.cli`)
    """Entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
