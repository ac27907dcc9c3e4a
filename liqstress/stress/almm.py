"""EBA maturity ladder (ALMM template C 66.01), contractual and stressed.

Template: C 66.01 "Maturity ladder" of the additional liquidity monitoring metrics,
Commission Implementing Regulation (EU) 2021/451, Annex XXII (instructions in Annex XXIII),
which replaced Implementing Regulation (EU) No 680/2014 as amended by Implementing Regulation
(EU) 2016/313.  It is reported for all currencies together and for each significant currency.

Columns: the template's time bands -- 0010 initial stock (counterbalancing capacity only),
0020 overnight, then 0030-0220 from "greater than overnight up to 2 days" to "greater than 5
years".  Projection days map to bands with 1 month = 30 days and 1 year = 365 days (day 1 =
overnight; days 8-14 = "greater than 7 days up to 2 weeks"; days 31-35 = "greater than 30 days
up to 5 weeks"; ...).  Bands beyond the projection horizon stay empty (zero).

Rows: the template's three sections, 1 OUTFLOWS, 2 INFLOWS and 3 COUNTERBALANCING CAPACITY.
Outflow rows 1.1 (securities issued), 1.2 (secured lending and capital-market-driven
transactions) and 1.3 (deposits) take the liqstress categories of that nature; derivative
collateral and the remaining outflows (committed facilities granted, other contractual
outflows, dated contractual outflows) have their own rows; inflow kinds are grouped into
unsecured loans and advances, own securities maturing and other inflows.  The counterbalancing
capacity rows carry the template's row codes (0740 withdrawable central bank reserves, 0750
Level 1, 0820 Level 2A, 0860 Level 2B, 0920 other tradable assets, 1000 undrawn committed
facilities received, 1080 cumulated counterbalancing capacity).

For all currencies together the contractual ladder converts at base FX rates and the stressed
ladder at the scenario's stressed rates (the all-currency view of :mod:`liqstress.stress.fx`).

* **Contractual ladder**: contractual maturities at 100% -- maturing liabilities on their
  maturity days, non-maturing (open-maturity) balances, committed facilities granted and
  collateral calls overnight, dated flows on their days (every dated outflow of the file,
  including business-as-usual flows such as loan originations or dividends that a management
  action could halt: the ladder is before management actions).  Counterbalancing capacity:
  the initial stock holds the unencumbered units only (``amount - encumbered`` minus the units
  pledged to secured funding linked to a cbc line), valued at the file's haircuts (best of
  sale and repo); a linked secured funding line returns its collateral when it matures (the
  pledged units pro rata to the amount repaid), shown as a positive change of the
  collateral's row in the band of the maturity, so the cumulated CBC (row 1080) rises then.
* **Stressed ladder**: the scenario's projected daily flows (run-off profiles, rollover,
  inflow haircuts) summed over each band; counterbalancing capacity: initial stock after the
  scenario's haircuts, then per band the value used by the CBC LP plan (negative) and
  returned by maturing repos; "cash raised" and "cash balance at band end" are memorandum
  rows, so that ``balance = opening cash + cumulated net gap + cash raised - repaid`` holds at
  each band end (reconciled with the daily series in the tests).  It is the LP plan without
  management actions; collateral pledged to linked secured funding stays out of the CBC over
  the whole projection, as in that plan.

Both ladders carry a memorandum row with the survival floor (``minimum_operational_cash +
intraday_liquidity_requirement``): cash that row 0740 includes but the bank keeps at all
times; in the stressed ladder the cash balance stays at or above it up to the survival
horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqstress.models.stress_file import DEPOSIT_CATEGORIES

#: (column code, label, first day, last day) of the C 66.01 time bands after the initial stock.
BANDS: list[tuple[str, str, int, int]] = [
    ("0020", "Overnight", 1, 1),
    ("0030", "Greater than overnight up to 2 days", 2, 2),
    ("0040", "Greater than 2 days up to 3 days", 3, 3),
    ("0050", "Greater than 3 days up to 4 days", 4, 4),
    ("0060", "Greater than 4 days up to 5 days", 5, 5),
    ("0070", "Greater than 5 days up to 6 days", 6, 6),
    ("0080", "Greater than 6 days up to 7 days", 7, 7),
    ("0090", "Greater than 7 days up to 2 weeks", 8, 14),
    ("0100", "Greater than 2 weeks up to 3 weeks", 15, 21),
    ("0110", "Greater than 3 weeks up to 30 days", 22, 30),
    ("0120", "Greater than 30 days up to 5 weeks", 31, 35),
    ("0130", "Greater than 5 weeks up to 2 months", 36, 60),
    ("0140", "Greater than 2 months up to 3 months", 61, 90),
    ("0150", "Greater than 3 months up to 4 months", 91, 120),
    ("0160", "Greater than 4 months up to 5 months", 121, 150),
    ("0170", "Greater than 5 months up to 6 months", 151, 180),
    ("0180", "Greater than 6 months up to 9 months", 181, 270),
    ("0190", "Greater than 9 months up to 12 months", 271, 365),
    ("0200", "Greater than 12 months up to 2 years", 366, 730),
    ("0210", "Greater than 2 years up to 5 years", 731, 1825),
    ("0220", "Greater than 5 years", 1826, 10 ** 9),
]
BAND_COLUMNS = [f"{c} {lab}" for c, lab, _, _ in BANDS]
INITIAL = "0010 Initial stock"

OUT_ROWS = [
    ("1.1", "Liabilities resulting from securities issued", ("unsecured_wholesale",)),
    ("1.2", "Liabilities resulting from secured lending and capital market driven transactions", ("secured_funding",)),
    ("1.3", "Liabilities resulting from deposits", DEPOSIT_CATEGORIES),
    ("", "Derivatives amount payables (collateral calls)", ("derivative_collateral",)),
    ("", "Other outflows (committed facilities granted, other contractual, dated outflows)",
     ("committed_credit_facility", "committed_liquidity_facility", "other_contractual", "contractual_outflows")),
]
IN_ROWS = [
    ("", "Monies due from unsecured loans and advances", ("retail_loan", "corporate_loan", "financial_institution")),
    ("", "Own securities portfolio maturing", ("securities_sovereign", "securities_other")),
    ("", "Other inflows", ("other",)),
]
CBC_ROWS = [("0740", "Withdrawable central bank reserves", "cash"), ("0750", "Level 1 tradable assets", "L1"),
            ("0820", "Level 2A tradable assets", "L2A"), ("0860", "Level 2B tradable assets", "L2B"),
            ("0920", "Other tradable assets", "non_HQLA"), ("1000", "Undrawn committed facilities received", "facility")]


def band_sum(daily: np.ndarray) -> np.ndarray:
    """Sum of a day-1-based daily series over each band (days beyond the series count 0)."""
    x = np.asarray(daily, dtype=float)
    c = np.concatenate([[0.0], np.cumsum(x)])
    n = len(x)
    return np.array([c[min(b, n)] - c[min(a - 1, n)] for _, _, a, b in BANDS])


def band_end(daily: np.ndarray) -> np.ndarray:
    """Value of a cumulative daily series at each band's last day (held flat past the series)."""
    x = np.asarray(daily, dtype=float)
    return np.array([x[min(b, len(x)) - 1] for _, _, a, b in BANDS])


