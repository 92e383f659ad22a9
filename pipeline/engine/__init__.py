"""The Dask engine (``engine.kind: dask``): the local engine's code, run per partition of customers.

Customers are hash-partitioned by id (partitions.py); each partition runs exactly
the local feature builders, labels and model; the one cross-customer step, the
market reference, is a small per-month aggregate added up on the cluster and
handed back to every partition (features.py). Inputs may be read by the workers
from any fsspec URL (io.py, reading.py). Training gathers the matrix or uses
``lightgbm.dask`` by size (training.py); scoring writes one Parquet file per
partition and publishes the folder atomically (scoring.py, publish.py).
See docs/scaling.md.
"""

from __future__ import annotations

from pipeline.data.partitions import customer_partitions
from pipeline.data.publish import is_complete, read_dataset
from pipeline.engine.dask_cluster import dask_client
from pipeline.engine.dask_features import build_feature_matrix_dask
from pipeline.engine.dask_scoring import score_dask
from pipeline.engine.dask_training import train_models_dask

__all__ = [
    "build_feature_matrix_dask",
    "customer_partitions",
    "dask_client",
    "is_complete",
    "read_dataset",
    "score_dask",
    "train_models_dask",
]
