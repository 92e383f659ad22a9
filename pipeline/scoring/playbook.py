"""The retention playbook: which drivers point to which cause, and the play for each cause.

The playbook is a YAML file business users edit (the packaged default is
``pipeline/scoring/retention_playbook.yaml``; params ``scoring.playbook`` points
to another). It is checked before scoring: every one of the guideline's eleven
causes must appear once with a play, every driver must be a feature column or a
``warn_*`` flag the feature code builds, every tier variant must name a value
tier, and every ``{figure}`` a play cites must be one of :data:`PLAY_FIGURES`,
computed per account (:func:`pipeline.scoring.figures.play_figures`). Optional top-level entries:
``figures:`` (``rival_commission_rate``), ``failed_retention:`` (said after every
play: what to offer when the play fails) and ``slow_market:`` (the play of
"other: slow market").
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.errors import ChurnError
from pipeline.scoring.figures import PLAY_FIGURES

PACKAGED = "retention_playbook.yaml"
FALLBACK_CAUSE = "other"
_CAUSE_KEYS = ("meaning", "drivers", "play", "tiers")
_TOP_KEYS = ("causes", "figures", "failed_retention", "slow_market")
_FIGURE_SETTINGS = {"rival_commission_rate": 0.0002}


@dataclass(frozen=True)
class Cause:
    """One cause of the playbook: its drivers and its play."""

    name: str
    drivers: tuple[str, ...]
    play: str
    meaning: str = ""
    tiers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Playbook:
    """The causes in file order (the tie-break order) and where they came from."""

    causes: tuple[Cause, ...]
    source: str
    rival_commission_rate: float = _FIGURE_SETTINGS["rival_commission_rate"]
    failed_retention: str = ""
    slow_market: str = ""

    def play(self, cause: str) -> str:
        """Return the play of a cause."""
        return next(c.play for c in self.causes if c.name == cause)

    def play_for(self, cause: str, tier: str | None, figures: Mapping[str, str]) -> str:
        """Return the play of a cause for an account: its tier's variant and figures filled in."""
        return self.play_template(cause, tier).format_map(figures)

    def slow_market_play(self, tier: str | None, figures: Mapping[str, str]) -> str:
        """Return the play of "other: slow market" (the ``other`` play when none is written)."""
        return self.slow_market_template(tier).format_map(figures)

    def play_template(self, cause: str, tier: str | None) -> str:
        """Return the play of a cause in a tier's variant, its ``{figures}`` not yet filled in."""
        entry = next(c for c in self.causes if c.name == cause)
        return self._joined(entry.play, entry.tiers.get(tier or ""))

    def slow_market_template(self, tier: str | None) -> str:
        """Return the play of "other: slow market" in a tier's variant, figures not filled in."""
        if not self.slow_market:
            return self.play_template(FALLBACK_CAUSE, tier)
        other = next(c for c in self.causes if c.name == FALLBACK_CAUSE)
        return self._joined(self.slow_market, other.tiers.get(tier or ""))

    def _joined(self, play: str, variant: str | None) -> str:
        parts = [play, variant or "", self.failed_retention]
        return " ".join(part for part in parts if part)

    def causes_by_driver(self) -> dict[str, tuple[int, ...]]:
        """Return, for every driver, the positions of the causes that list it."""
        listed: dict[str, list[int]] = {}
        for position, cause in enumerate(self.causes):
            for driver in cause.drivers:
                listed.setdefault(driver, []).append(position)
        return {driver: tuple(positions) for driver, positions in listed.items()}


