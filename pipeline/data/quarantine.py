"""Rejected rows: why each was rejected, the quarantine files, and the load report.

A row that breaks a row rule is never dropped silently: it is written, with its
columns as read plus ``reason`` and ``source_row``, to ``<rejected_dir>/<table>.parquet``
and counted per table and rule in the :class:`LoadReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.atomic import atomic_write_parquet
from pipeline.core.errors import DataContractError

REJECTED_SHARE_RULE = "rejected share above validation.max_rejected_share"
AFTER_END = "after observation_end"
"""The end of the reason of rows dated after the observation end (pipeline/data/validation.py)."""


class RowProblems:
    """The row-rule violations of one table: for each reason, the 0-based rows breaking it."""

    def __init__(self, n_rows: int):
        self.n_rows = n_rows
        self._rows: dict[str, np.ndarray] = {}
        self.repeated = 0

    def note_repeated(self, rows: int) -> None:
        """Record rows kept although they repeat an earlier row exactly (reported, not rejected)."""
        self.repeated += rows

    def add(self, reason: str, rows: np.ndarray | pd.Series) -> None:
        """Record that ``rows`` (a boolean mask over the table, or positions) break ``reason``."""
        rows = np.asarray(rows)
        positions = np.flatnonzero(rows) if rows.dtype == bool else np.unique(rows.astype(np.int64))
        if positions.size == 0:
            return
        if reason in self._rows:
            positions = np.union1d(self._rows[reason], positions)
        self._rows[reason] = positions

    def counts(self) -> dict[str, int]:
        """Return the number of rows breaking each reason, most rows first (then by name)."""
        return by_count({reason: int(rows.size) for reason, rows in self._rows.items()})

    def rejected_rows(self) -> np.ndarray:
        """Return the sorted positions of every row breaking at least one rule."""
        if not self._rows:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(list(self._rows.values())))

    def only(self, suffix: str) -> int:
        """Return how many rejected rows break only rules whose reason ends with ``suffix``."""
        others = [rows for reason, rows in self._rows.items() if not reason.endswith(suffix)]
        mine = [rows for reason, rows in self._rows.items() if reason.endswith(suffix)]
        if not mine:
            return 0
        flagged = np.unique(np.concatenate(mine))
        if not others:
            return int(flagged.size)
        return int(np.setdiff1d(flagged, np.concatenate(others), assume_unique=False).size)

    def rejected_mask(self) -> np.ndarray:
        """Return a boolean mask over the table, True for rejected rows."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[self.rejected_rows()] = True
        return mask

    def reasons(self) -> np.ndarray:
        """Return each rejected row's reasons joined by '; ' (in :meth:`rejected_rows` order)."""
        rows = self.rejected_rows()
        joined = np.full(rows.size, "", dtype=object)
        for reason, positions in self._rows.items():
            at = np.searchsorted(rows, positions)
            joined[at] = np.where(joined[at] == "", reason, joined[at] + "; " + reason)
        return joined


@dataclass
class TableReport:
    """What loading did to one table."""

    table: str
    source: str
    rows_read: int
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    rows_rejected: int = 0
    quarantine_path: Path | None = None
    rows_after_end: int = 0
    """Rejected rows whose only fault is a date after the observation end."""
    rows_repeated: int = 0
    """Kept rows that repeat an earlier row in every contract column."""

    @property
    def rows_kept(self) -> int:
        """Rows that passed every rule."""
        return self.rows_read - self.rows_rejected

    @property
    def rejected_share(self) -> float:
        """Share of the rows read that were quarantined as faulty.

        Rows dated after the observation end are quarantined too, but they are not
        faults of the export (the data simply go further), so they do not count here.
        """
        faulty = self.rows_rejected - self.rows_after_end
        return faulty / self.rows_read if self.rows_read else 0.0


