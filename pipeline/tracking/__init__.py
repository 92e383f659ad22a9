"""MLflow at the edge: every tracking call and the model registry live here."""
