"""Where a command may write: never over an input, never two outputs on one path.

Checked before any work, so a mistyped ``--out`` costs nothing and loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pipeline.core.errors import ChurnError


def check_outputs(
    data: Path | str | None,
    outputs: Mapping[str, Path | str | None],
    files: Iterable[str] = (),
) -> None:
    """Refuse outputs inside the data folder, equal to each other, or unable to be files.

    Args:
        data: the input data folder (a URL is not a local folder and is not compared).
        outputs: each output's option name (``--out``) and path; None when not asked for.
        files: the option names whose path must be a file, not a folder.

    Raises:
        ChurnError: naming the option, its path and the rule.
    """
    named = {label: Path(path) for label, path in outputs.items() if path is not None}
    if data is not None and "://" not in str(data):
        root = Path(data).resolve()
        for label, path in named.items():
            resolved = path.resolve()
            if resolved == root or root in resolved.parents:
                raise ChurnError(
                    f"{label} {path} is inside the data folder {data}: outputs never go "
                    "where the inputs live; write them elsewhere"
                )
    seen: dict[Path, str] = {}
    for label, path in named.items():
        key = path.resolve()
        if key in seen:
            raise ChurnError(f"{label} and {seen[key]} are the same path {path}: give each its own")
        seen[key] = label
    for label in files:
        path = named.get(label)
        if path is None:
            continue
        if path.is_dir():
            raise ChurnError(f"{label} {path} is a folder; give a file path")
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise ChurnError(f"{label} {path}: {parent} is a file, not a folder")
