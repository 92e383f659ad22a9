"""Small hand-made tables for the row-rule and quarantine tests (three customers, every table)."""

import pandas as pd

from pipeline.core.params import Params
from pipeline.data.loader import tables_from_frames

LENIENT = Params.model_validate({"validation": {"max_rejected_share": 1.0}})


def dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def frames() -> dict[str, pd.DataFrame]:
    """C1 open since 2023-01-10; C2 open 2023-02-01, closed 2023-06-15; C3 open 2023-03-15."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3"],
                "open_date": dates(["2023-01-10", "2023-02-01", "2023-03-15"]),
                "closed_date": dates([None, "2023-06-15", None]),
                "close_reason": [None, "service", None],
                "channel": ["online", "onsite", "online"],
            }
        ),
        "trades": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3", "C1"],
                "trade_date": dates(
                    ["2023-01-10 09:30", "2023-06-15 15:00", "2023-04-03", "2023-07-31 14:00"]
                ),
                "security_type": ["stock", "fund", "bond", "other"],
                "side": ["buy", "sell", "buy", "sell"],
                "amount": [1000.0, 500.0, 20.0, 30.0],
                "commission": [1.0, 0.5, 0.0, 0.1],
            }
        ),
        "transfers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "transfer_date": dates(["2023-01-10", "2023-06-15 10:00"]),
                "direction": ["in", "out"],
                "amount": [5000.0, 480.0],
            }
        ),
        "balances": pd.DataFrame(
            {
                "customer_id": ["C1", "C1", "C2", "C3"],
                "month_end": dates(["2023-01-31", "2023-02-28", "2023-05-31", "2023-03-31"]),
                "cash": [4000.0, 3900.0, 0.0, 10.0],
                "market_value": [1000.0, 0.0, 480.0, 20.0],
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": ["C2", "C1"],
                "event_date": dates(["2023-05-20 11:00", "2023-02-01"]),
                "event_type": ["complaint", "contact"],
            }
        ),
    }


def load(tmp_path, tables, params=LENIENT):
    return tables_from_frames(tables, params, tmp_path / "rejected")


def rejected(tmp_path, table) -> list[tuple[int, str]]:
    """(source_row, reason) of each quarantined row of a table; [] when no file."""
    path = tmp_path / "rejected" / f"{table}.parquet"
    if not path.exists():
        return []
    q = pd.read_parquet(path)
    return list(zip(q["source_row"].tolist(), q["reason"].tolist(), strict=True))
