"""The feature builder's version: a fingerprint of what the features compute, not of files.

A model records the version it was trained with; scoring refuses a model whose
version differs from the current code's. The fingerprint covers:

- the registry: each feature's name, kind, inputs and params keys, in order;
- the code of every function and class that computes them: the feature functions,
  their category functions and the builder's entry points, and, followed through
  the names their bodies use, every function, class and constant of this project
  they reach (panel, windows, market step, calendar...).

Each piece of code is taken as its syntax tree without docstrings, type
annotations or the module a name was imported from (``windows.window_sum(x)`` and
``window_sum(x)`` are the same call), and pieces are keyed by their qualified name,
not their module. So editing what a feature or a helper it calls computes changes
the version, while rewording a docstring, reordering imports or moving a function
to another module does not.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable

from features.builder.build import build_customer_features, build_feature_matrix
from features.builder.market_step import (
    apply_market_reference,
    combine_market_references,
    market_reference,
)
from features.builder.registry import FEATURES

PROJECT_PACKAGES = ("features", "pipeline", "models")
_CONSTANT_TYPES = (bool, int, float, str, bytes, type(None))


@functools.cache
def builder_version() -> str:
    """Return ``"fb-<12 hex digits>"``, stable while feature definitions do not change."""
    signatures = [(f.name, f.kind, f.inputs, f.params_keys) for f in FEATURES]
    roots: list[Callable] = [f.func for f in FEATURES]
    roots += [f.categories for f in FEATURES if f.categories is not None]
    roots += [
        build_feature_matrix,
        build_customer_features,
        market_reference,
        combine_market_references,
        apply_market_reference,
    ]
    return f"fb-{code_fingerprint(roots, repr(signatures))[:12]}"


def code_fingerprint(
    roots: Iterable[Callable], extra: str = "", packages: tuple[str, ...] = PROJECT_PACKAGES
) -> str:
    """Return the sha256 of the normalised code reachable from ``roots`` (and of ``extra``).

    Args:
        roots: functions or classes whose behaviour the fingerprint stands for.
        extra: further text to fold in (the registry's signatures).
        packages: top-level packages whose code is followed; other code (numpy,
            pandas) is named by the calls but not read.
    """
    digest = hashlib.sha256(extra.encode())
    for name, code in covered_code(roots, packages):
        digest.update(f"{name}\0{code}\0".encode())
    return digest.hexdigest()


def covered_code(
    roots: Iterable[Callable], packages: tuple[str, ...] = PROJECT_PACKAGES
) -> list[tuple[str, str]]:
    """Return the sorted ``(qualified name, normalised code or constant)`` pairs roots reach.

    Sorted and keyed by name, never by module, so where a function lives and the
    order it is reached in change nothing.
    """
    pieces: set[tuple[str, str]] = set()
    pending = list(roots)
    seen: set[int] = set()
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        normaliser = _Normaliser(_namespace(obj), packages)
        tree = normaliser.visit(_parse(obj))
        pieces.add((getattr(obj, "__qualname__", repr(obj)), ast.unparse(tree)))
        for name, value in [*_loaded_names(tree, normaliser.namespace), *normaliser.qualified]:
            if _is_ours(value, packages):
                pending.append(value)
            elif _is_constant(value):
                pieces.add((f"{name}=", repr(_canonical(value))))
    return sorted(pieces)


def _namespace(obj: Callable) -> dict:
    """Return the names an object's code resolves: its module's globals and its closure."""
    namespace = dict(getattr(obj, "__globals__", None) or vars(inspect.getmodule(obj)))
    if getattr(obj, "__closure__", None):
        cells = zip(obj.__code__.co_freevars, obj.__closure__, strict=True)
        namespace.update({name: cell.cell_contents for name, cell in cells})
    return namespace


def _parse(obj: Callable) -> ast.AST:
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    if getattr(obj, "__name__", "") == "<lambda>":
        # A lambda's source is the statement around it: keep the lambda only.
        return next(node for node in ast.walk(tree) if isinstance(node, ast.Lambda))
    return tree


def _is_ours(value: object, packages: tuple[str, ...]) -> bool:
    if not isinstance(value, types.FunctionType | type):
        return False
    return (getattr(value, "__module__", "") or "").split(".")[0] in packages


def _is_constant(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_is_constant(v) for v in value)
    return isinstance(value, _CONSTANT_TYPES)


def _canonical(value: object) -> object:
    if isinstance(value, frozenset):
        return tuple(sorted(map(repr, value)))
    return value


def _loaded_names(tree: ast.AST, namespace: dict) -> Iterable[tuple[str, object]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in namespace:
            yield node.id, namespace[node.id]


class _Normaliser(ast.NodeTransformer):
    """Drop docstrings and annotations; write ``module.name`` of our modules as ``name``.

    ``qualified`` collects the ``(name, object)`` pairs so rewritten, to be followed.
    """

    def __init__(self, namespace: dict, packages: tuple[str, ...]):
        self.namespace = namespace
        self.packages = packages
        self.qualified: list[tuple[str, object]] = []

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
        if isinstance(node, ast.arg):
            node.annotation = None
        return super().generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Constant(None)
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        base = node.value
        module = self.namespace.get(base.id) if isinstance(base, ast.Name) else None
        if isinstance(module, types.ModuleType) and module.__name__.split(".")[0] in self.packages:
            self.qualified.append((node.attr, getattr(module, node.attr, None)))
            return ast.copy_location(ast.Name(node.attr, node.ctx), node)
        return self.generic_visit(node)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