@dataclass
class LoadReport:
    """Counts per table and rule, warnings and the observation end of one load."""

    tables: dict[str, TableReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    observation_end: pd.Timestamp | None = None
    observation_rule: str = ""
    seconds: float = 0.0
    closed_after: int = 0
    """Accounts with a closed_date after the observation end (open at the end)."""
    opened_after: int = 0
    """Accounts opened after the observation end (in no as-of month)."""
    layout: str = ""
    """How the rows were held, when not as one partition in memory (the local engine on disk)."""

    def render(self) -> str:
        """Return the report as aligned plain text for the terminal."""
        lines = [f"{'table':<10} {'rows read':>12} {'kept':>12} {'rejected':>10}  source"]
        for t in self.tables.values():
            lines.append(
                f"{t.table:<10} {t.rows_read:>12,} {t.rows_kept:>12,} {t.rows_rejected:>10,}"
                f"  {t.source}"
            )
        for t in self.tables.values():
            if t.rows_rejected:
                where = t.quarantine_path or "not written (no rejected folder)"
                lines.append(f"rejected from {t.table} ({t.rejected_share:.2%}) -> {where}")
                lines += [f"  {count:>10,}  {rule}" for rule, count in t.rejected_by_rule.items()]
        for t in self.tables.values():
            if t.rows_repeated:
                lines.append(
                    f"warning: {t.rows_repeated:,} rows of {t.table} repeat an earlier row in "
                    "every column; kept (validation.duplicate_rows=quarantine drops the copies)"
                )
        lines += [f"warning: {w}" for w in self.warnings]
        end = self.observation_end.date() if self.observation_end is not None else "unknown"
        lines.append(f"observation_end: {end}   (loaded and validated in {self.seconds:.1f} s)")
        if self.observation_rule:
            lines.append(f"  set by {self.observation_rule}")
        if self.layout:
            lines.append(self.layout)
        return "\n".join(lines)


def by_count(counts: dict[str, int]) -> dict[str, int]:
    """Order rule counts most rows first, then by name: the same order however rows were split."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


QUARANTINE_COLUMNS = ("reason", "source_row")


def quarantine_frame(
    raw: pd.DataFrame, problems: RowProblems, source_rows: np.ndarray | None = None
) -> pd.DataFrame:
    """Return the rejected rows as read, plus ``reason`` and ``source_row`` (0-based input row).

    ``source_rows`` maps the rows of ``raw`` to their positions in the whole table when
    ``raw`` is one partition of it; None: ``raw`` is the whole table.

    An input column that already bears one of those names is kept as ``input_<name>``
    (``input_input_<name>`` if that is taken too), so nothing of the row is lost.
    """
    rows = problems.rejected_rows()
    frame = raw.iloc[rows].reset_index(drop=True)
    frame = frame.rename(columns=_free_names(list(frame.columns)))
    for name in [c for c in frame.columns if frame[c].dtype == "object"]:
        # Mixed Python objects (e.g. 12.5 next to "abc") cannot go to Parquet as they are.
        frame[name] = frame[name].astype("str")
    for name in [c for c in frame.columns if _is_text_category(frame[c])]:
        # Text as text, however it was held (ids as codes into every customer's id).
        frame[name] = frame[name].astype("str")
    frame["reason"] = pd.Series(problems.reasons(), dtype="str")
    frame["source_row"] = rows if source_rows is None else source_rows[rows]
    return frame


def _is_text_category(values: pd.Series) -> bool:
    dtype = values.dtype
    return isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
        dtype.categories.dtype
    )


def _free_names(columns: list[str]) -> dict[str, str]:
    renamed = {}
    for name in QUARANTINE_COLUMNS:
        if name in columns:
            free = f"input_{name}"
            while free in columns or free in renamed.values():
                free = f"input_{free}"
            renamed[name] = free
    return renamed


def write_quarantine(
    table: str,
    raw: pd.DataFrame,
    problems: RowProblems,
    rejected_dir: Path | None,
    source_rows: np.ndarray | None = None,
) -> Path | None:
    """Write the rejected rows of one table to ``<rejected_dir>/<table>.parquet``.

    A table without rejected rows gets no file, and a stale file from an earlier
    run in the same folder is removed, so the folder always describes this load.

    Returns:
        The quarantine file, or None when nothing was written.
    """
    if rejected_dir is None:
        return None
    path = Path(rejected_dir) / f"{table}.parquet"
    if not problems.counts():
        path.unlink(missing_ok=True)
        return None
    return atomic_write_parquet(quarantine_frame(raw, problems, source_rows), path)


def quarantine_tables(
    raw: dict[str, pd.DataFrame],
    problems: dict[str, RowProblems],
    sources: dict[str, str],
    rejected_dir: Path | str | None,
    table_names: tuple[str, ...] = (),
    source_rows: dict[str, np.ndarray] | None = None,
) -> LoadReport:
    """Write every table's quarantine file and return the report of rows read and rejected.

    Args:
        raw: each loaded table as read (rows in input order).
        problems: each loaded table's row problems.
        sources: where each table was read from.
        rejected_dir: the quarantine folder; None writes nothing. Stale files of
            tables that are clean this time are removed.
        table_names: every table name; stale files of those absent this time are removed too.
        source_rows: per table, each row's position in the whole table when ``raw`` is one
            partition of customers (None: the rows of ``raw``).
    """
    folder = Path(rejected_dir) if rejected_dir is not None else None
    report = LoadReport()
    for name, frame in raw.items():
        table_problems = problems[name]
        rows = None if source_rows is None else source_rows[name]
        path = write_quarantine(name, frame, table_problems, folder, rows)
        report.tables[name] = TableReport(
            name,
            sources[name],
            len(frame),
            table_problems.counts(),
            len(table_problems.rejected_rows()),
            path,
            table_problems.only(AFTER_END),
            table_problems.repeated,
        )
    absent = [name for name in table_names if name not in raw]
    for name in absent if folder is not None else ():
        (folder / f"{name}.parquet").unlink(missing_ok=True)
    return report


def check_rejected_share(reports: dict[str, TableReport], max_share: float) -> None:
    """Fail when any table lost more than ``max_share`` of its rows to quarantine.

    Raises:
        DataContractError: naming the first such table, with counts per rule and
            the quarantine file.
    """
    for report in reports.values():
        if report.rejected_share <= max_share:
            continue
        rules = ", ".join(f"{rule}: {n:,}" for rule, n in report.rejected_by_rule.items())
        where = report.quarantine_path or "not written (no rejected folder given)"
        detail = (
            f"{report.rows_rejected:,} of {report.rows_read:,} rows ({report.rejected_share:.2%}) "
            f"rejected, limit {max_share:.2%}; {rules}; quarantine: {where}"
        )
        raise DataContractError(report.table, None, REJECTED_SHARE_RULE, detail)
