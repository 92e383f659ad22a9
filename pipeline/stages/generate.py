"""`churn generate`: write the built-in demo data (all five contract tables)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from pipeline.core.calendar import to_month_end
from pipeline.core.errors import ChurnError
from pipeline.demo import simulate_tables
from pipeline.demo.summary import yearly_churn_rate
from pipeline.demo.writer import FORMATS, check_replaceable, write_tables_atomically
from pipeline.stages.progress import stage_console

console = stage_console(soft_wrap=True)


def generate_stage(
    out: Path,
    *,
    customers: int,
    months: int,
    seed: int,
    start: str,
    fmt: str = "parquet",
    bear_spell_months: int = 0,
    silent_leaver_share: float | None = None,
) -> Path:
    """Simulate a brokerage's book and write its tables into ``out``, atomically.

    Prints the rows of each table and the simulated yearly churn rate.

    Args:
        out: data folder to create or replace (it may only hold contract tables).
        customers: accounts in the book.
        months: simulated months of history.
        seed: random seed; the same arguments write the same bytes.
        start: first simulated month, ``YYYY-MM``.
        fmt: ``parquet`` or ``csv``.
        bear_spell_months: one bear spell over the last this many months
            (``data.demo.bear_spell_months``; 0: the drawn market path).
        silent_leaver_share: share of leavers who close without draining first
            (``data.demo.silent_leaver_share``; None: the simulator's default).

    Returns:
        The folder written.

    Raises:
        ChurnError: an invalid argument, or ``out`` holds files other than tables.
    """
    _check_arguments(customers=customers, months=months, start=start, fmt=fmt)
    if bear_spell_months > months:
        raise ChurnError(
            f"data.demo.bear_spell_months={bear_spell_months} is longer than the "
            f"{months} simulated months"
        )
    out = Path(out)
    check_replaceable(out)
    captured: dict[str, pa.Table] = {}
    book = simulate_tables(
        customers,
        months,
        seed,
        start,
        bear_spell_months=bear_spell_months,
        silent_leaver_share=silent_leaver_share,
    )
    chunks = _capture_customers(book, captured)
    rows = write_tables_atomically(out, chunks, fmt)
    for table, count in rows.items():
        console.print(f"{table:<10} {count:>13,} rows")
    rate = yearly_churn_rate(captured["customers"], start, months)
    console.print(
        f"simulated yearly churn rate {rate.yearly:.1%} "
        f"({rate.closures:,} closures over {rate.account_years:,.0f} account-years)"
    )
    console.print(f"wrote {out} ({fmt})", markup=False)
    return out


def _check_arguments(*, customers: int, months: int, start: str, fmt: str) -> None:
    if customers < 1:
        raise ChurnError(f"--customers must be at least 1, not {customers}")
    if months < 1:
        raise ChurnError(f"--months must be at least 1, not {months}")
    if fmt not in FORMATS:
        raise ChurnError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        to_month_end(start)
    except ValueError as exc:
        raise ChurnError(f"--start must be a month, YYYY-MM, not {start!r} ({exc})") from None


def _capture_customers(
    chunks: Iterable[tuple[str, pa.Table]], captured: dict[str, pa.Table]
) -> Iterator[tuple[str, pa.Table]]:
    for name, table in chunks:
        if name == "customers":
            captured[name] = table
        yield name, table
