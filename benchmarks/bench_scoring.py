"""Benchmark the monthly scoring job: accounts per second and peak memory, 100k and 1M accounts.

    python benchmarks/bench_scoring.py --customers 100000 1000000 --work /tmp/bench-scoring

Data: `churn generate` (pipeline.stages.generate, 36 months, seed 5) written once
per size under ``--work`` (1M accounts: ~2.5 minutes, ~2 GB of Parquet). Model:
a LightGBM of ``--trees`` trees (31 leaves) trained once on six months of the
smallest data set and saved as a packaged-model folder; retrained when the
feature builder changed. Each measurement runs in a fresh subprocess so its
peak memory is its own (RSS sampled every 20 ms), and does what `churn score`
does minus MLflow logging: load and validate the raw tables, then the scoring
job (features, probabilities, ranks, reasons for the top ``--share``, likely
cause and play, atomic Parquet output).

Reported per size, each step on its own: the pyarrow read of the same Parquet
tables (``pyarrow.parquet.read_table``, in a fresh subprocess of the same run, the
files read once before so both start from a warm page cache) and their Arrow
size; load (read, coerce, validate, quarantine); features; probabilities;
reasons and writing (exact LightGBM contributions for the top ``--share``, rule
reasons for the rest, causes, plays, the atomic Parquet output); the totals "to
probabilities" (raw tables -> every account's calibrated probability) and "with
reasons" (the whole job), their ratio to the pyarrow read time, the reasons
pass's milliseconds per explained account, CPU seconds (and their ratio to
the read's CPU seconds), the peak RSS and its ratio to the Arrow size. With
``--chunks`` the job is repeated at other ``scoring.chunk_customers`` on the
smallest data set, to show the job's memory follows the chunk size, not the
number of accounts. The machine is shared: CPU
seconds are the steadier figure. Figures are printed and written to
``<work>/bench_scoring.json``, never asserted; ``--report FILE...`` prints the
table of saved JSON files again.
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
from peak_memory import PeakMemory

AS_OF = "2023-12-31"  # the last month of 36 generated from 2021-01
TRAIN_LAST = "2023-09-30"


def data_folder(work: Path, customers: int) -> Path:
    from pipeline.stages.generate import generate_stage

    folder = work / f"data_{customers}"
    if not (folder / "customers.parquet").exists():
        generate_stage(folder, customers=customers, months=36, seed=5, start="2021-01")
    return folder


def model_folder(work: Path, data: Path, trees: int) -> Path:
    """Train (once per feature-builder version) a small packaged model on six months."""
    from features.builder.version import builder_version

    folder = work / f"model_{trees}_{builder_version()}"
    if not folder.exists():
        train_model(data, folder, trees)
    return folder


def train_model(data: Path, folder: Path, trees: int) -> None:
    from features.builder.build import build_feature_matrix
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from models.drift import reference_profile
    from models.lightgbm_model import ChurnLightGBM
    from pipeline.cohorts.labels import make_labels
    from pipeline.core.params import Params
    from pipeline.data.loader import load_tables
    from pipeline.tracking.registry import save_model

    params = Params.model_validate({"model": {"lightgbm": {"n_estimators": trees}}})
    tables = load_tables(data, params, None).tables
    months = list(pd.date_range(end=TRAIN_LAST, periods=6, freq="ME"))
    matrix = build_feature_matrix(tables, months, params)
    matrix = matrix.merge(make_labels(tables, months, params.label), on=["customer_id", "as_of"])
    train = matrix[matrix["as_of"].isin(months[:4])]
    valid = matrix[matrix["as_of"].isin(months[4:])]
    columns = model_feature_columns()
    model = ChurnLightGBM.from_params(params.model, columns).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )
    meta = {
        "feature_columns": columns,
        "feature_builder_version": builder_version(),
        "best_iteration": model.best_iteration_,
        "label": params.label.model_dump(),
        "reference": reference_profile(
            train, columns, model.predict_proba(train)[:, 1], params.scoring.psi_bins
        ),
    }
    example = train.loc[:, columns].head(5)
    save_model(model.booster_, model.calibrator_, meta, example, folder)


def measure(data: Path, model: Path, share: float, chunk: int, out: Path) -> dict:
    """Load, validate and score one data set in this process; return the figures."""
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from pipeline.core.params import Params
    from pipeline.data.loader import load_tables
    from pipeline.scoring.causes import CauseFinder
    from pipeline.scoring.job import score_cohort
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
    with PeakMemory() as load_memory:
        started, cpu = time.perf_counter(), time.process_time()
        tables = load_tables(data, params, None).tables
        load_seconds, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    loaded_rss = process.memory_info().rss
    with PeakMemory() as job_memory, scores_writer(out, None, None, scores_schema(3)) as writer:
        cpu = time.process_time()
        result = score_cohort(tables, pd.Timestamp(AS_OF), scorer, causes, params, writer)
        job_cpu = time.process_time() - cpu
    return figures(
        len(tables.customers),
        packaged,
        result,
        chunk,
        load_seconds,
        load_cpu,
        job_cpu,
        (load_memory.peak, loaded_rss, job_memory.peak),
    )


def figures(customers, packaged, result, chunk, load_seconds, load_cpu, job_cpu, memory) -> dict:
    load_peak, loaded_rss, job_peak = memory
    accounts = result.accounts
    steps = result.seconds
    to_probabilities = load_seconds + steps["probabilities"]
    with_reasons = load_seconds + steps["total"]
    return {
        # Code before the features step was timed on its own reports it as NaN.
        "features_seconds": steps.get("features", float("nan")),
        "scoring_seconds": steps["probabilities"] - steps.get("features", float("nan")),
        "reasons_seconds": steps["total"] - steps["probabilities"],
        "customers": customers,
        "accounts": accounts,
        "trees": int(packaged.meta["best_iteration"]),
        "explained": result.explained,
        "chunk_customers": chunk,
        "load_seconds": load_seconds,
        "load_cpu_seconds": load_cpu,
        "job_seconds": result.seconds,
        "job_cpu_seconds": job_cpu,
        "probabilities_seconds": to_probabilities,
        "with_reasons_seconds": with_reasons,
        "probabilities_accounts_per_second": accounts / to_probabilities,
        "with_reasons_accounts_per_second": accounts / with_reasons,
        "contributions_ms_per_explained_row": 1000
        * (result.seconds["total"] - result.seconds["probabilities"])
        / max(result.explained, 1),
        "peak_rss_gb": max(load_peak, job_peak) / 1e9,
        "loaded_rss_gb": loaded_rss / 1e9,
        "job_peak_above_loaded_gb": (job_peak - loaded_rss) / 1e9,
    }


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


def with_ratios(arrow: dict, job: dict) -> dict:
    """Join the pyarrow read with the job; add the job's ratios to it."""
    return {
        **arrow,
        **job,
        "total_over_read": job["with_reasons_seconds"] / arrow["arrow_read_seconds"],
        "probabilities_over_read": job["probabilities_seconds"] / arrow["arrow_read_seconds"],
        "peak_over_arrow": job["peak_rss_gb"] / arrow["arrow_gb"],
        # On a shared machine wall times swing; CPU seconds against CPU seconds hold still.
        "cpu_over_read": (job["load_cpu_seconds"] + job["job_cpu_seconds"])
        / arrow["arrow_read_cpu_seconds"],
    }


