"""Survival diagnostics beyond the horizon itself (issue 12 §3): the cash shortfall against the
internal minimum and the cliff effects that shorten the horizon.

* :func:`cash_shortfall` -- the smallest extra opening cash ``X`` (in the file's unit) with which
  some CBC plan keeps ``B_t >= floor`` on every day ``t <= days``: one LP on the matrices of
  :func:`liqstress.solvers.cbc_lp.build_lp` with an extra free column ``X`` and the rows
  ``B_t + X >= 0`` (``B`` is the balance above the survival floor), minimising ``X``.  A
  negative optimum is a surplus: the plan meets ``days`` with ``-X`` to spare on its tightest
  day.  Because ``X`` enters every day's balance equally, ``X*`` is also exactly
  ``-max over plans of min_{t <= days} B_t``; the tests cross-check it against a bisection
  on the opening cash with :func:`liqstress.solvers.cbc.solve_plan`.
* :func:`cliff_effects` -- the dated lumps of the projection (a maturity not rolled, a dated
  contractual outflow) on or before the failure day, largest first; for each, the LP horizon
  with that lump removed.  A lump whose removal lengthens the horizon is a cliff that shortens
  it, by the stated number of days.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import scipy.sparse as sp

from liqstress.errors import SolverFailure
from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import StressFile
from liqstress.solvers.cbc import solve_plan
from liqstress.solvers.cbc_compile import compile_plan
from liqstress.stress.projection import flow_days
from liqstress.stress.scenarios import Resolved


def cash_shortfall(plan: CBCPlan, days: int) -> float:
    """Smallest extra opening cash with which the plan survives ``days`` days (module docstring);
    negative = surplus on the tightest day.  ``days`` is clipped to the plan's horizon."""
    import highspy

    from liqstress.solvers.cbc_lp import build_lp, new_highs

    days = max(0, min(int(days), plan.horizon_days))
    if days == 0:
        return float("-inf")
    c = compile_plan(plan)
    data = build_lp(c)
    lay = data.lay
    A = data.A
    nrow, ncol = A.shape
    t = np.arange(days)
    # rows B_t + X >= 0, t < days; X is the last column
    E = sp.csc_matrix((np.concatenate([np.ones(days), np.ones(days)]),
                       (np.concatenate([t, t]), np.concatenate([lay.nB + t, np.full(days, ncol)]))),
                      shape=(days, ncol + 1))
    M = sp.vstack([sp.hstack([A, sp.csc_matrix((nrow, 1))]), E]).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = ncol + 1
    lp.num_row_ = M.shape[0]
    cost = np.zeros(ncol + 1)
    cost[-1] = 1.0
    lp.col_cost_ = cost
    lp.col_lower_ = np.concatenate([data.col_lo, [-np.inf]])
    lp.col_upper_ = np.concatenate([data.col_hi, [np.inf]])
    lp.row_lower_ = np.concatenate([data.row_lo, np.zeros(days)])
    lp.row_upper_ = np.concatenate([data.row_hi, np.full(days, np.inf)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    st = h.getModelStatus()
    if st != highspy.HighsModelStatus.kOptimal:
        raise SolverFailure("highs", f"shortfall LP: {h.modelStatusToString(st)}")
    return float(h.getInfo().objective_function_value)


@dataclass(frozen=True)
class Cliff:
    """A dated lump of the projection and what removing it does to the LP horizon."""

    source: str  # liability or flow id
    kind: str  # "maturity" | "contractual outflow"
    day: int
    amount: float  # stressed cash outflow that day from this source
    horizon_without: int
    horizon: int

    @property
    def days_lost(self) -> int:
        return self.horizon_without - self.horizon


def lumps(stress: StressFile, res: Resolved, upto: int) -> list[tuple[str, str, int, float]]:
    """Dated lumps on days 1..upto: (source id, kind, day, stressed amount), largest first."""
    out = []
    for line in stress.liabilities:
        if line.maturities is None:
            continue
        share = 1.0 - res.rollover[line.category]
        for m in line.maturities:
            if m.day <= upto and m.amount * share > 0:
                out.append((line.id, "maturity", m.day, m.amount * share))
    for f in stress.flows:
        if f.direction == "outflow" and f.amount > 0:
            for d in flow_days(stress, f):
                if d <= upto:
                    out.append((f.id, "contractual outflow", d, float(f.amount)))
    out.sort(key=lambda x: (-x[3], x[2], x[0]))
    return out


def cliff_effects(stress: StressFile, res: Resolved, plan: CBCPlan, horizon: int, top: int = 5,
                  method: str = "bisection") -> list[Cliff]:
    """The ``top`` largest lumps on or before the failure day ``horizon + 1``, each with the LP
    horizon of ``plan`` without it (empty when the horizon is censored)."""
    H = plan.horizon_days
    if horizon >= H:
        return []
    out = []
    base = np.asarray(plan.net_outflows, dtype=float)
    for src, kind, day, amt in lumps(stress, res, horizon + 1)[:top]:
        net = base.copy()
        net[day - 1] -= amt
        p = plan.model_copy(update={"net_outflows": [float(x) for x in net]})
        out.append(Cliff(src, kind, day, amt, solve_plan(p, method=method).survival_days, horizon))
    return out


def shortfall_summary(plan: CBCPlan, minimum: int, horizon: int) -> dict:
    """``{"days", "shortfall", "surplus", "beyond_projection"}`` for the internal minimum:
    the dollar shortfall (> 0 when the plan misses the minimum) or the surplus on the tightest
    day up to the minimum; a minimum beyond the projection is assessed on the whole projection."""
    H = plan.horizon_days
    d = min(int(minimum), H)
    if d <= 0:
        return {"days": d, "shortfall": 0.0, "surplus": None, "beyond_projection": minimum > H}
    x = cash_shortfall(plan, d)
    return {"days": d, "shortfall": max(x, 0.0), "surplus": max(-x, 0.0), "beyond_projection": minimum > H}


__all__ = ["Cliff", "cash_shortfall", "cliff_effects", "lumps", "shortfall_summary"]
