"""How a `churn` command runs a stage: params read once, user-fixable errors as exit 2.

A ChurnError (bad input, a refused setting) or a file-system error a user fixes
(a path, a permission, a full disk) becomes one red line and exit code 2, never
a traceback; SIGTERM unwinds like Ctrl-C.
"""

from __future__ import annotations

import errno
import signal
import threading
from pathlib import Path

import typer

from pipeline.core.errors import ChurnError
from pipeline.core.params import Params, load_params


def read_params(path: Path | None, sets: list[str] | None) -> Params:
    """Return the params of ``--params`` and ``--set`` (MLflow's chatter silenced first)."""
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


def guard(action):
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
