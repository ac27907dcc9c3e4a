"""Reconciliation of the 30-day cash table with the stress LCR (issue 12 §5).

The report's "Cash Flow Impact (30-Day Horizon)" table sums the stressed projection over days
1-30; the stress LCR's denominator uses 30-day outflow and inflow rates.  Line by line:

* non-maturing liability: projection ``amount x cumulative run-off at day 30``; LCR
  ``amount x max(Basel rate, 30-day run-off)`` -- the difference is the Basel floor;
* maturing liability: projection ``sum of maturities on days <= 30 x non-rolled share``; LCR
  ``same maturities x max(Basel rate, non-rolled share)`` (secured funding: the para 115 rate of
  its collateral);
* dated outflow: projection 100% of each occurrence; LCR ``lcr_rate`` (default 100%);
* inflow: projection ``contractual x (1 - haircut)``; LCR ``contractual x Basel inflow rate x
  (1 - haircut)``, then capped at 75% of LCR outflows (para 69).

``rows`` carry both amounts and the difference; the differences add up exactly to the
difference of the totals (30-day net outflow of the projection vs the LCR net cash outflows).
"""

from __future__ import annotations

from dataclasses import dataclass

from liqstress.models.stress_file import INFLOW_KINDS, StressFile
from liqstress.stress.lcr import LCRResult
from liqstress.stress.projection import flow_days
from liqstress.stress.scenarios import Resolved

WINDOW = 30


@dataclass(frozen=True)
class ReconRow:
    item: str  # line / flow id, or "75% inflow cap"
    side: str  # "outflow" | "inflow" | "cap"
    cash: float  # projection, days 1-30 (inflows negative: they reduce the net outflow)
    lcr: float  # stress LCR (inflows negative)
    reason: str

    @property
    def difference(self) -> float:
        return self.lcr - self.cash


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def reconcile(stress: StressFile, res: Resolved, lcr: LCRResult) -> list[ReconRow]:
    """Rows of the reconciliation (module docstring); net-outflow convention (inflows < 0)."""
    rows: list[ReconRow] = []
    for line in stress.liabilities:
        base = stress.basel_rate(line)
        rate = lcr.rates[line.id]
        if line.maturities is None:
            p = res.run_off[line.category].cumulative(WINDOW)
            cash = line.amount * p
            why = (f"Basel floor {_pct(base)} above the scenario's 30-day run-off {_pct(p)}" if base > p + 1e-12 else
                   f"same 30-day rate {_pct(p)}")
        else:
            due = sum(m.amount for m in line.maturities if m.day <= WINDOW)
            p = 1.0 - res.rollover[line.category]
            cash = due * p
            if due <= 0:
                why = "no maturity within 30 days"
            elif base > p + 1e-12:
                what = ("para 115 rate" if line.category == "secured_funding" else "Basel rate")
                why = f"{what} {_pct(base)} above the scenario's non-rolled share {_pct(p)} of {due:,.4g} maturing"
            else:
                why = f"same non-rolled share {_pct(p)} of {due:,.4g} maturing"
        rows.append(ReconRow(line.id, "outflow", cash, lcr.line_outflows.get(line.id, 0.0), why))
    for f in stress.flows:
        n = sum(1 for d in flow_days(stress, f) if d <= WINDOW)
        if n == 0:
            continue
        gross = n * f.amount
        if f.direction == "outflow":
            r = 1.0 if f.lcr_rate is None else f.lcr_rate
            why = (f"LCR rate {_pct(r)} (lcr_rate) on {gross:,.4g} paid in full in the projection" if r < 1.0
                   else "paid in full in both")
            rows.append(ReconRow(f.id, "outflow", gross, gross * r, why))
        else:
            h = res.inflow_haircut.get(f.kind, 0.0)
            base = INFLOW_KINDS[f.kind] if f.lcr_rate is None else f.lcr_rate
            cash = gross * (1 - h)
            why = (f"LCR inflow rate {_pct(base)} of the contractual {gross:,.4g}, both after the {_pct(h)} haircut"
                   if base < 1.0 else f"LCR inflow rate 100%, both after the {_pct(h)} haircut")
            rows.append(ReconRow(f.id, "inflow", -cash, -lcr.line_inflows.get(f.id, 0.0), why))
    cut = lcr.total_inflows - lcr.capped_inflows
    rows.append(ReconRow("75% inflow cap", "cap", 0.0, cut,
                         (f"LCR inflows {lcr.total_inflows:,.4g} exceed 75% of LCR outflows; {cut:,.4g} not recognised (para 69)"
                          if cut > 0 else "not binding: LCR inflows are below 75% of LCR outflows")))
    return rows


def totals(rows: list[ReconRow]) -> tuple[float, float]:
    """(projection 30-day net outflow, LCR net cash outflows)."""
    return sum(r.cash for r in rows), sum(r.lcr for r in rows)


__all__ = ["ReconRow", "reconcile", "totals"]
