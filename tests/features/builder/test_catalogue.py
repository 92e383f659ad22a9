"""docs/features.md is the registry's catalogue, regenerated: it must match the code."""

from pathlib import Path

from features.builder.catalogue import business_definition, catalogue
from features.builder.registry import FEATURES

DOC = Path(__file__).resolve().parents[3] / "docs" / "features.md"


def test_docs_catalogue_is_in_sync_with_the_registry():
    assert DOC.read_text() == catalogue(), (
        "docs/features.md is out of date: run "
        "`python -m features.builder.catalogue > docs/features.md`"
    )


def test_catalogue_lists_every_feature_with_its_definition():
    text = catalogue()
    for feature in FEATURES:
        assert f"| `{feature.name}` |" in text
        assert business_definition(feature)
    assert "`rules.outflow_share`" in text and "`features.value_weight_growth`" in text