def _row(section: str, rid: str, item: str, values: np.ndarray, initial=None) -> dict:
    d = {"section": section, "row": rid, "item": item, INITIAL: initial}
    d.update(dict(zip(BAND_COLUMNS, [float(v) + 0.0 for v in values])))  # + 0.0: no "-0"
    return d


def _flow_rows(out_by: dict, in_by: dict) -> list[dict]:
    rows = []
    zero = np.zeros(len(BANDS))
    tot_o = zero.copy()
    for rid, item, cats in OUT_ROWS:
        v = sum((out_by.get(c, zero) for c in cats), zero.copy())
        tot_o += v
        rows.append(_row("1 OUTFLOWS", rid, item, v))
    rows.append(_row("1 OUTFLOWS", "", "Total outflows", tot_o))
    tot_i = zero.copy()
    for rid, item, kinds in IN_ROWS:
        v = sum((in_by.get(k, zero) for k in kinds), zero.copy())
        tot_i += v
        rows.append(_row("2 INFLOWS", rid, item, v))
    rows.append(_row("2 INFLOWS", "", "Total inflows", tot_i))
    rows.append(_row("2 INFLOWS", "", "Net contractual gap (inflows - outflows)", tot_i - tot_o))
    rows.append(_row("2 INFLOWS", "", "Cumulated net contractual gap", np.cumsum(tot_i - tot_o)))
    return rows


