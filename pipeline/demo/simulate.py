"""Run the simulator: set up the world, loop over months, hand out the tables.

All accounts move together through each month (see month.py); the month's
rows are yielded as Arrow tables as soon as they exist, so a writer can
stream them to disk and memory stays bounded by about one month of rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.calendar import to_month_end
from pipeline.demo import rows
from pipeline.demo.book import opening_book
from pipeline.demo.churn import silent_shares
from pipeline.demo.days import month_calendar
from pipeline.demo.desk import CallPlan, DeskRecord, call_accounts
from pipeline.demo.market import Market, simulate_market
from pipeline.demo.month import World, simulate_month
from pipeline.demo.population import BRANCHES, draw_population

TABLES = ("customers", "trades", "transfers", "balances", "events")


def simulate_tables(
    customers: int,
    months: int,
    seed: int,
    start: str,
    *,
    bear_spell_months: int = 0,
    silent_leaver_share: float | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(table name, rows)`` month by month, then the customers table.

    Args:
        customers: accounts in the book (open at the start or opening during the period).
        months: simulated months.
        seed: seed of the single random generator; same arguments, same rows.
        start: first simulated month, ``YYYY-MM``.
        bear_spell_months: data.demo.bear_spell_months: one bear spell forced over the last
            this many months (a long bear market); 0 keeps the drawn regimes.
        silent_leaver_share: data.demo.silent_leaver_share: the share of leavers of every
            cause who show no precursor; None keeps the per-cause shares (churn.SILENT_SHARE).
    """
    simulation = Simulation(
        customers,
        months,
        seed,
        start,
        bear_spell_months=bear_spell_months,
        silent_leaver_share=silent_leaver_share,
    )
    for month in range(months):
        yield from simulation.month(month)
    yield "customers", simulation.customers(months)


class Simulation:
    """A simulated book advanced one month at a time, optionally answering call plans.

    :func:`simulate_tables` runs it straight through; the retention loop
    (benchmarks/retention_loop.py) stops after a month, scores the data so far,
    and hands the next month the call plan of the lists it wrote
    (pipeline/demo/desk.py). Without plans the rows are exactly those of
    :func:`simulate_tables`.
    """

    def __init__(
        self,
        customers: int,
        months: int,
        seed: int,
        start: str,
        *,
        bear_spell_months: int = 0,
        silent_leaver_share: float | None = None,
    ):
        """Draw the world and open the book (arguments as :func:`simulate_tables`)."""
        self.rng = _book_generator(seed)
        first_month = np.datetime64(to_month_end(start).strftime("%Y-%m"), "M")
        calendar = month_calendar(first_month, months)
        market = simulated_market(seed, months, bear_spell_months)
        population = draw_population(self.rng, customers, calendar, market)
        self.world = World(
            calendar,
            market,
            population,
            rows.customer_ids(customers),
            silent_shares(silent_leaver_share),
        )
        self.book = opening_book(self.rng, population, market)
        self.desk_rng = np.random.default_rng(seed).spawn(3)[2]
        self.desk = DeskRecord()

    def month(self, month: int, plan: CallPlan | None = None) -> Iterator[tuple[str, pa.Table]]:
        """Simulate one month; with a plan, the desk calls first (``retention_actions`` rows)."""
        if plan is not None:
            yield "retention_actions", call_accounts(
                self.desk_rng, self.world.calendar, self.world.ids, self.book, month, plan,
                self.desk,
            )  # fmt: skip
        yield from simulate_month(self.rng, self.world, self.book, month)

    def customers(self, months_done: int) -> pa.Table:
        """Return the customers table as known after ``months_done`` simulated months."""
        return rows.customer_rows(
            self.world.ids, self.world.population, self.book, months_done, BRANCHES
        )


def simulated_market(seed: int, months: int, bear_spell_months: int = 0) -> Market:
    """Return the market path of a run: it depends on the seed, months and forced bear spell only.

    The market has its own random stream, so books of different sizes simulated
    with one seed live through the same bull and bear spells.
    """
    return simulate_market(np.random.default_rng(seed).spawn(2)[0], months, bear_spell_months)


def _book_generator(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed).spawn(2)[1]


def simulate(
    customers: int,
    months: int,
    seed: int,
    start: str = "2021-01",
    *,
    bear_spell_months: int = 0,
    silent_leaver_share: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Simulate the book in memory and return the five tables as DataFrames.

    Dates are ``datetime64[us]``, ids and labels ``str``; the rows are exactly
    those ``churn generate`` writes for the same arguments. The regime knobs are
    those of :func:`simulate_tables`.
    """
    parts: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
    regime = {"bear_spell_months": bear_spell_months, "silent_leaver_share": silent_leaver_share}
    for name, table in simulate_tables(customers, months, seed, start, **regime):
        parts[name].append(table)
    return {name: _frame(pa.concat_tables(parts[name])) for name in TABLES}


def _frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(date_as_object=False)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].astype("datetime64[us]")
    return frame
