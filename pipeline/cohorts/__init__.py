"""Who is in a cohort and what it is labelled: labels, snapshot months, the out-of-time split."""
