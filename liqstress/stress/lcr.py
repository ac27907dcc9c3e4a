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
    return stress.lcr.l2b_haircuts.get(asset_id, 0.50)


def level_values(stress: StressFile, res: Optional[Resolved], remaining: Optional[dict] = None,
                 cash: Optional[float] = None) -> dict[str, float]:
    """Post-haircut HQLA by level: cash (L1) plus each CBC line ``remaining[id]`` units (default
    the full amount) at LCR haircuts, after the scenario fire-sale add-on; closed lines excluded."""
    vals = {"L1": stress.opening_cash if cash is None else max(cash, 0.0), "L2A": 0.0, "L2B": 0.0}
    for a in stress.cbc:
        if a.level == "non_HQLA":
            continue
        avail = a.amount - a.encumbered
        units = avail if remaining is None else remaining.get(a.id, avail)
        price = 1.0
        if res is not None:
            if a.id in res.closed_sale and a.id in res.closed_repo:
                continue
            price = max(0.0, 1.0 - res.sale_discount_add.get(a.id, 0.0))
        hc = l2b_haircut(stress, a.id) if a.level == "L2B" else LEVEL_HAIRCUT[a.level]
        vals[a.level] += units * price * (1.0 - hc)
    return vals


def stock(stress: StressFile, res: Optional[Resolved], remaining: Optional[dict] = None,
          cash: Optional[float] = None, unwind: bool = True) -> HQLAStock:
    """Capped HQLA stock; adjusted amounts unwind secured transactions maturing within 30 days
    (``unwind=False`` on days after the reporting date, when those transactions have settled)."""
    v = level_values(stress, res, remaining, cash)
    adj = dict(v)
    for t in (stress.lcr.secured_transactions if unwind else []):
        if t.maturity_days <= 30:
            if t.gave.level != "non_HQLA":
                adj[t.gave.level] += t.gave.value
            if t.received.level != "non_HQLA":
                adj[t.received.level] -= t.received.value
    adj = {k: max(x, 0.0) for k, x in adj.items()}
    return hqla_annex1(v["L1"], v["L2A"], v["L2B"], adj["L1"], adj["L2A"], adj["L2B"])


def _outflows(stress: StressFile, res: Optional[Resolved]) -> tuple[dict, dict]:
    out: dict[str, float] = {}
    rates: dict[str, float] = {}
    for line in stress.liabilities:
        base = line.basel_rate()
        if line.maturities is None:
            amt = line.amount
            rate = base if res is None else max(base, res.run_off[line.category].cumulative(30))
        else:
            amt = sum(m.amount for m in line.maturities if m.day <= 30)
            rate = base if res is None else max(base, 1.0 - res.rollover[line.category])
        out[line.category] = out.get(line.category, 0.0) + amt * rate
        rates[line.id] = rate
    for f in stress.flows:
        if f.direction == "outflow":
            n = sum(1 for d in flow_days(stress, f) if d <= 30)
            if n:
                rate = 1.0 if f.lcr_rate is None else f.lcr_rate
                out["contractual_outflows"] = out.get("contractual_outflows", 0.0) + n * f.amount * rate
                rates[f.id] = rate
    return out, rates


def _inflows(stress: StressFile, res: Optional[Resolved]) -> tuple[dict, dict]:
    inn: dict[str, float] = {}
    rates: dict[str, float] = {}
    for f in stress.flows:
        if f.direction != "inflow":
            continue
        n = sum(1 for d in flow_days(stress, f) if d <= 30)
        base = INFLOW_KINDS[f.kind] if f.lcr_rate is None else f.lcr_rate
        rate = base if res is None else base * (1.0 - res.inflow_haircut.get(f.kind, 0.0))
        if n:
            inn[f.kind] = inn.get(f.kind, 0.0) + n * f.amount * rate
        rates[f.id] = rate
    return inn, rates


def compute_lcr(stress: StressFile, res: Optional[Resolved] = None) -> LCRResult:
    """Base LCR (``res=None``, regulatory parameters) or the stress LCR of scenario ``res``."""
    out, r1 = _outflows(stress, res)
    inn, r2 = _inflows(stress, res)
    return LCRResult("base" if res is None else res.name, stock(stress, res), out, inn, {**r1, **r2})


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
