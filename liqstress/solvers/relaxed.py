"""Numerical solution of the relaxed max-min problems (9) and (20) (docs/model.md §2.5, §3.2).

The closed forms (Theorem 4.4, Theorem 5.3, :mod:`liqstress.solvers.robust`) are checked
against these independent numerical routes, which work over the individual early sales
x_j of the other banks (not only their aggregate):

* ``global`` — SCIP (spatial branch and bound, PySCIPOpt) for the inner minimum, and a
  certified cutting-plane (Blankenship–Falk) scheme for the outer maximum:

  - inner ``min_{x_-i} Vt_i(x_i, x_-i)`` at a fixed x_i: SCIP returns a proven lower bound;
    the reported value is Vt_i recomputed exactly at SCIP's minimiser (with
    :func:`~liqstress.solvers.clearing.relaxed_value` / ``relaxed_value_interbank``), so
    ``lower_bound <= inner min <= value`` and ``gap = value - lower_bound``.
    For (20) the worst-case payments Pt (19) are encoded exactly with one binary per bank
    for ``min(pbar_j, .)``.  The encoding admits every fixed point of (19), so the SCIP bound
    is a valid lower bound even if (19) had several; when the fixed point is unique
    (Eisenberg–Noe 2001, Theorem 2: e.g. all banks have e_j > 0) the bound is tight, and the
    recomputed value (greatest fixed point) closes the gap.
  - outer: the master problem ``max_{x_i, t} t  s.t.  t <= Vt_i(x_i, x^k_-i)`` over the finite
    set of worst cases x^k found so far is solved globally by SCIP; its dual bound U is an
    upper bound of the max-min value (fewer scenarios than the whole box), and the best
    inner lower bound Lb a lower bound.  We add the inner minimiser at the master's x_i and
    repeat until ``U - Lb <= tol``: the value is then certified to ``tol``.  In the master of
    (20) Pt only needs ``Pt <= min(pbar, c + h + Pi^T Pt)``: maximising picks the greatest
    post-fixed point, which is the greatest fixed point (Tarski).
* ``local`` — IPOPT through :mod:`liqstress.solvers.ipopt_bridge` on the Pyomo models of
  :mod:`liqstress.models.relaxed_pyomo` (inner), golden-section search on x_i (outer; the
  inner value of (9) is concave in x_i).  Not certified.
* ``grid`` — (9): dense grid on the aggregate w (Vt_i depends on x_-i only through w,
  docs/model.md §2.5) with Brent refinement; (20): tensor grid over x_-i evaluated with a batched
  exact Eisenberg–Noe solve, then bounded local refinement.  Not certified.
* ``pyros`` (outer only, problem (9)) — Pyomo's PyROS with a box uncertainty set on x_-i and
  SCIP as local and global subsolver (:func:`maximin_pyros`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from liqstress.errors import InputError, SolverFailure
from liqstress.models.relaxed_pyomo import f_expression
from liqstress.models.system import System
from liqstress.solvers.clearing import ell as ell_of
from liqstress.solvers.clearing import relaxed_value, relaxed_value_interbank
from liqstress.solvers.results import InnerResult, MaximinResult

METHODS_INNER = ("global", "local", "grid")
METHODS_OUTER = ("global", "local", "grid", "pyros")
_GOLD = (math.sqrt(5.0) - 1.0) / 2.0


# ----------------------------------------------------------------------------- problem data
@dataclass
class RelaxedProblem:
    """Data of bank i's relaxed problem: (9) without, (20) with an interbank block."""

    system: System
    i: int
    ell: np.ndarray
    Lam: float
    alpha: float
    interbank: bool
    pbar: Optional[np.ndarray] = None
    PiT: Optional[np.ndarray] = None  # dense, PiT[j, k] = Pi_kj

    @property
    def others(self) -> np.ndarray:
        return np.array([j for j in range(self.system.n) if j != self.i], dtype=int)

    @property
    def ell_i(self) -> float:
        return float(self.ell[self.i])

    def full(self, x_i: float, x_others: np.ndarray) -> np.ndarray:
        x = np.empty(self.system.n)
        x[self.i] = x_i
        x[self.others] = x_others
        return x

    def value(self, x: np.ndarray) -> float:
        """Exact Vt_i(x): (9) or (20) (Pt by the fictitious default algorithm)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, self.ell)
        if self.interbank:
            return float(relaxed_value_interbank(self.system, x, self.ell)[self.i])
        return float(relaxed_value(self.system, x, self.ell, self.alpha)[self.i])

    def values_batch(self, X: np.ndarray) -> np.ndarray:
        """Vt_i for a batch of full vectors X (B, n), vectorised (batched exact EN for (20))."""
        X = np.clip(np.asarray(X, dtype=float), 0.0, self.ell)
        f = self.system.f
        tot = X.sum(axis=1)
        c_i, e_i = self.system.c[self.i], self.ell_i
        xi = X[:, self.i]
        if not self.interbank:
            return c_i + xi * f(tot) + (e_i - xi) * f(self.Lam - (1.0 - self.alpha) * tot)
        h = X * f(tot)[:, None] + (self.ell - X) * f(self.Lam - (1.0 - self.alpha) * tot)[:, None]  # (18)
        P = en_batch(self.pbar, self.PiT, self.system.c + h)
        return self.system.c[self.i] + h[:, self.i] + P @ self.PiT[self.i]


def en_batch(pbar: np.ndarray, PiT: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Greatest solutions of P = min(pbar, e + Pi^T P) (19) for a batch of endowments E (B, n).

    Dense fictitious default algorithm (Eisenberg–Noe 2001), the batched twin of
    :func:`liqstress.solvers.eisenberg_noe.en_clearing`, for small n.
    """
    E = np.atleast_2d(E)
    B, n = E.shape
    P = np.broadcast_to(pbar, (B, n)).copy()
    D = (E + P @ PiT.T) < pbar * (1 - 1e-15) - 1e-300
    eye = np.eye(n)
    for _ in range(n + 1):
        if not D.any():
            break
        mask = D[:, :, None] & D[:, None, :]
        A = eye[None] - PiT[None] * mask
        rhs = np.where(D, E + (pbar * ~D) @ PiT.T, pbar)
        P = np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
        P = np.clip(P, 0.0, pbar)
        newD = D | ((E + P @ PiT.T) < pbar * (1 - 1e-15) - 1e-300)
        if np.array_equal(newD, D):
            break
        D = newD
    return P


