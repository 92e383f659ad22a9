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
- ``btyd_lifetimes``: BG/NBD (``lifetimes.BetaGeoFitter``) fitted at each test as-of T on
  the trades up to T (days; birth = first trade, or the opening for accounts
  without one), scored as the probability of no trade in the next H months:
  ``1 - P(alive) + P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x)``;
- ``reference``: a plain LightGBM (300 trees, no early stopping, no
  calibration) on recency/frequency windows of trades, trained on every as-of
  month end whose label window ends on or before the first test month; simple
  on purpose.

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
import contextlib
import io
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

# OpenMP threads that sleep when idle: on a shared machine spinning ones slow LightGBM many
# times over (results are the same either way).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import ConvergenceError
except ImportError as exc:  # pragma: no cover - a benchmark dependency, not the package's
    raise SystemExit(
        "bench_quality.py needs lifetimes for the BG/NBD baseline and the CDNOW data: "
        ".venv/bin/pip install lifetimes"
    ) from exc

from rich.console import Console

from models.evaluation import compare_models
from pipeline.cohorts.cohorts import build_cohorts
from pipeline.cohorts.labels import make_labels
from pipeline.core.calendar import add_months
from pipeline.core.params import Params, load_params
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


class Precomputed:
    """A model-like wrapper of scores computed outside the project, looked up by row keys."""

    def __init__(self, scores: pd.Series):
        """Keep scores indexed by (customer_id, as_of)."""
        self.scores = scores

    def predict_proba(self, cohort: pd.DataFrame) -> np.ndarray:
        """Return [1 - p, p] for the cohort's rows."""
        keys = pd.MultiIndex.from_arrays([cohort["customer_id"].astype(str), cohort["as_of"]])
        p = self.scores.reindex(keys).to_numpy(dtype="float64")
        if np.isnan(p).any():
            raise ValueError("a cohort row has no precomputed score")
        return np.column_stack([1.0 - p, p])


def trade_days(tables) -> tuple[np.ndarray, np.ndarray]:
    """Return each trade's customer index and epoch day."""
    trades = tables.trades
    days = trades["trade_date"].to_numpy("datetime64[D]").astype(np.int64)
    return trades["customer_idx"].to_numpy(np.int64), days


