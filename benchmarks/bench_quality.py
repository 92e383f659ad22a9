"""Benchmark model quality against plain references, on data the project did not write too.

    python benchmarks/bench_quality.py [--customers 6000] [--only cdnow ...] [--json F] [--set k=v]

Prints one table per data set: ROC-AUC, PR-AUC, lift at 10% and precision at K
(``evaluation.call_list_capacity``, 500) of six models scored on the same
out-of-time test cohort by the project's ``compare_models``:

- ``lightgbm``, ``logistic``, ``rules``, ``btyd``: the project's own code path
  (``build_cohorts`` -> ``fit_models`` -> ``compare_models``), params defaults
  plus the overrides printed with each data set (``--set`` adds more to every
  set); ``btyd`` is the product's BG/NBD (models/btyd.py), fitted on the
  training months;
- ``btyd_lifetimes`` (BG/NBD from ``lifetimes`` fitted at each test as-of) and
  ``reference`` (a plain LightGBM on recency/frequency windows trained on every
  matured month): built outside the project, in ``quality_references.py``.

Beside each model, LightGBM minus that model on ROC-AUC and PR-AUC with the
95% interval of a paired bootstrap over the test customers (models/uncertainty.py,
the same figures the report shows): an interval that holds 0 means the
difference on this data set may be chance.

Data sets: CDNOW (the real purchase log in the ``lifetimes`` wheel, 23,570
customers, 1997-01..1998-06, open_date = first purchase, amount = commission =
dollar value, dormancy label, test as-of 1997-12-31); the demo simulator
(``--customers`` accounts, default 6,000 to keep the whole run near 10 minutes
on 2 cores; the default book has 20,000) under seeds 1, 2 and 3; and three
regimes that differ from the default: a 12-month bear spell over the last
months, 80% silent leavers, and a 12-month history exported without balances
and events. Nothing here is tuned to the simulator: every model keeps the
project's or the library's defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

# OpenMP threads that sleep when idle: on a shared machine spinning ones slow LightGBM many
# times over (results are the same either way).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from quality_references import Precomputed, btyd_scores, reference_scores
from rich.console import Console

from models.evaluation import compare_models
from pipeline.cohorts.cohorts import build_cohorts
from pipeline.core.params import load_params
from pipeline.data.loader import tables_from_frames
from pipeline.demo import simulate

METRICS = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "lift_at_10pct": "lift@10%"}
SHORT_HISTORY = ["snapshots.min_history_months=1", "split.validation_months=1"]
CDNOW_OVERRIDES = [
    "label.definition=dormancy",
    "label.horizon_months=3",
    *SHORT_HISTORY,
    "split.test_months=1",
    "split.test_end=1997-12",
]


@dataclass
class DataSet:
    """A named data set: how to make its frames and the params overrides it runs with."""

    name: str
    frames: Callable[[int], dict[str, pd.DataFrame]]
    overrides: list[str] = field(default_factory=list)


def cdnow_frames(_customers: int) -> dict[str, pd.DataFrame]:
    """Return CDNOW as the contract's customers and trades (open_date = first purchase)."""
    path = resources.files("lifetimes") / "datasets" / "CDNOW_master.txt"
    with resources.as_file(path) as file:
        log = pd.read_csv(file, sep=r"\s+", dtype={"customer_id": str, "date": str})
    log["trade_date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    first = log.groupby("customer_id")["trade_date"].min()
    customers = pd.DataFrame(
        {"customer_id": first.index, "open_date": first.to_numpy(), "closed_date": pd.NaT}
    )
    trades = pd.DataFrame(
        {
            "customer_id": log["customer_id"],
            "trade_date": log["trade_date"],
            "amount": log["dollar_value"],
            "commission": log["dollar_value"],
        }
    )
    return {"customers": customers, "trades": trades}


def demo_frames(seed: int, months: int = 36, drop: tuple[str, ...] = (), **regime):
    """Return a function making a simulated book of ``customers`` accounts."""

    def frames(customers: int) -> dict[str, pd.DataFrame]:
        book = simulate(customers, months, seed, "2021-01", **regime)
        return {name: frame for name, frame in book.items() if name not in drop}

    return frames


DATASETS = [
    DataSet("cdnow", cdnow_frames, CDNOW_OVERRIDES),
    DataSet("demo_s1", demo_frames(1)),
    DataSet("demo_s2", demo_frames(2)),
    DataSet("demo_s3", demo_frames(3)),
    DataSet("long_bear", demo_frames(1, bear_spell_months=12)),
    DataSet("silent_leavers", demo_frames(1, silent_leaver_share=0.8)),
    DataSet(
        "short_no_balances_events",
        demo_frames(1, months=12, drop=("balances", "events")),
        [*SHORT_HISTORY, "split.test_months=1"],
    ),
]


def evaluate(data: DataSet, customers: int, extra: list[str] | None = None) -> dict:
    """Train and compare the models on one data set; return its metrics and timing."""
    started = time.perf_counter()
    params = load_params(None, [*data.overrides, *(extra or [])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = tables_from_frames(data.frames(customers), params).tables
        cohorts = build_cohorts(tables, params)
    from features.builder.registry import model_feature_columns
    from pipeline.training.fit import fit_models

    columns = model_feature_columns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN columns in the imputer of the logistic model
        fitted = fit_models(cohorts, columns, params, Console(quiet=True))
    test = cohorts.test
    test_months = sorted(pd.DatetimeIndex(test["as_of"].unique()))
    models = dict(fitted.models)
    models["btyd_lifetimes"] = Precomputed(
        btyd_scores(tables, test_months, params.label.horizon_months)
    )
    models["reference"] = Precomputed(reference_scores(tables, test_months, params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = compare_models(
            models,
            test,
            test["label"],
            feature_columns=columns,
            evaluation=params.evaluation,
            rule_alerts=fitted.rules.alerts(test),
        )
    table = comparison.metrics[[*METRICS, "precision_at_k"]].astype("float64")
    return {
        "data": data.name,
        "overrides": [*data.overrides, *(extra or [])],
        "accounts": len(tables.customers),
        "test_as_of": [m.date().isoformat() for m in test_months],
        "test_rows": comparison.rows,
        "churn_rate": comparison.churn_rate,
        "k": comparison.call_list_capacity,
        "train_rows": len(cohorts.train),
        "seconds": time.perf_counter() - started,
        "metrics": table.round(4).to_dict(orient="index"),
        "differences": comparison.differences_json(),
    }


def render(result: dict) -> str:
    """Return one data set's side-by-side table as Markdown, with the lead's differences."""
    header = (
        f"**{result['data']}**: {result['accounts']:,} accounts, "
        f"test {', '.join(result['test_as_of'])}, "
        f"{result['test_rows']:,} rows, churn rate {result['churn_rate']:.3f}, "
        f"{result['train_rows']:,} training rows, {result['seconds']:.0f} s"
        + (f"; `--set {' '.join(result['overrides'])}`" if result["overrides"] else "")
    )
    lead = result["differences"]["lead"]
    names = [*METRICS.values(), f"precision@{result['k']}"]
    names += [f"{lead} minus, ROC-AUC [95%]", f"{lead} minus, PR-AUC [95%]"]
    lines = [header, "", "| model | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for model, values in result["metrics"].items():
        cells = [f"{v:.3f}" for v in values.values()]
        cells += [difference_cell(result, model, metric) for metric in ("roc_auc", "pr_auc")]
        lines.append(f"| {model} | {' | '.join(cells)} |")
    return "\n".join(lines)


def difference_cell(result: dict, model: str, metric: str) -> str:
    """Return "+0.012 [+0.004, +0.020]" for the lead minus ``model``, or "" for the lead."""
    figures = result["differences"]["against"].get(model, {}).get(metric)
    if not figures:
        return ""
    if figures["low"] is None:
        return f"{figures['difference']:+.3f}"
    return f"{figures['difference']:+.3f} [{figures['low']:+.3f}, {figures['high']:+.3f}]"


def summary(results: list[dict]) -> str:
    """Return the one-line-per-data-set table: ROC-AUC / PR-AUC of every model, best in bold.

    The last two columns give the lead (LightGBM) minus the best other model on each
    measure, with the paired bootstrap interval: where it holds 0 the order may be chance.
    """
    models = list(results[0]["metrics"])
    head = ["data set", *models, "minus best other, ROC-AUC", "minus best other, PR-AUC"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for result in results:
        metrics = result["metrics"]
        best = {m: max(v[m] for v in metrics.values()) for m in ("roc_auc", "pr_auc")}
        cells = [
            " / ".join(
                f"**{values[m]:.3f}**" if values[m] == best[m] else f"{values[m]:.3f}"
                for m in ("roc_auc", "pr_auc")
            )
            for values in metrics.values()
        ]
        lead = result["differences"]["lead"]
        for metric in ("roc_auc", "pr_auc"):
            others = {k: v[metric] for k, v in metrics.items() if k != lead}
            rival = max(others, key=others.get)
            cells.append(f"{difference_cell(result, rival, metric)} ({rival})")
        lines.append(f"| {result['data']} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> None:
    """Run the chosen data sets and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=6000, help="demo accounts per book")
    parser.add_argument("--only", nargs="*", help="data set names (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], help="params override for every set"
    )
    args = parser.parse_args()
    chosen = [d for d in DATASETS if not args.only or d.name in args.only]
    results = []
    for data in chosen:
        result = evaluate(data, args.customers, args.sets)
        print(render(result), "\n", flush=True)
        results.append(result)
    print(summary(results), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
