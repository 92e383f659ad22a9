"""The likely cause of an account's churn risk, and its retention play.

When the packaged model carries a cause model (learned from recorded close
reasons, models/cause_model.py), it names the cause with its probability.
Otherwise the playbook's driver mapping decides, and ``cause_source`` says so:
each reason votes for every playbook cause that lists one of its drivers; the
strongest reason counts most (with three reasons: 3, 2, 1). The cause with most
votes wins, a tie goes to the cause written first in the playbook, and an
account whose reasons match no cause gets ``other``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.cause_model import ChurnCauseModel
from pipeline.scoring.figures import play_figures
from pipeline.scoring.playbook import FALLBACK_CAUSE, Playbook
from pipeline.scoring.reasons import Reason


class CauseFinder:
    """Finds likely causes with one playbook (remembering answers per set of drivers)."""

    def __init__(self, playbook: Playbook):
        """Index the playbook's drivers.

        Args:
            playbook: the checked retention playbook.
        """
        self.playbook = playbook
        self._names = [cause.name for cause in playbook.causes]
        self._by_driver = playbook.causes_by_driver()
        self._plays = {cause.name: cause.play for cause in playbook.causes}
        self._cause_of = functools.lru_cache(maxsize=65_536)(self._vote)

    def likely_cause(self, reasons: Sequence[Reason]) -> str:
        """Return the likely cause of an account with these reasons (strongest first)."""
        return self._cause_of(tuple(reason.drivers for reason in reasons))

    def play(self, cause: str) -> str:
        """Return the retention play of a cause."""
        return self._plays[cause]

    def _vote(self, drivers: tuple[tuple[str, ...], ...]) -> str:
        votes = [0] * len(self._names)
        for strength, names in zip(range(len(drivers), 0, -1), drivers, strict=True):
            causes = {position for name in names for position in self._by_driver.get(name, ())}
            for position in causes:
                votes[position] += strength
        best = max(range(len(votes)), key=lambda i: (votes[i], -i))
        return self._names[best] if votes[best] > 0 else FALLBACK_CAUSE


MODEL_SOURCE = "cause model"
DRIVERS_SOURCE = "playbook drivers (no recorded close reasons)"
SLOW_MARKET_SOURCE = "playbook drivers: slow market"
MARKET_SENSITIVE_CAUSES = ("commission", "private_fund")
"""Driver causes that a market-wide slowdown imitates (everyone trades less, holds cash)."""


@dataclass(frozen=True)
class CauseChoice:
    """Each account's likely cause, its probability (NaN from drivers) and where it came from."""

    cause: list[str]
    probability: np.ndarray
    source: list[str]


def market_slowdown(frame: pd.DataFrame, *, slow_market_ratio: float) -> np.ndarray:
    """Return whether the account's trading fell with a market-wide slowdown, not on its own.

    The market's typical account (the median) trades at most ``slow_market_ratio`` of
    its previous 3 months, and this account kept at least that share of the market's
    ratio (``trades_ratio_vs_market``): its fall is the market's.
    """
    own = frame["trades_3m_vs_prev_3m"].to_numpy(np.float64)
    versus_market = frame["trades_ratio_vs_market"].to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        market = own / versus_market  # the month's median ratio, exactly, where both are known
    return (market <= slow_market_ratio) & (versus_market >= slow_market_ratio)


def likely_causes(
    frame: pd.DataFrame,
    reasons: Sequence[Sequence[Reason]],
    cause_model: ChurnCauseModel | None,
    finder: CauseFinder,
    *,
    slow_market_ratio: float,
) -> CauseChoice:
    """Return the likely causes: from the cause model when packaged, else the playbook's drivers.

    Without a cause model the driver vote decides, except that a commission or
    private-fund vote during a market-wide slowdown (:func:`market_slowdown`) becomes
    ``other`` (the guideline's "other: a slow market").
    """
    if cause_model is not None:
        probability = cause_model.predict_proba(frame)
        best = np.argmax(probability, axis=1)
        return CauseChoice(
            list(cause_model.classes_[best]),
            probability[np.arange(len(frame)), best],
            [MODEL_SOURCE] * len(frame),
        )
    voted = [finder.likely_cause(r) for r in reasons]
    slow = market_slowdown(frame, slow_market_ratio=slow_market_ratio)
    market = [bool(s) and c in MARKET_SENSITIVE_CAUSES for c, s in zip(voted, slow, strict=True)]
    return CauseChoice(
        [FALLBACK_CAUSE if m else c for c, m in zip(voted, market, strict=True)],
        np.full(len(frame), np.nan),
        [SLOW_MARKET_SOURCE if m else DRIVERS_SOURCE for m in market],
    )


def plays_for(choice: CauseChoice, frame: pd.DataFrame, playbook: Playbook) -> list[str]:
    """Return each account's play: its cause's, in its value tier's variant, figures filled in."""
    figures = play_figures(frame, playbook.rival_commission_rate)
    tiers = frame["value_tier"].astype(object).where(frame["value_tier"].notna(), None)
    templates: dict[tuple[str, bool, str | None], str] = {}  # one per cause, source and tier
    plays = []
    for cause, source, tier, said in zip(
        choice.cause, choice.source, tiers.to_numpy(), figures, strict=True
    ):
        slow = source == SLOW_MARKET_SOURCE
        template = templates.get((cause, slow, tier))
        if template is None:
            template = templates[(cause, slow, tier)] = (
                playbook.slow_market_template(tier) if slow else playbook.play_template(cause, tier)
            )
        plays.append(template.format_map(said))
    return plays