def _cbc_stock(stress, plan) -> dict[str, float]:
    from liqstress.reports.data import unit_values

    st = {"cash": float(plan.opening_cash), "L1": 0.0, "L2A": 0.0, "L2B": 0.0, "non_HQLA": 0.0, "facility": 0.0}
    for lv, n, v in unit_values(plan).values():
        st[lv] += n * v
    return st


def _file_value(a) -> float:
    """Cash per unit of a cbc line at the file's own haircuts: best of sale and repo."""
    return max((1.0 - (a.sale_discount or 0.0)) if a.sale else 0.0, (1.0 - (a.repo_haircut or 0.0)) if a.repo else 0.0)


def _file_stock(stress) -> dict[str, float]:
    """CBC initial stock at the file's own haircuts (no scenario add-ons): the unencumbered
    units of each line (amount - encumbered - pledged to linked secured funding)."""
    st = {"cash": float(stress.opening_cash), "L1": 0.0, "L2A": 0.0, "L2B": 0.0, "non_HQLA": 0.0, "facility": 0.0}
    free = stress.free_units()
    for a in stress.cbc:
        st[a.level] += free[a.id] * _file_value(a)
    for f in stress.facilities:
        if f.is_counted():
            st["facility"] += f.amount * (1.0 - f.haircut)
    return st


def returned_collateral(stress, span: int) -> dict[str, np.ndarray]:
    """level -> (span,) value (file haircuts) of the collateral that linked secured funding
    returns on each day: at each maturity, the line's ``collateral_units`` pro rata to the
    amount repaid (days past ``span`` land on its last day)."""
    by_id = {a.id: a for a in stress.cbc}
    out: dict[str, np.ndarray] = {}
    for line in stress.liabilities:
        if line.collateral is None or not line.collateral_units or line.amount <= 0:
            continue
        a = by_id[line.collateral]
        arr = out.setdefault(a.level, np.zeros(span))
        for m in line.maturities or []:
            arr[min(m.day, span) - 1] += float(line.collateral_units) * m.amount / line.amount * _file_value(a)
    return out


def _floor_row(floor: float) -> dict:
    floor = float(floor)
    return _row("MEMO", "", "Survival floor kept in cash (minimum operational cash + intraday liquidity requirement)",
                np.full(len(BANDS), floor), floor)


def contractual(stress) -> pd.DataFrame:
    """Contractual ladder of a (sub-)stress file."""
    from liqstress.stress.projection import flow_days

    out_by: dict[str, np.ndarray] = {}
    in_by: dict[str, np.ndarray] = {}
    span = 1826  # one day past the last finite band: everything later lands in "> 5 years"

    def add(d: dict, key: str, day: int, amt: float) -> None:
        arr = d.setdefault(key, np.zeros(span))
        arr[min(day, span) - 1] += amt

    for line in stress.liabilities:
        if line.maturities is None:
            add(out_by, line.category, 1, line.amount)
        else:
            for m in line.maturities:
                add(out_by, line.category, m.day, m.amount)
    for f in stress.flows:
        for d in flow_days(stress, f):
            add(out_by if f.direction == "outflow" else in_by,
                "contractual_outflows" if f.direction == "outflow" else f.kind, d, f.amount)
    out_b = {k: band_sum(v) for k, v in out_by.items()}
    in_b = {k: band_sum(v) for k, v in in_by.items()}
    rows = _flow_rows(out_b, in_b)
    st = _file_stock(stress)
    zero = np.zeros(len(BANDS))
    back = {k: band_sum(v) for k, v in returned_collateral(stress, span).items()}
    change = zero.copy()
    for code, item, key in CBC_ROWS:
        v = back.get(key, zero)
        change += v
        rows.append(_row("3 COUNTERBALANCING CAPACITY", code, item, v, st[key]))
    total = sum(st.values())
    rows.append(_row("3 COUNTERBALANCING CAPACITY", "1080", "Cumulated counterbalancing capacity",
                     total + np.cumsum(change), total))
    rows.append(_floor_row(stress.survival_floor()))
    df = pd.DataFrame(rows)
    df.insert(0, "basis", "contractual")
    return df


