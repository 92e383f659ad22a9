"""Benchmark the feature build against a straightforward per-as-of pandas groupby reference.

    python benchmarks/bench_features.py --customers 100000 1000000

Data: the built-in simulator (``pipeline.demo.simulate``, 36 months, seed 1),
checked and assembled by the real loader (``tables_from_frames``) once and cached
as a pickle under ``--cache`` (the loader is not what is measured; at 1M accounts
simulating and loading take several minutes). Each measurement runs in a fresh
subprocess so its peak memory is its own: the peak RSS is sampled every 20 ms,
and reported in total and above the RSS after the tables were loaded.

Features are built for the last 12 month ends. Three runs per size: ``fast``
(the whole build, every feature), ``fast_same`` (the fast build restricted to the
33 columns the reference computes, so both do the same work) and ``reference``
(benchmarks/reference_pandas.py). At 1M accounts ``fast_same`` and ``reference``
run on the first 100k accounts of the same data and the reference's time is
scaled by 10 for the 1M comparison (it is linear in accounts; run whole it would
take minutes). A last run checks both builds agree on the shared columns.
Wall and CPU seconds are both reported: the machine is shared, CPU time is the
steadier figure. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from peak_memory import PeakMemory

SAMPLE_CUSTOMERS = 100_000


def _cached_tables(customers: int, cache: Path):
    path = cache / f"tables_{customers}_m36_s1.pkl"
    if not path.exists():
        from pipeline.data.loader import tables_from_frames
        from pipeline.demo import simulate

        cache.mkdir(parents=True, exist_ok=True)
        frames = simulate(customers=customers, months=36, seed=1)
        tables = tables_from_frames(frames).tables
        del frames
        with path.open("wb") as fh:
            pickle.dump(tables, fh, protocol=5)
    with path.open("rb") as fh:
        return pickle.load(fh)


def _first_customers(tables, n: int):
    """The first n accounts (by customer_idx) and their rows: customer_idx stays valid."""
    cut = {"customers": tables.customers.iloc[:n]}
    for name in ("trades", "transfers", "balances", "events"):
        frame = tables.table(name)
        cut[name] = frame[frame["customer_idx"].to_numpy() < n].reset_index(drop=True)
    return replace(tables, **cut)


def _same_columns_build():
    """The fast build restricted to the reference's columns (same work; no market step)."""
    import features.builder.build as fb
    from benchmarks.reference_pandas import COLUMNS
    from features.builder.registry import BY_NAME

    subset = tuple(BY_NAME[name] for name in COLUMNS)
    fb.customer_features = lambda: subset  # benchmark only: the registry is not touched
    return fb.build_customer_features


def measure(customers: int, what: str, cache: Path) -> dict:
    """Run one measurement in this process.

    ``what``: 'fast' (every feature), 'fast_same' (the reference's columns only), or
    'reference'; at more than 100k accounts 'fast_same' and 'reference' use the first 100k.
    """
    from benchmarks.reference_pandas import reference_features
    from features.builder.build import build_feature_matrix
    from pipeline.core.params import Params

    tables = _cached_tables(customers, cache)
    if what != "fast" and customers > SAMPLE_CUSTOMERS:
        tables = _first_customers(tables, SAMPLE_CUSTOMERS)
    ends = [tables.observation_end - pd.offsets.MonthEnd(k) for k in range(11, -1, -1)]
    builds = {"fast": build_feature_matrix, "reference": reference_features}
    build = builds.get(what) or _same_columns_build()
    warnings.simplefilter("ignore")
    with PeakMemory() as memory:
        started, cpu = time.perf_counter(), time.process_time()
        matrix = build(tables, ends, Params())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "what": what,
        "customers": len(tables.customers),
        "activity_rows": sum(
            len(tables.table(n)) for n in ("trades", "transfers", "balances", "events")
        ),
        "rows": len(matrix),
        "columns": matrix.shape[1],
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows_per_second": len(matrix) / seconds,
        "rss_before_gb": memory.start_rss / 1e9,
        "peak_rss_gb": memory.peak / 1e9,
        "peak_above_input_gb": (memory.peak - memory.start_rss) / 1e9,
        "output_gb": matrix.memory_usage(deep=False).sum() / 1e9,
    }


