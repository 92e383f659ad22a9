"""The likely cause of an account's churn risk, and its retention play, from its reasons.

Each reason votes for every playbook cause that lists one of its drivers; the
strongest reason counts most (with three reasons: 3, 2, 1). The cause with most
votes wins, a tie goes to the cause written first in the playbook, and an
account whose reasons match no cause gets ``other``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

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
