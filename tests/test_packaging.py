"""The wheel holds every package of the source tree and the packaged data files."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("pipeline", "features", "models")


def source_packages() -> set[str]:
    return {
        ".".join(init.parent.relative_to(REPO).parts)
        for root in ROOTS
        for init in (REPO / root).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_source_package_goes_into_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(where=str(REPO), include=config["packages"]["find"]["include"]))
    assert source_packages() - found == set(), "packages left out of the wheel"
    assert {"pipeline.retention", "pipeline.cohorts", "features.builder"} <= found


def test_every_data_file_is_declared_as_package_data():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = config["package-data"]
    for root in ROOTS:
        for path in (REPO / root).rglob("*"):
            if (
                path.is_file()
                and path.suffix not in (".py", ".pyc")
                and "__pycache__" not in path.parts
            ):
                package = ".".join(path.parent.relative_to(REPO).parts)
                patterns = declared.get(package, [])
                assert any(path.match(p) for p in patterns), f"{path} is not package data"
