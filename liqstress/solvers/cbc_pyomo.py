"""The CBC monetisation model written algebraically in Pyomo, solved with
``SolverFactory('highs')``.

Same semantics as the sparse model of ``cbc_lp`` (docs/model.md §6.3), written independently from
the constraint list of its docstring (cumulative holdings as explicit sums instead of stock
variables), so the two formulations cross-check each other in the tests.  Building Pyomo
expressions costs O(S H + G H^2) Python objects, so this backend is meant for small and
medium plans (the benchmark reports the build-time gap, see ``docs/cbc.md``).
"""

from __future__ import annotations

import time

import numpy as np

from liqstress.errors import SolverFailure
from liqstress.solvers.cbc_compile import Compiled
from liqstress.solvers.cbc_lp import TIE_BREAK, big_m


def _model(c: Compiled, T: int, *, milp: bool = False, stage2: bool = False):
    import pyomo.environ as pyo

    H, S, G = c.H, c.S, c.G
    m = pyo.ConcreteModel()
    m.J = pyo.RangeSet(0, S - 1) if S else pyo.Set(initialize=[])
    m.D = pyo.RangeSet(0, H - 1)
    m.x = pyo.Var(m.J, m.D, within=pyo.NonNegativeReals)
    m.B = pyo.Var(m.D)
    rolls = [g for g in range(G) if c.g_roll[g] and c.g_term[g] > 0]
    m.R = pyo.Set(initialize=rolls)
    m.roll = pyo.Var(m.R, m.D, within=pyo.NonNegativeReals)
    src = {g: [j for j in range(S) if c.s_group[j] == g] for g in range(G)}
    repo = {g: next((j for j in src[g] if c.s_kind[j] == "repo"), None) for g in range(G)}

    for j in range(S):
        g = c.s_group[j]
        for t in range(H):
            if c.g_closed[g, t] or (stage2 and t + c.s_lag[j] >= T):
                m.x[j, t].fix(0.0)

    def maturing(g, t):
        """Units of g's repos maturing on day t (new repos + rolled ones)."""
        if c.g_term[g] == 0:
            return 0.0
        jr, L, mm = repo[g], int(c.s_lag[repo[g]]), int(c.g_term[g])
        e = m.x[jr, t - L - mm] if t - L - mm >= 0 else 0.0
        if g in rolls and t - mm >= 0:
            e = e + m.roll[g, t - mm]
        return e

    def rolled(g, t):
        return m.roll[g, t] if g in rolls else 0.0

    def bal_rule(m, t):
        cash_in = sum(c.s_cash[j] * m.x[j, t - c.s_lag[j]] for j in range(S) if t - c.s_lag[j] >= 0)
        repay = sum(c.s_cash[repo[g]] * (maturing(g, t) - rolled(g, t)) for g in range(G) if c.g_term[g] > 0)
        prev = m.B[t - 1] if t > 0 else c.opening
        return m.B[t] == prev + cash_in - repay - float(c.out[t])

    m.bal = pyo.Constraint(m.D, rule=bal_rule)

    capped = [g for g in range(G) if np.isfinite(c.g_cap[g])]

    def cap_rule(m, g, t):
        return sum(m.x[j, t] for j in src[g]) <= float(c.g_cap[g])

    m.cap = pyo.Constraint(capped, m.D, rule=cap_rule)

    def used_to(g, t):  # units in use at the end of day t (sold, pledged and not returned)
        return sum(sum(m.x[j, s] for j in src[g]) - (maturing(g, s) - rolled(g, s)) for s in range(t + 1))

    def hold_rule(m, g, t):
        if c.g_term[g] == 0 and t < H - 1:
            return pyo.Constraint.Skip  # cumulative use only grows: the last day suffices
        return used_to(g, t) <= float(c.g_avail[g])

    m.hold = pyo.Constraint(range(G), m.D, rule=hold_rule)
    m.rollcap = pyo.Constraint(m.R, m.D, rule=lambda m, g, t: m.roll[g, t] <= maturing(g, t))
    widths = [j for j in range(S) if np.isfinite(c.s_width[j])]
    m.width = pyo.Constraint(widths, rule=lambda m, j: sum(m.x[j, t] for t in range(H)) <= float(c.s_width[j]))

    if milp:
        Mt = big_m(c)
        m.z = pyo.Var(m.D, within=pyo.Binary)
        m.bigm = pyo.Constraint(m.D, rule=lambda m, t: m.B[t] >= -float(Mt[t]) * (1 - m.z[t]))
        m.mono = pyo.Constraint(range(H - 1), rule=lambda m, t: m.z[t] >= m.z[t + 1])
        m.obj = pyo.Objective(expr=sum(m.z[t] for t in range(H)), sense=pyo.maximize)
        return m
    for t in range(T):
        m.B[t].setlb(0.0)
    if stage2:
        value = sum(float(c.g_value[g]) * (float(c.g_avail[g]) - (used_to(g, T - 1) if T >= 1 else 0.0)) for g in range(G))
        tie = TIE_BREAK * (sum(m.x[j, t] for j in range(S) for t in range(H)) + sum(m.roll[g, t] for g in rolls for t in range(H)))
        m.obj = pyo.Objective(expr=value - tie, sense=pyo.maximize)
    else:
        m.obj = pyo.Objective(expr=0.0)
    return m


def _solve(m, time_limit: float | None) -> str:
    import pyomo.environ as pyo
    from pyomo.opt import TerminationCondition as TC

    opt = pyo.SolverFactory("highs")
    if time_limit is not None:
        opt.config.time_limit = float(time_limit)
    res = opt.solve(m, load_solutions=False)
    tc = res.solver.termination_condition
    if tc == TC.optimal:
        m.solutions.load_from(res)
        return "optimal"
    if tc in (TC.infeasible, TC.infeasibleOrUnbounded):
        return "infeasible"
    raise SolverFailure("highs (pyomo)", str(tc))


def solve_lexicographic_pyomo(c: Compiled, method: str = "bisection", time_limit: float | None = None) -> dict:
    """Stage 1 (bisection over LP feasibility or MILP), stage 2 (max remaining CBC)."""
    import pyomo.environ as pyo

    t0 = time.perf_counter()
    H = c.H
    info: dict = {"backend": "pyomo"}
    if method == "milp":
        m = _model(c, H, milp=True)
        if _solve(m, time_limit) != "optimal":
            raise SolverFailure("highs (pyomo)", "MILP not optimal")
        T = int(sum(1 for t in range(H) if pyo.value(m.z[t]) > 0.5))
    else:
        def feasible(T: int) -> bool:
            return T == 0 or _solve(_model(c, T), time_limit) == "optimal"

        if feasible(H):
            T = H
        else:
            lo, hi = 0, H
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
            T = lo
    info["horizon_seconds"] = time.perf_counter() - t0
    m = _model(c, T, stage2=True)
    if _solve(m, time_limit) != "optimal":
        raise SolverFailure("highs (pyomo)", "infeasible at the certified horizon")
    x = np.zeros((c.S, H))
    for (j, t), var in m.x.items():
        x[j, t] = max(0.0, pyo.value(var) or 0.0)
    roll = np.zeros((c.G, H))
    for (g, t), var in m.roll.items():
        roll[g, t] = max(0.0, pyo.value(var) or 0.0)
    return {"T": T, "x": x, "roll": roll, "info": info}
