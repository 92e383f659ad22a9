"""Benchmark: the feature build on a 2-worker Dask LocalCluster vs the local engine.

Usage:
    python benchmarks/bench_dask.py --data data/bench-1m [--customers 1000000]
        [--as-of-months 12] [--workers 2] [--partitions 16] [--gather]

Generates the demo data first when ``--data`` does not exist. Each engine runs in
fresh processes so peak memory (ru_maxrss) belongs to that engine alone:

- local: ``load_tables`` then ``build_feature_matrix`` in one child process;
- dask, workers read: ``build_feature_matrix_dask`` from the data folder (the
  workers read, route and validate the files, then build), partitions left on the
  workers (``--gather`` also brings the matrix to the client and sorts it);
- dask, client tables: the client loads, splits and scatters, the workers build.

Prints wall times, the Dask overhead against the local engine, seconds per million
customers and peak memory per process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd


def peak_rss_gib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def as_of_months(data: Path, count: int) -> list[pd.Timestamp]:
    """Return the last ``count`` month ends the trades cover (the demo's last month is whole)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from pipeline.data.reader import find_table_file

    dates = ds.dataset(find_table_file(data, "trades")).to_table(columns=["trade_date"])
    last = pd.Timestamp(pc.max(dates["trade_date"]).as_py())
    return list(pd.date_range(end=last + pd.offsets.MonthEnd(0), periods=count, freq="ME"))


def customer_count(data: Path) -> int:
    import pyarrow.dataset as ds

    from pipeline.data.reader import find_table_file

    return ds.dataset(find_table_file(data, "customers")).count_rows()


def run_local(data: str, months: list[pd.Timestamp]) -> dict:
    from features.builder.build import build_feature_matrix
    from pipeline.core.params import Params
    from pipeline.data.loader import load_tables

    warnings.simplefilter("ignore")
    params = Params()
    started = time.perf_counter()
    tables = load_tables(data, params, None).tables
    loaded = time.perf_counter()
    matrix = build_feature_matrix(tables, months, params)
    built = time.perf_counter()
    return {
        "load_s": loaded - started,
        "features_s": built - loaded,
        "rows": len(matrix),
        "peak_gib": peak_rss_gib(),
    }


def run_dask(data: str, months, workers: int, partitions: int, mode: str, gather: bool) -> dict:
    from distributed import get_task_stream, wait

    from pipeline.core.params import Params
    from pipeline.data.loader import load_tables
    from pipeline.engine import dask_client
    from pipeline.engine.dask_features import (
        feature_partitions,
        gather_frames,
        partitioned_tables,
    )

    warnings.simplefilter("ignore")
    params = Params()
    params.engine.kind, params.engine.n_workers = "dask", workers
    params.engine.partitions = partitions
    started = time.perf_counter()
    with dask_client(params.engine) as client, get_task_stream(client) as stream:
        up = time.perf_counter()
        source = data if mode == "workers read" else load_tables(data, params, None).tables
        loaded = time.perf_counter()
        partitioned = partitioned_tables(source, params, client)
        wait(partitioned.parts)
        del source
        split = time.perf_counter()
        frames = feature_partitions(partitioned, months, params, client)
        wait(frames)
        built = time.perf_counter()
        rows = sum(client.gather([client.submit(len, f) for f in frames]))
        gathered = None
        if gather:
            before = time.perf_counter()
            gather_frames(frames, client)
            gathered = time.perf_counter() - before
        usage = client.run(resource.getrusage, resource.RUSAGE_SELF)
    worker_peaks = {worker: u.ru_maxrss / 2**20 for worker, u in usage.items()}
    return {
        "startup_s": up - started,
        "client_load_s": loaded - up,
        "partition_s": split - loaded,
        "features_s": built - split,
        "gather_sort_s": gathered,
        "rows": rows,
        "task_seconds": task_seconds(stream.data),
        "worker_peak_gib": sorted(worker_peaks.values()),
        "client_peak_gib": peak_rss_gib(),
    }


def task_seconds(stream: list[dict]) -> dict[str, float]:
    """Sum the workers' seconds per task function and action (compute, transfer, ...)."""
    totals: dict[str, float] = {}
    for task in stream:
        key = task["key"][0] if isinstance(task["key"], tuple) else task["key"]
        name = str(key).rsplit("-", 1)[0]
        for span in task["startstops"]:
            label = f"{name} {span['action']}"
            totals[label] = totals.get(label, 0.0) + span["stop"] - span["start"]
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def in_fresh_process(function, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def ensure_data(data: Path, customers: int) -> None:
    if data.exists():
        return
    from pipeline.stages.generate import generate_stage

    started = time.perf_counter()
    generate_stage(data, customers=customers, months=36, seed=42, start="2021-01")
    print(f"generated {customers:,} customers x 36 months in {time.perf_counter() - started:.0f} s")


def report(customers: int, local: dict, dask_runs: dict[str, dict]) -> None:
    local_total = local["load_s"] + local["features_s"]
    print(f"\n{customers:,} customers, {local['rows']:,} feature rows")
    print(
        f"local engine : load {local['load_s']:.1f} s + features {local['features_s']:.1f} s "
        f"= {local_total:.1f} s; peak {local['peak_gib']:.2f} GiB"
    )
    for mode, run in dask_runs.items():
        total = run["client_load_s"] + run["partition_s"] + run["features_s"]
        print(
            f"dask ({mode}): start-up {run['startup_s']:.1f} s; client load "
            f"{run['client_load_s']:.1f} s + partitions {run['partition_s']:.1f} s + features "
            f"{run['features_s']:.1f} s = {total:.1f} s ({total / local_total - 1:+.0%} vs local; "
            f"features step {run['features_s'] / local['features_s'] - 1:+.0%}); worker peaks "
            f"{', '.join(f'{p:.2f}' for p in run['worker_peak_gib'])} GiB; client peak "
            f"{run['client_peak_gib']:.2f} GiB"
            + (f"; gather+sort {run['gather_sort_s']:.1f} s" if run["gather_sort_s"] else "")
        )
        busiest = list(run["task_seconds"].items())[:6]
        print("    worker seconds: " + ", ".join(f"{name} {sec:.1f}" for name, sec in busiest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--as-of-months", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--gather", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    ensure_data(args.data, args.customers)
    months = as_of_months(args.data, args.as_of_months)
    customers = customer_count(args.data)
    local = in_fresh_process(run_local, str(args.data), months)
    dask_runs = {
        mode: in_fresh_process(
            run_dask, str(args.data), months, args.workers, args.partitions, mode, args.gather
        )
        for mode in ("workers read", "client tables")
    }
    report(customers, local, dask_runs)
    if args.json:
        args.json.write_text(
            json.dumps({"customers": customers, "local": local, **dask_runs}, indent=2)
        )


if __name__ == "__main__":
    main()
