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

Reported per size: load seconds, "probabilities" (raw tables -> every account's
calibrated probability: load + features + prediction), "with reasons" (the
whole job: + exact LightGBM contributions for the top share, rule reasons for
the rest, writing), accounts per second for both, CPU seconds, peak RSS, the
RSS once the tables are loaded and the job's peak above it. With ``--chunks``
the job is repeated at other ``scoring.chunk_customers`` on the smallest data
set, to show the job's memory follows the chunk size, not the number of
accounts. The machine is shared: CPU seconds are the steadier figure. Figures
are printed and written to ``<work>/bench_scoring.json``, never asserted.
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
    to_probabilities = load_seconds + result.seconds["probabilities"]
    with_reasons = load_seconds + result.seconds["total"]
    return {
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
        "| customers | open accounts | trees | chunk | load s | to probabilities s (acc/s) "
        "| with reasons s (acc/s) | explained | ms/explained row | job CPU s | peak RSS GB "
        "| job peak above loaded GB |",
        "|---" * 12 + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} | {r['accounts']:,} | {r['trees']} | {r['chunk_customers']:,} "
            f"| {r['load_seconds']:.1f} "
            f"| {r['probabilities_seconds']:.1f} ({r['probabilities_accounts_per_second']:,.0f}) "
            f"| {r['with_reasons_seconds']:.1f} ({r['with_reasons_accounts_per_second']:,.0f}) "
            f"| {r['explained']:,} | {r['contributions_ms_per_explained_row']:.2f} "
            f"| {r['job_cpu_seconds']:.1f} | {r['peak_rss_gb']:.2f} "
            f"| {r['job_peak_above_loaded_gb']:.2f} |"
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
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folders = {n: data_folder(args.work, n) for n in sorted(args.customers)}
    model = model_folder(args.work, folders[min(folders)], args.trees)
    rows = [
        run_child(folder, model, args.share, args.chunk, args.work) for folder in folders.values()
    ]
    rows += [run_child(folders[min(folders)], model, args.share, c, args.work) for c in args.chunks]
    (args.work / "bench_scoring.json").write_text(json.dumps(rows, indent=2))
    print(report(rows))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        data, model, share, chunk, out = sys.argv[2:7]
        figures = measure(Path(data), Path(model), float(share), int(chunk), Path(out))
        print(json.dumps(figures))
    else:
        main()
