"""The retention guideline's warning indicators and derived churn signals."""
