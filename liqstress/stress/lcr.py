"""Stress LCR per the Basel III LCR standard (BCBS 238, January 2013).

Stock of HQLA (paras 49-54, Annex 1)::

    HQLA = L1 + L2A + L2B - Adjustment for 15% cap - Adjustment for 40% cap
    Adj15 = max(adjL2B - 15/85 (adjL1 + adjL2A), adjL2B - 15/60 adjL1, 0)
    Adj40 = max(adjL2A + adjL2B - Adj15 - 2/3 adjL1, 0)

with L2A after its 15% haircut, L2B after its 25-50% haircut, and the *adjusted* amounts
``adj*`` those that would result after unwinding short-term (<= 30 days) secured funding,
secured lending and collateral swaps involving HQLA (Annex 1 para 2).  Without unwinding the
formula equals the largest ``a1 + a2a + a2b`` with ``a <= L`` and the caps
``a2b <= 15% total``, ``a2a + a2b <= 40% total`` (checked against an LP in the tests).

The formulas are applied literally: adjusted amounts are not floored at zero.  Unwinding a
short-term secured funding transaction returns its cash (adjusted Level 1 falls by the amount
borrowed) and its collateral (the collateral's level rises by its LCR value).  When the cash
to return exceeds the Level 1 stock, adjusted Level 1 is negative; both cap adjustments then
grow (by 15/60 and 2/3 of the negative amount) and the Level 2 assets count for less -- the
stock can even fall below the unadjusted Level 1 amount.  :attr:`HQLAStock.negative_adjusted_l1`
flags that case for the report.

Unwound transactions: every ``secured_funding`` liability linked to a cbc line
(``collateral``) whose collateral is HQLA, for each maturity within 30 days (cash = the
maturing amount, collateral = ``collateral_units`` pro rata, valued like the stock), plus the
``lcr.secured_transactions`` of the file.  The scenario's fire-sale add-on applies to every
unwound leg valued as securities (the leg's cbc line, or its level).  Collateral encumbered
by linked secured funding is not in the unadjusted stock (para 31: unencumbered assets only).

Secured funding outflows use the para 115 rate of the collateral actually pledged (Level 1 0%,
Level 2A 15%, Level 2B RMBS 25%, other Level 2B 50%, other 100%; 0% with the domestic central
bank; 25% with the domestic sovereign / MDB / 20%-risk-weight PSE when not backed by Level 1 or
2A), see :func:`liqstress.models.stress_file.secured_outflow_rate`.

LCR = HQLA / (outflows - min(inflows, 75% outflows))  (para 69).

Base LCR: regulatory rates (``basel_outflow_rate`` / ``INFLOW_KINDS``).  Stress LCR of a
scenario: each outflow rate is the higher of the regulatory rate and the scenario's 30-day
run-off (or non-rolled share); inflows are the regulatory rate times ``1 - inflow_haircut``;
HQLA is valued after the scenario's fire-sale discount add-on, and assets whose markets are
closed for both sale and repo are excluded (they fail the operational requirements, para 31).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from liqstress.models.stress_file import INFLOW_KINDS, StressFile
from liqstress.stress.projection import flow_days
from liqstress.stress.scenarios import Resolved

LEVEL_HAIRCUT = {"L1": 0.0, "L2A": 0.15}
INFLOW_CAP = 0.75


@dataclass(frozen=True)
class HQLAStock:
    l1: float
    l2a: float
    l2b: float
    adj_l1: float
    adj_l2a: float
    adj_l2b: float
    adj15: float
    adj40: float

    @property
    def hqla(self) -> float:
        return self.l1 + self.l2a + self.l2b - self.adj15 - self.adj40

    @property
    def negative_adjusted_l1(self) -> bool:
        """Adjusted Level 1 < 0: unwinding returns more Level 1 (cash) than the bank holds."""
        return self.adj_l1 < 0.0


def hqla_annex1(l1: float, l2a: float, l2b: float, adj_l1: Optional[float] = None,
                adj_l2a: Optional[float] = None, adj_l2b: Optional[float] = None) -> HQLAStock:
    """Stock of HQLA with the Level 2B (15%) and Level 2 (40%) caps, BCBS 238 Annex 1.

    All amounts after haircuts; adjusted amounts default to the unadjusted ones."""
    a1 = l1 if adj_l1 is None else adj_l1
    a2a = l2a if adj_l2a is None else adj_l2a
    a2b = l2b if adj_l2b is None else adj_l2b
    adj15 = max(a2b - 15.0 / 85.0 * (a1 + a2a), a2b - 15.0 / 60.0 * a1, 0.0)
    adj40 = max(a2a + a2b - adj15 - 2.0 / 3.0 * a1, 0.0)
    return HQLAStock(l1, l2a, l2b, a1, a2a, a2b, adj15, adj40)


@dataclass(frozen=True)
class LCRResult:
    scenario: str
    stock: HQLAStock
    outflows: dict  # driver -> 30-day outflow
    inflows: dict  # kind -> 30-day inflow
    rates: dict = field(default_factory=dict)  # driver -> rate used
    unwound: list = field(default_factory=list)  # Annex 1 legs: {id, day, level, value, cash}
    line_outflows: dict = field(default_factory=dict)  # liability / flow id -> 30-day LCR outflow
    line_inflows: dict = field(default_factory=dict)  # flow id -> 30-day LCR inflow (before the cap)

    @property
    def hqla(self) -> float:
        return self.stock.hqla

    @property
    def total_outflows(self) -> float:
        return float(sum(self.outflows.values()))

    @property
    def total_inflows(self) -> float:
        return float(sum(self.inflows.values()))

    @property
    def capped_inflows(self) -> float:
        return min(self.total_inflows, INFLOW_CAP * self.total_outflows)

    @property
    def net_outflows(self) -> float:
        return self.total_outflows - self.capped_inflows

    @property
    def lcr(self) -> float:
        nco = self.net_outflows
        return float("inf") if nco <= 0 else self.hqla / nco


def l2b_haircut(stress: StressFile, asset_id: str) -> float:
    """LCR haircut of a Level 2B line: ``lcr.l2b_haircuts``, else 25% for RMBS (para 54(a),
    ``lcr.l2b_rmbs``), else 50%."""
    if asset_id in stress.lcr.l2b_haircuts:
        return stress.lcr.l2b_haircuts[asset_id]
    return 0.25 if asset_id in stress.lcr.l2b_rmbs else 0.50


def unit_lcr_value(stress: StressFile, res: Optional[Resolved], asset) -> float:
    """LCR value of one unit of a cbc line: price after the scenario's fire-sale add-on times
    (1 - LCR haircut); 0 for non-HQLA and for lines closed for both sale and repo (para 31)."""
    if asset.level == "non_HQLA":
        return 0.0
    price = 1.0
    if res is not None:
        if asset.id in res.closed_sale and asset.id in res.closed_repo:
            return 0.0
        price = max(0.0, 1.0 - res.sale_discount_add.get(asset.id, 0.0))
    hc = l2b_haircut(stress, asset.id) if asset.level == "L2B" else LEVEL_HAIRCUT[asset.level]
    return price * (1.0 - hc)


def level_values(stress: StressFile, res: Optional[Resolved], remaining: Optional[dict] = None,
                 cash: Optional[float] = None) -> dict[str, float]:
    """Post-haircut HQLA by level: cash (L1) plus each CBC line ``remaining[id]`` units (default
    its free units: amount - encumbered - pledged to linked secured funding) at LCR haircuts,
    after the scenario fire-sale add-on; closed lines excluded."""
    vals = {"L1": stress.opening_cash if cash is None else max(cash, 0.0), "L2A": 0.0, "L2B": 0.0}
    free = stress.free_units()
    for a in stress.cbc:
        if a.level == "non_HQLA":
            continue
        units = free[a.id] if remaining is None else remaining.get(a.id, free[a.id])
        vals[a.level] += units * unit_lcr_value(stress, res, a)
    return vals


def _leg_value(stress: StressFile, res: Optional[Resolved], leg) -> float:
    """Value of an unwound leg after the scenario's fire-sale add-on: the leg's cbc line's if
    ``asset`` is given, else its level's; cash legs (``cash: true``) are not discounted."""
    if res is None or leg.cash:
        return leg.value
    if leg.asset is not None:
        a = next(x for x in stress.cbc if x.id == leg.asset)
        if a.id in res.closed_sale and a.id in res.closed_repo:
            return 0.0
        add = res.sale_discount_add.get(leg.asset, 0.0)
    else:
        add = res.level_sale_discount_add.get(leg.level, 0.0)
    return leg.value * max(0.0, 1.0 - add)


