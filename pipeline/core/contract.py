"""The input data contract (docs/data-contract.md) as data, and the validated tables.

Every command reads its inputs through :func:`pipeline.data.loader.load_tables`, which
checks these schemas; what it returns is a :class:`Tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

CLOSE_REASONS = (
    "identity",
    "relocation",
    "service",
    "big_loss",
    "commission",
    "incentive",
    "poached",
    "relationship",
    "fee_cut_demand",
    "private_fund",
    "other",
)
SECURITY_TYPES = ("stock", "fund", "bond", "other")
SIDES = ("buy", "sell")
DIRECTIONS = ("in", "out")
EVENT_TYPES = ("complaint", "fee_cut_request", "contact")
CHANNELS = ("online", "onsite")
CONTACT_CHANNELS = ("phone", "visit", "message", "email", "other")
OUTCOMES = ("reached", "not_reached", "declined", "retained", "not_contacted")


@dataclass(frozen=True)
class Column:
    """One column of the contract: its kind, whether it must exist and what values are legal."""

    name: str
    kind: str  # "id", "string", "date", "datetime", "float", "int"
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    minimum_inclusive: bool = True


@dataclass(frozen=True)
class TableSchema:
    """One table of the contract."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()
    date_column: str | None = None

    @property
    def required_columns(self) -> list[str]:
        """Names of the columns the file must have."""
        return [c.name for c in self.columns if c.required]


CUSTOMERS = TableSchema(
    "customers",
    required=True,
    unique=("customer_id",),
    columns=(
        Column("customer_id", "id"),
        Column("open_date", "date"),
        Column("closed_date", "date", nullable=True),
        Column("close_reason", "string", required=False, nullable=True, allowed=CLOSE_REASONS),
        Column("branch", "string", required=False, nullable=True),
        Column("birth_year", "int", required=False, nullable=True),
        Column("channel", "string", required=False, nullable=True, allowed=CHANNELS),
        Column("advisor_id", "string", required=False, nullable=True),
    ),
)
TRADES = TableSchema(
    "trades",
    required=True,
    date_column="trade_date",
    columns=(
        Column("customer_id", "id"),
        Column("trade_date", "datetime"),
        Column("security_type", "string", required=False, nullable=True, allowed=SECURITY_TYPES),
        Column("side", "string", required=False, nullable=True, allowed=SIDES),
        Column("amount", "float", minimum=0.0, minimum_inclusive=False),
        Column("commission", "float", minimum=0.0),
    ),
)
TRANSFERS = TableSchema(
    "transfers",
    required=False,
    date_column="transfer_date",
    columns=(
        Column("customer_id", "id"),
        Column("transfer_date", "datetime"),
        Column("direction", "string", allowed=DIRECTIONS),
        Column("amount", "float", minimum=0.0, minimum_inclusive=False),
    ),
)
BALANCES = TableSchema(
    "balances",
    required=False,
    unique=("customer_id", "month_end"),
    date_column="month_end",
    columns=(
        Column("customer_id", "id"),
        Column("month_end", "date"),
        Column("cash", "float", minimum=0.0),
        Column("market_value", "float", minimum=0.0),
    ),
)
EVENTS = TableSchema(
    "events",
    required=False,
    date_column="event_date",
    columns=(
        Column("customer_id", "id"),
        Column("event_date", "datetime"),
        Column("event_type", "string", allowed=EVENT_TYPES),
    ),
)
RETENTION_ACTIONS = TableSchema(
    "retention_actions",
    required=False,
    date_column="action_date",
    columns=(
        Column("customer_id", "id"),
        Column("action_date", "datetime"),
        Column("play", "string", allowed=CLOSE_REASONS),
        Column("channel", "string", required=False, nullable=True, allowed=CONTACT_CHANNELS),
        Column("outcome", "string", required=False, nullable=True, allowed=OUTCOMES),
        Column("control", "bool"),
    ),
)
SCHEMAS: dict[str, TableSchema] = {
    s.name: s for s in (CUSTOMERS, TRADES, TRANSFERS, BALANCES, EVENTS, RETENTION_ACTIONS)
}
INDICATOR_TABLES = ("trades", "transfers", "balances", "events")
"""The account's own activity: what the indicators read and what the observation end counts."""
ACTIVITY_TABLES = (*INDICATOR_TABLES, "retention_actions")
"""Every table keyed by customer and dated: checked, routed and quarantined alike."""


@dataclass(frozen=True)
class Tables:
    """Validated input tables.

    Column types after loading: ``customer_id`` string in customers and a
    categorical in activity tables (its categories are the customers' ids and its
    codes equal ``customer_idx``); dates ``datetime64``
    (``open_date``, ``closed_date``, ``month_end`` at midnight; activity dates may
    carry a time of day); money ``float64``; optional string columns as
    ``category``. Every activity table also carries ``customer_idx`` (int32), the
    row position of its customer in ``customers``, so feature builders never
    hash ids again. ``customers`` is sorted by ``customer_id``; activity tables
    keep their input order. Optional tables are None when the file is absent.
    ``observation_end`` is the last month end the data covers.
    """

    customers: pd.DataFrame
    trades: pd.DataFrame
    transfers: pd.DataFrame | None = None
    balances: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    retention_actions: pd.DataFrame | None = None
    observation_end: pd.Timestamp | None = None
    missing_tables: tuple[str, ...] = field(default=())

    def table(self, name: str) -> pd.DataFrame | None:
        """Return a table by its contract name."""
        return getattr(self, name)
