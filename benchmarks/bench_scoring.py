"""Benchmark the monthly scoring job: accounts per second and peak memory, 100k and 1M accounts.

    python benchmarks/bench_scoring.py --customers 100000 1000000 --work /tmp/bench-scoring

Data and model (benchmarks/scoring_setup.py): `churn generate` (36 months, seed 5)
written once per size under ``--work`` (1M accounts: ~2.5 minutes, ~1.4 GB of
Parquet); a LightGBM of ``--trees`` trees (31 leaves) trained once on six months
of the smallest data set, retrained when the feature builder changed. Each
measurement runs in a fresh subprocess so its peak memory is its own (RSS
sampled every 20 ms), and does what `churn score` does minus MLflow logging:
load and validate the raw tables, then the scoring job (features,
probabilities, ranks, reasons for the top ``--share``, likely cause and play,
atomic Parquet output).

Reported per size, each step on its own: the pyarrow read of the same Parquet
tables (``pyarrow.parquet.read_table``, in a fresh subprocess of the same run,
the files read once before so both start from a warm page cache) and their
Arrow size; load (read, coerce, validate, quarantine); features;
probabilities; reasons and writing (exact contributions for the top
``--share``, rule reasons for the rest, causes, plays, the atomic Parquet
output); the totals "to probabilities" (raw tables -> every account's
calibrated probability) and "with reasons" (the whole job), their ratio to the
pyarrow read time, the reasons pass's milliseconds per explained account, CPU
seconds (and their ratio to the read's CPU seconds), the peak RSS and its ratio
to the Arrow size. ``--partitions`` runs the job per local-engine
``engine.partitions`` (auto: by ``engine.partition_rows``; 1: the tables whole in
memory; N: N customer partitions kept on disk, pipeline/engine/local.py), and
``--workers`` per ``engine.n_workers`` (processes working on the partitions on
disk side by side, pipeline/engine/pool.py; CPU seconds and the peak RSS count
the workers too: their RSS is summed, shared library pages included). With
``--chunks`` the job is repeated at other ``scoring.chunk_customers`` on the
smallest data set, to show the job's memory follows the chunk size, not the
number of accounts. A second table compares,
on the same 3,000 accounts, LightGBM's ``pred_contrib`` with the path tables
the job uses (pipeline/scoring/contributions.py): CPU milliseconds per account,
the tables' one-off build, and whether each account's strongest feature
agrees. The machine is shared: CPU seconds are the steadier figure. Figures are
printed and written to ``<work>/bench_scoring.json``, never asserted;
``--report FILE...`` prints the tables of saved JSON files again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import psutil
from peak_memory import PeakMemory, tree_cpu_seconds
from scoring_figures import compared_contributions, figures
from scoring_report import contributions_report, report, with_ratios
from scoring_setup import AS_OF, data_folder, model_folder


def measure(
    data: Path,
    model: Path,
    share: float,
    chunk: int,
    out: Path,
    partitions: int | None,
    workers: int,
) -> dict:
    """Load, validate and score one data set in this process; return the figures.

    ``partitions`` is ``engine.partitions`` of the local engine: 1 holds the tables whole,
    N > 1 keeps N customer partitions on disk, None decides by ``engine.partition_rows``;
    ``workers`` is ``engine.n_workers`` (processes working on partitions side by side).
    CPU seconds and peak memory count the worker processes too.
    """
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from pipeline.core.params import Params
    from pipeline.engine.local import LocalEngine
    from pipeline.scoring.causes import CauseFinder
    from pipeline.scoring.job import score_partitions
    from pipeline.scoring.model import scoring_model
    from pipeline.scoring.output import scores_schema, scores_writer
    from pipeline.scoring.playbook import load_playbook
    from pipeline.tracking.registry import load_packaged_model

    warnings.simplefilter("ignore")
    params = Params.model_validate(
        {"scoring": {"reasons_top_share": share, "chunk_customers": chunk}}
    )
    columns = model_feature_columns()
    packaged = load_packaged_model(str(model))
    scorer = scoring_model(packaged, params, columns, builder_version())
    causes = CauseFinder(load_playbook(None, columns))
    process = psutil.Process()
    engine = LocalEngine(partitions, params.engine.partition_rows, None, workers)
    with PeakMemory() as load_memory:
        started, cpu = time.perf_counter(), tree_cpu_seconds()
        partitioned = engine.load(data, params, None)
        load_seconds, load_cpu = time.perf_counter() - started, tree_cpu_seconds() - cpu
    loaded_rss = process.memory_info().rss
    with PeakMemory() as job_memory, scores_writer(out, None, None, scores_schema(3)) as writer:
        cpu = tree_cpu_seconds()
        result = score_partitions(
            engine.executor, partitioned, pd.Timestamp(AS_OF), scorer, causes, params, writer
        )
        job_cpu = tree_cpu_seconds() - cpu
    tables = engine.executor.gather(partitioned.parts[:1])[0]  # for the contributions' sample
    measured = figures(
        partitioned.report.tables["customers"].rows_kept,
        packaged,
        result,
        chunk,
        load_seconds,
        load_cpu,
        job_cpu,
        (load_memory.peak, loaded_rss, job_memory.peak),
    )
    measured["partitions"] = engine.n_partitions
    measured["workers"] = engine.workers
    compared = compared_contributions(tables, packaged, params)
    engine.close()
    return {**measured, **compared}


def arrow_read(data: Path) -> dict:
    """Time ``pyarrow.parquet.read_table`` of every table file, warm page cache (this process)."""
    import pyarrow.parquet as pq

    files = sorted(data.glob("*.parquet"))
    for file in files:
        pq.read_table(file)  # the page cache warm, as for the job
    started, cpu = time.perf_counter(), time.process_time()
    tables = [pq.read_table(file) for file in files]
    return {
        "arrow_read_seconds": time.perf_counter() - started,
        "arrow_read_cpu_seconds": time.process_time() - cpu,
        "arrow_gb": sum(t.nbytes for t in tables) / 1e9,
        "input_rows": sum(t.num_rows for t in tables),
    }


def run_arrow_child(data: Path) -> dict:
    command = [sys.executable, __file__, "--arrow", str(data)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(
    data: Path,
    model: Path,
    share: float,
    chunk: int,
    work: Path,
    partitions: int | None,
    workers: int = 2,
) -> dict:
    out = work / f"scores_{data.name}_{chunk}_{partitions}_{workers}.parquet"
    command = [
        sys.executable,
        __file__,
        "--child",
        str(data),
        str(model),
        str(share),
        str(chunk),
        str(out),
        str(partitions),
        str(workers),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-scoring"))
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--chunks", type=int, nargs="*", default=[])
    parser.add_argument(
        "--partitions",
        nargs="+",
        default=["auto"],
        help="engine.partitions of the local engine per run: auto (by engine.partition_rows), "
        "1 (tables whole in memory) or N (N partitions on disk)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[2],
        help="engine.n_workers per run (processes working on partitions on disk side by side)",
    )
    parser.add_argument("--report", type=Path, nargs="*", default=[], help="only print these JSONs")
    args = parser.parse_args()
    if args.report:
        rows = [row for file in args.report for row in json.loads(file.read_text())]
        print(report([with_ratios(row, row) for row in rows]))
        print(contributions_report(rows))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    folders = {n: data_folder(args.work, n) for n in sorted(args.customers)}
    model = model_folder(args.work, folders[min(folders)], args.trees)
    arrow = {n: run_arrow_child(folder) for n, folder in folders.items()}
    counts = [None if p == "auto" else int(p) for p in args.partitions]
    rows = [
        with_ratios(
            arrow[n], run_child(folder, model, args.share, args.chunk, args.work, p, workers)
        )
        for n, folder in folders.items()
        for p in counts
        for workers in (args.workers if p != 1 else [1])
    ]
    smallest = min(folders)
    rows += [
        with_ratios(
            arrow[smallest], run_child(folders[smallest], model, args.share, c, args.work, None)
        )
        for c in args.chunks
    ]
    (args.work / "bench_scoring.json").write_text(json.dumps(rows, indent=2))
    print(report(rows))
    print(contributions_report(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--arrow":
        print(json.dumps(arrow_read(Path(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        data, model, share, chunk, out, partitions, workers = sys.argv[2:9]
        count = None if partitions == "None" else int(partitions)
        figures = measure(
            Path(data), Path(model), float(share), int(chunk), Path(out), count, int(workers)
        )
        print(json.dumps(figures))
    else:
        main()