def prepare(system: System, bank: Union[int, str], ell_vec: Optional[np.ndarray] = None) -> RelaxedProblem:
    """Bank index, ell = y(0), Lambda and (with interbank block) pbar and dense Pi^T."""
    i = system.index(bank) if isinstance(bank, str) else int(bank)
    if not 0 <= i < system.n:
        raise InputError("bank", f"index {i} out of range 0..{system.n - 1}")
    e = ell_of(system) if ell_vec is None else np.asarray(ell_vec, dtype=float)
    prob = RelaxedProblem(system, i, e, float(e.sum()), float(system.alpha), system.has_interbank)
    if system.has_interbank:
        prob.pbar = np.asarray(system.pbar, dtype=float)
        prob.PiT = np.asarray(system.Pi.T.todense(), dtype=float)
    return prob


def _check_xi(prob: RelaxedProblem, x_i: float) -> float:
    x_i = float(x_i)
    if not math.isfinite(x_i) or x_i < -1e-12 or x_i > prob.ell_i * (1 + 1e-12) + 1e-15:
        raise InputError("x_i", f"must be in [0, ell_i] = [0, {prob.ell_i:.6g}], got {x_i}")
    return min(max(x_i, 0.0), prob.ell_i)


# ----------------------------------------------------------------------------- SCIP (global)
_SCIP_OK = ("optimal", "gaplimit")


def _scip_model(time_limit: float, absgap: float):
    """A quiet SCIP model: feasibility tolerance 1e-9 in SCIP's own proportions
    (:func:`liqstress.models.original_pyomo.scip_numerics`), stop when the absolute gap <= absgap."""
    from pyscipopt import Model

    from liqstress.models.original_pyomo import scip_numerics

    m = Model()
    m.hideOutput()
    m.setParam("limits/time", float(time_limit))
    for key, val in scip_numerics(1e-9).items():
        m.setParam(key, val)
    m.setParam("limits/absgap", float(absgap))
    m.setParam("limits/gap", 1e-12)
    return m


