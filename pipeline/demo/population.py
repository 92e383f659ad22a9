"""Who the customers are: traits fixed at account opening.

Customers differ in wealth (log-normal), trading style and activity, the
commission rate they negotiated, channel, branch, age and loyalty. Most
accounts predate the simulated period; the rest open during it, more of them in
bull months, when new investors pile in. Customer numbers follow the opening
date, as a broker's account numbers do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.demo.days import MonthCalendar, draw_trading_days, weekdays_before
from pipeline.demo.market import Market

BRANCHES = (
    "SH-Pudong", "SH-Xuhui", "BJ-Haidian", "BJ-Chaoyang", "SZ-Futian", "SZ-Nanshan",
    "GZ-Tianhe", "HZ-Xihu", "NJ-Gulou", "CD-Jinjiang", "WH-Jianghan", "XA-Yanta",
)  # fmt: skip
# New accounts arrive at about 1% of the book per month, faster in bull markets.
NEW_ACCOUNTS_PER_MONTH = 0.01
NEW_ACCOUNT_WEIGHT = {"bull": 1.5, "bear": 0.6}
# Tenure of accounts opened before the start: exponential (scale five years), at most twenty.
PRIOR_TENURE_MEAN_DAYS = 5 * 365.25
PRIOR_TENURE_MAX_DAYS = 20 * 365
# Trading styles: conservative, balanced, speculative.
STYLE_ACTIVITY = np.array([0.6, 1.0, 1.8])
STYLE_APPETITE = np.array([0.75, 1.0, 1.1])
STYLE_BETA = np.array([0.7, 1.0, 1.3])
STYLE_IDIOSYNCRATIC_SD = np.array([0.025, 0.05, 0.09])
COMMISSION_RATE_RANGE = (0.0002, 0.003)


@dataclass(frozen=True)
class Population:
    """Per-customer traits, one entry per account, in customer-number order."""

    open_day: np.ndarray  # epoch day the account opened
    open_month: np.ndarray  # simulated month it opened in; -1 before the start
    birth_year: np.ndarray
    online: np.ndarray  # channel: True online, False onsite
    branch: np.ndarray  # index into BRANCHES
    branch_service_badness: np.ndarray  # per branch: complaint and service-churn multiplier
    loyalty: np.ndarray  # standard normal, higher for long-standing customers
    has_manager: np.ndarray  # a personal account manager (onsite or wealthy customers)
    style: np.ndarray  # 0 conservative, 1 balanced, 2 speculative
    activity: np.ndarray  # trades a month in a calm bull month
    trade_size: np.ndarray  # typical trade as a share of assets
    appetite: np.ndarray  # share of assets held in securities when invested
    beta: np.ndarray  # sensitivity of the portfolio to the index
    idiosyncratic_sd: np.ndarray  # monthly stock-picking noise
    initial_assets: np.ndarray  # CNY at the start (or deposited at opening)
    initial_rate: np.ndarray  # commission rate, share of traded value
    min_fee_waived: np.ndarray  # no 5-yuan minimum per trade ("mian wu" offers online)
    deposit_rate: np.ndarray  # bank-to-broker transfers a month
    deposit_amount: np.ndarray  # CNY per transfer in (tied to income, not to assets)
    withdrawal_rate: np.ndarray  # ordinary transfers out a month

    @property
    def size(self) -> int:
        """Number of accounts."""
        return len(self.open_day)


def draw_population(
    rng: np.random.Generator, customers: int, calendar: MonthCalendar, market: Market
) -> Population:
    """Draw every account's opening date and traits."""
    open_day, open_month = _opening_dates(rng, customers, calendar, market)
    is_new = open_month >= 0
    age = np.where(is_new, rng.normal(36, 12, customers), rng.normal(44, 13, customers))
    # Nobody opened an account before 18: long-standing customers are older.
    tenure_years = (calendar.first_day[0] - open_day).clip(0) / 365.25
    age = np.maximum(np.clip(age, 18, 85), tenure_years + 19 + rng.uniform(0, 6, customers))
    age = age.round()
    start_year = np.datetime64(int(calendar.first_day[0]), "D").astype("datetime64[Y]")
    birth_year = (start_year.astype(int) + 1970 - age).astype(np.int32)
    assets = _initial_assets(rng, age, is_new)
    online = rng.random(customers) < _online_probability(age, is_new, assets)
    style = _trading_style(rng, age)
    branch = rng.choice(len(BRANCHES), customers, p=_branch_weights()).astype(np.int16)
    return Population(
        open_day=open_day,
        open_month=open_month,
        birth_year=birth_year,
        online=online,
        branch=branch,
        branch_service_badness=rng.lognormal(0.0, 0.5, len(BRANCHES)),
        loyalty=rng.standard_normal(customers) + 0.4 * (np.log1p(tenure_years) - 1.0),
        has_manager=~online | (assets >= 300_000) | (rng.random(customers) < 0.2),
        style=style,
        activity=_activity(rng, style, online),
        trade_size=_trade_size(rng, assets),
        appetite=np.clip(rng.beta(5, 2, customers) * STYLE_APPETITE[style], 0.05, 0.98),
        beta=STYLE_BETA[style] + rng.normal(0, 0.1, customers),
        idiosyncratic_sd=STYLE_IDIOSYNCRATIC_SD[style],
        initial_assets=assets,
        initial_rate=_commission_rate(rng, online, assets, style),
        min_fee_waived=online & (rng.random(customers) < 0.3),
        deposit_rate=rng.lognormal(np.log(0.5), 0.6, customers),
        deposit_amount=np.maximum(assets * rng.lognormal(np.log(0.05), 0.6, customers), 500.0),
        withdrawal_rate=rng.lognormal(np.log(0.35), 0.6, customers),
    )