def btyd_scores(tables, test_months, horizon_months: int) -> pd.Series:
    """Fit BG/NBD at each test as-of on trades up to it; P(no trade in the next H months)."""
    idx, days = trade_days(tables)
    n = len(tables.customers)
    opened = tables.customers["open_date"].to_numpy("datetime64[D]").astype(np.int64)
    parts = []
    for as_of in test_months:
        t_day = _epoch_day(as_of)
        horizon = _epoch_day(add_months(as_of, horizon_months)) - t_day
        keep = days <= t_day
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, idx[keep], days[keep])
        last = np.full(n, -1)
        np.maximum.at(last, idx[keep], days[keep])
        distinct = np.unique(idx[keep] * 100_000 + days[keep])
        repeat = np.bincount(distinct // 100_000, minlength=n) - 1.0
        traded = last >= 0
        birth = np.where(traded, first, np.minimum(opened, t_day))
        frequency = np.where(traded, repeat, 0.0)
        recency = np.where(traded, last - first, 0.0).astype(np.float64)
        age = (t_day - birth).astype(np.float64)
        is_open = _open_at(tables.customers, as_of)
        fitter = fit_bgnbd(frequency[is_open], recency[is_open], age[is_open])
        alive = fitter.conditional_probability_alive(frequency, recency, age)
        r, alpha = fitter.params_["r"], fitter.params_["alpha"]
        silent_if_alive = ((alpha + age) / (alpha + age + horizon)) ** (r + frequency)
        p_none = np.clip(1.0 - alive + alive * silent_if_alive, 0.0, 1.0)
        keys = pd.MultiIndex.from_arrays(
            [tables.customers["customer_id"].astype(str), np.repeat(as_of, n)]
        )
        parts.append(pd.Series(p_none, index=keys)[is_open])
    return pd.concat(parts)


PENALIZERS = (0.0, 0.001, 0.01, 0.1)


def fit_bgnbd(frequency, recency, age) -> BetaGeoFitter:
    """Fit BG/NBD unpenalised; on a convergence failure retry with lifetimes' usual penalizers."""
    for penalizer in PENALIZERS:
        fitter = BetaGeoFitter(penalizer_coef=penalizer)
        try:
            # lifetimes prints the optimiser's state when it fails; the retry line says enough.
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                return fitter.fit(frequency, recency, age, verbose=False)
        except ConvergenceError:
            print(f"  BG/NBD did not converge with penalizer {penalizer}; retrying")
    raise RuntimeError("BG/NBD did not converge with any penalizer")


def _epoch_day(stamp) -> int:
    return int(np.datetime64(pd.Timestamp(stamp).date(), "D").astype(np.int64))


def _open_at(customers: pd.DataFrame, as_of) -> np.ndarray:
    closed = customers["closed_date"]
    return ((customers["open_date"] <= as_of) & (closed.isna() | (closed > as_of))).to_numpy()


REFERENCE_WINDOWS = (1, 3, 6, 12)


def reference_features(tables, as_of: pd.Timestamp) -> pd.DataFrame:
    """Recency/frequency windows of trades at one as-of month end, for every customer."""
    idx, days = trade_days(tables)
    amount = tables.trades["amount"].to_numpy(np.float64)
    n = len(tables.customers)
    t_day = _epoch_day(as_of)
    keep = days <= t_day
    idx, days, amount = idx[keep], days[keep], amount[keep]
    columns = {}
    for months in REFERENCE_WINDOWS:
        inside = days > _epoch_day(add_months(as_of, -months))
        columns[f"trades_{months}m"] = np.bincount(idx[inside], minlength=n)
        columns[f"amount_{months}m"] = np.bincount(idx[inside], amount[inside], minlength=n)
    columns["trades_ever"] = np.bincount(idx, minlength=n)
    last = np.full(n, -1)
    np.maximum.at(last, idx, days)
    first = np.full(n, t_day + 1)
    np.minimum.at(first, idx, days)
    columns["days_since_last_trade"] = np.where(last >= 0, t_day - last, np.nan)
    columns["days_since_first_trade"] = np.where(last >= 0, t_day - first, np.nan)
    opened = tables.customers["open_date"].to_numpy("datetime64[D]").astype(np.int64)
    columns["days_since_open"] = t_day - opened
    frame = pd.DataFrame(columns).astype("float64")
    frame.insert(0, "customer_id", tables.customers["customer_id"].astype(str).to_numpy())
    frame.insert(1, "as_of", as_of)
    return frame


def reference_scores(tables, test_months, params: Params) -> pd.Series:
    """Train the plain LightGBM on all matured earlier months; score the test months."""
    import lightgbm

    horizon = params.label.horizon_months
    first_data = tables.trades["trade_date"].min()
    start = pd.offsets.MonthEnd(0).rollforward(first_data.normalize())
    train_months = [
        m
        for m in pd.date_range(start, test_months[0], freq="ME")
        if add_months(m, horizon) <= test_months[0]
    ]
    labelled = make_labels(tables, train_months, params.label)
    rows = pd.concat([reference_features(tables, m) for m in train_months])
    train = labelled.merge(rows, on=["customer_id", "as_of"])
    columns = [c for c in rows.columns if c not in ("customer_id", "as_of")]
    model = lightgbm.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=50,
        num_threads=2,
        verbose=-1,
        random_state=0,
    )
    model.fit(train[columns], train["label"])
    test = pd.concat([reference_features(tables, m) for m in test_months])
    p = model.predict_proba(test[columns])[:, 1]
    return pd.Series(p, index=pd.MultiIndex.from_arrays([test["customer_id"], test["as_of"]]))


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
    }


def render(result: dict) -> str:
    """Return one data set's side-by-side table as Markdown."""
    header = (
        f"**{result['data']}**: {result['accounts']:,} accounts, "
        f"test {', '.join(result['test_as_of'])}, "
        f"{result['test_rows']:,} rows, churn rate {result['churn_rate']:.3f}, "
        f"{result['train_rows']:,} training rows, {result['seconds']:.0f} s"
        + (f"; `--set {' '.join(result['overrides'])}`" if result["overrides"] else "")
    )
    names = [*METRICS.values(), f"precision@{result['k']}"]
    lines = [header, "", "| model | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for model, values in result["metrics"].items():
        cells = " | ".join(f"{v:.3f}" for v in values.values())
        lines.append(f"| {model} | {cells} |")
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
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