def _scip_f(m, f, u_expr, lo: float, hi: float, name: str):
    """A variable F with F == f(u), bounds [f(hi), f(lo)] (f decreasing), padded by 1e-7.

    The padding must stay well above SCIP's ``numerics/epsilon``: with a padding within a few
    epsilon of it (1e-11 to 1e-9 when only the feasibility tolerance was lowered, 1e-12 with
    consistent tolerances) SCIP 10 returned a wrong "optimal" point of a small LP instance of
    (9) (kept as a regression test in tests/test_relaxed_permanent.py)."""
    from pyscipopt import exp

    F = m.addVar(name=name, lb=float(f(hi)) - 1e-7, ub=float(f(lo)) + 1e-7)
    m.addCons(F == f_expression(f, u_expr, exp))
    return F


def _scip_inner(prob: RelaxedProblem, x_i: float, tol: float, time_limit: float) -> InnerResult:
    """Certified global inner minimum of (9) or (20) at fixed x_i by SCIP."""
    t0 = time.perf_counter()
    others = prob.others
    f = prob.system.f
    c = prob.system.c
    i = prob.i
    m = _scip_model(time_limit, 0.5 * tol)
    xv = {j: m.addVar(name=f"x{j}", lb=0.0, ub=float(prob.ell[j])) for j in others}
    W = float(prob.ell[others].sum())
    X = m.addVar(name="X", lb=x_i, ub=x_i + W)
    m.addCons(X == x_i + sum(xv[j] for j in others) if len(others) else X == x_i)
    if not prob.interbank:
        a1 = 1.0 - prob.alpha
        F1 = _scip_f(m, f, X, x_i, x_i + W, "F1")
        F2 = _scip_f(m, f, prob.Lam - a1 * X, prob.Lam - a1 * (x_i + W), prob.Lam - a1 * x_i, "F2")
        m.setObjective(c[i] + x_i * F1 + (prob.ell_i - x_i) * F2, "minimize")
    else:
        n = prob.system.n
        pbar, PiT = prob.pbar, prob.PiT
        a1 = 1.0 - prob.alpha  # unified model: worst-case second-period price f(Lambda - (1 - alpha) X)
        F1 = _scip_f(m, f, X, x_i, x_i + W, "F1")
        F2 = _scip_f(m, f, prob.Lam - a1 * X, prob.Lam - a1 * (x_i + W), prob.Lam - a1 * x_i, "F2")
        xs = {j: (xv[j] if j != i else x_i) for j in range(n)}
        P = {j: m.addVar(name=f"P{j}", lb=0.0, ub=float(pbar[j])) for j in range(n)}
        for j in range(n):
            if pbar[j] <= 0:
                continue
            inflow = sum(float(PiT[j, k]) * P[k] for k in range(n) if PiT[j, k] != 0.0)
            a_j = c[j] + xs[j] * F1 + (float(prob.ell[j]) - xs[j]) * F2 + inflow
            amax = c[j] + prob.ell[j] + float(PiT[j] @ pbar)
            d = m.addVar(name=f"d{j}", vtype="B")  # 1: default (Pt_j = a_j), 0: solvent (Pt_j = pbar_j)
            m.addCons(P[j] <= a_j)
            m.addCons(P[j] >= a_j - max(amax - pbar[j], 0.0) * (1 - d))
            m.addCons(P[j] >= pbar[j] * (1 - d))
        m.setObjective(
            c[i] + x_i * F1 + (prob.ell_i - x_i) * F2 + sum(float(PiT[i, k]) * P[k] for k in range(n) if PiT[i, k] != 0.0),
            "minimize",
        )
    m.optimize()
    status = m.getStatus()
    if m.getNSols() == 0:
        raise SolverFailure("scip", status, "no feasible point for the inner problem")
    xo = np.array([m.getVal(xv[j]) for j in others])
    lb = float(m.getDualbound())
    x = prob.full(x_i, np.clip(xo, 0.0, prob.ell[others]))
    val = prob.value(x)
    gap = val - lb
    certified = status in _SCIP_OK and gap <= tol
    return InnerResult(val, x, certified, "scip", status, time.perf_counter() - t0, gap=gap, lower_bound=lb)