def unwinding_legs(stress: StressFile, res: Optional[Resolved]) -> list[dict]:
    """Annex 1 unwinding within 30 days (module docstring): one dict per leg
    ``{id, day, level, value}`` (value > 0 comes back to the bank, < 0 goes out)."""
    legs: list[dict] = []
    by_id = {a.id: a for a in stress.cbc}
    for line in stress.liabilities:
        if line.collateral is None or line.amount <= 0:
            continue
        a = by_id[line.collateral]
        if a.level == "non_HQLA":
            continue
        uv = unit_lcr_value(stress, res, a)
        for m in line.maturities or []:
            if m.day <= 30 and m.amount > 0:
                units = float(line.collateral_units or 0.0) * m.amount / line.amount
                legs.append({"id": line.id, "day": m.day, "level": "L1", "value": -m.amount, "asset": None})
                legs.append({"id": line.id, "day": m.day, "level": a.level, "value": units * uv, "asset": a.id})
    for t in stress.lcr.secured_transactions:
        if t.maturity_days <= 30:
            for leg, sign in ((t.gave, 1.0), (t.received, -1.0)):
                if leg.level != "non_HQLA":
                    legs.append({"id": t.id, "day": t.maturity_days, "level": leg.level,
                                 "value": sign * _leg_value(stress, res, leg), "asset": leg.asset})
    return legs


