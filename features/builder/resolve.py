"""Compute registered features from named inputs, each dependency once per chunk.

A feature's positional parameters name panel quantities or other features
(features/builder/registry.py); :func:`evaluate` resolves them by name,
consulting the given inputs first, and computes every feature at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from features.builder.registry import BY_NAME, Feature
from pipeline.core.params import Params


def evaluate(
    features: Sequence[Feature], inputs: Mapping[str, Any], params: Params
) -> dict[str, np.ndarray]:
    """Compute features from named inputs, resolving each dependency once by name.

    Args:
        features: the features wanted.
        inputs: panel quantities or frame columns by name; consulted before the registry.
        params: the run's params (keyword arguments of features).

    Raises:
        KeyError: an input name that is neither given nor a registered feature.
    """
    memo: dict[str, Any] = {}
    return {f.name: _resolve(f.name, inputs, params, memo) for f in features}


def _resolve(name: str, inputs: Mapping[str, Any], params: Params, memo: dict[str, Any]) -> Any:
    # A module-level recursion, not a closure: a self-referencing closure would keep every
    # chunk's arrays alive until the garbage collector runs, and fresh memory is slow here.
    if name not in memo:
        if name in inputs:
            memo[name] = inputs[name]
        elif name in BY_NAME:
            feature = BY_NAME[name]
            args = [_resolve(i, inputs, params, memo) for i in feature.inputs]
            memo[name] = feature.func(*args, **feature.param_values(params))
        else:
            raise KeyError(f"no panel quantity or feature named {name!r}")
    return memo[name]
