"""The feature-builder version follows behaviour: refactors leave it, edits to the code move it.

Each case writes small modules of a throwaway package ``fp_<case>`` into tmp_path,
imports them, and fingerprints a feature function the way ``builder_version`` does
(following the helpers, classes and constants of that package it reaches).
"""

import importlib
import textwrap

import pytest

from features.builder.version import builder_version, code_fingerprint, covered_code

HELPER = '''
SCALE = 2.0


def doubled(values):
    """Multiply by the scale."""
    return values * SCALE
'''

FEATURE = '''
import math

import numpy as np

from {package}.helpers import doubled


def outflow_share(values: np.ndarray) -> np.ndarray:
    """Return the share."""
    return doubled(values) + math.pi
'''


@pytest.fixture
def fingerprint(tmp_path, monkeypatch):
    """``fingerprint(case, {module: source})`` -> the fingerprint of ``features.outflow_share``."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(case: str, modules: dict[str, str]) -> str:
        package = f"fp_{case}"
        folder = tmp_path / package
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for name, source in modules.items():
            text = textwrap.dedent(source).format(package=package)
            (folder / f"{name}.py").write_text(text)
        feature = importlib.import_module(f"{package}.features").outflow_share
        return code_fingerprint([feature], packages=(package,))

    return make


def test_reordered_imports_and_reworded_docstrings_keep_the_version(fingerprint):
    original = fingerprint("original", {"helpers": HELPER, "features": FEATURE})
    reordered = FEATURE.replace(
        "import math\n\nimport numpy as np\n", "import numpy as np\nimport os\nimport math\n"
    ).replace('"""Return the share."""', '"""Return the share of assets that left."""')
    assert fingerprint("reordered", {"helpers": HELPER, "features": reordered}) == original


def test_moving_a_helper_to_another_module_keeps_the_version(fingerprint):
    original = fingerprint("home", {"helpers": HELPER, "features": FEATURE})
    moved = {
        "helpers": "from {package}.arithmetic import doubled  # noqa: F401\n",
        "arithmetic": HELPER,
        "features": FEATURE,
    }
    assert fingerprint("moved", moved) == original
    # Calling it through its module (``helpers.doubled``) is the same call too.
    qualified = FEATURE.replace(
        "from {package}.helpers import doubled", "from {package} import helpers"
    ).replace("return doubled(values)", "return helpers.doubled(values)")
    assert fingerprint("qualified", {"helpers": HELPER, "features": qualified}) == original


def test_editing_the_feature_a_helper_or_a_constant_changes_the_version(fingerprint):
    original = fingerprint("base", {"helpers": HELPER, "features": FEATURE})
    feature_edit = FEATURE.replace("+ math.pi", "- math.pi")
    helper_edit = HELPER.replace("values * SCALE", "values * SCALE + 1")
    constant_edit = HELPER.replace("SCALE = 2.0", "SCALE = 3.0")
    versions = {
        fingerprint("feature", {"helpers": HELPER, "features": feature_edit}),
        fingerprint("helper", {"helpers": helper_edit, "features": FEATURE}),
        fingerprint("constant", {"helpers": constant_edit, "features": FEATURE}),
    }
    assert original not in versions and len(versions) == 3


def test_the_real_version_covers_the_builder_machinery_the_features_call():
    from features.builder.build import build_feature_matrix
    from features.builder.registry import FEATURES

    names = {name for name, _ in covered_code([f.func for f in FEATURES] + [build_feature_matrix])}
    # windows (every window sum), the panel (as-of cut-off), the calendar and a constant
    assert {"window_sum", "plan_as_of", "AsOfPlan", "month_index", "SIDE_BINS="} <= names
    assert not any(name.startswith(("describe", "business_words")) for name in names)
    assert builder_version().startswith("fb-")
