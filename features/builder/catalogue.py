"""Generate docs/features.md from the registry.

Run ``python -m features.builder.catalogue > docs/features.md``.

A test fails when the committed file differs from what this prints.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator

from features.builder.registry import (
    FEATURES,
    INDICATOR_FLAGS,
    INDICATOR_MEASURES,
    Feature,
    is_market,
)
from pipeline.core.params import RuleParams

_INTRO = """\
# Feature catalogue

Generated from the feature registry (`features/builder/registry.py`) by
`python -m features.builder.catalogue > docs/features.md`; a test keeps this file in
sync, so edit the feature functions' docstrings, not this page.

Every feature is a function in `features/<domain>.py` named as its column. The
matrix has one row per account open at each as-of month end (`customer_id`,
`as_of`, then the columns below in this order): numbers are float32 (NaN when
unknown), the eight `warn_*` indicators are bool, categories have fixed
categories. Parameters are the params.yaml keys a feature reads.
"""

_GUIDES = (
    ("How the panel is built and the as-of cut-off", "features.builder.panel"),
    ("Edge cases", "features.builder.windows"),
    ("Market-relative signals", "features.builder.reference"),
    ("Customer value", "features.value"),
)


def business_definition(feature: Feature) -> str:
    """Return the text of a feature's ``Business definition:`` paragraph ('' when absent)."""
    lines = (inspect.getdoc(feature.func) or "").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Business definition:"):
            paragraph = [line.removeprefix("Business definition:").strip()]
            for more in lines[i + 1 :]:
                if not more.strip() or more.strip().endswith(":"):
                    break
                paragraph.append(more.strip())
            return " ".join(paragraph)
    return ""


def params_of(feature: Feature) -> str:
    """Return the feature's params.yaml keys as ``section.key`` names."""
    sections = [
        "rules" if k in RuleParams.model_fields else "features" for k in feature.params_keys
    ]
    return ", ".join(f"`{s}.{k}`" for s, k in zip(sections, feature.params_keys, strict=True))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _indicator_table() -> Iterator[str]:
    yield "## The guideline's eight warning indicators"
    yield ""
    yield "| flag | group | measure | parameters | definition |"
    yield "|---|---|---|---|---|"
    by_name = {f.name: f for f in FEATURES}
    for flag, group in INDICATOR_FLAGS.items():
        feature = by_name[flag]
        measure = INDICATOR_MEASURES[flag]
        read = (params_of(by_name[measure]), params_of(feature))
        keys = ", ".join(dict.fromkeys(p for p in read if p)) or "-"
        definition = _cell(business_definition(feature))
        yield f"| `{flag}` | {group} | `{measure}` | {keys} | {definition} |"
    yield ""


def _domain_tables() -> Iterator[str]:
    modules: dict[str, list[Feature]] = {}
    for feature in FEATURES:
        modules.setdefault(feature.func.__module__, []).append(feature)
    yield "## All features, by domain"
    yield ""
    for module_name, features in modules.items():
        module = importlib.import_module(module_name)
        summary = (inspect.getdoc(module) or "").splitlines()[0]
        yield f"### {summary.rstrip('.')} (`{module_name.replace('.', '/')}.py`)"
        yield ""
        yield "| column | unit | step | parameters | definition |"
        yield "|---|---|---|---|---|"
        for f in features:
            step = "market" if is_market(f.name) else "customer"
            definition = _cell(business_definition(f))
            yield f"| `{f.name}` | {f.unit} | {step} | {params_of(f) or '-'} | {definition} |"
        yield ""


def _guides() -> Iterator[str]:
    for title, module_name in _GUIDES:
        yield f"## {title}"
        yield ""
        yield inspect.getdoc(importlib.import_module(module_name)) or ""
        yield ""


def catalogue() -> str:
    """Return the whole catalogue as Markdown."""
    parts = [_INTRO, *_indicator_table(), *_domain_tables(), *_guides()]
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    """Print the catalogue."""
    sys.stdout.write(catalogue())


if __name__ == "__main__":
    main()
