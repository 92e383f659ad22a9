"""Data loading, validation, labels, stages and the `churn` command line."""

__version__ = "0.1.0"
