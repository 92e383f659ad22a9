"""The panel's quantities: one chunk of customers' rows scattered into month x customer arrays.

Per chunk of customers each quantity becomes a ``[month x customer]`` float64
array built with ``np.bincount`` on ``month_position * n_chunk + local_customer``,
over the month grid of the as-of plan (features/builder/panel.py), which has
already cut off every row dated after the last as-of month end.
"""

from __future__ import annotations

import numpy as np

from features.builder.panel import AsOfPlan
from features.builder.rows import ActivityRows
from features.builder.windows import Clock, Monthly
from pipeline.core.contract import EVENT_TYPES, SECURITY_TYPES

_TRADE_SUMS = ("trades_monthly", "traded_amount_monthly", "commission_monthly")


TRADE_DAY_QUANTITIES = (
    "trade_days_monthly",
    "first_trade_day_monthly",
    "last_trade_day_monthly",
    "trade_gaps_monthly",
    "trade_gap_days_monthly",
    "trade_gap_squares_monthly",
)


TRADE_MIX_QUANTITIES = tuple(f"{kind}_amount_monthly" for kind in SECURITY_TYPES)


_FLOWS = ("inflow_monthly", "outflow_monthly", "inflow_count_monthly", "outflow_count_monthly")


_BALANCES = ("cash_monthly", "market_value_monthly", "assets_monthly")


_EVENTS = tuple(f"{kind}s_monthly" for kind in EVENT_TYPES)


TABLE_QUANTITIES: dict[str, tuple[str, ...]] = {
    "trades": _TRADE_SUMS + TRADE_MIX_QUANTITIES + TRADE_DAY_QUANTITIES,
    "transfers": (*_FLOWS, "net_flow_monthly", "last_transfer_day_monthly"),
    "balances": _BALANCES,
    "events": _EVENTS,
}
"""The monthly quantities the panel derives from each activity table (features' input names).

Day-level ones, per month: distinct trade days, the first and last trade day (epoch days,
NaN without a trade), and the gaps in days between consecutive distinct trade days of a
customer, each gap counted in the month of its later day (count, sum, sum of squares); the
last transfer day.
"""


_DAY_BITS = 5  # a trade-day bitmap holds 2**5 = 32 day-of-month slots per cell


def chunk_panel(
    plan: AsOfPlan,
    rows: dict[str, ActivityRows],
    attributes: dict[str, np.ndarray],
    chunk: int,
    lo: int,
    hi: int,
) -> dict[str, object]:
    """Return the named panel quantities of customers ``lo:hi`` (the features' inputs).

    Args:
        plan: the as-of plan.
        rows: the prepared activity tables (:func:`activity_rows`).
        attributes: :func:`customer_attributes` of all customers.
        chunk: the chunk number.
        lo: first customer of the chunk.
        hi: one past its last customer.
    """
    clock = Clock(plan.positions, plan.history[:, lo:hi])
    grid = _Grid(plan, clock, hi - lo)
    panel: dict[str, object] = {"history_months": clock.history.astype(np.float64)}
    panel.update(_trade_quantities(grid, rows.get("trades"), chunk, lo))
    panel.update(_transfer_quantities(grid, rows.get("transfers"), chunk, lo))
    panel.update(_balance_quantities(grid, rows.get("balances"), chunk, lo))
    panel.update(_event_quantities(grid, rows.get("events"), chunk, lo))
    panel.update({name: values[lo:hi] for name, values in attributes.items()})
    panel["as_of_year"] = plan.as_of.year.to_numpy(dtype=np.float64)[:, None]
    as_of_day = plan.as_of.to_numpy().astype("datetime64[D]").astype(np.int64)
    panel["as_of_day"] = as_of_day.astype(np.float64)[:, None]
    return panel


class _Grid:
    """Scatters one chunk's rows into dense month x customer arrays."""

    def __init__(self, plan: AsOfPlan, clock: Clock, n: int):
        self.plan, self.clock, self.n = plan, clock, n
        self.cells = plan.n_months * n

    def cells_of(self, table: ActivityRows, chunk: int, lo: int):
        """Return the flat cell index and the kept row positions of a table's rows in this chunk."""
        selection = table.partition.rows(chunk)
        positions, keep = self.plan.grid_positions(table.dates[selection])
        if keep is not None:
            if isinstance(selection, slice):
                selection = np.arange(selection.start, selection.stop)
            selection, positions = selection[keep], positions[keep]
        positions *= self.n
        positions += table.customer_idx[selection]
        positions -= lo
        return positions, selection

    def summed(self, flat: np.ndarray, weights=None, kinds: int = 1) -> list[Monthly]:
        """Sum rows per cell (weights None counts rows); ``kinds`` stacks flat + kind * cells."""
        total = np.bincount(flat, weights=weights, minlength=kinds * self.cells)
        shape = (kinds, self.plan.n_months, self.n)
        total = total.astype(np.float64, copy=False).reshape(shape)
        return [Monthly(part, self.clock) for part in total]

    def missing(self) -> Monthly:
        """Return a quantity whose table was not given."""
        return Monthly(None, self.clock)