def _scip_master(prob: RelaxedProblem, cuts: list[np.ndarray], time_limit: float, absgap: float) -> tuple[float, float, str]:
    """max_{x_i, t} t s.t. t <= Vt_i(x_i, x^k_-i) for every stored worst case x^k: returns
    (SCIP dual bound = upper bound of the max-min value, maximiser x_i, status)."""
    f = prob.system.f
    c = prob.system.c
    i = prob.i
    m = _scip_model(time_limit, absgap)
    z = m.addVar(name="z", lb=0.0, ub=prob.ell_i)
    t = m.addVar(name="t", lb=-1e6, ub=1e6)
    for k, xo in enumerate(cuts):
        w = float(np.sum(xo))
        if not prob.interbank:
            a1 = 1.0 - prob.alpha
            F1 = _scip_f(m, f, z + w, w, w + prob.ell_i, f"F1_{k}")
            F2 = _scip_f(m, f, prob.Lam - a1 * (z + w), prob.Lam - a1 * (w + prob.ell_i), prob.Lam - a1 * w, f"F2_{k}")
            m.addCons(t <= c[i] + z * F1 + (prob.ell_i - z) * F2)
        else:
            n = prob.system.n
            pbar, PiT = prob.pbar, prob.PiT
            a1 = 1.0 - prob.alpha
            F1 = _scip_f(m, f, z + w, w, w + prob.ell_i, f"F1_{k}")
            F2 = _scip_f(m, f, prob.Lam - a1 * (z + w), prob.Lam - a1 * (w + prob.ell_i), prob.Lam - a1 * w, f"F2_{k}")
            xs = dict(zip(prob.others.tolist(), np.asarray(xo, float).tolist()))
            xs[i] = z
            P = {j: m.addVar(name=f"P{j}_{k}", lb=0.0, ub=float(pbar[j])) for j in range(n)}
            for j in range(n):
                inflow = sum(float(PiT[j, kk]) * P[kk] for kk in range(n) if PiT[j, kk] != 0.0)
                m.addCons(P[j] <= c[j] + xs[j] * F1 + (float(prob.ell[j]) - xs[j]) * F2 + inflow)
            m.addCons(t <= c[i] + z * F1 + (prob.ell_i - z) * F2 + sum(float(PiT[i, kk]) * P[kk] for kk in range(n) if PiT[i, kk] != 0.0))
    m.setObjective(t, "maximize")
    m.optimize()
    status = m.getStatus()
    if m.getNSols() == 0:
        raise SolverFailure("scip", status, "no feasible point for the master problem")
    return float(m.getDualbound()), float(m.getVal(z)), status


# ----------------------------------------------------------------------------- grid
def _distribute(prob: RelaxedProblem, w: float) -> np.ndarray:
    """Split an aggregate w over the other banks in bank order (x_j = min(ell_j, rest))."""
    caps = prob.ell[prob.others]
    cum = np.concatenate(([0.0], np.cumsum(caps)))[:-1]
    return np.clip(w - cum, 0.0, caps)


def _grid_inner_9(prob: RelaxedProblem, x_i: float, points: int = 2001) -> tuple[float, float]:
    """(value, w) of min_w g(x_i, w) on [0, W]: grid then bounded Brent refinement."""
    from scipy.optimize import minimize_scalar

    W = float(prob.ell[prob.others].sum())
    f, a1 = prob.system.f, 1.0 - prob.alpha

    def g(w):
        u = x_i + w
        return prob.system.c[prob.i] + x_i * f(u) + (prob.ell_i - x_i) * f(prob.Lam - a1 * u)

    if W <= 0:
        return float(g(0.0)), 0.0
    ws = np.linspace(0.0, W, points)
    gv = g(ws)
    k = int(np.argmin(gv))
    lo, hi = ws[max(k - 1, 0)], ws[min(k + 1, points - 1)]
    r = minimize_scalar(lambda w: float(g(w)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-13 * max(1.0, W)})
    if r.fun < gv[k]:
        return float(r.fun), float(r.x)
    return float(gv[k]), float(ws[k])


