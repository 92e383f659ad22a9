"""The retention guideline's warning indicators and derived churn signals.

``features.builder.build.build_feature_matrix`` builds the matrix; ``features.builder.registry``
lists the features; ``FEATURE_BUILDER_VERSION`` fingerprints their definitions.
"""

from __future__ import annotations


def __getattr__(name: str):
    # Lazy, so importing a feature module does not import the whole registry.
    if name == "FEATURE_BUILDER_VERSION":
        from features.builder.version import builder_version

        return builder_version()
    raise AttributeError(f"module 'features' has no attribute {name!r}")