def run_child(data: Path, model: Path, share: float, chunk: int, work: Path) -> dict:
    out = work / f"scores_{data.name}_{chunk}.parquet"
    command = [
        sys.executable,
        __file__,
        "--child",
        str(data),
        str(model),
        str(share),
        str(chunk),
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(rows: list[dict]) -> str:
    lines = [
        "| customers (input rows) | open accounts | chunk | pyarrow read s (Arrow GB) | load s "
        "| features s | probabilities s | reasons + write s | to probabilities s (x read) "
        "| with reasons s (x read) | explained | ms / explained | CPU s (x read CPU) "
        "| peak GB (x Arrow) |",
        "|---" * 14 + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} ({r['input_rows'] / 1e6:.1f}M) | {r['accounts']:,} "
            f"| {r['chunk_customers']:,} "
            f"| {r['arrow_read_seconds']:.1f} ({r['arrow_gb']:.2f}) | {r['load_seconds']:.1f} "
            f"| {r['features_seconds']:.1f} | {r['scoring_seconds']:.1f} "
            f"| {r['reasons_seconds']:.1f} "
            f"| {r['probabilities_seconds']:.1f} ({r['probabilities_over_read']:.1f}x) "
            f"| {r['with_reasons_seconds']:.1f} ({r['total_over_read']:.1f}x) "
            f"| {r['explained']:,} | {r['contributions_ms_per_explained_row']:.2f} "
            f"| {r['load_cpu_seconds'] + r['job_cpu_seconds']:.0f} ({r['cpu_over_read']:.1f}x) "
            f"| {r['peak_rss_gb']:.2f} ({r['peak_over_arrow']:.1f}x) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-scoring"))
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--chunks", type=int, nargs="*", default=[])
    parser.add_argument("--report", type=Path, nargs="*", default=[], help="only print these JSONs")
    args = parser.parse_args()
    if args.report:
        rows = [row for file in args.report for row in json.loads(file.read_text())]
        print(report([with_ratios(row, row) for row in rows]))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    folders = {n: data_folder(args.work, n) for n in sorted(args.customers)}
    model = model_folder(args.work, folders[min(folders)], args.trees)
    arrow = {n: run_arrow_child(folder) for n, folder in folders.items()}
    rows = [
        with_ratios(arrow[n], run_child(folder, model, args.share, args.chunk, args.work))
        for n, folder in folders.items()
    ]
    smallest = min(folders)
    rows += [
        with_ratios(arrow[smallest], run_child(folders[smallest], model, args.share, c, args.work))
        for c in args.chunks
    ]
    (args.work / "bench_scoring.json").write_text(json.dumps(rows, indent=2))
    print(report(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--arrow":
        print(json.dumps(arrow_read(Path(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        data, model, share, chunk, out = sys.argv[2:7]
        figures = measure(Path(data), Path(model), float(share), int(chunk), Path(out))
        print(json.dumps(figures))
    else:
        main()