def _grid_inner_20(prob: RelaxedProblem, x_i: float, budget: int = 20000, refine: int = 3) -> tuple[float, np.ndarray]:
    """Tensor grid over x_-i (exact batched Pt), then bounded Powell refinement of the best points."""
    from scipy.optimize import minimize

    others = prob.others
    k = others.size
    if k == 0:
        x = prob.full(x_i, np.zeros(0))
        return prob.value(x), x
    m = max(3, int(budget ** (1.0 / k)))
    axes = [np.linspace(0.0, prob.ell[j], m) for j in others]
    G = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, k)
    Xf = np.empty((G.shape[0], prob.system.n))
    Xf[:, prob.i] = x_i
    Xf[:, others] = G
    vals = prob.values_batch(Xf)
    order = np.argsort(vals)[:refine]
    best_v, best_x = float(vals[order[0]]), Xf[order[0]].copy()
    bounds = [(0.0, float(prob.ell[j])) for j in others]
    for idx in order:
        r = minimize(
            lambda xo: prob.value(prob.full(x_i, xo)),
            G[idx],
            method="Powell",
            bounds=bounds,
            options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 2000},
        )
        if r.fun < best_v:
            best_v, best_x = float(r.fun), prob.full(x_i, np.clip(r.x, 0.0, prob.ell[others]))
    return best_v, best_x


def _grid_inner(prob: RelaxedProblem, x_i: float, budget: int = 20000, refine: int = 3) -> InnerResult:
    t0 = time.perf_counter()
    if prob.interbank:
        v, x = _grid_inner_20(prob, x_i, budget, refine)
    else:
        v, w = _grid_inner_9(prob, x_i)
        x = prob.full(x_i, _distribute(prob, w))
        v = prob.value(x)
    return InnerResult(v, x, False, "grid", "grid", time.perf_counter() - t0)


# ----------------------------------------------------------------------------- local (IPOPT)
def _local_inner(prob: RelaxedProblem, x_i: float, starts: int = 3) -> InnerResult:
    """Inner minimum by IPOPT (bridge) from a few starting points; value recomputed exactly."""
    from liqstress.models.relaxed_pyomo import inner_model_20, inner_model_9
    from liqstress.solvers.ipopt_bridge import solve_pyomo

    t0 = time.perf_counter()
    others = prob.others
    if others.size == 0:
        x = prob.full(x_i, np.zeros(0))
        return InnerResult(prob.value(x), x, True, "ipopt", "trivial", time.perf_counter() - t0)
    best: Optional[tuple[float, np.ndarray, str]] = None
    fracs = [0.5, 1.0, 0.0][: max(1, starts)]
    for fr in fracs:
        x0 = fr * prob.ell
        if prob.interbank:
            x0f = x0.copy()
            x0f[prob.i] = x_i
            m = inner_model_20(prob.system.c, prob.ell, prob.pbar, prob.PiT, prob.i, x_i, prob.system.f, x0=x0f,
                               alpha=prob.alpha)
        else:
            m = inner_model_9(prob.system.c[prob.i], prob.ell, prob.i, x_i, prob.alpha, prob.system.f)
            for j in others:
                m.x[int(j)].set_value(float(x0[j]))
        res = solve_pyomo(m, raise_on_failure=False, hessian="lbfgs" if prob.interbank else "exact")
        if not res.success:
            continue
        xo = np.array([res.values[f"x[{int(j)}]"] for j in others])
        x = prob.full(x_i, np.clip(xo, 0.0, prob.ell[others]))
        v = prob.value(x)
        if best is None or v < best[0]:
            best = (v, x, res.status)
        if not prob.interbank:
            break  # (9) is convex in x_-i: one local solve is global
    if best is None:
        raise SolverFailure("ipopt", "not solved", "no start converged for the inner problem")
    return InnerResult(best[0], best[1], False, "ipopt", best[2], time.perf_counter() - t0)