def stressed(stress, proj, plan, result) -> pd.DataFrame:
    """Stressed ladder: projected flows by band, CBC used by ``result`` (a CBCResult of ``plan``)."""
    from liqstress.reports.data import unit_values

    daily = proj.daily
    out_b = {c[4:]: band_sum(daily[c].to_numpy()) for c in daily.columns if c.startswith("out:")}
    in_b = {c[3:]: band_sum(daily[c].to_numpy()) for c in daily.columns if c.startswith("in:")}
    rows = _flow_rows(out_b, in_b)
    H = plan.horizon_days
    vals = unit_values(plan)
    st = _cbc_stock(stress, plan)
    used = {k: np.zeros(H) for k in st}
    for a in result.actions:
        if a["asset"] in vals:
            lv, _, v = vals[a["asset"]]
            used[lv][a["day"] - 1] += v * a["amount"]
    dep = result.deployment
    ret = dep["returned"].to_numpy()
    for code, item, key in CBC_ROWS:
        flow = -band_sum(used[key]) if key != "cash" else np.zeros(len(BANDS))
        rows.append(_row("3 COUNTERBALANCING CAPACITY", code, item, flow, st[key]))
    rows.append(_row("3 COUNTERBALANCING CAPACITY", "", "Collateral returned by maturing repos", band_sum(ret)))
    total0 = sum(st.values()) - st["cash"]
    cum = total0 + np.cumsum(-sum(band_sum(used[k]) for k in used if k != "cash") + band_sum(ret))
    rows.append(_row("3 COUNTERBALANCING CAPACITY", "1080", "Cumulated counterbalancing capacity (excluding cash)",
                     cum, total0))
    rows.append(_row("MEMO", "", "Cash raised from counterbalancing capacity", band_sum(dep["cash_in"].to_numpy())))
    rows.append(_row("MEMO", "", "Repaid at repo maturity", band_sum(dep["repaid"].to_numpy())))
    bal = band_end(result.balances)
    bal[[a > H for _, _, a, _ in BANDS]] = np.nan
    rows.append(_row("MEMO", "", "Cash balance at band end", bal, float(plan.opening_cash)))
    rows.append(_floor_row(plan.minimum_balance))
    df = pd.DataFrame(rows)
    df.insert(0, "basis", "stressed")
    return df


def ladder(stress, proj, plan, result, currency: str) -> pd.DataFrame:
    """Contractual and stressed C 66.01 ladder of one scenario for one currency view."""
    df = pd.concat([contractual(stress), stressed(stress, proj, plan, result)], ignore_index=True)
    df.insert(1, "currency", currency)
    return df


def scenario_ladders(source, analysis, name: str, method: str = "bisection") -> pd.DataFrame:
    """C 66.01 of one scenario: all currencies together (the report's LP plan) and, for a
    multi-currency file, each significant currency on its own resources (stand-alone LP)."""
    from liqstress.solvers.cbc import solve_plan
    from liqstress.stress import fx

    agg = fx.aggregate(source, name)
    code = "ALL" if fx.is_multi(source) else source.currency
    total = pd.concat([contractual(fx.aggregate(source, None)),  # contractual: base FX rates
                       stressed(agg, analysis.proj, analysis.plan, analysis.lp)], ignore_index=True)
    total.insert(1, "currency", code)
    parts = [total]
    if fx.is_multi(source):
        plans = fx.currency_plans(source, name)
        for c in fx.significant(source):
            sub, res, plan = plans[c]
            from liqstress.stress.projection import project

            parts.append(ladder(sub, project(sub, res), plan, solve_plan(plan, method=method), c))
    return pd.concat(parts, ignore_index=True)
