"""The rule baseline, LightGBM and logistic models, their evaluation and registry."""