# ----------------------------------------------------------------------------- public API
def inner_relaxed(
    system: System,
    i: Union[int, str],
    x_i: float,
    method: str = "global",
    tol: float = 1e-7,
    ell_vec: Optional[np.ndarray] = None,
    time_limit: float = 120.0,
) -> InnerResult:
    """``min_{x_-i} Vt_i(x_i, x_-i)`` of (9) (no interbank block) or (20) (with one).

    ``method``: ``global`` (SCIP, certified when ``gap <= tol``), ``local`` (IPOPT) or
    ``grid``.  ``x`` of the result is the full early-sale vector at the minimiser.
    """
    if method not in METHODS_INNER:
        raise InputError("method", f"must be one of {', '.join(METHODS_INNER)}; got {method!r}")
    prob = prepare(system, i, ell_vec)
    x_i = _check_xi(prob, x_i)
    if method == "global":
        return _scip_inner(prob, x_i, tol, time_limit)
    if method == "local":
        return _local_inner(prob, x_i)
    return _grid_inner(prob, x_i)


def _golden_max(fun, lo: float, hi: float, tol: float, max_iter: int = 200):
    """Golden-section maximisation of a unimodal function on [lo, hi]; returns (x, f(x), evaluations)."""
    cache: dict[float, float] = {}

    def F(x):
        if x not in cache:
            cache[x] = fun(x)
        return cache[x]

    a, b = lo, hi
    c1 = b - _GOLD * (b - a)
    c2 = a + _GOLD * (b - a)
    it = 0
    while b - a > tol and it < max_iter:
        it += 1
        if F(c1) >= F(c2):
            b, c2 = c2, c1
            c1 = b - _GOLD * (b - a)
        else:
            a, c1 = c1, c2
            c2 = a + _GOLD * (b - a)
    for x in (lo, hi):  # concave but possibly maximal at an end point
        F(x)
    best = max(cache, key=cache.get)
    return best, cache[best], cache


def _result(prob, method, strategy, inner: InnerResult, certified, solver, t0, status, tol, details) -> MaximinResult:
    return MaximinResult(
        bank=prob.system.names[prob.i],
        problem="relaxed",
        method=method,
        strategy=float(strategy),
        value=float(inner.value),
        worst_case_others=inner.x[prob.others],
        certified=bool(certified),
        solver=solver,
        seconds=time.perf_counter() - t0,
        status=status,
        tolerance=tol,
        details=details,
    )


def _maximin_global(prob: RelaxedProblem, tol: float, time_limit: float, max_iter: int = 60, starts=(0.5, 0.25, 0.75)) -> MaximinResult:
    """Certified cutting-plane scheme (module docstring): stop when U - Lb <= tol."""
    t0 = time.perf_counter()
    e = prob.ell_i
    inner_tol = 0.1 * tol
    best: Optional[InnerResult] = None
    best_z = 0.0
    lb = -math.inf
    cuts: list[np.ndarray] = []
    statuses = []

    def probe(z: float):
        nonlocal best, best_z, lb
        r = _scip_inner(prob, z, inner_tol, time_limit)
        statuses.append(r.status)
        cuts.append(r.x[prob.others])
        if r.lower_bound is not None and r.lower_bound > lb:
            lb = r.lower_bound
        if best is None or r.value > best.value:
            best, best_z = r, z
        return r

    for z in [fr * e for fr in starts] if e > 0 else (0.0,):
        probe(z)
    ub = math.inf
    it = 0
    if e > 0:
        while it < max_iter:
            it += 1
            ub, z, st = _scip_master(prob, cuts, time_limit, 0.1 * tol)
            statuses.append(st)
            if ub - max(lb, best.lower_bound or -math.inf) <= tol:
                break
            probe(z)
            if ub - lb <= tol:
                break
        # polish the strategy: the value is flat near the optimum, so the master's x_i is only
        # accurate to ~sqrt(tol); maximise min_k Vt_i(x_i, x^k) (exact double precision
        # evaluations over the stored worst cases) by bounded Brent, then certify that point.
        zp = _polish(prob, cuts, best_z)
        if abs(zp - best_z) > 0:
            r = probe(zp)
            if r.value >= best.value - 0.1 * tol:
                best, best_z = r, zp
    else:
        ub = best.value
    gap = ub - lb
    solved = all(s in _SCIP_OK for s in statuses)
    certified = gap <= tol and solved
    status = "optimal" if certified else ("gap_not_closed" if solved else next(s for s in statuses if s not in _SCIP_OK))
    details = {"upper_bound": ub, "lower_bound": lb, "gap": gap, "iterations": it, "inner_solves": len(cuts)}
    return _result(prob, "global", best_z, best, certified, "scip", t0, status, tol, details)


