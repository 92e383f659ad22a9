"""The built-in demo data: a brokerage simulator behind `churn generate`.

``simulate`` returns the five contract tables in memory; ``simulate_tables``
yields them month by month for streaming writers. docs/demo-data.md tells the
story the simulator follows and lists its knobs.
"""

from pipeline.demo.simulate import TABLES, simulate, simulate_tables, simulated_market

__all__ = ["TABLES", "simulate", "simulate_tables", "simulated_market"]
