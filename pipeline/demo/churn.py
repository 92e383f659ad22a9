"""Why and how customers leave: cause-specific hazards and their precursors.

Each month an open account may decide to leave. The monthly hazard of each of
the guideline's eleven causes rises with the experiences that provoke it (a
big loss, complaints, refused fee cuts, a departed manager, a high commission
rate), with low loyalty and short tenure, and after bear markets. A decision
starts an *episode*: over the following 1-6 months the customer shows the
cause's precursors, growing as the exit nears, then closes the account. Not
every episode ends in closure (some customers waver and stay, and a granted
fee cut wins some back), and how visibly a customer signals varies: some
identity and "other" leavers show nothing at all. That mix is what lets a model
that weighs many signals beat simple threshold rules without being perfect.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.contract import CLOSE_REASONS
from pipeline.demo.book import NEVER, NO_CAUSE, Book
from pipeline.demo.market import Market
from pipeline.demo.population import Population

CAUSES = CLOSE_REASONS
CAUSE = {name: i for i, name in enumerate(CAUSES)}
# Precursor channels, the rows of the array precursor_effects returns.
EFFECTS = ("drain", "empty", "trade_cut", "fee_ask", "complain", "contact_cut")
DRAIN, EMPTY, TRADE_CUT, FEE_ASK, COMPLAIN, CONTACT_CUT = range(len(EFFECTS))

# How strongly each cause shows each precursor at full intensity. Leavers who
# take their money elsewhere drain funds and sell out; fee-driven leavers ask
# for cuts and move their trading away; unhappy ones complain and stop
# talking to their manager.
CAUSE_EFFECTS = np.array(
    [
        # drain empty trade_cut fee_ask complain contact_cut
        [0.3, 0.2, 0.3, 0.0, 0.0, 0.0],  # identity: death, inheritance, ID problems
        [0.9, 0.6, 0.5, 0.0, 0.0, 0.2],  # relocation: moving city, consolidating
        [0.3, 0.2, 0.5, 0.1, 1.0, 0.7],  # service: fed up with the service
        [0.4, 0.6, 0.6, 0.1, 0.8, 0.2],  # big_loss: burnt by losses
        [0.2, 0.0, 0.8, 0.5, 0.1, 0.2],  # commission: cheaper broker
        [0.8, 0.5, 0.4, 0.2, 0.0, 0.2],  # incentive: a rival's opening bonus
        [0.9, 0.4, 0.6, 0.3, 0.0, 0.6],  # poached: a rival's manager wins them
        [0.6, 0.3, 0.4, 0.0, 0.1, 1.0],  # relationship: follows a departed manager
        [0.2, 0.0, 0.6, 1.0, 0.2, 0.1],  # fee_cut_demand: refused better terms
        [1.0, 0.8, 0.4, 0.0, 0.0, 0.1],  # private_fund: money to a private fund
        [0.4, 0.3, 0.4, 0.1, 0.1, 0.2],  # other
    ]
)
# Months of precursors before the closing month (min, max), by cause.
LEAD_MONTHS = np.array(
    [[0, 1], [1, 4], [2, 6], [2, 5], [3, 6], [2, 4], [2, 6], [2, 5], [3, 6], [2, 6], [0, 4]]
)
# Share of leavers who show no precursor at all.
SILENT_SHARE = np.array([0.85, 0.05, 0.05, 0.05, 0.05, 0.1, 0.05, 0.05, 0.05, 0.05, 0.5])
# Share of decisions that end in closure; the rest waver and stay.
CLOSE_SHARE = np.array([1.0, 1.0, 0.8, 0.8, 0.8, 0.85, 0.85, 0.85, 0.75, 0.9, 0.9])
# Monthly hazard of each cause for a typical customer in a quiet bull market.
BASE_HAZARD = np.array(
    [0.0007, 0.0008, 0.0005, 0.0005, 0.0007, 0.0005, 0.0006, 0.0001, 0.0003, 0.0003, 0.0009]
)
# A granted fee cut wins back this share of fee-driven leavers.
FEE_CUT_RETENTION = 0.5
# After a wavering episode the grievances that caused it are largely settled.
GRIEVANCE_KEPT_AFTER_WAVERING = 0.3
AFFLUENT_ASSETS, HIGH_NET_WORTH_ASSETS = 100_000.0, 1_000_000.0


def leaving_hazard(
    population: Population, book: Book, market: Market, month: int, month_start_day: int
) -> np.ndarray:
    """Return each account's monthly hazard of deciding to leave, by cause (accounts x causes)."""
    pop = population
    hazard = np.tile(BASE_HAZARD, (pop.size, 1))
    age = np.datetime64(int(month_start_day), "D").astype("datetime64[Y]").astype(int) + 1970
    age = age - pop.birth_year
    tier = np.searchsorted([AFFLUENT_ASSETS, HIGH_NET_WORTH_ASSETS], book.assets, side="right")
    tenure_months = (month_start_day - pop.open_day) / 30.44
    recent_manager_loss = pop.has_manager & (month - book.manager_left_month < 6)
    hazard[:, CAUSE["identity"]] *= np.where(age > 70, 3.0, 1.0)
    hazard[:, CAUSE["relocation"]] *= np.where(age < 35, 1.8, 1.0)
    hazard[:, CAUSE["service"]] *= (1 + 2 * book.service_grievance) * (
        pop.branch_service_badness[pop.branch]
    )
    hazard[:, CAUSE["big_loss"]] *= 1 + 30 * book.loss_memory
    hazard[:, CAUSE["commission"]] *= (book.rate / 0.0009) * np.sqrt(pop.activity / 2)
    hazard[:, CAUSE["incentive"]] *= np.where(pop.online, 1.5, 1.0) * np.where(
        tenure_months < 24, 2.0, 1.0
    )
    hazard[:, CAUSE["poached"]] *= np.array([1.0, 2.0, 3.0])[tier]
    hazard[:, CAUSE["relationship"]] += 0.02 * recent_manager_loss
    hazard[:, CAUSE["fee_cut_demand"]] += 0.025 * book.fee_grievance
    hazard[:, CAUSE["private_fund"]] *= np.array([0.5, 3.0, 10.0])[tier]
    return hazard * _common_hazard_factor(pop.loyalty, tenure_months, market, month)[:, None]


