"""The monthly batch scoring job, its outputs, drift and realised-performance monitoring.

``pipeline.stages.score`` and ``pipeline.stages.monitor`` wire these modules to
the `churn score` and `churn monitor` commands; see docs/scoring.md.
"""
