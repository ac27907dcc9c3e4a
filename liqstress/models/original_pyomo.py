"""Exact MINLP encodings of the middle level of the original problem (7) for SCIP.

For bank i and a fixed own early sale x_i, the middle level is

    min_{x_-i in prod_{j != i} [0, ell_j]}  V_i(x)                                   (7)

subject to the clearing equilibrium.  Every min(., .) and (.)^+ is encoded exactly with one
binary and two big-M inequalities whose constants are the exact ranges of the expressions
over the box (derived below from the data), so the feasible set of the model is *exactly*
the graph of the equilibrium correspondence — never a relaxation of it.

Permanent price impact, (4)–(6) (:func:`build_inner_permanent`).  Variables x_j, the t=1
price q1 = f(X), the t=2 price p, shortfalls d_j, sales y_j and binaries a_j, b_j:

    q1 = f(X),  X = x_i + sum_{j != i} x_j
    d_j = max(L_j - c_j - x_j q1, 0):     d_j >= L_j - c_j - x_j q1,
                                          d_j <= L_j - c_j - x_j q1 + M1_j (1 - a_j),
                                          d_j <= D_j a_j,                 0 <= d_j
    y_j = min(d_j / p, s_j - x_j):        y_j <= s_j - x_j,  y_j p <= d_j,
                                          y_j >= s_j - x_j - s_j (1 - b_j),
                                          y_j p >= d_j - D_j b_j
    p   = f(alpha X + sum_j y_j)
    V_i = c_i + x_i q1 + y_i p            (objective, minimised)

with D_j = max(L_j - c_j, 0) (the largest shortfall: cash >= c_j) and M1_j = max(0,
ell_j f(ell_j) - (L_j - c_j)) (the largest surplus: x_j q1 <= x_j f(x_j) <= ell_j f(ell_j) because u f(u) is
increasing, Assumption 4.1(iii)).  Checking the four sign cases shows that a_j = 1 forces
d_j = L_j - c_j - x_j q1 >= 0 and a_j = 0 forces d_j = 0 >= L_j - c_j - x_j q1, so d_j is
exactly the positive part; b_j = 1 forces y_j = s_j - x_j <= d_j / p and b_j = 0 forces
y_j p = d_j, y_j <= s_j - x_j, so y_j is exactly the minimum.  The bilinear terms x_j q1
and y_j p, and the exp / power expressions of f, are handled by SCIP's spatial branch and
bound.  Banks with ell_j = 0 (c_j >= L_j) never sell: x_j = y_j = d_j = 0 and they drop out.

Why the encoding pins *the* equilibrium.  The fixed point of (4) is unique: at any fixed
point u = alpha X + Y satisfies f(u) (u - alpha X) = sum_j min(d_j, (s_j - x_j) f(u)); the
left side is strictly increasing in u (derivative f + u f' - alpha X f' > 0 by 4.1(iii)),
the right side non-increasing, so there is one u and one p = f(u).  Hence for each x the
model has exactly one feasible (q1, p, d, y) (up to the value of binaries at ties, which do
not change the continuous variables), and the minimum of the model is the minimum of V_i.

Interbank exposures, (15)–(17) (:func:`add_clearing_interbank`); with alpha > 0 (the unified
model) the price equation is q = f(alpha X + sum_j y_j).  In addition
payments P_j and binaries g_j encode P_j = min(pbar_j, c_j + x_j q1 + (Pi^T P)_j + (s_j - x_j) q)
exactly (constants below), and the shortfall becomes max(pbar_j - c_j - x_j q1 - (Pi^T P)_j, 0).
Every solution of (15) is feasible.  (15) may in principle have several solutions (the
clearing is defined as the greatest); the encoding then contains all of them and its
minimum is a valid *lower bound* of min V_i.  The driver re-clears at SCIP's minimiser with
:func:`liqstress.solvers.clearing.clear`; agreement of the two values proves the minimum
is attained by the greatest equilibrium (the model's minimum <= true minimum <= V_i at the
re-cleared point = the model's value), and disagreement is reported as
``encoding_mismatch``, never as a silent number.

Optional Lemma 4.2 / 5.1 cuts ``x_j + y_j <= ell_j`` (valid for the equilibrium by the
lemma; default off, so the certificate does not rest on them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, InverseDemand, Linear, Power
from liqstress.models.system import System


def f_expr(f: InverseDemand, u: Any) -> Any:
    """f(u) as a Pyomo expression (linear, exponential, power families of docs/model.md §2.2)."""
    import pyomo.environ as pyo

    if isinstance(f, Linear):
        return 1.0 - f.beta * u
    if isinstance(f, Exponential):
        return pyo.exp(-f.beta * u)
    if isinstance(f, Power):
        return (1.0 + f.beta * u) ** (-f.gamma)
    raise InputError("inverse_demand.kind", f"{getattr(f, 'kind', type(f).__name__)!r} has no algebraic form for SCIP; use method='grid' or 'local'")


@dataclass
class BigM:
    """Exact ranges used as big-M constants (data of docs/model.md §2.3 / §3 only)."""

    D: np.ndarray  # largest shortfall d_j
    M1: np.ndarray  # largest surplus (negative of the shortfall expression)
    ymax: np.ndarray  # upper bound of y_j
    M4: Optional[np.ndarray] = None  # interbank: largest wealth minus pbar_j


def big_m_permanent(system: System, ell_vec: np.ndarray, lemma_cuts: bool = False) -> BigM:
    """D_j = max(L_j - c_j, 0), M1_j = max(0, ell_j f(ell_j) - (L_j - c_j)), ymax_j = s_j (ell_j with Lemma 4.2)."""
    D = np.maximum(system.L - system.c, 0.0)
    M1 = np.maximum(ell_vec * system.f(ell_vec) - (system.L - system.c), 0.0)
    ymax = np.minimum(system.s, ell_vec) if lemma_cuts else system.s.copy()
    return BigM(D=D, M1=M1, ymax=ymax)


def big_m_interbank(system: System, ell_vec: np.ndarray, lemma_cuts: bool = False) -> BigM:
    """With interbank block: D_j = max(pbar_j - c_j, 0) (inflows and proceeds are >= 0),
    M1_j = max(0, ell_j f(ell_j) + inflow_max_j + c_j - pbar_j), inflow_max_j = sum_k Pi_kj pbar_k,
    M4_j = max(0, c_j + s_j + inflow_max_j - pbar_j) (wealth <= c_j + s_j + inflows since prices <= 1)."""
    pbar = np.asarray(system.pbar, dtype=float)
    PiT = np.asarray(system.Pi.T.todense(), dtype=float)
    inflow_max = PiT @ pbar
    D = np.maximum(pbar - system.c, 0.0)
    M1 = np.maximum(ell_vec * system.f(ell_vec) + inflow_max + system.c - pbar, 0.0)
    M4 = np.maximum(system.c + system.s + inflow_max - pbar, 0.0)
    ymax = np.minimum(system.s, ell_vec) if lemma_cuts else system.s.copy()
    return BigM(D=D, M1=M1, ymax=ymax, M4=M4)


def _x_range(xfix: dict, xfree: dict) -> tuple[float, float]:
    """Range [Xlo, Xhi] of X = sum_j x_j given fixed values and free boxes [0, ub]."""
    lo = float(sum(xfix.values()))
    return lo, lo + float(sum(xfree.values()))


def add_clearing_permanent(blk, system: System, xe: dict, Xlo: float, Xhi: float, ell_vec: np.ndarray,
                           lemma_cuts: bool = False):
    """Add the exact encoding of the clearing (4)–(6) to the Pyomo block ``blk``.

    ``xe[j]`` is x_j (a float or a Pyomo variable) for every bank with ell_j > 0; the others
    never sell and drop out.  Returns a function ``V(j)`` giving the expression of V_j (6).
    """
    import pyomo.environ as pyo

    f = system.f
    a = float(system.alpha)
    bm = big_m_permanent(system, ell_vec, lemma_cuts)
    c, s, L = system.c, system.s, system.L
    S = float(system.S)
    act = sorted(xe)
    blk.J = pyo.Set(initialize=act, ordered=True)
    X = sum(xe[j] for j in act)
    blk.q1 = pyo.Var(bounds=(float(f(Xhi)), float(f(Xlo))), initialize=float(f(0.5 * (Xlo + Xhi))))
    blk.q1_def = pyo.Constraint(expr=blk.q1 == f_expr(f, X))
    # p in [f(S), f(alpha Xlo)]: u = alpha X + Y <= sum_j (x_j + (s_j - x_j)) = S, u >= alpha X
    blk.p = pyo.Var(bounds=(float(f(S)), float(f(a * Xlo))), initialize=0.5 * float(f(S) + f(a * Xlo)))
    blk.d = pyo.Var(blk.J, bounds=lambda b, j: (0.0, float(bm.D[j])))
    blk.y = pyo.Var(blk.J, bounds=lambda b, j: (0.0, float(bm.ymax[j])))
    blk.a = pyo.Var(blk.J, domain=pyo.Binary)
    blk.b = pyo.Var(blk.J, domain=pyo.Binary)

    def short(j):  # L_j - c_j - x_j q1
        return float(L[j] - c[j]) - xe[j] * blk.q1

    blk.d_lo = pyo.Constraint(blk.J, rule=lambda b, j: b.d[j] >= short(j))
    blk.d_hi1 = pyo.Constraint(blk.J, rule=lambda b, j: b.d[j] <= short(j) + float(bm.M1[j]) * (1 - b.a[j]))
    blk.d_hi2 = pyo.Constraint(blk.J, rule=lambda b, j: b.d[j] <= float(bm.D[j]) * b.a[j])
    blk.y_hi1 = pyo.Constraint(blk.J, rule=lambda b, j: b.y[j] <= float(s[j]) - xe[j])
    blk.y_hi2 = pyo.Constraint(blk.J, rule=lambda b, j: b.y[j] * b.p <= b.d[j])
    blk.y_lo1 = pyo.Constraint(blk.J, rule=lambda b, j: b.y[j] >= float(s[j]) - xe[j] - float(s[j]) * (1 - b.b[j]))
    blk.y_lo2 = pyo.Constraint(blk.J, rule=lambda b, j: b.y[j] * b.p >= b.d[j] - float(bm.D[j]) * b.b[j])
    for j in act:  # fix binaries whose branch is empty (exact)
        if bm.D[j] <= 0.0:  # never short (then also d_j = 0 in the other branch)
            blk.a[j].fix(0)
        elif bm.M1[j] <= 0.0:  # never in surplus
            blk.a[j].fix(1)
    if lemma_cuts:
        blk.lemma = pyo.Constraint(blk.J, rule=lambda b, j: xe[j] + b.y[j] <= float(ell_vec[j]) * (1 + 1e-9) + 1e-12)
    blk.p_def = pyo.Constraint(expr=blk.p == f_expr(f, a * X + sum(blk.y[j] for j in act)))
    return lambda j: float(c[j]) + xe[j] * blk.q1 + blk.y[j] * blk.p


def add_clearing_interbank(blk, system: System, xe: dict, Xlo: float, Xhi: float, ell_vec: np.ndarray,
                           lemma_cuts: bool = False):
    """Add the exact encoding of the interbank clearing (15) to ``blk``; returns ``V(j)`` (17)."""
    import pyomo.environ as pyo

    f = system.f
    a = float(system.alpha)  # unified model: q = f(alpha X + sum_j y_j)
    bm = big_m_interbank(system, ell_vec, lemma_cuts)
    pbar = np.asarray(system.pbar, dtype=float)
    PiT = np.asarray(system.Pi.T.todense(), dtype=float)
    n = system.n
    c, s = system.c, system.s
    S = float(system.S)
    allb = list(range(n))
    blk.N = pyo.Set(initialize=allb, ordered=True)
    X = sum(xe[j] for j in xe)
    blk.q1 = pyo.Var(bounds=(float(f(Xhi)), float(f(Xlo))), initialize=float(f(0.5 * (Xlo + Xhi))))
    blk.q1_def = pyo.Constraint(expr=blk.q1 == f_expr(f, X))
    # q in [f(S), f(alpha Xlo)]: alpha X + sum_j y_j <= sum_j (x_j + s_j - x_j) = S
    blk.q = pyo.Var(bounds=(float(f(S)), float(f(a * Xlo))), initialize=0.5 * float(f(S) + f(a * Xlo)))
    blk.P = pyo.Var(blk.N, bounds=lambda b, j: (0.0, float(pbar[j])), initialize=lambda b, j: float(pbar[j]))
    blk.d = pyo.Var(blk.N, bounds=lambda b, j: (0.0, float(bm.D[j])))
    blk.y = pyo.Var(blk.N, bounds=lambda b, j: (0.0, float(bm.ymax[j])))
    blk.a = pyo.Var(blk.N, domain=pyo.Binary)
    blk.b = pyo.Var(blk.N, domain=pyo.Binary)
    blk.g = pyo.Var(blk.N, domain=pyo.Binary)

    def x_of(j):
        return xe.get(j, 0.0)

    def inflow(j):
        return sum(float(PiT[j, k]) * blk.P[k] for k in allb if PiT[j, k] != 0.0)

    def short(j):  # pbar_j - c_j - x_j q1 - (Pi^T P)_j
        return float(pbar[j] - c[j]) - x_of(j) * blk.q1 - inflow(j)

    def wealth(j):  # c_j + x_j q1 + (Pi^T P)_j + (s_j - x_j) q
        return float(c[j]) + x_of(j) * blk.q1 + inflow(j) + (float(s[j]) - x_of(j)) * blk.q

    blk.d_lo = pyo.Constraint(blk.N, rule=lambda b, j: b.d[j] >= short(j))
    blk.d_hi1 = pyo.Constraint(blk.N, rule=lambda b, j: b.d[j] <= short(j) + float(bm.M1[j]) * (1 - b.a[j]))
    blk.d_hi2 = pyo.Constraint(blk.N, rule=lambda b, j: b.d[j] <= float(bm.D[j]) * b.a[j])
    blk.y_hi1 = pyo.Constraint(blk.N, rule=lambda b, j: b.y[j] <= float(s[j]) - x_of(j))
    blk.y_hi2 = pyo.Constraint(blk.N, rule=lambda b, j: b.y[j] * b.q <= b.d[j])
    blk.y_lo1 = pyo.Constraint(blk.N, rule=lambda b, j: b.y[j] >= float(s[j]) - x_of(j) - float(s[j]) * (1 - b.b[j]))
    blk.y_lo2 = pyo.Constraint(blk.N, rule=lambda b, j: b.y[j] * b.q >= b.d[j] - float(bm.D[j]) * b.b[j])
    # P_j = min(pbar_j, wealth_j): g_j = 1 -> P_j = pbar_j <= wealth_j; g_j = 0 -> P_j = wealth_j <= pbar_j
    blk.P_hi = pyo.Constraint(blk.N, rule=lambda b, j: b.P[j] <= wealth(j))
    blk.P_lo1 = pyo.Constraint(blk.N, rule=lambda b, j: b.P[j] >= float(pbar[j]) * b.g[j])
    blk.P_lo2 = pyo.Constraint(blk.N, rule=lambda b, j: b.P[j] >= wealth(j) - float(bm.M4[j]) * b.g[j])
    for j in allb:
        if bm.D[j] <= 0.0:  # never short (then also d_j = 0 in the other branch)
            blk.a[j].fix(0)
        elif bm.M1[j] <= 0.0:  # never in surplus
            blk.a[j].fix(1)
        if bm.M4[j] <= 0.0:
            blk.g[j].fix(0)
    if lemma_cuts:
        blk.lemma = pyo.Constraint(blk.N, rule=lambda b, j: x_of(j) + b.y[j] <= float(ell_vec[j]) * (1 + 1e-9) + 1e-12)
    blk.q_def = pyo.Constraint(expr=blk.q == f_expr(f, a * X + sum(blk.y[j] for j in allb)))
    return lambda j: float(c[j]) + x_of(j) * blk.q1 + blk.y[j] * blk.q + inflow(j)


def _add_clearing(blk, system, xe, Xlo, Xhi, ell_vec, lemma_cuts):
    if system.has_interbank:
        return add_clearing_interbank(blk, system, xe, Xlo, Xhi, ell_vec, lemma_cuts)
    return add_clearing_permanent(blk, system, xe, Xlo, Xhi, ell_vec, lemma_cuts)


def build_inner(system: System, i: int, x_i: float, ell_vec: np.ndarray, lemma_cuts: bool = False):
    """Middle level of (7) at fixed x_i: ``min_{x_-i} V_i`` with (4) or (15) encoded exactly.

    ``model.x[j]`` (j in ``model.O``) are the others' early sales, ``model.obj`` is V_i.
    """
    import pyomo.environ as pyo

    ell_vec = np.asarray(ell_vec, dtype=float)
    n = system.n
    others = [j for j in range(n) if j != i and ell_vec[j] > 0]
    m = pyo.ConcreteModel(name="original_inner")
    m.O = pyo.Set(initialize=others, ordered=True)
    m.x = pyo.Var(m.O, bounds=lambda m, j: (0.0, float(ell_vec[j])), initialize=lambda m, j: 0.5 * float(ell_vec[j]))
    xe = {j: m.x[j] for j in others}
    xe[i] = float(x_i)
    Xlo, Xhi = _x_range({i: float(x_i)}, {j: float(ell_vec[j]) for j in others})
    V = _add_clearing(m, system, xe, Xlo, Xhi, ell_vec, lemma_cuts)
    m.obj = pyo.Objective(expr=V(i), sense=pyo.minimize)
    return m


def build_master(system: System, i: int, lo: float, hi: float, scenarios: list, ell_vec: np.ndarray,
                 lemma_cuts: bool = False):
    """Outer master of (7) over x_i in [lo, hi] against finitely many others' responses:

        max_{x_i in [lo, hi], t}  t   s.t.  t <= V_i(x_i, xbar^k_-i)  for every scenario k,

    each scenario with its own exact copy of the clearing.  Its optimum bounds
    ``max_{[lo, hi]} min_{x_-i} V_i`` from above (fewer x_-i than the whole box).  With an
    interbank block the encoding contains every solution of (15); V_i is non-decreasing in
    (q, P), so maximising over them returns the greatest (= defining) equilibrium's value and
    the bound stays valid.  ``scenarios[k]`` is a full early-sale vector (its entry i ignored).
    """
    import pyomo.environ as pyo

    ell_vec = np.asarray(ell_vec, dtype=float)
    n = system.n
    m = pyo.ConcreteModel(name="original_master")
    m.xi = pyo.Var(bounds=(float(lo), float(hi)), initialize=0.5 * (lo + hi))
    K = len(scenarios)
    m.K = pyo.Set(initialize=list(range(K)), ordered=True)
    Vmax = float(max(np.max(system.pbar), 1.0)) + float(np.max(system.c)) + float(system.S) + 1.0
    m.t = pyo.Var(bounds=(-Vmax, Vmax))
    m.blocks = pyo.Block(m.K)
    m.cut = pyo.ConstraintList()
    for k, xb in enumerate(scenarios):
        xb = np.asarray(xb, dtype=float)
        xe = {j: float(min(max(xb[j], 0.0), ell_vec[j])) for j in range(n) if j != i and ell_vec[j] > 0}
        xe[i] = m.xi
        Xlo, Xhi = _x_range({j: v for j, v in xe.items() if j != i}, {i: float(hi)})
        Xlo += float(lo)
        V = _add_clearing(m.blocks[k], system, xe, Xlo, Xhi, ell_vec, lemma_cuts)
        m.cut.add(m.t <= V(i))
    m.obj = pyo.Objective(expr=m.t, sense=pyo.maximize)
    return m


@dataclass
class ScipOutcome:
    status: str  # SCIP termination: optimal | maxTimeLimit | infeasible | ... | error: ...
    primal: float  # objective at the incumbent (SCIP's arithmetic)
    dual: float  # proven bound (lower for min, upper for max)
    loaded: bool  # incumbent values loaded into the model variables
    seconds: float


def scip_numerics(feastol: float) -> dict[str, float]:
    """SCIP's tolerances for feasibility tolerance ``feastol``, in SCIP's own proportions
    (defaults: epsilon 1e-9 <= sumepsilon 1e-6 = feastol 1e-6): ``epsilon = 1e-3 feastol``,
    ``sumepsilon = feastol``.

    Lowering only ``numerics/feastol`` to 1e-9 leaves ``epsilon`` (the threshold below which
    SCIP treats values as zero and bounds as equal) at 1e-9 = feastol and ``sumepsilon`` at
    1e-6 > feastol, against SCIP's requirement epsilon <= sumepsilon <= feastol.  With that
    setting SCIP's presolve (probing) declared the middle level of (7) with interbank
    exposures *infeasible* — impossible, every x has an equilibrium and the encoding contains
    it — on ``network generate erdos-renyi --banks 12 --mean-degree 2 --seed 3``, bank B00
    at x_i = ell_i / 2 (kept as a regression test); with the proportions kept it solves."""
    feastol = float(feastol)
    return {"numerics/feastol": feastol, "numerics/epsilon": min(1e-9, 1e-3 * feastol),
            "numerics/sumepsilon": min(1e-6, feastol)}


def solve_scip(model, abs_gap: float = 1e-8, time_limit: float = 60.0, feastol: float = 1e-9) -> ScipOutcome:
    """Solve with ``SolverFactory('scip_direct')`` to global optimality (absolute gap ``abs_gap``),
    tolerances :func:`scip_numerics` (``feastol``).

    For a minimisation ``dual`` is the proven lower bound, for a maximisation the proven upper
    bound.  The incumbent is loaded into the model's variables when there is one.
    """
    import time

    import pyomo.environ as pyo

    opt = pyo.SolverFactory("scip_direct")
    t0 = time.perf_counter()
    opts = {
        "limits/absgap": float(abs_gap),
        "limits/gap": 0.0,
        "limits/time": float(time_limit),
        **scip_numerics(feastol),
    }
    try:
        res = opt.solve(model, options=opts, load_solutions=False)
    except Exception as err:  # pragma: no cover - solver crash
        return ScipOutcome(f"error: {type(err).__name__}: {err}", math.nan, math.nan, False, time.perf_counter() - t0)
    secs = time.perf_counter() - t0
    tc = str(res.solver.termination_condition)
    tc = tc.split(".")[-1]
    minimize = model.obj.sense == pyo.minimize
    lb, ub = res.problem.lower_bound, res.problem.upper_bound
    lb = -math.inf if lb is None else float(lb)
    ub = math.inf if ub is None else float(ub)
    primal, dual = (ub, lb) if minimize else (lb, ub)
    loaded = False
    if math.isfinite(primal):
        try:
            model.solutions.load_from(res)
            loaded = True
        except Exception:
            loaded = False
    return ScipOutcome(tc, primal, dual, loaded, secs)


def build_inner_smoothed(system: System, i: int, x_i: float, ell_vec: np.ndarray, eps: float = 1e-4):
    """Smoothed NLP of the middle level of (7) (permanent impact) for a local solver (IPOPT).

    The clearing (4) with ``max(a, 0) ~ (a + sqrt(a^2 + eps^2)) / 2`` and
    ``min(a, b) ~ (a + b - sqrt((a - b)^2 + eps^2)) / 2`` applied to the proceeds
    ``z_j = y_j p = min(d_j, (s_j - x_j) p)``; ``y_j p = z_j`` and ``p = f(alpha X + sum_j y_j)``.
    Not exact (O(eps) error): a local route only — the driver re-clears exactly at the result.
    ``model.eps`` is a mutable parameter for continuation.
    """
    import pyomo.environ as pyo

    ell_vec = np.asarray(ell_vec, dtype=float)
    f = system.f
    a = float(system.alpha)
    c, s, L = system.c, system.s, system.L
    n = system.n
    others = [j for j in range(n) if j != i and ell_vec[j] > 0]
    act = sorted(set(others) | {i} | {j for j in range(n) if ell_vec[j] > 0})
    m = pyo.ConcreteModel(name="original_inner_smoothed")
    m.eps = pyo.Param(initialize=float(eps), mutable=True)
    m.O = pyo.Set(initialize=others, ordered=True)
    m.J = pyo.Set(initialize=act, ordered=True)
    m.x = pyo.Var(m.O, bounds=lambda m, j: (0.0, float(ell_vec[j])), initialize=lambda m, j: 0.5 * float(ell_vec[j]))
    xe = {j: m.x[j] for j in others}
    xe[i] = float(x_i)
    X = sum(xe[j] for j in act if j in xe)
    S = float(system.S)
    m.q1 = pyo.Var(bounds=(float(f(S)), 1.0), initialize=float(f(S / 2)))
    m.p = pyo.Var(bounds=(float(f(S)), 1.0), initialize=float(f(S / 2)))
    m.y = pyo.Var(m.J, bounds=lambda m, j: (0.0, float(s[j])), initialize=0.0)
    m.z = pyo.Var(m.J, bounds=lambda m, j: (0.0, float(max(L[j] - c[j], 0.0)) + 1.0), initialize=0.0)
    m.q1_def = pyo.Constraint(expr=m.q1 == f_expr(f, X))

    def xj(j):
        return xe.get(j, 0.0)

    def dj(j):
        sh = float(L[j] - c[j]) - xj(j) * m.q1
        return 0.5 * (sh + pyo.sqrt(sh * sh + m.eps**2))

    def zj(j):
        A, B = dj(j), (float(s[j]) - xj(j)) * m.p
        return 0.5 * (A + B - pyo.sqrt((A - B) ** 2 + m.eps**2))

    m.z_def = pyo.Constraint(m.J, rule=lambda m, j: m.z[j] == zj(j))
    m.y_def = pyo.Constraint(m.J, rule=lambda m, j: m.y[j] * m.p == m.z[j])
    m.p_def = pyo.Constraint(expr=m.p == f_expr(f, a * X + sum(m.y[j] for j in m.J)))
    m.obj = pyo.Objective(expr=float(c[i]) + float(x_i) * m.q1 + m.z[i], sense=pyo.minimize)
    return m
