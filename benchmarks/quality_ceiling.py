"""How much of the test months' churn the features can tell at all: models fitted on those months.

    python benchmarks/quality_ceiling.py [--customers 6000] [--only cdnow ...] [--folds 5]
        [--against bench_quality.json] [--json F]

bench_quality.py scores models trained on earlier months (out of time). Here the
same feature matrix of the same test cohort is cross-fitted on its own labels:
the test customers are split into ``--folds`` groups (all months of a customer in
one group), and each group is scored by the project's LightGBM and logistic
regression (params defaults plus the data set's overrides, as in bench_quality)
fitted on the other groups, which hold out a fifth of their customers for early
stopping and calibration. Those models see no change between training and test
months, so their ROC-AUC and PR-AUC estimate what the features carry in those
months: when the out-of-time LightGBM is level with them, no learner or training
scheme will add much on that data set; only new information (new features, new
tables) will. It is an estimate, not a bound: a model trained on many more
earlier rows can come out a little above it.

With ``--against`` (a JSON written by ``bench_quality.py --json``) each row shows
the out-of-time figures beside the ceiling. Nothing is asserted; nothing here is
tuned to a data set.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench_quality.py

from bench_quality import DATASETS, DataSet
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from models.lightgbm_model import ChurnLightGBM
from models.logistic import ChurnLogistic
from pipeline.cohorts.cohorts import build_cohorts
from pipeline.core.params import load_params
from pipeline.data.loader import tables_from_frames

MODELS = {"lightgbm": ChurnLightGBM, "logistic": ChurnLogistic}


def cross_fitted_scores(
    test: pd.DataFrame, columns: list[str], params, folds: int
) -> dict[str, np.ndarray]:
    """Return each model's out-of-fold probability of every test row, folds by customer."""
    groups = test["customer_id"].to_numpy()
    scores = {name: np.full(len(test), np.nan) for name in MODELS}
    for fit_rows, scored_rows in GroupKFold(folds).split(test, groups=groups):
        fit = test.iloc[fit_rows]
        inner = GroupShuffleSplit(1, test_size=0.2, random_state=params.model.seed)
        train_rows, stop_rows = next(inner.split(fit, groups=fit["customer_id"]))
        train, stop = fit.iloc[train_rows], fit.iloc[stop_rows]
        scored = test.iloc[scored_rows]
        for name, model in MODELS.items():
            fitted = model.from_params(params.model, columns).fit(
                train, train["label"], eval_set=(stop, stop["label"])
            )
            scores[name][scored_rows] = fitted.predict_proba(scored)[:, 1]
    return scores


def ceiling(data: DataSet, customers: int, folds: int) -> dict:
    """Return the cross-fitted ROC-AUC and PR-AUC of both models on one data set's test rows."""
    from features.builder.registry import model_feature_columns

    params = load_params(None, data.overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN columns in the logistic model's imputer
        tables = tables_from_frames(data.frames(customers), params).tables
        test = build_cohorts(tables, params).test.reset_index(drop=True)
        scores = cross_fitted_scores(test, model_feature_columns(), params, folds)
    churn = test["label"].to_numpy()
    return {
        "data": data.name,
        "test_rows": len(test),
        "churners": int(churn.sum()),
        "folds": folds,
        "metrics": {
            name: {
                "roc_auc": round(float(roc_auc_score(churn, score)), 4),
                "pr_auc": round(float(average_precision_score(churn, score)), 4),
            }
            for name, score in scores.items()
        },
    }


def render(results: list[dict], against: dict[str, dict]) -> str:
    """Return the table: the ceiling of both models, and the out-of-time figures if given."""
    head = ["data set", "test rows (churners)", "ceiling: lightgbm", "ceiling: logistic"]
    if against:
        head += ["out of time: lightgbm", "out of time: best other", "ceiling minus lightgbm"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for result in results:
        figures = result["metrics"]
        cells = [result["data"], f"{result['test_rows']:,} ({result['churners']:,})"]
        cells += [_pair(figures[name]) for name in MODELS]
        measured = against.get(result["data"])
        if measured:
            lead = measured["metrics"]["lightgbm"]
            others = {k: v for k, v in measured["metrics"].items() if k != "lightgbm"}
            rival = max(others, key=lambda k: others[k]["roc_auc"])
            gap = {m: figures["lightgbm"][m] - lead[m] for m in ("roc_auc", "pr_auc")}
            cells += [_pair(lead), f"{_pair(others[rival])} ({rival})", _pair(gap, signed=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nROC-AUC / PR-AUC."


def _pair(figures: dict, signed: bool = False) -> str:
    form = "{:+.3f}" if signed else "{:.3f}"
    return " / ".join(form.format(figures[m]) for m in ("roc_auc", "pr_auc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=6000, help="demo accounts per book")
    parser.add_argument("--only", nargs="*", help="data set names (default: all)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="a bench_quality.py --json file")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    measured = json.loads(args.against.read_text()) if args.against else []
    against = {result["data"]: result for result in measured}
    chosen = [d for d in DATASETS if not args.only or d.name in args.only]
    results = []
    for data in chosen:
        results.append(ceiling(data, args.customers, args.folds))
        print(render(results[-1:], against), "\n", flush=True)
    print(render(results, against), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
