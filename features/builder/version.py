"""The feature builder's version: a fingerprint of the registry and of the code computing it.

A model records the version it was trained with; scoring refuses a model whose
version differs from the current code's. The fingerprint covers the registry's
names, order, inputs and params keys, and the code (without docstrings and
comments) of every module that computes features, so editing a definition
changes it while rewording a docstring does not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect

_COMPUTING_MODULES = (
    "features.activity",
    "features.builder.build",
    "features.commission",
    "features.flows",
    "features.market",
    "features.builder.market_step",
    "features.builder.output",
    "features.builder.panel",
    "features.builder.partition",
    "features.positions",
    "features.profile",
    "features.recency",
    "features.builder.reference",
    "features.builder.rows",
    "features.service",
    "features.trade_mix",
    "features.value",
    "features.builder.windows",
)


@functools.cache
def builder_version() -> str:
    """Return ``"fb-<12 hex digits>"``, stable while feature definitions do not change."""
    from features.builder.registry import FEATURES

    digest = hashlib.sha256()
    for feature in FEATURES:
        signature = (feature.name, feature.kind, feature.inputs, feature.params_keys)
        digest.update(repr(signature).encode())
    for name in _COMPUTING_MODULES:
        digest.update(_code_without_docstrings(importlib.import_module(name)).encode())
    return f"fb-{digest.hexdigest()[:12]}"


def _code_without_docstrings(module) -> str:
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
