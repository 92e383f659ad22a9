"""Call lists for people: one list per advisor, capped, ordered by expected saved value.

Each account's expected saved value is what a call is worth:
``value_at_risk_cny x save_rate(play) - contact_cost`` (CNY), with the play's save rate
measured by the retention loop (pipeline/retention/effect.py) or its prior. An
advisor's list holds at most ``calls_per_advisor`` accounts with a positive
expected saved value, best first; accounts without an advisor go to their
branch's pool list, capped the same way; accounts without a branch go to the
``unassigned`` branch. The control group (pipeline/retention/control.py) is
drawn among the selected accounts and taken off the lists advisors see, so the
called and the held-back accounts come from the same selection; the page says
how many were held back.

Every list is written twice: a CSV for the CRM and a self-contained HTML page
(inline style, no scripts, no external resources) a branch manager can open,
plus one index page per branch. File names are made from the ids with every
character outside ``[A-Za-z0-9_-]`` replaced and a short hash of the raw id
appended, so no id can escape its folder or collide with another.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as pads

POOL = "(branch pool)"
UNASSIGNED_BRANCH = "unassigned"
LIST_COLUMNS = [
    "position",
    "customer_id",
    "churn_probability",
    "risk_band",
    "reasons",
    "likely_cause",
    "retention_play",
    "value_at_risk",
    "save_rate",
    "expected_saved_value",
]
_HEADINGS = {
    "position": "#",
    "customer_id": "Account",
    "churn_probability": "Churn probability",
    "risk_band": "Risk band",
    "reasons": "Reasons",
    "likely_cause": "Likely cause",
    "retention_play": "Play",
    "value_at_risk": "Value at risk",
    "save_rate": "Expected save rate",
    "expected_saved_value": "Expected saved value",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.n{text-align:right;white-space:nowrap}"
    "p.note{color:#555}"
)


@dataclass(frozen=True)
class CallList:
    """One advisor's (or one branch pool's) list, and what was held back from it."""

    branch: str
    advisor: str
    accounts: pd.DataFrame  # LIST_COLUMNS, best first
    held: pd.DataFrame  # the control accounts of the selection, same columns

    @property
    def held_back(self) -> int:
        """How many accounts of the selection the control group holds back."""
        return len(self.held)


def expected_saved_value(
    value_at_risk: np.ndarray, plays: Sequence[str], save_rates: Mapping[str, float], cost: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return each account's save rate (by its play) and expected saved value."""
    rate = np.array([save_rates[str(p)] for p in plays], dtype=np.float64)
    return rate, np.asarray(value_at_risk, dtype=np.float64) * rate - cost


