"""Three legal accounts in every table, and writers for them as Parquet and CSV."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def valid_frames() -> dict[str, pd.DataFrame]:
    """Three accounts, every table, every row legal; the latest date is 2023-07-31."""
    customers = pd.DataFrame(
        {
            "customer_id": ["C3", "C1", "C2"],
            "open_date": dates(["2023-03-15", "2023-01-10", "2023-02-01"]),
            "closed_date": dates([None, None, "2023-06-15"]),
            "close_reason": [None, None, "service"],
            "branch": ["SH", "BJ", None],
            "birth_year": [1980, 1975, 1990],
            "channel": ["online", "onsite", "online"],
        }
    )
    trades = pd.DataFrame(
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
    )
    transfers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "transfer_date": dates(["2023-01-10", "2023-06-15 10:00"]),
            "direction": ["in", "out"],
            "amount": [5000.0, 480.0],
        }
    )
    balances = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C3"],
            "month_end": dates(["2023-01-31", "2023-02-28", "2023-05-31", "2023-03-31"]),
            "cash": [4000.0, 3900.0, 0.0, 10.0],
            "market_value": [1000.0, 0.0, 480.0, 20.0],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C2", "C1"],
            "event_date": dates(["2023-05-20 11:00", "2023-02-01"]),
            "event_type": ["complaint", "contact"],
        }
    )
    return {
        "customers": customers,
        "trades": trades,
        "transfers": transfers,
        "balances": balances,
        "events": events,
    }


def write_parquet(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
        )
    return folder


def write_csv(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
