"""The feature registry: every feature in output order, its business words, and how to compute it.

A feature is a public function named as its column (features/<domain>.py). Its
positional parameters name panel quantities (features/builder/quantities.py) or other
features, which features/builder/resolve.py resolves by name, computing each once per chunk;
its keyword-only parameters are params.yaml keys under ``rules:`` or
``features:``, passed from the run's params. Features whose inputs end in
``_market_median`` or ``_market_pct`` (directly or through another feature) are
the market step, computed over all open accounts after the per-customer step.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import (
    activity,
    commission,
    flows,
    market,
    positions,
    profile,
    recency,
    service,
    trade_mix,
    value,
)
from features.words import describe_value
from pipeline.core.params import FeatureParams, Params, RuleParams

MARKET_SUFFIXES = ("_market_median", "_market_pct")
BUILDER_KEYS = ("chunk_customers",)
"""Keys of params ``features:`` read by the builder itself rather than by a feature."""


@dataclass(frozen=True)
class Feature:
    """One registered feature: its function, business label and unit, and fixed categories."""

    func: Callable[..., np.ndarray]
    label: str
    unit: str
    categories: Callable[[pd.DataFrame, Params], tuple[str, ...]] | None = None

    @property
    def name(self) -> str:
        """The output column, the function's name."""
        return self.func.__name__

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the panel quantities or features it reads (its positional parameters)."""
        return _signature_names(self.func)[0]

    @property
    def params_keys(self) -> tuple[str, ...]:
        """The params.yaml keys it reads (its keyword-only parameters)."""
        return _signature_names(self.func)[1]

    @property
    def kind(self) -> str:
        """``flag`` (bool), ``category`` or ``number`` (float32)."""
        if self.name.startswith("warn_"):
            return "flag"
        return "category" if self.categories is not None else "number"

    def param_values(self, params: Params) -> dict[str, Any]:
        """Return its keyword arguments from the run's params."""
        return {key: getattr(_section_of(key, params), key) for key in self.params_keys}


