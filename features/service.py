"""Service interactions: complaints, fee-cut requests and contacts with the customer's manager.

Inputs are the panel's monthly event counts per ``events.event_type`` (table
``events``, optional: without it every feature here is NaN and every flag
False). Holds the guideline's qualitative indicators ``warn_complaint``,
``warn_fee_cut_request`` and ``warn_contact_drop``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import (
    Monthly,
    months_since_positive,
    ratio,
    value_at,
    window_mean,
    window_sum,
)


def complaints_2m(complaints_monthly: Monthly) -> np.ndarray:
    """Count complaints this and last month.

    Business definition: guideline qualitative indicator "complaint", its measure: complaints
    in months T-1..T (of an account in its first month: that month).
    """
    return window_sum(complaints_monthly, 2)


def warn_complaint(complaints_2m: np.ndarray) -> np.ndarray:
    """Flag customers who complained this or last month.

    Business definition: guideline qualitative indicator "complaint": a complaint this or last
    month.
    """
    return complaints_2m > 0


def complaints_12m(complaints_monthly: Monthly) -> np.ndarray:
    """Count complaints in the 12 months to the as-of date.

    Business definition: derived signal (multi-window counts of complaints).
    """
    return window_sum(complaints_monthly, 12)


def fee_cut_requests_2m(fee_cut_requests_monthly: Monthly) -> np.ndarray:
    """Count requests for lower commission or better terms this and last month.

    Business definition: guideline qualitative indicator "fee-cut request", its measure:
    requests in months T-1..T (of an account in its first month: that month).
    """
    return window_sum(fee_cut_requests_monthly, 2)


def warn_fee_cut_request(fee_cut_requests_2m: np.ndarray) -> np.ndarray:
    """Flag customers who asked for a lower commission or better terms this or last month.

    Business definition: guideline qualitative indicator "fee-cut request": a request for lower
    commission or better terms this or last month.
    """
    return fee_cut_requests_2m > 0


def fee_cut_requests_12m(fee_cut_requests_monthly: Monthly) -> np.ndarray:
    """Count fee-cut requests in the 12 months to the as-of date.

    Business definition: derived signal (multi-window counts of fee-cut requests).
    """
    return window_sum(fee_cut_requests_monthly, 12)


def contacts_3m(contacts_monthly: Monthly) -> np.ndarray:
    """Count contacts with the manager or service centre in the 3 months to the as-of date.

    Business definition: derived signal (multi-window counts of contacts).
    """
    return window_sum(contacts_monthly, 3)


def contacts_12m(contacts_monthly: Monthly) -> np.ndarray:
    """Count contacts in the 12 months to the as-of date.

    Business definition: derived signal (multi-window counts of contacts).
    """
    return window_sum(contacts_monthly, 12)


def contacts_recent_vs_prev3m(contacts_monthly: Monthly) -> np.ndarray:
    """Compare the quieter of this and last month's contacts with the 3 months before.

    Business definition: guideline qualitative indicator "contact drop"
    (当月或上月沟通频率低于前3个月平均频率), its measure: the smaller of this and last
    month's contacts / mean monthly contacts of months T-4..T-2, so a value below 1
    means this month or last month (or both) fell below that average. An account
    younger than 5 months is compared with the mean of the months of T-4..T-2 it has.
    NaN when those months hold no
    contact or the account has none of them (younger than 3 months).
    """
    # The guideline says this month OR last month: the quieter of the two decides.
    recent = np.fmin(value_at(contacts_monthly, 0), value_at(contacts_monthly, 1))
    return ratio(recent, window_mean(contacts_monthly, 3, lag=2))


def warn_contact_drop(
    contacts_recent_vs_prev3m: np.ndarray, *, contact_drop_share: float
) -> np.ndarray:
    """Flag customers whose contacts fell below their usual level this month or last month.

    Business definition: guideline qualitative indicator "contact drop": contacts this month or
    last month below the previous 3-month average (below 100% of it by default; False when the
    measure is NaN).

    Args:
        contacts_recent_vs_prev3m: the quieter recent month's contacts / the previous average.
        contact_drop_share: rules.contact_drop_share (1.0: any month below the average).
    """
    return contacts_recent_vs_prev3m < contact_drop_share


def months_since_last_contact(contacts_monthly: Monthly) -> np.ndarray:
    """Count months since the last month with a contact (0: this month).

    Business definition: derived signal (recency of contact); NaN when none ever.
    """
    return months_since_positive(contacts_monthly)
