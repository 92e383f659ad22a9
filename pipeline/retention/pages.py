"""The call lists as files: a CSV per list for the CRM and HTML pages people open.

Every list is written twice: a CSV for the CRM and a self-contained HTML page
(inline style, no scripts, no external resources) a branch manager can open,
plus one index page per branch and one over the branches. File names are made
from the ids with every character outside ``[A-Za-z0-9_-]`` replaced and a
short hash of the raw id appended, so no id can escape its folder or collide
with another.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pipeline.retention.calllists import LIST_COLUMNS, POOL, CallList

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