def stock(stress: StressFile, res: Optional[Resolved], remaining: Optional[dict] = None,
          cash: Optional[float] = None, unwind: bool = True) -> HQLAStock:
    """Capped HQLA stock; adjusted amounts unwind secured transactions maturing within 30 days
    (``unwind=False`` on days after the reporting date, when those transactions have settled).
    The Annex 1 formulas are applied literally: adjusted amounts are never floored at zero."""
    v = level_values(stress, res, remaining, cash)
    adj = dict(v)
    for leg in (unwinding_legs(stress, res) if unwind else []):
        adj[leg["level"]] += leg["value"]
    return hqla_annex1(v["L1"], v["L2A"], v["L2B"], adj["L1"], adj["L2A"], adj["L2B"])


def _outflows(stress: StressFile, res: Optional[Resolved]) -> tuple[dict, dict, dict]:
    out: dict[str, float] = {}
    rates: dict[str, float] = {}
    lines: dict[str, float] = {}
    for line in stress.liabilities:
        base = stress.basel_rate(line)
        if line.maturities is None:
            amt = line.amount
            rate = base if res is None else max(base, res.run_off[line.category].cumulative(30))
        else:
            amt = sum(m.amount for m in line.maturities if m.day <= 30)
            rate = base if res is None else max(base, 1.0 - res.rollover[line.category])
        out[line.category] = out.get(line.category, 0.0) + amt * rate
        rates[line.id] = rate
        lines[line.id] = amt * rate
    for f in stress.flows:
        if f.direction == "outflow":
            n = sum(1 for d in flow_days(stress, f) if d <= 30)
            if n:
                rate = 1.0 if f.lcr_rate is None else f.lcr_rate
                out["contractual_outflows"] = out.get("contractual_outflows", 0.0) + n * f.amount * rate
                rates[f.id] = rate
                lines[f.id] = n * f.amount * rate
    return out, rates, lines


def _inflows(stress: StressFile, res: Optional[Resolved]) -> tuple[dict, dict, dict]:
    inn: dict[str, float] = {}
    rates: dict[str, float] = {}
    lines: dict[str, float] = {}
    for f in stress.flows:
        if f.direction != "inflow":
            continue
        n = sum(1 for d in flow_days(stress, f) if d <= 30)
        base = INFLOW_KINDS[f.kind] if f.lcr_rate is None else f.lcr_rate
        rate = base if res is None else base * (1.0 - res.inflow_haircut.get(f.kind, 0.0))
        if n:
            inn[f.kind] = inn.get(f.kind, 0.0) + n * f.amount * rate
            lines[f.id] = n * f.amount * rate
        rates[f.id] = rate
    return inn, rates, lines


def compute_lcr(stress: StressFile, res: Optional[Resolved] = None) -> LCRResult:
    """Base LCR (``res=None``, regulatory parameters) or the stress LCR of scenario ``res``."""
    out, r1, lo = _outflows(stress, res)
    inn, r2, li = _inflows(stress, res)
    return LCRResult("base" if res is None else res.name, stock(stress, res), out, inn, {**r1, **r2},
                     unwinding_legs(stress, res), lo, li)


def driver(base: LCRResult, st: LCRResult) -> tuple[str, float]:
    """Primary driver of the fall from base to stress LCR: the largest single change, in money,
    among extra outflows per category, lost HQLA and lost (capped) inflows."""
    cands = {f"{k} outflows": st.outflows.get(k, 0.0) - base.outflows.get(k, 0.0)
             for k in set(st.outflows) | set(base.outflows)}
    cands["HQLA fire-sale discounts / closures"] = base.hqla - st.hqla
    cands["inflow haircuts"] = base.capped_inflows - st.capped_inflows
    k = max(cands, key=lambda x: cands[x])
    return k, float(cands[k])


def binding(results: list[LCRResult]) -> LCRResult:
    """The binding scenario: the lowest stress LCR."""
    return min(results, key=lambda r: r.lcr)