def _opening_dates(rng, customers: int, calendar: MonthCalendar, market: Market):
    months = calendar.months
    share_new = NEW_ACCOUNTS_PER_MONTH * months / (1 + NEW_ACCOUNTS_PER_MONTH * months)
    n_new = round(customers * share_new)
    weights = np.where(market.bear, NEW_ACCOUNT_WEIGHT["bear"], NEW_ACCOUNT_WEIGHT["bull"])
    new_month = np.sort(rng.choice(months, n_new, p=weights / weights.sum()))
    new_day = np.concatenate(
        [
            draw_trading_days(rng, calendar, m, np.ones(k, np.int64), np.full(k, 31))
            for m, k in zip(*np.unique(new_month, return_counts=True), strict=True)
        ]
        or [np.empty(0, np.int64)]
    )
    # Exponential tenure truncated at the maximum (inverse CDF), so no date piles up at the cap.
    reach = 1 - np.exp(-PRIOR_TENURE_MAX_DAYS / PRIOR_TENURE_MEAN_DAYS)
    tenure = -PRIOR_TENURE_MEAN_DAYS * np.log1p(-reach * rng.random(customers - n_new))
    prior_day = weekdays_before(int(calendar.first_day[0]), tenure)
    open_day = np.concatenate([prior_day, new_day])
    open_month = np.concatenate([np.full(customers - n_new, -1), new_month])
    order = np.argsort(open_day, kind="stable")
    return open_day[order], open_month[order].astype(np.int32)


def _initial_assets(rng, age: np.ndarray, is_new: np.ndarray) -> np.ndarray:
    # Median 70k CNY for existing accounts: about 60% mass (< 100k), 4% high net
    # worth (>= 1M); new accounts start smaller and older customers are richer.
    log_median = np.where(is_new, np.log(30_000), np.log(70_000) + 0.015 * (age - 44))
    sigma = np.where(is_new, 1.3, 1.45)
    return np.clip(np.exp(log_median + sigma * rng.standard_normal(len(age))), 2_000, 5e7)


def _online_probability(age: np.ndarray, is_new: np.ndarray, assets: np.ndarray):
    logit = 1.0 - 0.07 * (age - 40) + 1.0 * is_new - 0.8 * (assets >= 1_000_000)
    return 1 / (1 + np.exp(-logit))


def _trading_style(rng, age: np.ndarray) -> np.ndarray:
    young, old = age < 35, age > 60
    p_conservative = np.where(old, 0.5, np.where(young, 0.15, 0.3))
    p_speculative = np.where(old, 0.1, np.where(young, 0.35, 0.2))
    u = rng.random(len(age))
    return np.where(u < p_conservative, 0, np.where(u < 1 - p_speculative, 1, 2)).astype(np.int8)


def _activity(rng, style: np.ndarray, online: np.ndarray) -> np.ndarray:
    base = rng.lognormal(np.log(2.2), 0.8, len(style)) * STYLE_ACTIVITY[style]
    return np.minimum(base * np.where(online, 1.15, 1.0), 40.0)


def _trade_size(rng, assets: np.ndarray) -> np.ndarray:
    # Wealthier customers spread their money over more, relatively smaller trades.
    dampen = 1 + 0.15 * np.clip(np.log(assets / 100_000), 0, None)
    return np.clip(rng.lognormal(np.log(0.10), 0.5, len(assets)) / dampen, 0.01, 0.8)


def _commission_rate(rng, online, assets, style) -> np.ndarray:
    # Onsite customers pay list prices; wealthy and speculative ones negotiate.
    log_rate = (
        np.log(0.0009)
        + 0.35 * ~online
        - 0.2 * np.clip(np.log(assets / 100_000), -1, 3)
        - 0.15 * (style == 2)
        + 0.5 * rng.standard_normal(len(assets))
    )
    return np.clip(np.exp(log_rate), *COMMISSION_RATE_RANGE)


def _branch_weights() -> np.ndarray:
    weights = 1.0 / np.arange(1, len(BRANCHES) + 1) ** 0.6
    return weights / weights.sum()
