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

from pipeline.core.errors import ChurnError
from pipeline.core.params import TrackingParams
from pipeline.data.reader import is_url

_QUIET_LOGGERS = (
    "mlflow.models.model",
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


@contextmanager
def mlflow_run(tracking: TrackingParams, run_name: str, tags: dict[str, str]) -> Iterator:
    """Open an MLflow run in the configured experiment and yield it."""
    quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri(tracking))
    mlflow.set_experiment(tracking.experiment)
    with mlflow.start_run(run_name=run_name, tags=tags) as run:
        yield run


def quiet_mlflow() -> None:
    """Silence MLflow's progress bars and chatty loggers in batch output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


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


def mlflow_ui_hint(tracking: TrackingParams) -> str:
    """Return the command that opens the MLflow UI on this tracking store."""
    uri = tracking_uri(tracking)
    if uri.startswith(("http://", "https://")):
        return f"open {uri} in a browser"
    return f"mlflow ui --backend-store-uri {uri}"
