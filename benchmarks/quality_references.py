"""The two references bench_quality.py sets beside the project's models, built outside it.

- ``btyd_lifetimes``: BG/NBD (``lifetimes.BetaGeoFitter``) fitted at each test as-of T on
  the trades up to T (days; birth = first trade, or the opening for accounts
  without one), scored as the probability of no trade in the next H months:
  ``1 - P(alive) + P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x)``;
- ``reference``: a plain LightGBM (300 trees, no early stopping, no
  calibration) on recency/frequency windows of trades, trained on every as-of
  month end whose label window ends on or before the first test month; simple
  on purpose.

Both are scored through :class:`Precomputed`, so ``compare_models`` judges them on
exactly the rows and metrics of the project's own models.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd

try:
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import ConvergenceError
except ImportError as exc:  # pragma: no cover - a benchmark dependency, not the package's
    raise SystemExit(
        "bench_quality.py needs lifetimes for the BG/NBD baseline and the CDNOW data: "
        ".venv/bin/pip install lifetimes"
    ) from exc

from pipeline.cohorts.labels import make_labels
from pipeline.core.calendar import add_months
from pipeline.core.params import Params


class Precomputed:
    """A model-like wrapper of scores computed outside the project, looked up by row keys."""

    def __init__(self, scores: pd.Series):
        """Keep scores indexed by (customer_id, as_of)."""
        self.scores = scores

    def predict_proba(self, cohort: pd.DataFrame) -> np.ndarray:
        """Return [1 - p, p] for the cohort's rows."""
        keys = pd.MultiIndex.from_arrays([cohort["customer_id"].astype(str), cohort["as_of"]])
        p = self.scores.reindex(keys).to_numpy(dtype="float64")
        if np.isnan(p).any():
            raise ValueError("a cohort row has no precomputed score")
        return np.column_stack([1.0 - p, p])


def trade_days(tables) -> tuple[np.ndarray, np.ndarray]:
    """Return each trade's customer index and epoch day."""
    trades = tables.trades
    days = trades["trade_date"].to_numpy("datetime64[D]").astype(np.int64)
    return trades["customer_idx"].to_numpy(np.int64), days