def _polish(prob: RelaxedProblem, cuts: list[np.ndarray], z0: float) -> float:
    """Strategy polish near z0 by bounded Brent: (9) maximises the inner value min_w g(x_i, w)
    (concave in x_i; inner by grid + Brent in w); (20) maximises min_k Vt_i(x_i, x^k_-i) over
    the stored worst cases (exact evaluations)."""
    from scipy.optimize import minimize_scalar

    e = prob.ell_i
    half = e if not prob.interbank else 0.1 * e
    lo, hi = max(0.0, z0 - half), min(e, z0 + half)
    if hi <= lo:
        return z0
    X = np.array([prob.full(0.0, xo) for xo in cuts])

    def neg(z: float) -> float:
        if not prob.interbank:  # (9): the inner min is a 1-D convex problem in w, solved exactly
            return -_grid_inner_9(prob, z, 257)[0]
        X[:, prob.i] = z
        return -float(prob.values_batch(X).min())

    r = minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * max(1.0, e)})
    return float(r.x) if r.fun <= neg(z0) else z0


def _maximin_inner_golden(prob: RelaxedProblem, method: str, tol: float) -> MaximinResult:
    """Outer golden-section search over x_i on inner values (local or grid routes)."""
    t0 = time.perf_counter()
    e = prob.ell_i
    store: dict[float, InnerResult] = {}

    def fun(z):
        r = _local_inner(prob, z) if method == "local" else _grid_inner(prob, z, budget=4000, refine=1)
        store[z] = r
        return r.value

    if e <= 0:
        fun(0.0)
        z = 0.0
    else:
        if prob.interbank:
            # (20): the inner value need not be concave in x_i; coarse scan first, then refine
            zs = np.linspace(0.0, e, 11 if method == "local" else 21)
            vals = [fun(float(zz)) for zz in zs]
            k = int(np.argmax(vals))
            lo, hi = zs[max(k - 1, 0)], zs[min(k + 1, zs.size - 1)]
        else:
            lo, hi = 0.0, e
        z, _, _ = _golden_max(fun, float(lo), float(hi), max(1e-9, 1e-7 * e) if method == "grid" else max(1e-8, 1e-6 * e))
        z = max(store, key=lambda k: store[k].value)
    r = store[z]
    status = "optimal" if method == "grid" else r.status
    return _result(prob, method, z, r, False, "ipopt" if method == "local" else "grid", t0, status, tol,
                   {"inner_solves": len(store)})


def maximin_relaxed(
    system: System,
    bank: Union[int, str],
    method: str = "global",
    tol: float = 1e-6,
    ell_vec: Optional[np.ndarray] = None,
    time_limit: float = 120.0,
    starts: tuple = (0.5, 0.25, 0.75),
) -> MaximinResult:
    """``max_{x_i} min_{x_-i} Vt_i`` of (9) (no interbank block) or (20) (with one), numerically.

    ``global``: certified cutting planes with SCIP (``certified`` True when the upper and lower
    bounds meet within ``tol``); ``local``: IPOPT inner + golden section; ``grid``: grids;
    ``pyros``: PyROS robust optimisation (problem (9) only).  ``worst_case_others`` lists the
    minimising x_j, j != i, in bank order.  ``starts``: fractions of ell_i where the global
    scheme first evaluates the inner minimum (its first worst cases).
    """
    if method not in METHODS_OUTER:
        raise InputError("method", f"must be one of {', '.join(METHODS_OUTER)}; got {method!r}")
    if not (tol > 0 and math.isfinite(tol)):
        raise InputError("tol", f"must be a finite number > 0, got {tol}")
    prob = prepare(system, bank, ell_vec)
    if method == "global":
        return _maximin_global(prob, tol, time_limit, starts=tuple(starts))
    if method == "pyros":
        return maximin_pyros(prob, tol, time_limit)
    return _maximin_inner_golden(prob, method, tol)


