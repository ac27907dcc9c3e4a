"""Stressed cash-flow projection: daily granularity, reported in buckets (docs/model.md §6.1).

Outflows
  * non-maturing lines (deposits, undrawn commitments, collateral calls) run off by the
    scenario profile: ``amount * rate`` leaves over ``days`` days, ``front_share`` of it on day 1
    and the rest evenly on days 2..days (:class:`~liqstress.stress.scenarios.RunOffParams`);
  * maturing lines pay ``amount * (1 - rollover)`` on each contractual maturity day; the rolled
    share is assumed re-issued beyond the projection horizon;
  * dated contractual outflows at 100%.
Inflows
  * dated contractual inflows times ``1 - inflow_haircut[kind]``; nothing discretionary, no new
    deposits, no unsecured wholesale funding (the survival definition of docs/model.md §6.2).

Buckets: daily for days 1-7, weekly to day 30 (8-14, 15-21, 22-28, 29-30), monthly after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqstress.models.stress_file import DEPOSIT_CATEGORIES, StressFile
from liqstress.stress.scenarios import Resolved, RunOffParams


def runoff_daily(amount: float, p: RunOffParams, horizon: int) -> np.ndarray:
    """Daily outflow of a run-off profile on days 1..horizon."""
    out = np.zeros(horizon)
    if amount <= 0 or p.rate <= 0 or horizon <= 0:
        return out
    total = amount * p.rate
    if p.days == 1:
        out[0] = total
        return out
    out[0] = total * p.front_share
    rest = total * (1 - p.front_share) / (p.days - 1)
    out[1:min(p.days, horizon)] = rest
    return out


def flow_days(stress: StressFile, f) -> list[int]:
    """Days (1-based) on which a dated flow occurs inside the horizon."""
    d0 = f.day if f.day is not None else (f.date - stress.as_of).days
    if d0 > stress.horizon_days:
        return []
    if f.repeat_days is None:
        return [d0]
    end = min(stress.horizon_days, f.until_day or stress.horizon_days)
    return list(range(d0, end + 1, f.repeat_days))


@dataclass(frozen=True)
class Projection:
    """Daily stressed flows.  ``daily`` has one row per day 1..horizon with columns
    outflows, inflows, net_outflows (= outflows - inflows), cumulative_net (= cumsum of
    inflows - outflows, before CBC), cash_before_cbc (= opening cash + cumulative_net), and one
    ``out:<category>`` / ``in:<kind>`` column per driver."""

    scenario: str
    opening_cash: float
    daily: pd.DataFrame
    contractual_inflows: pd.Series  # before haircuts, by day

    @property
    def net_outflows(self) -> np.ndarray:
        return self.daily["net_outflows"].to_numpy()

    def by_driver(self, upto: int) -> dict[str, float]:
        """Cumulative outflow per category (and inflow per kind) over days 1..upto."""
        d = self.daily.iloc[:upto]
        return {c: float(d[c].sum()) for c in d.columns if c.startswith(("out:", "in:"))}


def project(stress: StressFile, res: Resolved) -> Projection:
    """Daily stressed projection of scenario ``res`` over ``stress.horizon_days``."""
    H = stress.horizon_days
    cols: dict[str, np.ndarray] = {}

    def add(key: str, arr: np.ndarray) -> None:
        cols[key] = cols.get(key, np.zeros(H)) + arr

    for line in stress.liabilities:
        key = f"out:{line.category}"
        if line.maturities is None:
            add(key, runoff_daily(line.amount, res.run_off[line.category], H))
        else:
            arr = np.zeros(H)
            share = 1.0 - res.rollover[line.category]
            for m in line.maturities:
                if m.day <= H:
                    arr[m.day - 1] += m.amount * share
            add(key, arr)
    contractual = np.zeros(H)
    for f in stress.flows:
        arr = np.zeros(H)
        for d in flow_days(stress, f):
            arr[d - 1] += f.amount
        if f.direction == "outflow":
            add("out:contractual_outflows", arr)
        else:
            contractual += arr
            add(f"in:{f.kind}", arr * (1.0 - res.inflow_haircut.get(f.kind, 0.0)))
    outs = sum((v for k, v in cols.items() if k.startswith("out:")), np.zeros(H))
    ins = sum((v for k, v in cols.items() if k.startswith("in:")), np.zeros(H))
    df = pd.DataFrame({"day": np.arange(1, H + 1), "outflows": outs, "inflows": ins})
    df["net_outflows"] = df["outflows"] - df["inflows"]
    df["cumulative_net"] = -df["net_outflows"].cumsum()
    df["cash_before_cbc"] = stress.opening_cash + df["cumulative_net"]
    dep = sum((cols[f"out:{c}"] for c in DEPOSIT_CATEGORIES if f"out:{c}" in cols), np.zeros(H))
    df["deposit_outflows"] = dep
    for k in sorted(cols):
        df[k] = cols[k]
    return Projection(res.name, stress.opening_cash, df, pd.Series(contractual, index=df["day"]))


def buckets(horizon: int, upto: int | None = None) -> list[tuple[str, int, int]]:
    """Reporting buckets (label, first day, last day): daily 1-7, weekly to 30, monthly after."""
    end = horizon if upto is None else min(horizon, upto)
    out = [(f"Day {d}", d, d) for d in range(1, min(7, end) + 1)]
    for a, b in ((8, 14), (15, 21), (22, 28), (29, 30)):
        if a <= end:
            out.append((f"Days {a}-{min(b, end)}", a, min(b, end)))
    a, month = 31, 2
    while a <= end:
        b = min(a + 29, end)
        out.append((f"Month {month} (days {a}-{b})", a, b))
        a, month = b + 1, month + 1
    return out


def bucketed(daily: pd.DataFrame, horizon: int, upto: int | None = None,
             extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Sum flows over reporting buckets; cumulative columns at the bucket end."""
    rows = []
    for label, a, b in buckets(horizon, upto):
        sl = daily.iloc[a - 1:b]
        row = {"bucket": label, "first_day": a, "last_day": b,
               "outflows": float(sl["outflows"].sum()), "inflows": float(sl["inflows"].sum())}
        row["net"] = row["inflows"] - row["outflows"]
        row["cumulative"] = float(daily["cumulative_net"].iloc[b - 1])
        for k, arr in (extra or {}).items():
            row[k] = float(arr[b - 1])
        rows.append(row)
    return pd.DataFrame(rows)
