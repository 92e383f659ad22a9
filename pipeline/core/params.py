"""Typed params.yaml: one validated section per stage, with --set overrides.

The defaults of these models are the packaged defaults; the repository's
params.yaml documents them with comments and a test keeps the two equal.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.core.errors import ParamsError
from pipeline.core.sections import (  # noqa: F401  (re-exported: stages import them from here)
    DataParams,
    DemoParams,
    EngineParams,
    EvaluationParams,
    FeatureParams,
    LabelParams,
    LightGBMParams,
    LogisticParams,
    ModelParams,
    RetentionParams,
    RuleLevels,
    RuleParams,
    RuleWeights,
    ScoringParams,
    SearchParams,
    Section,
    SnapshotParams,
    SplitParams,
    TrackingParams,
    ValidationParams,
    ValueParams,
)


class Params(Section):
    """The whole params.yaml."""

    data: DataParams = DataParams()
    validation: ValidationParams = ValidationParams()
    label: LabelParams = LabelParams()
    snapshots: SnapshotParams = SnapshotParams()
    features: FeatureParams = FeatureParams()
    value: ValueParams = ValueParams()
    rules: RuleParams = RuleParams()
    model: ModelParams = ModelParams()
    split: SplitParams = SplitParams()
    evaluation: EvaluationParams = EvaluationParams()
    scoring: ScoringParams = ScoringParams()
    retention: RetentionParams = RetentionParams()
    tracking: TrackingParams = TrackingParams()
    engine: EngineParams = EngineParams()

    def flat(self) -> dict[str, Any]:
        """Return every setting as ``{"section.key": value}`` (for MLflow params)."""
        return dict(_flatten(self.model_dump(mode="json")))


def params_yaml(params: Params) -> str:
    """Return the params as YAML, sections in params.yaml's order (what a run will use)."""
    return yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _flatten(tree: dict[str, Any], prefix: str = ""):
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            yield name, value


def load_params(
    path: Path | str | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Params:
    """Read params.yaml (or the packaged defaults), apply ``dotted.key=value`` overrides, validate.

    Args:
        path: a params.yaml; None uses ``./params.yaml`` when it exists, else the defaults.
        overrides: ``--set`` strings such as ``label.horizon_months=6``.

    Raises:
        ParamsError: unreadable file, unknown key, or a value of the wrong type.
    """
    tree = _read_tree(path)
    for override in overrides:
        _apply_override(tree, override)
    try:
        return Params.model_validate(_dates_as_text(tree))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ParamsError(f"invalid params ({_source(path)}): {problems}") from None


def _dates_as_text(value: Any) -> Any:
    """Turn YAML dates (``observation_end: 2022-12-31`` unquoted) into the ISO text params take."""
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _source(path: Path | str | None) -> str:
    if path is not None:
        return str(path)
    return "params.yaml" if Path("params.yaml").exists() else "packaged defaults"


def _read_tree(path: Path | str | None) -> dict[str, Any]:
    if path is None:
        if not Path("params.yaml").exists():
            return {}
        path = Path("params.yaml")
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"params file not found: {path}")
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(tree, dict):
        raise ParamsError(f"{path} must hold a mapping of sections")
    return tree


def _apply_override(tree: dict[str, Any], override: str) -> None:
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ParamsError(f"--set {override!r}: expected dotted.key=value")
    parts = key.strip().split(".")
    node: Any = Params()
    for depth, part in enumerate(parts):
        fields = type(node).model_fields if isinstance(node, BaseModel) else {}
        if part not in fields:
            known = ", ".join(sorted(fields)) or "none (not a section)"
            where = ".".join(parts[:depth]) or "params"
            raise ParamsError(f"--set {key}: unknown key {part!r} under {where}; known: {known}")
        node = getattr(node, part)
    target = tree
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