def _trade_quantities(grid: _Grid, table: ActivityRows | None, chunk: int, lo: int):
    names, mix = _TRADE_SUMS, TRADE_MIX_QUANTITIES
    if table is None:
        return {name: grid.missing() for name in names + mix + TRADE_DAY_QUANTITIES}
    flat, rows = grid.cells_of(table, chunk, lo)
    amount = table.columns["amount"][rows]
    (count,) = grid.summed(flat)
    (traded,) = grid.summed(flat, amount)
    (commission,) = grid.summed(flat, table.columns["commission"][rows])
    out = dict(zip(names, (count, traded, commission), strict=True))
    if "security_type" in table.columns:
        kind = table.columns["security_type"][rows].astype(np.int64)
        by_kind = grid.summed(flat + kind * grid.cells, amount, len(SECURITY_TYPES) + 1)
        out.update(zip(mix, by_kind[: len(SECURITY_TYPES)], strict=True))
    else:
        out.update({name: grid.missing() for name in mix})
    out.update(_trade_day_quantities(grid, flat, grid.plan.days_of_month(table.dates[rows])))
    return out


def _trade_day_quantities(grid: _Grid, flat: np.ndarray, days_of_month: np.ndarray):
    """Distinct trade days per cell, their first and last day, and the gaps between them.

    A bitmap over (cell, day of month) is a counting sort: its set bits, read in order, are
    each cell's distinct trade days in date order, without sorting rows. Gaps inside a month
    come from neighbouring bits of one cell; the gap into a month runs from the latest trade
    day of the months before to the month's first.
    """
    plan, shape = grid.plan, (grid.plan.n_months, grid.n)
    bitmap = np.zeros(grid.cells << _DAY_BITS, dtype=bool)
    bitmap[(flat << _DAY_BITS) + days_of_month] = True
    distinct = np.flatnonzero(bitmap)
    cell = distinct >> _DAY_BITS
    day_of_month = (distinct & ((1 << _DAY_BITS) - 1)).astype(np.float64)
    starts = np.ones(len(cell), dtype=bool)
    starts[1:] = cell[1:] != cell[:-1]
    ends = np.ones(len(cell), dtype=bool)
    ends[:-1] = starts[1:]
    month_first_day = (plan.month_start + plan.first_day).astype(np.float64)[:, None]
    first, last = np.full(grid.cells, np.nan), np.full(grid.cells, np.nan)
    first[cell[starts]] = day_of_month[starts]
    last[cell[ends]] = day_of_month[ends]
    first, last = first.reshape(shape) + month_first_day, last.reshape(shape) + month_first_day
    inside = ~starts[1:]
    gap, gap_cell = (day_of_month[1:] - day_of_month[:-1])[inside], cell[1:][inside]
    into = first - _latest_before(last)  # NaN without an earlier trade day
    crossing = ~np.isnan(into)
    into = np.where(crossing, into, 0.0)
    counts = np.bincount(gap_cell, minlength=grid.cells).reshape(shape) + crossing
    sums = np.bincount(gap_cell, gap, minlength=grid.cells).reshape(shape) + into
    squares = np.bincount(gap_cell, gap * gap, minlength=grid.cells).reshape(shape) + into * into
    (trade_days,) = grid.summed(cell)
    arrays = (first, last, counts.astype(np.float64), sums, squares)
    return dict(
        zip(
            TRADE_DAY_QUANTITIES,
            (trade_days, *(Monthly(a, grid.clock) for a in arrays)),
            strict=True,
        )
    )


def _latest_before(last: np.ndarray) -> np.ndarray:
    """Return, per month row, the latest non-missing value of the rows before it (NaN if none)."""
    before = np.full_like(last, np.nan)
    for month in range(1, len(last)):
        np.fmax(before[month - 1], last[month - 1], out=before[month])
    return before


def _transfer_quantities(grid: _Grid, table: ActivityRows | None, chunk: int, lo: int):
    names = _FLOWS
    if table is None:
        return {name: grid.missing() for name in TABLE_QUANTITIES["transfers"]}
    flat, rows = grid.cells_of(table, chunk, lo)
    stacked = flat + table.columns["direction"][rows].astype(np.int64) * grid.cells
    inflow, outflow = grid.summed(stacked, table.columns["amount"][rows], 2)
    counts = grid.summed(stacked, None, 2)
    out = dict(zip(names, (inflow, outflow, *counts), strict=True))
    out["net_flow_monthly"] = Monthly(inflow.values - outflow.values, grid.clock)
    last = np.full(grid.cells, -np.inf)
    days = grid.plan.day_offsets(table.dates[rows]) + grid.plan.first_day
    np.maximum.at(last, flat, days.astype(np.float64))
    last[np.isinf(last)] = np.nan
    out["last_transfer_day_monthly"] = Monthly(last.reshape(grid.plan.n_months, grid.n), grid.clock)
    return out


def _balance_quantities(grid: _Grid, table: ActivityRows | None, chunk: int, lo: int):
    names = _BALANCES
    if table is None:
        return {name: grid.missing() for name in names}
    flat, rows = grid.cells_of(table, chunk, lo)
    arrays = []
    for column in ("cash", "market_value"):
        dense = np.full(grid.cells, np.nan)
        dense[flat] = table.columns[column][rows]
        arrays.append(dense.reshape(grid.plan.n_months, grid.n))
    # A month without a balance row stays NaN: unknown assets, not zero.
    arrays.append(arrays[0] + arrays[1])
    return {name: Monthly(a, grid.clock) for name, a in zip(names, arrays, strict=True)}


def _event_quantities(grid: _Grid, table: ActivityRows | None, chunk: int, lo: int):
    names = _EVENTS
    if table is None:
        return {name: grid.missing() for name in names}
    flat, rows = grid.cells_of(table, chunk, lo)
    stacked = flat + table.columns["event_type"][rows].astype(np.int64) * grid.cells
    return dict(zip(names, grid.summed(stacked, None, len(EVENT_TYPES)), strict=True))