def _common_hazard_factor(loyalty, tenure_months, market: Market, month: int) -> np.ndarray:
    # New accounts have not settled in; long-standing ones rarely move.
    tenure = np.where(tenure_months < 12, 1.6, np.where(tenure_months < 36, 1.15, 0.85))
    return np.exp(-0.5 * loyalty) * tenure * (1.4 if market.recent_bear[month] else 1.0)


def silent_shares(silent_leaver_share: float | None = None) -> np.ndarray:
    """Return the share of silent leavers per cause: the table above, or one share for all."""
    if silent_leaver_share is None:
        return SILENT_SHARE
    if not 0.0 <= silent_leaver_share <= 1.0:
        raise ValueError(f"silent_leaver_share must be between 0 and 1, not {silent_leaver_share}")
    return np.full(len(CAUSES), float(silent_leaver_share))


def start_episodes(
    rng: np.random.Generator,
    book: Book,
    hazard: np.ndarray,
    eligible: np.ndarray,
    month: int,
    silent_share: np.ndarray = SILENT_SHARE,
) -> None:
    """Let eligible accounts decide to leave; a decision's precursors start next month.

    ``silent_share`` is each cause's share of leavers who show no precursor.
    """
    decide = eligible & (rng.random(len(eligible)) < hazard.sum(axis=1))
    who = np.flatnonzero(decide)
    cumulative = np.cumsum(hazard[who], axis=1)
    pick = rng.random(len(who)) * cumulative[:, -1]
    cause = np.minimum((cumulative < pick[:, None]).sum(axis=1), len(CAUSES) - 1)
    length = rng.integers(LEAD_MONTHS[cause, 0], LEAD_MONTHS[cause, 1] + 1)
    silent = rng.random(len(who)) < silent_share[cause]
    closes = rng.random(len(who)) < CLOSE_SHARE[cause]
    book.episode_cause[who] = cause
    book.episode_start[who] = month + 1
    book.episode_length[who] = length
    book.episode_strength[who] = np.where(silent, 0.0, rng.beta(3.0, 1.5, len(who)))
    book.episode_closes[who] = closes
    book.close_month[who] = np.where(closes, month + 1 + length, NEVER)


def precursor_effects(book: Book, month: int) -> np.ndarray:
    """Return the intensity of each precursor this month (effects x accounts, 0 to 1)."""
    who = np.flatnonzero((book.episode_cause != NO_CAUSE) & (month >= book.episode_start))
    elapsed = month - book.episode_start[who] + 1
    # Graded: weak at first, full strength by the closing month.
    progress = np.clip(elapsed / np.maximum(book.episode_length[who], 1), 0.0, 1.0) ** 0.7
    intensity = book.episode_strength[who] * progress
    effects = np.zeros((len(EFFECTS), len(book.episode_cause)))
    effects[:, who] = (CAUSE_EFFECTS[book.episode_cause[who]] * intensity[:, None]).T
    return effects


def retain_after_fee_cut(
    rng: np.random.Generator, book: Book, granted: np.ndarray, month: int
) -> None:
    """A granted fee cut wins back some fee-driven leavers (not those closing this month)."""
    fee_driven = np.isin(book.episode_cause, [CAUSE["commission"], CAUSE["fee_cut_demand"]])
    won_back = granted & fee_driven & book.episode_closes & (book.close_month > month)
    won_back &= rng.random(len(granted)) < FEE_CUT_RETENTION
    book.episode_closes[won_back] = False
    book.close_month[won_back] = NEVER


def end_wavering_episodes(book: Book, month: int) -> None:
    """Close the books on episodes that ran their course without a closure."""
    over = (
        (book.episode_cause != NO_CAUSE)
        & ~book.episode_closes
        & (month >= book.episode_start + book.episode_length - 1)
    )
    book.episode_cause[over] = NO_CAUSE
    for grievance in (book.loss_memory, book.service_grievance, book.fee_grievance):
        grievance[over] *= GRIEVANCE_KEPT_AFTER_WAVERING
