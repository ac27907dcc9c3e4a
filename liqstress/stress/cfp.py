"""Contingency funding plan: indicators per day, trigger breaches, phase per day (docs/model.md §6.5).

Indicators (one value per day 1..H of the projection):

* ``lcr`` -- liquidity-buffer coverage: capped HQLA still held at the end of the day (cash
  balance as Level 1 plus the unused CBC lines at stressed LCR values, Annex 1 caps) over the
  scenario's stressed 30-day net outflows (the stress-LCR denominator); day 0 is the stress LCR;
* ``survival_days`` -- the observable runway (:func:`liqstress.stress.engine.runway_path`):
  liquid resources at the end of day t (cash above the survival floor plus the unused CBC at
  stressed value) over the average daily net outflow of the last ``cfp.runway_window_days`` days -- what the bank
  can measure each day, not the model's own survival horizon, so that phases are driven by
  indicators (without ``runway`` the older definition ``H - t + 1`` from the LP horizon H is
  used);
* ``deposit_outflow_sigma`` -- the day's deposit outflow as a share of opening deposits, in
  units of the historical daily sigma (``cfp.deposit_outflow_sigma_daily``);
* ``wholesale_closed`` -- 1 when unsecured wholesale markets are closed in the scenario;
* ``rating_notches`` -- downgrade notches from the scenario's ``rating_day`` on.

A trigger ``{indicator, op: below|at_or_above, level, phase}`` is breached on a day when the
indicator satisfies it.  The phase on day t is the highest phase among the triggers breached
on any day s <= t (escalation is sticky: de-escalation is an ALCO decision, not automatic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqstress.models.stress_file import DEPOSIT_CATEGORIES, PHASES, StressFile
from liqstress.stress.projection import Projection
from liqstress.stress.scenarios import Resolved

PHASE_RANK = {p: i for i, p in enumerate(PHASES)}


@dataclass(frozen=True)
class CFPResult:
    daily: pd.DataFrame  # day, indicators, phase_rank, phase
    triggers: pd.DataFrame  # id, indicator, op, level, phase, current, worst, first_breach_day
    activation: dict  # phase -> first day reached (None if never)

    def phase_on(self, day: int) -> str:
        return str(self.daily["phase"].iloc[day - 1])


def indicators(stress: StressFile, res: Resolved, proj: Projection, survival_days: int,
               lcr_path: np.ndarray, runway: np.ndarray | None = None) -> pd.DataFrame:
    """Daily indicator values (see module docstring)."""
    H = stress.horizon_days
    day = np.arange(1, H + 1)
    deposits = sum(l.amount for l in stress.liabilities if l.category in DEPOSIT_CATEGORIES)
    sig = stress.cfp.deposit_outflow_sigma_daily
    dep_out = proj.daily["deposit_outflows"].to_numpy()
    if runway is None:
        runway = (survival_days - day + 1).astype(float)
        if survival_days >= H:
            runway[:] = np.inf
    runway = np.asarray(runway, dtype=float)
    return pd.DataFrame({
        "day": day,
        "lcr": np.asarray(lcr_path, dtype=float),
        "survival_days": runway,
        "deposit_outflow_sigma": dep_out / (deposits * sig) if deposits > 0 else np.zeros(H),
        "wholesale_closed": np.full(H, 0.0 if res.unsecured_wholesale_open else 1.0),
        "rating_notches": np.where(day >= res.rating_day, float(res.rating_notches), 0.0),
    })


def breaches(values: np.ndarray, op: str, level: float) -> np.ndarray:
    return values < level if op == "below" else values >= level


def evaluate(stress: StressFile, ind: pd.DataFrame, upto: int | None = None) -> CFPResult:
    """Trigger breaches and the phase per day.  ``upto`` limits the days considered (e.g. the
    day the bank runs out of cash: later values describe a failed bank)."""
    H = len(ind)
    upto = H if upto is None else max(1, min(H, upto))
    rank = np.zeros(H, dtype=int)
    rows = []
    for t in stress.cfp.triggers:
        v = ind[t.indicator].to_numpy()
        b = breaches(v, t.op, t.level)
        b[upto:] = False
        hit = np.flatnonzero(b)
        first = int(hit[0]) + 1 if len(hit) else None
        if first is not None:
            rank[first - 1:] = np.maximum(rank[first - 1:], PHASE_RANK[t.phase])
        w = v[:upto]
        worst = float(np.min(w)) if t.op == "below" else float(np.max(w))
        rows.append({"id": t.id, "indicator": t.indicator, "op": t.op, "level": t.level, "phase": t.phase,
                     "current": float(v[0]), "worst": worst, "first_breach_day": first,
                     "description": t.description})
    rank = np.maximum.accumulate(rank)
    daily = ind.copy()
    daily["phase_rank"] = rank
    daily["phase"] = [PHASES[r] for r in rank]
    act = {}
    for p in PHASES:
        hit = np.flatnonzero(rank >= PHASE_RANK[p])
        act[p] = int(hit[0]) + 1 if len(hit) else None
    return CFPResult(daily, pd.DataFrame(rows), act)


def escalation(cf: CFPResult) -> list[dict]:
    """Escalation timeline: one entry per day on which a phase is first reached, in day order:
    ``{"day", "phases": [phases reached that day, lowest first], "triggers": [{"id",
    "indicator", "op", "level", "value", "phase"}] first breached that day, "implied": [phases
    reached that day only through a higher phase's trigger]}``.  Distinguishes phases reached on
    the same day from phases reached on later days."""
    act = cf.activation
    days = sorted({d for p, d in act.items() if d is not None and p != "monitoring"})
    tr = cf.triggers
    out = []
    for d in days:
        phases = [p for p in PHASES if p != "monitoring" and act[p] == d]
        hits = tr[tr["first_breach_day"] == d] if len(tr) else tr
        trig = []
        for r in hits.itertuples():
            v = float(cf.daily[r.indicator].iloc[d - 1])
            trig.append({"id": r.id, "indicator": r.indicator, "op": r.op, "level": float(r.level), "value": v,
                         "phase": r.phase})
        own = {t["phase"] for t in trig}
        out.append({"day": int(d), "phases": phases, "triggers": trig, "implied": [p for p in phases if p not in own]})
    return out