def agreement(customers: int, cache: Path) -> dict:
    """Compare fast and reference builds on the shared columns (first 20k accounts)."""
    from benchmarks.reference_pandas import COLUMNS, reference_features
    from features.builder.build import build_feature_matrix
    from pipeline.core.params import Params

    tables = _first_customers(_cached_tables(customers, cache), min(customers, 20_000))
    ends = [tables.observation_end - pd.offsets.MonthEnd(k) for k in range(11, -1, -1)]
    warnings.simplefilter("ignore")
    fast = build_feature_matrix(tables, ends, Params())
    slow = reference_features(tables, ends, Params())
    assert fast[["customer_id", "as_of"]].equals(slow[["customer_id", "as_of"]])
    worst = {}
    for column in COLUMNS:
        a, b = fast[column].to_numpy(np.float64), slow[column].to_numpy(np.float64)
        same = np.isclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
        worst[column] = int((~same).sum())
    return {"rows": len(fast), "columns": len(COLUMNS), "mismatched_cells": worst}


def _run_child(customers: int, what: str, cache: Path) -> dict:
    command = [sys.executable, __file__, "--child", what, "--customers", str(customers),
               "--cache", str(cache)]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(results: list[dict]) -> None:
    for r in results:
        print(
            f"{r['what']:>10} {r['customers']:>9,} accounts {r['activity_rows']:>12,} activity rows"
            f" -> {r['rows']:>10,} x {r['columns']:>3}: {r['seconds']:7.2f} s"
            f" (CPU {r['cpu_seconds']:6.2f} s), {r['rows_per_second']:>10,.0f} rows/s,"
            f" peak RSS {r['peak_rss_gb']:.2f} GB ({r['peak_above_input_gb']:+.2f} GB over the"
            f" loaded tables; output {r['output_gb']:.2f} GB)"
        )


def _speedups(customers: int, results: dict[str, dict]) -> None:
    reference, same = results["reference"], results["fast_same"]
    scale = customers / reference["customers"]
    label = f" (extrapolated x{scale:.0f} from {reference['customers']:,})" if scale > 1 else ""
    print(f"  reference for {customers:,} accounts: {reference['seconds'] * scale:.1f} s{label}")
    print(
        f"  same columns, same accounts: {reference['seconds'] / same['seconds']:.1f}x faster"
        f" wall, {reference['cpu_seconds'] / same['cpu_seconds']:.1f}x CPU"
    )
    ratio = reference["seconds"] * scale / results["fast"]["seconds"]
    print(
        f"  every feature ({results['fast']['columns'] - 2} columns) vs the reference's"
        f" {reference['columns'] - 2}: {ratio:.1f}x faster wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/churn-bench-cache"))
    parser.add_argument("--child", choices=["fast", "fast_same", "reference", "agreement"])
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    if args.child:
        run = agreement if args.child == "agreement" else lambda n, c: measure(n, args.child, c)
        print(json.dumps(run(args.customers[0], args.cache)))
        return
    _cached_tables(max(args.customers), args.cache)  # build caches outside the timings
    for customers in args.customers:
        _cached_tables(customers, args.cache)
        kinds = ["fast"] if args.skip_reference else ["fast", "fast_same", "reference"]
        results = {kind: _run_child(customers, kind, args.cache) for kind in kinds}
        _report(list(results.values()))
        if not args.skip_reference:
            _speedups(customers, results)
    print(
        "agreement on shared columns:",
        json.dumps(_run_child(args.customers[0], "agreement", args.cache)),
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