# ----------------------------------------------------------------------------- PyROS
def maximin_pyros(prob: RelaxedProblem, tol: float = 1e-6, time_limit: float = 120.0) -> MaximinResult:
    """Problem (9) as a robust optimisation problem solved by PyROS (box set on x_-i,
    SCIP as local and global subsolver, master and separation solved globally, robust
    feasibility tolerance max(tol, 1e-6)).  The reported value is the certified SCIP inner
    minimum at PyROS's first-stage x_i (a certified lower bound of the max-min value);
    ``certified`` is that inner certificate — optimality of x_i rests on PyROS' robust_optimal
    termination (any other termination raises SolverFailure) within its tolerance."""
    import pyomo.contrib.pyros as pyros  # noqa: F401  (registers the solver)
    import pyomo.environ as pyo

    from liqstress.models.relaxed_pyomo import pyros_model_9

    if prob.interbank:
        raise InputError("method", "pyros handles problem (9) only (Pt of (20) needs binaries, which PyROS second stages cannot hold)")
    t0 = time.perf_counter()
    if prob.ell_i <= 0 or prob.others.size == 0 or prob.ell[prob.others].sum() <= 0:
        r = _scip_inner(prob, 0.0 if prob.ell_i <= 0 else 0.5 * prob.ell_i, tol, 60.0)
        if prob.ell_i > 0:  # no uncertainty: plain concave maximisation
            return _maximin_global(prob, tol, 60.0)
        return _result(prob, "pyros", 0.0, r, r.certified, "pyros", t0, "trivial", tol, {})
    m, params, bounds = pyros_model_9(prob.system.c[prob.i], prob.ell, prob.i, prob.alpha, prob.system.f)
    scip = pyo.SolverFactory("scip_direct")
    with _quiet_pyomo():
        res = _pyros_solve(pyo, pyros, m, params, bounds, scip, tol, time_limit)
    term = str(res.pyros_termination_condition).split(".")[-1]
    if term != "robust_optimal":
        raise SolverFailure("pyros", term)
    z = float(pyo.value(m.z))
    z = min(max(z, 0.0), prob.ell_i)
    r = _scip_inner(prob, z, 0.1 * tol, 60.0)
    details = {"pyros_value": float(pyo.value(m.t)), "iterations": int(res.iterations), "pyros_seconds": float(res.time)}
    return _result(prob, "pyros", z, r, r.certified, "pyros+scip", t0, term, tol, details)


def _pyros_solve(pyo, pyros, m, params, bounds, scip, tol, time_limit):
    return pyo.SolverFactory("pyros").solve(
        model=m,
        first_stage_variables=[m.z, m.t],
        second_stage_variables=[],
        uncertain_params=params,
        uncertainty_set=pyros.BoxSet(bounds=bounds),
        local_solver=scip,
        global_solver=scip,
        objective_focus=pyros.ObjectiveType.worst_case,
        solve_master_globally=True,
        robust_feasibility_tolerance=max(tol, 1e-6),
        time_limit=time_limit,
        progress_logger=_quiet_logger(),
    )


class _quiet_pyomo:
    """Silence Pyomo's W1002 notes (SCIP returns values 1e-8 outside variable bounds) during a
    PyROS solve; the previous logger level is restored afterwards."""

    def __enter__(self):
        import logging

        self._lg = logging.getLogger("pyomo.core")
        self._level = self._lg.level
        self._lg.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        self._lg.setLevel(self._level)
        return False


def _quiet_logger():
    import logging

    lg = logging.getLogger("liqstress.pyros")
    lg.setLevel(logging.ERROR)  # PyROS reports progress and time-limit notes as warnings
    return lg
