"""What one measurement of benchmarks/bench_scoring.py reports: the job's figures, and the
contributions explained both ways on the same accounts."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scoring_setup import AS_OF

SAMPLE_EXPLAINED = 3000  # accounts explained both ways to compare the contributions' cost


def compared_contributions(tables, packaged, params) -> dict:
    """Explain the same accounts with LightGBM's pred_contrib and with the path tables.

    CPU milliseconds per account of each, the path tables' one-off build apart, and
    the share of accounts whose strongest feature agrees (after the job's peaks).
    """
    from features.builder.build import build_feature_matrix
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from pipeline.cohorts.chunks import customer_chunks
    from pipeline.scoring.model import scoring_model

    first = customer_chunks(tables, 4 * SAMPLE_EXPLAINED).tables_of(0)
    rows = build_feature_matrix(first, [pd.Timestamp(AS_OF)], params).head(SAMPLE_EXPLAINED)
    scorer = scoring_model(packaged, params, model_feature_columns(), builder_version())
    cpu = time.process_time()
    exact = scorer.churn.contributions(rows).to_numpy()
    exact_cpu = time.process_time() - cpu
    cpu = time.process_time()
    scorer.contributions(rows)  # builds the path tables
    first_cpu = time.process_time() - cpu
    cpu = time.process_time()
    ours = scorer.contributions(rows)
    ours_cpu = time.process_time() - cpu
    n = len(rows)
    features = len(scorer.feature_columns)
    return {
        "sample_explained": n,
        "pred_contrib_ms_per_account": 1000 * exact_cpu / n,
        "path_tables_ms_per_account": 1000 * ours_cpu / n,
        "path_tables_build_cpu_seconds": first_cpu - ours_cpu,
        "top_feature_agreement": float(
            np.mean(exact[:, :features].argmax(1) == ours[:, :features].argmax(1))
        ),
        "max_contribution_difference": float(np.abs(exact - ours).max()),
    }


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
