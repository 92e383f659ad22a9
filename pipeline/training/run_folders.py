"""One folder per training run under ``runs/``, and the pointer to the newest.

``churn run`` and ``churn train`` without ``--out`` write ``runs/<UTC time>/``, so
a rerun never overwrites an earlier run. The newest is named by the pointer file
``runs/LATEST`` (one line: the folder's name), which works on every OS and is
what ``churn evaluate`` and friends read; where the OS allows symbolic links,
``runs/latest`` also links to that folder for people browsing by hand. Both are
replaced atomically.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.atomic import atomic_write_text
from pipeline.core.errors import ChurnError

RUNS_ROOT = Path("runs")
POINTER_FILE = "LATEST"
LATEST_LINK = "latest"


def run_folder_name(now: datetime) -> str:
    """Return a run folder's name: its UTC start time, sortable (``20240131-235959``)."""
    return now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def new_run_folder(root: Path = RUNS_ROOT, now: datetime | None = None) -> Path:
    """Return a run folder path under ``root`` that no earlier run has used (not created)."""
    name = run_folder_name(now or datetime.now(UTC))
    folder, number = Path(root) / name, 1
    while folder.exists():
        number += 1
        folder = Path(root) / f"{name}-{number}"
    return folder


def point_latest_at(folder: Path) -> Path:
    """Make ``<root>/LATEST`` (and, where possible, the ``latest`` link) name ``folder``.

    A ``latest`` that is a real folder (written by an older version) is left alone.
    Returns the pointer file.
    """
    root = Path(folder).parent
    pointer = atomic_write_text(Path(folder).name + "\n", root / POINTER_FILE)
    link = root / LATEST_LINK
    if link.exists() and not link.is_symlink():
        return pointer
    temp = root / f".{LATEST_LINK}.{os.getpid()}"
    try:
        temp.unlink(missing_ok=True)
        temp.symlink_to(Path(folder).name, target_is_directory=True)
        os.replace(temp, link)
    except OSError:  # no symlinks here (Windows without the privilege): the pointer serves
        temp.unlink(missing_ok=True)
    return pointer


def latest_run_folder(root: Path = RUNS_ROOT) -> Path:
    """Return the newest run folder named by ``<root>/LATEST``.

    Raises:
        ChurnError: no run has been recorded under ``root``, or its folder is gone.
    """
    pointer = Path(root) / POINTER_FILE
    if not pointer.exists():
        raise ChurnError(
            f"no training run recorded under {root}/ (no {pointer}): run `churn run` or "
            "`churn train --data DIR` first, or name a run folder with --run"
        )
    folder = Path(root) / pointer.read_text().strip()
    if not folder.is_dir():
        raise ChurnError(f"{pointer} names {folder}, which does not exist any more")
    return folder
