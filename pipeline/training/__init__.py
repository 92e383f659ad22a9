"""Training: fit the models on the cohorts, evaluate them side by side, write the run folder."""