def load_playbook(
    path: str | Path | None,
    known_drivers: Sequence[str],
    tier_names: Sequence[str] | None = None,
) -> Playbook:
    """Read and check a playbook file; None reads the packaged default.

    Args:
        path: a playbook YAML (params ``scoring.playbook``), or None.
        known_drivers: the feature columns (flags included) the current code builds.
        tier_names: the value tiers (params ``features.value_tier_names``) tier variants
            may name; None accepts any name.

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
    where = f"playbook {source}"
    causes = parse_causes(tree, known_drivers, source, tier_names)
    settings = _figure_settings(tree.get("figures"), f"{where}: figures")
    extra = {key: _text(tree, key, where) for key in ("failed_retention", "slow_market")}
    return Playbook(causes, source, settings["rival_commission_rate"], **extra)


def parse_causes(
    tree: Any,
    known_drivers: Sequence[str],
    source: str,
    tier_names: Sequence[str] | None = None,
) -> tuple[Cause, ...]:
    """Check a parsed playbook and return its causes in file order.

    Raises:
        ChurnError: a wrong shape, an unknown or missing cause, a cause without a play,
            a driver that is not a feature the code builds, an unknown tier or figure.
    """
    where = f"playbook {source}"
    if not isinstance(tree, Mapping) or "causes" not in tree:
        raise ChurnError(f"{where}: expected one top-level key `causes:` mapping cause -> entry")
    unknown_top = [str(key) for key in tree if key not in _TOP_KEYS]
    if unknown_top:
        raise ChurnError(
            f"{where}: unknown top-level keys {unknown_top}; allowed: {list(_TOP_KEYS)}"
        )
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
        _cause(name, entry, known, tier_names, f"{where}: causes.{name}")
        for name, entry in entries.items()
    )


def _cause(
    name: str, entry: Any, known: set[str], tier_names: Sequence[str] | None, where: str
) -> Cause:
    if not isinstance(entry, Mapping):
        raise ChurnError(f"{where} must be a mapping with `drivers:` and `play:`")
    extra = [str(key) for key in entry if key not in _CAUSE_KEYS]
    if extra:
        raise ChurnError(f"{where}: unknown keys {extra}; allowed: {list(_CAUSE_KEYS)}")
    play = entry.get("play")
    if not isinstance(play, str) or not play.strip():
        raise ChurnError(f"{where}.play: a non-empty text is required")
    _check_figures(play, f"{where}.play")
    meaning = entry.get("meaning") or ""
    if not isinstance(meaning, str):
        raise ChurnError(f"{where}.meaning: expected a text")
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
    tiers = _tier_variants(entry.get("tiers"), tier_names, f"{where}.tiers")
    return Cause(name, tuple(drivers), _folded(play), _folded(meaning), tiers)


def _folded(text: str) -> str:
    return " ".join(text.split())


def _check_figures(text: str, where: str) -> None:
    """Refuse a ``{figure}`` the code does not compute (or a stray brace)."""
    try:
        cited = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ChurnError(f"{where}: {exc} (write braces only around a figure's name)") from None
    unknown = [name for name in cited if name not in PLAY_FIGURES]
    if unknown:
        raise ChurnError(f"{where}: unknown figure {unknown}; plays may cite {list(PLAY_FIGURES)}")


def _tier_variants(tiers: Any, tier_names: Sequence[str] | None, where: str) -> dict[str, str]:
    if tiers is None:
        return {}
    if not isinstance(tiers, Mapping) or not all(isinstance(v, str) for v in tiers.values()):
        raise ChurnError(f"{where}: expected a mapping of value tier -> play variant text")
    if tier_names is not None:
        unknown = [str(t) for t in tiers if t not in tier_names]
        if unknown:
            raise ChurnError(
                f"{where}: unknown value tier {unknown}; tiers are {list(tier_names)} "
                "(features.value_tier_names)"
            )
    for tier, text in tiers.items():
        _check_figures(text, f"{where}.{tier}")
    return {str(tier): _folded(text) for tier, text in tiers.items()}


def _text(tree: Mapping, key: str, where: str) -> str:
    value = tree.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ChurnError(f"{where}: {key}: expected a non-empty text")
    _check_figures(value, f"{where}: {key}")
    return _folded(value)


def _figure_settings(figures: Any, where: str) -> dict[str, float]:
    if figures is None:
        return dict(_FIGURE_SETTINGS)
    if not isinstance(figures, Mapping):
        raise ChurnError(f"{where}: expected a mapping, e.g. rival_commission_rate: 0.0002")
    unknown = [str(key) for key in figures if key not in _FIGURE_SETTINGS]
    if unknown:
        raise ChurnError(f"{where}: unknown keys {unknown}; allowed: {list(_FIGURE_SETTINGS)}")
    settings = dict(_FIGURE_SETTINGS)
    for key, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ChurnError(f"{where}.{key}: expected a rate between 0 and 1, got {value!r}")
        settings[key] = float(value)
    return settings