@functools.cache
def _signature_names(func: Callable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    parameters = inspect.signature(func).parameters.values()
    positional = tuple(p.name for p in parameters if p.kind != p.KEYWORD_ONLY)
    return positional, tuple(p.name for p in parameters if p.kind == p.KEYWORD_ONLY)


def _section_of(key: str, params: Params):
    if key in RuleParams.model_fields:
        return params.rules
    if key in FeatureParams.model_fields:
        return params.features
    raise KeyError(f"no params.yaml key {key!r} under rules: or features:")


def _tiers(customers: pd.DataFrame, params: Params) -> tuple[str, ...]:
    return tuple(params.features.value_tier_names)


F = Feature
FEATURES: tuple[Feature, ...] = (
    F(activity.trades_1m, "trades this month", "count"),
    F(activity.trades_3m, "trades in 3 months", "count"),
    F(activity.trades_12m, "trades in 12 months", "count"),
    F(activity.traded_amount_1m, "traded this month", "cny"),
    F(activity.traded_amount_3m, "traded in 3 months", "cny"),
    F(activity.traded_amount_12m, "traded in 12 months", "cny"),
    F(activity.trades_vs_prev3m, "trades this month vs previous 3-month average", "ratio"),
    F(activity.warn_trade_drop, "trading dropped below half its usual level", "flag"),
    F(activity.trades_3m_vs_prev_3m, "trades in 3 months vs the 3 before", "ratio"),
    F(activity.traded_amount_3m_vs_prev_3m, "traded value in 3 months vs the 3 before", "ratio"),
    F(activity.trades_slope_6m, "trend of monthly trades over 6 months", "per_month"),
    F(activity.months_since_last_trade, "months since last trade", "months"),
    F(activity.active_months_12m, "months with trades in the last 12", "months"),
    F(activity.turnover_3m, "traded in 3 months vs assets", "ratio"),
    F(recency.days_since_last_trade, "days since last trade", "days"),
    F(recency.days_since_last_transfer, "days since last transfer", "days"),
    F(recency.trade_gap_mean_days_12m, "usual days between trade days", "days"),
    F(recency.trade_gap_cv_12m, "irregularity of days between trades", "ratio"),
    F(recency.trades_per_active_month_12m, "trades per trading month", "count"),
    F(recency.repeat_trade_days, "repeat trade days", "count"),
    F(recency.first_to_last_trade_days, "days from first to last trade", "days"),
    F(recency.days_since_first_trade, "days since first trade", "days"),
    F(trade_mix.stock_share_12m, "stocks in 12 months' trading", "share"),
    F(trade_mix.fund_share_12m, "funds in 12 months' trading", "share"),
    F(trade_mix.bond_share_12m, "bonds in 12 months' trading", "share"),
    F(trade_mix.product_types_12m, "security types traded in 12 months", "count"),
    F(commission.commission_1m, "commission this month", "cny"),
    F(commission.commission_3m, "commission in 3 months", "cny"),
    F(commission.commission_12m, "commission in 12 months", "cny"),
    F(commission.commission_vs_prev, "commission this month vs previous average", "ratio"),
    F(commission.warn_commission_drop, "commission fell over 30% below its average", "flag"),
    F(commission.commission_rate_3m, "effective commission rate", "rate"),
    F(commission.commission_rate_change, "change of the commission rate", "change"),
    F(commission.commission_slope_6m, "trend of monthly commission", "cny_per_month"),
    F(commission.commission_yield_12m, "commission in 12 months vs assets", "share_of_assets"),
    F(flows.inflow_1m, "funds in this month", "cny"),
    F(flows.inflow_3m, "funds in over 3 months", "cny"),
    F(flows.inflow_12m, "funds in over 12 months", "cny"),
    F(flows.outflow_1m, "funds out this month", "cny"),
    F(flows.outflow_3m, "funds out in 3 months", "cny"),
    F(flows.outflow_6m, "funds out in 6 months", "cny"),
    F(flows.outflow_12m, "funds out in 12 months", "cny"),
    F(flows.net_flow_1m, "net funds in this month", "cny"),
    F(flows.net_flow_3m, "net funds in over 3 months", "cny"),
    F(flows.net_flow_12m, "net funds in over 12 months", "cny"),
    F(flows.outflow_count_6m, "transfers out in 6 months", "count"),
    F(flows.outflow_share_6m, "funds out in 6 months", "share_of_assets"),
    F(flows.warn_outflow, "funds out in 6 months above 30% of assets", "flag"),
    F(flows.net_flow_share_3m, "net funds in over 3 months", "share_of_assets"),
    F(flows.months_since_last_inflow, "months since funds last came in", "months"),
    F(positions.total_assets, "total assets", "cny"),
    F(positions.cash_share, "cash share of assets", "share"),
    F(positions.cash_mean_12m, "average cash balance over 12 months", "cny"),
    F(positions.asset_change_1m, "asset change over 1 month", "change"),
    F(positions.asset_change_3m, "asset change over 3 months", "change"),
    F(positions.asset_change_6m, "asset change over 6 months", "change"),
    F(positions.drawdown_12m, "assets below their 12-month peak", "share"),
    F(positions.market_pnl_1m, "market profit/loss this month", "cny"),
    F(positions.market_pnl_3m, "market profit/loss in 3 months", "cny"),
    F(positions.market_return_3m, "market return in 3 months", "change"),
    F(positions.loss_share_1m, "loss this month", "share_of_assets"),
    F(positions.warn_big_loss, "lost over half the assets this month", "flag"),
    F(positions.empty_position_streak, "month ends in a row with no securities", "months"),
    F(positions.warn_empty_position, "empty position 2 month ends in a row", "flag"),
    F(service.complaints_2m, "complaints this and last month", "count"),
    F(service.warn_complaint, "complained this or last month", "flag"),
    F(service.complaints_12m, "complaints in 12 months", "count"),
    F(service.fee_cut_requests_2m, "fee-cut requests this and last month", "count"),
    F(service.warn_fee_cut_request, "asked for lower fees this or last month", "flag"),
    F(service.fee_cut_requests_12m, "fee-cut requests in 12 months", "count"),
    F(service.contacts_3m, "contacts in 3 months", "count"),
    F(service.contacts_12m, "contacts in 12 months", "count"),
    F(service.contacts_recent_vs_prev3m, "recent contacts vs previous average", "ratio"),
    F(service.warn_contact_drop, "contacts fell below their usual level", "flag"),
    F(service.months_since_last_contact, "months since last contact", "months"),
    F(profile.tenure_months, "months as a customer", "months"),
    F(profile.age_years, "age", "years"),
    F(profile.channel, "channel", "category", lambda c, p: profile.channel_categories(c)),
    F(profile.branch, "branch", "category", lambda c, p: profile.branch_categories(c)),
    F(value.contribution_12m, "yearly contribution net of cost", "cny"),
    F(value.value_tier, "value tier", "category", _tiers),
    F(market.trades_ratio_vs_market, "trading trend vs the market's", "ratio"),
    F(market.trades_ratio_market_pct, "trading trend rank among customers", "percentile"),
    F(market.amount_ratio_vs_market, "traded value trend vs the market's", "ratio"),
    F(market.amount_ratio_market_pct, "traded value trend rank", "percentile"),
    F(
        market.outflow_share_above_market,
        "funds out in 6 months above the median",
        "share_of_assets",
    ),
    F(market.outflow_share_market_pct, "funds out in 6 months rank", "percentile"),
    F(market.net_flow_share_above_market, "net funds in above the median", "share_of_assets"),
    F(market.net_flow_share_market_pct, "net funds in rank", "percentile"),
    F(market.market_return_above_market, "market return above the median", "change"),
    F(market.market_return_market_pct, "market return rank", "percentile"),
    F(value.customer_value, "customer value", "score"),
)
BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

INDICATOR_FLAGS: dict[str, str] = {
    "warn_outflow": "key",
    "warn_commission_drop": "key",
    "warn_empty_position": "key",
    "warn_trade_drop": "auxiliary",
    "warn_big_loss": "auxiliary",
    "warn_complaint": "qualitative",
    "warn_fee_cut_request": "qualitative",
    "warn_contact_drop": "qualitative",
}
"""The guideline's eight warning indicators in order, each tagged key, auxiliary or qualitative."""

INDICATOR_MEASURES: dict[str, str] = {
    "warn_outflow": "outflow_share_6m",
    "warn_commission_drop": "commission_vs_prev",
    "warn_empty_position": "empty_position_streak",
    "warn_trade_drop": "trades_vs_prev3m",
    "warn_big_loss": "loss_share_1m",
    "warn_complaint": "complaints_2m",
    "warn_fee_cut_request": "fee_cut_requests_2m",
    "warn_contact_drop": "contacts_recent_vs_prev3m",
}
"""Each indicator flag's continuous measure column."""


def model_feature_columns() -> list[str]:
    """Return the columns a model trains on: every registered feature (not the ids), in order."""
    return [f.name for f in FEATURES]


@functools.cache
def is_market(name: str) -> bool:
    """Return whether a feature needs the market reference (directly or through its inputs)."""
    feature = BY_NAME.get(name)
    if feature is None:
        return name.endswith(MARKET_SUFFIXES)
    return any(is_market(i) for i in feature.inputs)


@functools.cache
def leaf_inputs(name: str) -> frozenset[str]:
    """Return the panel quantities a feature reads, through its inputs and market references."""
    for suffix in MARKET_SUFFIXES:
        if name.endswith(suffix):
            return leaf_inputs(name.removesuffix(suffix))
    feature = BY_NAME.get(name)
    if feature is None:
        return frozenset({name})
    return frozenset().union(*(leaf_inputs(i) for i in feature.inputs))


def customer_features() -> tuple[Feature, ...]:
    """Return the per-customer features (each depends on the customer's own rows only)."""
    return tuple(f for f in FEATURES if not is_market(f.name))


def market_features() -> tuple[Feature, ...]:
    """Return the market-relative features (the cross-customer step)."""
    return tuple(f for f in FEATURES if is_market(f.name))


def reference_columns() -> tuple[str, ...]:
    """Return the per-customer columns whose monthly distribution the market step needs."""
    names = []
    for feature in market_features():
        for name in feature.inputs:
            for suffix in MARKET_SUFFIXES:
                if name.endswith(suffix) and name.removesuffix(suffix) not in names:
                    names.append(name.removesuffix(suffix))
    return tuple(names)


def describe(column: str, value: Any) -> str:
    """Say a feature's value in business words, e.g. "funds out in 6 months = 64% of assets".

    Raises:
        KeyError: an unregistered column.
    """
    feature = BY_NAME[column]
    return describe_value(feature.label, feature.unit, value)


def business_words() -> dict[str, tuple[str, str]]:
    """Return ``{column: (label, unit)}`` for every feature."""
    return {f.name: (f.label, f.unit) for f in FEATURES}
