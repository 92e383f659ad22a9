"""The tables benchmarks/bench_scoring.py prints: each step against the pyarrow read, and
the cost of the contributions both ways."""

from __future__ import annotations


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


def report(rows: list[dict]) -> str:
    lines = [
        "| customers (input rows) | open accounts | partitions (workers) | chunk "
        "| pyarrow read s (Arrow GB) | load s "
        "| features s | probabilities s | reasons + write s | to probabilities s (x read) "
        "| with reasons s (x read) | explained | ms / explained | CPU s (x read CPU) "
        "| peak GB (x Arrow) |",
        "|---" * 15 + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} ({r['input_rows'] / 1e6:.1f}M) | {r['accounts']:,} "
            f"| {r.get('partitions', 1)} ({r.get('workers', 1)}) | {r['chunk_customers']:,} "
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


def contributions_report(rows: list[dict]) -> str:
    lines = [
        "| customers | accounts explained both ways | pred_contrib CPU ms / account "
        "| path tables CPU ms / account (x cheaper) | path tables build CPU s "
        "| strongest feature agrees | largest difference |",
        "|---" * 7 + "|",
    ]
    for r in rows:
        if "pred_contrib_ms_per_account" not in r:
            continue
        lines.append(
            f"| {r['customers']:,} | {r['sample_explained']:,} "
            f"| {r['pred_contrib_ms_per_account']:.3f} "
            f"| {r['path_tables_ms_per_account']:.3f} "
            f"({r['pred_contrib_ms_per_account'] / r['path_tables_ms_per_account']:.1f}x) "
            f"| {r['path_tables_build_cpu_seconds']:.1f} | {r['top_feature_agreement']:.2%} "
            f"| {r['max_contribution_difference']:.1e} |"
        )
    return "\n".join(lines)
