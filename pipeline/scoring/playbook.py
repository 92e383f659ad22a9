"""The retention playbook: which drivers point to which cause, and the play for each cause.

The playbook is a YAML file business users edit (the packaged default is
``pipeline/scoring/retention_playbook.yaml``; params ``scoring.playbook`` points
to another). It is checked before scoring: every one of the guideline's eleven
causes must appear once with a play, and every driver must be a feature column
or a ``warn_*`` flag the feature code builds.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.errors import ChurnError

PACKAGED = "retention_playbook.yaml"
FALLBACK_CAUSE = "other"
_CAUSE_KEYS = ("drivers", "play")


@dataclass(frozen=True)
class Cause:
    """One cause of the playbook: its drivers and its play."""

    name: str
    drivers: tuple[str, ...]
    play: str


@dataclass(frozen=True)
class Playbook:
    """The causes in file order (the tie-break order) and where they came from."""

    causes: tuple[Cause, ...]
    source: str

    def play(self, cause: str) -> str:
        """Return the play of a cause."""
        return next(c.play for c in self.causes if c.name == cause)

    def causes_by_driver(self) -> dict[str, tuple[int, ...]]:
        """Return, for every driver, the positions of the causes that list it."""
        listed: dict[str, list[int]] = {}
        for position, cause in enumerate(self.causes):
            for driver in cause.drivers:
                listed.setdefault(driver, []).append(position)
        return {driver: tuple(positions) for driver, positions in listed.items()}


def load_playbook(path: str | Path | None, known_drivers: Sequence[str]) -> Playbook:
    """Read and check a playbook file; None reads the packaged default.

    Args:
        path: a playbook YAML (params ``scoring.playbook``), or None.
        known_drivers: the feature columns (flags included) the current code builds.

    Raises:
        ChurnError: the file is missing or not YAML, or breaks a rule (message names it).
    """
    if path is None:
        text = resources.files("pipeline.scoring").joinpath(PACKAGED).read_text("utf-8")
        source = f"packaged {PACKAGED}"
    else:
        if not Path(path).is_file():
            raise ChurnError(f"scoring.playbook: no such file {path}")
        text, source = Path(path).read_text("utf-8"), str(path)
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChurnError(f"playbook {source} is not valid YAML: {exc}") from None
    return Playbook(parse_causes(tree, known_drivers, source), source)


def parse_causes(tree: Any, known_drivers: Sequence[str], source: str) -> tuple[Cause, ...]:
    """Check a parsed playbook and return its causes in file order.

    Raises:
        ChurnError: a wrong shape, an unknown or missing cause, a cause without a play,
            or a driver that is not a feature the code builds.
    """
    where = f"playbook {source}"
    if not isinstance(tree, Mapping) or set(tree) != {"causes"}:
        raise ChurnError(f"{where}: expected one top-level key `causes:` mapping cause -> entry")
    entries = tree["causes"]
    if not isinstance(entries, Mapping):
        raise ChurnError(f"{where}: `causes:` must map each cause to its drivers and play")
    unknown = [str(name) for name in entries if name not in CLOSE_REASONS]
    if unknown:
        raise ChurnError(
            f"{where}: unknown cause {unknown}; the guideline's causes are {list(CLOSE_REASONS)}"
        )
    missing = [name for name in CLOSE_REASONS if name not in entries]
    if missing:
        raise ChurnError(f"{where}: causes {missing} are missing; every cause needs a play")
    known = set(known_drivers)
    return tuple(
        _cause(name, entry, known, f"{where}: causes.{name}") for name, entry in entries.items()
    )


def _cause(name: str, entry: Any, known: set[str], where: str) -> Cause:
    if not isinstance(entry, Mapping):
        raise ChurnError(f"{where} must be a mapping with `drivers:` and `play:`")
    extra = [str(key) for key in entry if key not in _CAUSE_KEYS]
    if extra:
        raise ChurnError(f"{where}: unknown keys {extra}; allowed: {list(_CAUSE_KEYS)}")
    play = entry.get("play")
    if not isinstance(play, str) or not play.strip():
        raise ChurnError(f"{where}.play: a non-empty text is required")
    drivers = entry.get("drivers") or []
    if not isinstance(drivers, list) or not all(isinstance(d, str) for d in drivers):
        raise ChurnError(f"{where}.drivers: expected a list of feature names")
    for driver in drivers:
        if driver not in known:
            close = difflib.get_close_matches(driver, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ChurnError(
                f"{where}.drivers: unknown feature {driver!r}{hint}; drivers are feature "
                "columns or warn_* flags (docs/features.md)"
            )
    return Cause(name, tuple(drivers), " ".join(play.split()))