def _owners(scores: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    branch = scores["branch"].astype(object).where(scores["branch"].notna(), UNASSIGNED_BRANCH)
    advisor = scores["advisor_id"].astype(object).where(scores["advisor_id"].notna(), POOL)
    return branch.astype(str), advisor.astype(str)


def select_calls(
    scores: pd.DataFrame, calls_per_advisor: int, control: np.ndarray
) -> list[CallList]:
    """Return the call lists, by branch then advisor (the branch pool last in its branch).

    Args:
        scores: one row per scored account with ``customer_id``, ``branch``,
            ``advisor_id``, ``expected_saved_value``, ``save_rate`` and the list's
            other columns (:data:`LIST_COLUMNS` without ``position`` and ``reasons``,
            plus ``reason_1`` ..).
        calls_per_advisor: the most accounts one list holds, before the control
            group is taken off.
        control: per row of ``scores``, whether the account belongs to the control group.
    """
    branch, advisor = _owners(scores)
    frame = scores.assign(_branch=branch, _advisor=advisor, _control=np.asarray(control, bool))
    frame = frame[frame["expected_saved_value"] > 0]
    frame = frame.sort_values(
        ["_branch", "_advisor", "expected_saved_value", "customer_id"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    chosen = frame.groupby(["_branch", "_advisor"], sort=False).head(calls_per_advisor)
    lists = []
    for (b, a), group in chosen.groupby(["_branch", "_advisor"], sort=False):
        called, held = group[~group["_control"]], group[group["_control"]]
        lists.append(CallList(b, a, _list_rows(called), _list_rows(held)))
    return sorted(lists, key=lambda c: (c.branch, c.advisor == POOL, c.advisor))


def _list_rows(called: pd.DataFrame) -> pd.DataFrame:
    reason_cols = [c for c in called.columns if re.fullmatch(r"reason_\d+", c)]
    reasons = (
        called[reason_cols].apply(
            lambda row: "; ".join(str(r) for r in row if isinstance(r, str) and r), axis=1
        )
        if len(called)
        else pd.Series(dtype=object)
    )
    rows = called.assign(position=np.arange(1, len(called) + 1), reasons=reasons)
    return rows[LIST_COLUMNS].reset_index(drop=True)


def file_stem(identifier: str) -> str:
    """Return a safe, collision-free file name stem for an id."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", identifier)[:60] or "_"
    return f"{safe}-{hashlib.sha256(identifier.encode()).hexdigest()[:8]}"


def _cell(column: str, value) -> str:
    if column in ("churn_probability", "save_rate"):
        return f'<td class="n">{value:.1%}</td>'
    if column in ("value_at_risk", "expected_saved_value"):
        return f'<td class="n">{value:,.0f}</td>'
    if column == "position":
        return f'<td class="n">{int(value)}</td>'
    return f"<td>{html.escape('' if pd.isna(value) else str(value))}</td>"


def _accounts(n: int, adjective: str = "") -> str:
    return f"{n:,} {adjective}account{'' if n == 1 else 's'}"


def list_page(calls: CallList, as_of: str, unit: str) -> str:
    """Return the HTML page of one call list."""
    who = "branch pool" if calls.advisor == POOL else f"advisor {calls.advisor}"
    title = f"Call list, {who}, branch {calls.branch}, scored {as_of}"
    head = "".join(
        f"<th>{html.escape(_HEADINGS[c])}{' (' + unit + ')' if 'value' in c else ''}</th>"
        for c in LIST_COLUMNS
    )
    body = "".join(
        "<tr>" + "".join(_cell(c, row[c]) for c in LIST_COLUMNS) + "</tr>"
        for row in calls.accounts.to_dict("records")
    )
    note = (
        f"{_accounts(len(calls.accounts))} to call, best expected saved value first. "
        f"{_accounts(calls.held_back, 'further ')} of this selection held back as the "
        "control group: do not call them; their churn measures what the calls achieve."
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><p class="note">{html.escape(note)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def index_page(branch: str, lists: Sequence[CallList], as_of: str, unit: str) -> str:
    """Return the branch's index page: one row per list with its size and saved value."""
    rows = "".join(
        f'<tr><td><a href="{file_stem(c.advisor)}.html">{html.escape(c.advisor)}</a></td>'
        f'<td class="n">{len(c.accounts)}</td><td class="n">{c.held_back}</td>'
        f'<td class="n">{c.accounts["expected_saved_value"].sum():,.0f}</td></tr>'
        for c in lists
    )
    title = f"Call lists of branch {branch}, scored {as_of}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table><thead><tr><th>Advisor</th>"
        f"<th>Accounts to call</th><th>Held back (control)</th>"
        f"<th>Expected saved value ({html.escape(unit)})</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )


def write_call_lists(lists: Sequence[CallList], folder: Path, as_of: str, unit: str) -> list[Path]:
    """Write every list's CSV and HTML page and each branch's index under ``folder``.

    Beside them, ``control_group.csv`` names the accounts held back (for the
    retention team, who record them as control actions; advisors never see
    them) and ``index.html`` links the branches. ``folder`` must be new or empty
    (the caller stages it and publishes it whole). Returns the files written.
    """
    written = []
    by_branch: dict[str, list[CallList]] = {}
    for calls in lists:
        by_branch.setdefault(calls.branch, []).append(calls)
    for branch, branch_lists in by_branch.items():
        place = folder / file_stem(branch)
        place.mkdir(parents=True, exist_ok=True)
        for calls in branch_lists:
            stem = place / file_stem(calls.advisor)
            calls.accounts.to_csv(stem.with_suffix(".csv"), index=False, float_format="%.4f")
            stem.with_suffix(".html").write_text(list_page(calls, as_of, unit), encoding="utf-8")
            written += [stem.with_suffix(".csv"), stem.with_suffix(".html")]
        index = place / "index.html"
        index.write_text(index_page(branch, branch_lists, as_of, unit), encoding="utf-8")
        written.append(index)
    control = folder / "control_group.csv"
    held = [c.held.assign(branch=c.branch, advisor=c.advisor) for c in lists]
    frame = pd.concat(held, ignore_index=True) if held else pd.DataFrame(columns=LIST_COLUMNS)
    frame.drop(columns="position").to_csv(control, index=False, float_format="%.4f")
    written.append(control)
    top = folder / "index.html"
    top.write_text(branches_page(by_branch, as_of), encoding="utf-8")
    written.append(top)
    return written


def branches_page(by_branch: Mapping[str, Sequence[CallList]], as_of: str) -> str:
    """Return the top page: one link per branch with its lists and accounts."""
    rows = "".join(
        f'<tr><td><a href="{file_stem(b)}/index.html">{html.escape(b)}</a></td>'
        f'<td class="n">{len(lists)}</td>'
        f'<td class="n">{sum(len(c.accounts) for c in lists)}</td>'
        f'<td class="n">{sum(c.held_back for c in lists)}</td></tr>'
        for b, lists in sorted(by_branch.items())
    )
    title = f"Call lists scored {as_of}"
    empty = "" if by_branch else '<p class="note">No account is worth a call this month.</p>'
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{empty}<table><thead><tr><th>Branch</th><th>Lists</th>"
        f"<th>Accounts to call</th><th>Held back (control)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )


VALUE_AT_RISK = "value_at_risk_cny"
"""The scores column call lists weigh: probability x the account's lifetime value, in CNY."""
VALUE_UNIT = "CNY"
"""The unit of :data:`VALUE_AT_RISK`, shown on the pages."""


def candidate_scores(
    scores: str | Path, save_rates: Mapping[str, float], cost: float
) -> pd.DataFrame:
    """Read from a scores file (or dataset folder) the accounts a call could be worth.

    Only rows whose value at risk could pay for a contact at the best save rate,
    and that carry at least one reason, are read (a filter pushed down to
    Parquet), so memory follows the candidates, not the book.
    """
    best = max(save_rates.values(), default=0.0)
    dataset = pads.dataset(str(scores), format="parquet")
    reasons = [name for name in dataset.schema.names if re.fullmatch(r"reason_\d+", name)]
    columns = [
        "customer_id",
        "churn_probability",
        "risk_band",
        *reasons,
        "likely_cause",
        "retention_play",
        VALUE_AT_RISK,
        "advisor_id",
        "branch",
        "control_group",
    ]
    if best <= 0:
        frame = dataset.head(0, columns=columns).to_pandas()
    else:
        # An account with no reason at all (outside scoring.reasons_top_share and no
        # rule fired) gives the advisor nothing to talk about: it is not listed.
        worth = (pc.field(VALUE_AT_RISK) * best > cost) & pc.field("reason_1").is_valid()
        frame = dataset.to_table(columns=columns, filter=worth).to_pandas()
    rate, saved = expected_saved_value(
        frame[VALUE_AT_RISK], frame["likely_cause"], save_rates, cost
    )
    return frame.rename(columns={VALUE_AT_RISK: "value_at_risk"}).assign(
        save_rate=rate, expected_saved_value=saved
    )