def btyd_scores(tables, test_months, horizon_months: int) -> pd.Series:
    """Fit BG/NBD at each test as-of on trades up to it; P(no trade in the next H months)."""
    idx, days = trade_days(tables)
    n = len(tables.customers)
    opened = tables.customers["open_date"].to_numpy("datetime64[D]").astype(np.int64)
    parts = []
    for as_of in test_months:
        t_day = _epoch_day(as_of)
        horizon = _epoch_day(add_months(as_of, horizon_months)) - t_day
        keep = days <= t_day
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, idx[keep], days[keep])
        last = np.full(n, -1)
        np.maximum.at(last, idx[keep], days[keep])
        distinct = np.unique(idx[keep] * 100_000 + days[keep])
        repeat = np.bincount(distinct // 100_000, minlength=n) - 1.0
        traded = last >= 0
        birth = np.where(traded, first, np.minimum(opened, t_day))
        frequency = np.where(traded, repeat, 0.0)
        recency = np.where(traded, last - first, 0.0).astype(np.float64)
        age = (t_day - birth).astype(np.float64)
        is_open = _open_at(tables.customers, as_of)
        fitter = fit_bgnbd(frequency[is_open], recency[is_open], age[is_open])
        alive = fitter.conditional_probability_alive(frequency, recency, age)
        r, alpha = fitter.params_["r"], fitter.params_["alpha"]
        silent_if_alive = ((alpha + age) / (alpha + age + horizon)) ** (r + frequency)
        p_none = np.clip(1.0 - alive + alive * silent_if_alive, 0.0, 1.0)
        keys = pd.MultiIndex.from_arrays(
            [tables.customers["customer_id"].astype(str), np.repeat(as_of, n)]
        )
        parts.append(pd.Series(p_none, index=keys)[is_open])
    return pd.concat(parts)


PENALIZERS = (0.0, 0.001, 0.01, 0.1)


def fit_bgnbd(frequency, recency, age) -> BetaGeoFitter:
    """Fit BG/NBD unpenalised; on a convergence failure retry with lifetimes' usual penalizers."""
    for penalizer in PENALIZERS:
        fitter = BetaGeoFitter(penalizer_coef=penalizer)
        try:
            # lifetimes prints the optimiser's state when it fails; the retry line says enough.
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                return fitter.fit(frequency, recency, age, verbose=False)
        except ConvergenceError:
            print(f"  BG/NBD did not converge with penalizer {penalizer}; retrying")
    raise RuntimeError("BG/NBD did not converge with any penalizer")


def _epoch_day(stamp) -> int:
    return int(np.datetime64(pd.Timestamp(stamp).date(), "D").astype(np.int64))


def _open_at(customers: pd.DataFrame, as_of) -> np.ndarray:
    closed = customers["closed_date"]
    return ((customers["open_date"] <= as_of) & (closed.isna() | (closed > as_of))).to_numpy()


REFERENCE_WINDOWS = (1, 3, 6, 12)


def reference_features(tables, as_of: pd.Timestamp) -> pd.DataFrame:
    """Recency/frequency windows of trades at one as-of month end, for every customer."""
    idx, days = trade_days(tables)
    amount = tables.trades["amount"].to_numpy(np.float64)
    n = len(tables.customers)
    t_day = _epoch_day(as_of)
    keep = days <= t_day
    idx, days, amount = idx[keep], days[keep], amount[keep]
    columns = {}
    for months in REFERENCE_WINDOWS:
        inside = days > _epoch_day(add_months(as_of, -months))
        columns[f"trades_{months}m"] = np.bincount(idx[inside], minlength=n)
        columns[f"amount_{months}m"] = np.bincount(idx[inside], amount[inside], minlength=n)
    columns["trades_ever"] = np.bincount(idx, minlength=n)
    last = np.full(n, -1)
    np.maximum.at(last, idx, days)
    first = np.full(n, t_day + 1)
    np.minimum.at(first, idx, days)
    columns["days_since_last_trade"] = np.where(last >= 0, t_day - last, np.nan)
    columns["days_since_first_trade"] = np.where(last >= 0, t_day - first, np.nan)
    opened = tables.customers["open_date"].to_numpy("datetime64[D]").astype(np.int64)
    columns["days_since_open"] = t_day - opened
    frame = pd.DataFrame(columns).astype("float64")
    frame.insert(0, "customer_id", tables.customers["customer_id"].astype(str).to_numpy())
    frame.insert(1, "as_of", as_of)
    return frame


def reference_scores(tables, test_months, params: Params) -> pd.Series:
    """Train the plain LightGBM on all matured earlier months; score the test months."""
    import lightgbm

    horizon = params.label.horizon_months
    first_data = tables.trades["trade_date"].min()
    start = pd.offsets.MonthEnd(0).rollforward(first_data.normalize())
    train_months = [
        m
        for m in pd.date_range(start, test_months[0], freq="ME")
        if add_months(m, horizon) <= test_months[0]
    ]
    labelled = make_labels(tables, train_months, params.label)
    rows = pd.concat([reference_features(tables, m) for m in train_months])
    train = labelled.merge(rows, on=["customer_id", "as_of"])
    columns = [c for c in rows.columns if c not in ("customer_id", "as_of")]
    model = lightgbm.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=50,
        num_threads=2,
        verbose=-1,
        random_state=0,
    )
    model.fit(train[columns], train["label"])
    test = pd.concat([reference_features(tables, m) for m in test_months])
    p = model.predict_proba(test[columns])[:, 1]
    return pd.Series(p, index=pd.MultiIndex.from_arrays([test["customer_id"], test["as_of"]]))
