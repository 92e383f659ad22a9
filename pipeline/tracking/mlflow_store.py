"""MLflow at the edge: where runs go, what identifies the data and the code.

Only stages call this module; features and models never log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec
import mlflow
from mlflow.exceptions import MlflowException
from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

from pipeline.core.errors import ChurnError
from pipeline.core.params import TrackingParams
from pipeline.data.reader import is_url

_QUIET_LOGGERS = (
    "mlflow.models.model",
    "mlflow.pyfunc",  # "Validating input example against model signature", at every save
    "mlflow.store.db.utils",
    "mlflow.tracking.fluent",
    "alembic",
)


def tracking_uri(tracking: TrackingParams) -> str:
    """Return where runs are tracked: params, else MLFLOW_TRACKING_URI, else ./mlflow.db."""
    if tracking.uri:
        return tracking.uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


HTTP_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "request_timeout_seconds",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "request_retries",
}


def check_tracking_store(tracking: TrackingParams) -> str:
    """Make sure the tracking store answers before any expensive work; return its URI.

    For an HTTP server, MLflow's own request timeout and retries are set from
    ``tracking.request_timeout_seconds`` and ``tracking.request_retries`` (unless the
    ``MLFLOW_HTTP_REQUEST_*`` environment variables are set), and one cheap request
    is made.

    Raises:
        ChurnError: the store does not answer, naming its URI.
    """
    uri = tracking_uri(tracking)
    if uri.startswith(("http://", "https://")):
        for variable, key in HTTP_SETTINGS.items():
            os.environ.setdefault(variable, str(getattr(tracking, key)))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    quiet_mlflow()
    try:
        mlflow.MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    except Exception as exc:  # MLflow and requests raise many types for "no answer"
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChurnError(
            f"the MLflow tracking store at {uri} does not answer ({first_line[:300]}); "
            "start it, or point tracking.uri / MLFLOW_TRACKING_URI at one that runs"
        ) from None
    return uri


EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
"""The MLflow 3 UI opens an experiment with this kind in its model-training view
(runs, metrics, models), not the GenAI view (traces, an assistant)."""
_SILENCED = {"mlflow": True}


def artifact_location(uri: str) -> str | None:
    """Return where a new experiment keeps its artifacts: beside a SQLite store, else MLflow's.

    MLflow's own default for a SQLite store is ``./mlruns`` of whatever folder the
    process runs in; beside the database, the store and its artifacts stay together.
    """
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.parent / "mlruns").resolve().as_uri()


def use_experiment(tracking: TrackingParams) -> str:
    """Make the configured experiment the active one, creating it if needed; return its id.

    A new experiment is created with its artifacts beside a SQLite store and is
    tagged for the model-training view; an existing one gets that tag unless it
    already has a kind (a user's choice in the UI is kept).
    """
    uri = tracking_uri(tracking)
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(tracking.experiment)
    if experiment is None:
        try:
            experiment_id = client.create_experiment(
                tracking.experiment,
                artifact_location=artifact_location(uri),
                tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND},
            )
        except MlflowException:  # created meanwhile by a concurrent run
            experiment_id = client.get_experiment_by_name(tracking.experiment).experiment_id
    else:
        experiment_id = experiment.experiment_id
        if EXPERIMENT_KIND_TAG not in experiment.tags:
            client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


@contextmanager
def mlflow_run(tracking: TrackingParams, run_name: str, tags: dict[str, str]) -> Iterator:
    """Open an MLflow run in the configured experiment and yield it."""
    quiet_mlflow()
    use_experiment(tracking)
    with mlflow.start_run(run_name=run_name, tags=tags) as run:
        yield run


def quiet_mlflow() -> None:
    """Silence MLflow's progress bars and chatty loggers in batch output (not with --verbose)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if not _SILENCED["mlflow"]:
        return
    # "View run ... at: <url>" after every run, nested search trials included: the
    # training prints its run's address once itself (mlflow_ui_hint).
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def show_mlflow_logs() -> None:
    """Let MLflow's own log lines through (``churn --verbose``)."""
    _SILENCED["mlflow"] = False
    for name in (*_QUIET_LOGGERS, "mlflow"):
        logging.getLogger(name).setLevel(logging.INFO)


@contextmanager
def without_mlflow_event_lines() -> Iterator[None]:
    """Hold back MLflow's event lines ("Created version '2' of model ...") in a block.

    Used where the command prints the same fact itself; errors still raise, and
    ``churn --verbose`` lets the lines through.
    """
    stream = MLFLOW_LOGGING_STREAM
    enabled = stream.enabled
    stream.enabled = not _SILENCED["mlflow"] and enabled
    try:
        yield
    finally:
        stream.enabled = enabled


CODE_PACKAGES = ("pipeline", "features", "models")


def code_fingerprint() -> str:
    """Return a SHA-256 over the source of the code that runs (.py and .yaml of our packages).

    Unlike the git commit, it is defined outside a checkout and changes with
    uncommitted edits, so it tells whether two trainings ran the same code.
    """
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in {".py", ".yaml"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def data_location(data: Path | str) -> str:
    """Return the input location as recorded in runs: a URL, or an absolute folder."""
    return str(data) if is_url(data) else str(Path(data).resolve())


def data_fingerprint(data_dir: Path | str) -> str:
    """Return a SHA-256 over the names and bytes of the input tables in a folder.

    For a URL the bytes are not downloaded: names, sizes and modification stamps
    of the table files identify the data instead.
    """
    if is_url(data_dir):
        return _remote_fingerprint(str(data_dir))
    data_dir = Path(data_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(data_dir).rglob("*") if p.is_file()):
        if path.suffix not in {".parquet", ".csv"}:
            continue
        digest.update(str(path.relative_to(data_dir)).encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _remote_fingerprint(url: str) -> str:
    fs, root = fsspec.core.url_to_fs(url)
    digest = hashlib.sha256()
    for path, info in sorted(fs.find(root, detail=True).items()):
        if path.endswith((".parquet", ".csv")):
            stamp = info.get("mtime") or info.get("LastModified") or info.get("ETag") or ""
            digest.update(f"{path}|{info.get('size')}|{stamp}".encode())
    return digest.hexdigest()


def git_commit() -> str:
    """Return the commit of the code that runs (``unknown`` outside a git checkout)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def mlflow_ui_hint(tracking: TrackingParams, run=None) -> str:
    """Return the command that opens the MLflow UI on this tracking store (on a run, if given)."""
    uri = tracking_uri(tracking)
    if uri.startswith(("http://", "https://")):
        if run is not None:
            uri = f"{uri.rstrip('/')}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
        return f"open {uri} in a browser"
    return f"mlflow ui --backend-store-uri {uri}"
