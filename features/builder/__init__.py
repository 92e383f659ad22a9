"""The machinery that turns tables into the feature matrix: panel, windows, registry, build."""
