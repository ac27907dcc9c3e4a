"""The original three-level problem (7) and its interbank twin (docs/model.md §2.4, §3, §4).

    max_{x_i in [0, ell_i]}  min_{x_-i in prod_{j != i} [0, ell_j]}  V_i(x)             (7)

with V_i from the clearing equilibrium (4)/(6) or, with an interbank block, (15)/(17).

Inner (middle) level, :func:`inner_original`:

* ``global`` — the exact MINLP encoding of :mod:`liqstress.models.original_pyomo` solved by
  SCIP (``SolverFactory('scip_direct')``) to a proven absolute gap.  SCIP's minimiser is
  re-cleared with :func:`liqstress.solvers.clearing.clear`; the reported ``value`` is that exact
  V_i, ``lower_bound`` SCIP's dual bound and ``gap = value - lower_bound``.  The two
  values must agree to ``1e-6`` (relative to max(1, |V|)), else the status is
  ``encoding_mismatch`` and nothing is certified.  As a last guard, the value must not be
  above any of a few hundred exactly cleared sample points by more than the gap
  (``bound_violation`` otherwise).  ``certified`` iff SCIP says optimal, the checks pass and
  ``gap <= tol``.
* ``local`` — multi-start L-BFGS-B over x_-i on the exact clearing (every evaluated point is
  an exact equilibrium, so the value is a true V_i and an upper bound of the minimum; not
  certified).  Starts: the box corners (n <= 9) and random points, the best four polished.
* ``grid`` — a tensor grid over x_-i with exact vectorised clearing (not certified).

Outer level, :func:`maximin_original`: ``global`` is the certified cutting-plane scheme of
:mod:`liqstress.solvers.outer` (Lipschitz envelope for (4), SCIP master for (15));
``local`` maximises the local inner value (coarse grid over x_i, then bounded Brent);
``grid`` is the dense grid of :func:`liqstress.solvers.original_batch.grid_maximin`.

:func:`gap_report` — the relaxation gap of docs/model.md §4 (regret and conservatism of the robust
strategy of Theorem 4.4 / 5.3).
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Optional, Union

import numpy as np

from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import System
from liqstress.solvers.clearing import clear
from liqstress.solvers.clearing import ell as ell_of
from liqstress.solvers.adversary import inner_separable
from liqstress.solvers.original_batch import batch_values, grid_inner, grid_maximin
from liqstress.solvers.results import InnerResult, MaximinResult

METHODS = ("global", "local", "grid")
MISMATCH_TOL = 1e-6


# ----------------------------------------------------------------------------- helpers
def _bank(system: System, bank: Union[int, str]) -> int:
    if isinstance(bank, (int, np.integer)):
        i = int(bank)
        if not 0 <= i < system.n:
            raise InputError("bank", f"index {i} out of range 0..{system.n - 1}")
        return i
    return system.index(str(bank))


def _check_xi(x_i: float, ell_i: float) -> float:
    x_i = float(x_i)
    if not math.isfinite(x_i) or x_i < -1e-12 or x_i > ell_i * (1 + 1e-12) + 1e-15:
        raise InputError("x_i", f"must be in [0, ell_i] = [0, {ell_i:.6g}], got {x_i}")
    return min(max(x_i, 0.0), ell_i)


def _others(n: int, i: int) -> list:
    return [j for j in range(n) if j != i]


def _vi(system: System, x: np.ndarray, i: int) -> float:
    return float(clear(system, x).values[i])


def _guard_points(system: System, i: int, x_i: float, ell_vec: np.ndarray, k: int = 256, seed: int = 0) -> np.ndarray:
    """Corners (up to 2^8) and random points of the others' box at fixed x_i."""
    n = system.n
    oth = _others(n, i)
    rng = np.random.default_rng(seed)
    rows = []
    if len(oth) <= 8:
        for bits in itertools.product((0.0, 1.0), repeat=len(oth)):
            rows.append(np.array(bits))
    R = rng.random((k, len(oth)))
    G = np.vstack(rows + [R]) if rows else R
    X = np.zeros((G.shape[0], n))
    X[:, oth] = G * ell_vec[oth]
    X[:, i] = x_i
    return X


# ----------------------------------------------------------------------------- inner
ENGINES = ("auto", "separable", "scip")


def _engine(system: System, engine: str) -> str:
    """``auto``: the separable method for permanent price impact (4), SCIP with interbank (15)."""
    if engine not in ENGINES:
        raise InputError("engine", f"must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine == "separable" and system.has_interbank:
        raise InputError("engine", "the separable method is derived for permanent price impact (4); "
                                   "use scip with interbank exposures")
    if engine == "auto":
        return "scip" if system.has_interbank else "separable"
    return engine


def _inner_global(system: System, i: int, x_i: float, ell_vec: np.ndarray, tol: float, time_limit: float,
                  lemma_cuts: bool, engine: str = "auto", cutoff: float = -math.inf) -> InnerResult:
    if _engine(system, engine) == "separable":
        r = inner_separable(system, i, x_i, ell_vec, tol=tol, time_limit=time_limit, cutoff=cutoff)
        if r.certified:
            G = _guard_points(system, i, x_i, ell_vec)
            vg = batch_values(system, G)[:, i]
            if vg.min() < r.lower_bound - 1e-7 * max(1.0, abs(r.value)):
                r.status, r.certified = "bound_violation", False
        return r
    return _inner_scip(system, i, x_i, ell_vec, tol, time_limit, lemma_cuts)


def _inner_scip(system: System, i: int, x_i: float, ell_vec: np.ndarray, tol: float, time_limit: float,
                lemma_cuts: bool, feastol: float = 1e-9) -> InnerResult:
    """SCIP on the MINLP encoding; an answer that fails its checks (``encoding_mismatch``,
    ``bound_violation``) or an ``infeasible`` verdict (impossible: every x has an equilibrium
    and the encoding contains it, so it is always a numerical failure) is retried once at
    feasibility tolerance 1e-7: SCIP's presolve at 1e-9 was seen to return a wrong 'optimal'
    bound on a unified-model instance that 1e-7 solves correctly.  Only an answer that passes
    every check is certified; one that still fails stops the run (exit 3), never a number."""
    r = _inner_scip_once(system, i, x_i, ell_vec, tol, time_limit, lemma_cuts, feastol)
    if r.status in ("encoding_mismatch", "bound_violation", "infeasible") and feastol < 1e-7:
        r2 = _inner_scip_once(system, i, x_i, ell_vec, tol, time_limit, lemma_cuts, 1e-7)
        if r2.status == "optimal":
            r2.seconds += r.seconds
            return r2
    return r


def _inner_failure(status: str, z: float) -> str:
    """Detail of the exit-3 message when the middle level of (7) at x_i = z has no checked answer."""
    if status == "infeasible":
        return (f"inner problem at x_i={z:.6g}: SCIP declared the exact encoding infeasible, which it cannot be "
                "(every early-sale vector has an equilibrium), at feasibility tolerances 1e-9 and 1e-7: "
                "a numerical failure of SCIP, no value is reported")
    return f"inner problem at x_i={z:.6g}"


def _inner_scip_once(system: System, i: int, x_i: float, ell_vec: np.ndarray, tol: float, time_limit: float,
                     lemma_cuts: bool, feastol: float) -> InnerResult:
    import pyomo.environ as pyo

    from liqstress.models.original_pyomo import build_inner, solve_scip

    t0 = time.perf_counter()
    n = system.n
    x = np.zeros(n)
    x[i] = x_i
    if not _others(n, i) or all(ell_vec[j] <= 0 for j in _others(n, i)):
        v = _vi(system, x, i)
        return InnerResult(v, x, True, "exact", "optimal", time.perf_counter() - t0, 0.0, v)
    m = build_inner(system, i, x_i, ell_vec, lemma_cuts)
    out = solve_scip(m, abs_gap=min(1e-8, 0.1 * tol), time_limit=time_limit, feastol=feastol)
    if not out.loaded:
        return InnerResult(math.nan, x, False, "scip", out.status, time.perf_counter() - t0, None, None)
    for j in m.O:
        x[j] = min(max(float(pyo.value(m.x[j])), 0.0), float(ell_vec[j]))
    v = _vi(system, x, i)
    status = "optimal" if out.status == "convergenceCriteriaSatisfied" or out.status == "optimal" else out.status
    if abs(v - out.primal) > MISMATCH_TOL * max(1.0, abs(v)):
        status = "encoding_mismatch"
    lb = float(out.dual)
    gap = v - lb
    if status == "optimal":
        G = _guard_points(system, i, x_i, ell_vec)
        vg = batch_values(system, G)[:, i]
        if vg.min() < lb - 1e-7 * max(1.0, abs(v)):
            status = "bound_violation"
    cert = status == "optimal" and gap <= tol
    return InnerResult(v, x, cert, "scip", status, time.perf_counter() - t0, gap, lb)


def _inner_local(system: System, i: int, x_i: float, ell_vec: np.ndarray, starts: int = 4, seed: int = 0,
                 samples: int = 512, warm: Optional[list] = None) -> InnerResult:
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    n = system.n
    oth = [j for j in _others(n, i) if ell_vec[j] > 0]
    x0 = np.zeros(n)
    x0[i] = x_i
    if not oth:
        v = _vi(system, x0, i)
        return InnerResult(v, x0, False, "local", "optimal", time.perf_counter() - t0, None, None)
    G = _guard_points(system, i, x_i, ell_vec, k=samples, seed=seed)
    if warm:
        W = np.array(warm, dtype=float).reshape(-1, n)
        W[:, i] = x_i
        G = np.vstack([W, G])
    vg = batch_values(system, G)[:, i]
    order = np.argsort(vg)
    ub = ell_vec[oth]
    h = 1e-7 * np.maximum(ub, 1e-12)

    def fg(z):
        X = np.tile(x0, (len(oth) + 1, 1))
        X[:, oth] = z
        zz = np.minimum(z + h, ub)
        step = zz - z
        back = step <= 0
        step = np.where(back, -h, step)
        X[1:, oth] = z + np.diag(step)
        V = batch_values(system, X)[:, i]
        return float(V[0]), (V[1:] - V[0]) / step

    best = (float(vg[order[0]]), G[order[0]].copy())
    seen = []
    for k in order:
        if len(seen) >= starts:
            break
        z0 = G[k, oth]
        if any(np.max(np.abs(z0 - s) / np.maximum(ub, 1e-12)) < 0.05 for s in seen):
            continue
        seen.append(z0)
        res = minimize(fg, z0, jac=True, method="L-BFGS-B", bounds=list(zip(np.zeros(len(oth)), ub)),
                       options={"maxiter": 200, "ftol": 1e-13, "gtol": 1e-10})
        z = np.clip(res.x, 0.0, ub)
        X = x0.copy()
        X[oth] = z
        v = _vi(system, X, i)
        if v < best[0]:
            best = (v, X)
    v = _vi(system, best[1], i)
    return InnerResult(v, best[1], False, "local", "local_optimum", time.perf_counter() - t0, None, None)


def _inner_ipopt(system: System, i: int, x_i: float, ell_vec: np.ndarray, starts: int = 3, seed: int = 0) -> InnerResult:
    """Local route through IPOPT (cyipopt bridge) on the smoothed NLP of (4)
    (:func:`liqstress.models.original_pyomo.build_inner_smoothed`), multi-start from the best
    exactly cleared sample points, continuation eps = 1e-2, 1e-4, 1e-6; each result is
    re-cleared exactly.  Not certified."""
    import pyomo.environ as pyo

    from liqstress.models.original_pyomo import build_inner_smoothed
    from liqstress.solvers.ipopt_bridge import solve_pyomo

    if system.has_interbank:
        raise InputError("local_solver", "the IPOPT route is implemented for (4) only; use local_solver='lbfgs'")
    t0 = time.perf_counter()
    n = system.n
    oth = [j for j in _others(n, i) if ell_vec[j] > 0]
    G = _guard_points(system, i, x_i, ell_vec, k=128, seed=seed)
    vg = batch_values(system, G)[:, i]
    order = np.argsort(vg)
    best = (float(vg[order[0]]), G[order[0]].copy())
    statuses = []
    m = build_inner_smoothed(system, i, x_i, ell_vec)
    for k in order[:starts]:
        for j in oth:
            m.x[j].set_value(float(G[k, j]))
        for eps in (1e-2, 1e-4, 1e-6):
            m.eps.set_value(eps)
            r = solve_pyomo(m, raise_on_failure=False, tol=1e-10, max_iter=500)
        statuses.append(r.status)
        X = G[k].copy()
        for j in oth:
            X[j] = min(max(float(pyo.value(m.x[j])), 0.0), float(ell_vec[j]))
        v = _vi(system, X, i)
        if v < best[0]:
            best = (v, X)
    st = "local_optimum" if any(t in ("solve_succeeded", "solved_to_acceptable_level") for t in statuses) else "ipopt:" + statuses[-1]
    return InnerResult(best[0], best[1], False, "ipopt", st, time.perf_counter() - t0, None, None)


def _inner_grid(system: System, i: int, x_i: float, ell_vec: np.ndarray, budget: int = 300_000) -> InnerResult:
    t0 = time.perf_counter()
    m = max(1, sum(1 for j in _others(system.n, i) if ell_vec[j] > 0))
    k = max(2, int(budget ** (1.0 / m)))
    v, x = grid_inner(system, i, x_i, ell_vec, k)
    v = _vi(system, x, i)
    return InnerResult(v, x, False, "grid", f"grid_{k}^{m}", time.perf_counter() - t0, None, None)


def inner_original(system: System, i: Union[int, str], x_i: float, method: str = "global", tol: float = 1e-7,
                   ell_vec: Optional[np.ndarray] = None, time_limit: float = 60.0, lemma_cuts: bool = False,
                   local_solver: str = "lbfgs", engine: str = "auto") -> InnerResult:
    """``min_{x_-i} V_i(x_i, x_-i)`` of (7) at a fixed own early sale x_i (middle level).

    ``method``: ``global`` (SCIP on the exact encoding; certified when optimal, re-clearing
    agrees and ``gap <= tol``), ``local`` (multi-start L-BFGS-B on the exact clearing) or
    ``grid``; ``local_solver='ipopt'`` runs IPOPT on a smoothed NLP of (4) instead of
    L-BFGS-B (both re-cleared exactly, neither certified).  ``x`` of the result is the full early-sale vector at the minimiser and
    ``value`` is V_i re-cleared exactly there.
    """
    if method not in METHODS:
        raise InputError("method", f"must be one of {', '.join(METHODS)}; got {method!r}")
    i = _bank(system, i)
    e = ell_of(system) if ell_vec is None else np.asarray(ell_vec, dtype=float)
    x_i = _check_xi(x_i, float(e[i]))
    if method == "global":
        return _inner_global(system, i, x_i, e, tol, time_limit, lemma_cuts, engine)
    if method == "local":
        if local_solver == "ipopt":
            return _inner_ipopt(system, i, x_i, e)
        if local_solver != "lbfgs":
            raise InputError("local_solver", f"must be lbfgs or ipopt; got {local_solver!r}")
        return _inner_local(system, i, x_i, e)
    return _inner_grid(system, i, x_i, e)


# ----------------------------------------------------------------------------- outer
def _result(system, i, method, strategy, r: InnerResult, certified, solver, t0, status, tol, details) -> MaximinResult:
    oth = _others(system.n, i)
    return MaximinResult(
        bank=system.names[i], problem="original", method=method, strategy=float(strategy), value=float(r.value),
        worst_case_others=np.asarray(r.x, dtype=float)[oth], certified=bool(certified), solver=solver,
        seconds=time.perf_counter() - t0, status=status, tolerance=tol, details=details,
    )


def _master_upper(system: System, i: int, e: np.ndarray, tol: float, time_limit: float):
    from liqstress.models.original_pyomo import build_master, solve_scip

    def upper(scen: np.ndarray):
        import pyomo.environ as pyo

        m = build_master(system, i, 0.0, float(e[i]), list(scen), e)
        out = solve_scip(m, abs_gap=0.1 * tol, time_limit=time_limit)
        ok = out.status in ("optimal", "convergenceCriteriaSatisfied")
        xc = float(pyo.value(m.xi)) if out.loaded else math.nan
        ub = float(out.dual) if (ok or math.isfinite(out.dual)) else math.inf
        return ub, xc, f"master:{out.status}"

    return upper


def maximin_original(system: System, bank: Union[int, str], method: str = "global", tol: float = 1e-4,
                     ell_vec: Optional[np.ndarray] = None, time_limit: float = 300.0, upper: Optional[str] = None,
                     inner_time_limit: float = 60.0, grid_points: int = 500_000, engine: str = "auto") -> MaximinResult:
    """``max_{x_i} min_{x_-i} V_i`` of (7) (with an interbank block: (15)/(17), any alpha).

    ``global``: certified cutting planes (:mod:`liqstress.solvers.outer`): SCIP-certified inner
    values give the lower bound, the Lipschitz envelope (constant
    ``L_V = 1 + s_i |f'(0)| (1 + alpha) / (f(S) + S f'(S))``) or a SCIP master the upper bound;
    ``certified`` is True only when they meet within ``tol`` (absolute, on the value).
    ``local``: multi-start local inner values, coarse grid + bounded Brent outer (not certified).
    ``grid``: dense grid of about ``grid_points`` points (not certified).  ``value`` is V_i re-cleared exactly at
    ``(strategy, worst_case_others)``.
    """
    if method not in METHODS:
        raise InputError("method", f"must be one of {', '.join(METHODS)}; got {method!r}")
    if not (math.isfinite(tol) and tol > 0):
        raise InputError("tol", f"must be a finite number > 0, got {tol}")
    t0 = time.perf_counter()
    i = _bank(system, bank)
    e = ell_of(system) if ell_vec is None else np.asarray(ell_vec, dtype=float)
    ell_i = float(e[i])
    if method == "grid":
        n_oth = max(1, sum(1 for j in _others(system.n, i) if e[j] > 0))
        k_own = 201
        k_oth = max(2, int((grid_points / k_own) ** (1.0 / n_oth)))
        g = grid_maximin(system, i, e, k_others=k_oth, k_own=k_own)
        x = np.zeros(system.n)
        x[i] = g["strategy"]
        x[_others(system.n, i)] = g["worst_case_others"]
        r = InnerResult(_vi(system, x, i), x, False, "grid", "grid", g["seconds"])
        return _result(system, i, "grid", g["strategy"], r, False, "grid", t0, f"grid_{k_own}x{k_oth}^{n_oth}", tol,
                       {"points": g["points"]})
    if method == "local":
        store: dict = {}

        def mloc(z):
            z = float(min(max(z, 0.0), ell_i))
            if z not in store:
                warm = [r.x for r in store.values()]
                store[z] = _inner_local(system, i, z, e, starts=2, samples=128, warm=warm)
            return store[z].value

        zs = np.linspace(0.0, ell_i, 9)
        vals = [mloc(z) for z in zs]
        k = int(np.argmax(vals))
        if ell_i > 0:
            from scipy.optimize import minimize_scalar

            a, b = zs[max(k - 1, 0)], zs[min(k + 1, zs.size - 1)]
            minimize_scalar(lambda z: -mloc(z), bounds=(a, b), method="bounded",
                            options={"xatol": max(tol, 1e-9) * max(1.0, ell_i), "maxiter": 25})
        zb = max(store, key=lambda z: store[z].value)
        return _result(system, i, "local", zb, store[zb], False, "local(L-BFGS-B multistart)", t0, "local_optimum", tol,
                       {"inner_solves": len(store)})
    # global
    from liqstress.solvers.outer import certified_outer

    from liqstress.solvers.outer import lipschitz_constant

    if upper is None:
        # the Lipschitz envelope needs a finite, moderate L_V (it is derived for (4) only)
        L_V = math.inf if system.has_interbank else lipschitz_constant(system, i)
        upper = "lipschitz" if (math.isfinite(L_V) and L_V * max(ell_i, 1e-12) / tol <= 1e9) else "master"
    if upper not in ("lipschitz", "master"):
        raise InputError("upper", f"must be lipschitz or master; got {upper!r}")
    if upper == "lipschitz" and system.has_interbank:
        raise InputError("upper", "the Lipschitz envelope is derived for (4) only; use master with interbank exposures")
    up = upper
    eng = _engine(system, engine)
    # inner solves certified to 5% of the outer tolerance (SCIP: at most 1e-7, as its dual bound
    # is cheap to tighten; the separable branch and bound converges linearly in the width)
    tol_in = 0.25 * tol if eng == "separable" else min(1e-7, 0.05 * tol)

    def inner(z, cutoff=-math.inf):
        r = _inner_global(system, i, z, e, tol_in, inner_time_limit, False, eng, cutoff=cutoff)
        if r.status in ("encoding_mismatch", "bound_violation") or not math.isfinite(r.value):
            # never a silent wrong number: an inner answer that fails its checks stops the run
            raise SolverFailure("scip", r.status, _inner_failure(r.status, z))
        return r

    # start at the robust strategy (Theorem 4.4 / 5.3); seed the envelope with the corner
    # responses x_-i = ell_-i and x_-i = 0
    if system.has_interbank:
        starts = [0.5 * ell_i]
    else:
        from liqstress.solvers.robust import robust_permanent

        _, xs, _, _, _ = robust_permanent(system.c, e, system.alpha, system.f)
        starts = [float(xs[i])]
    seeds = np.array([e, np.zeros_like(e)])
    def refine(z):  # a tighter inner gap at a point where the outer bounds stall (outer.certified_outer)
        r = _inner_global(system, i, z, e, 1e-3 * tol_in if eng == "scip" else 0.1 * tol_in, inner_time_limit, False, eng)
        if r.status in ("encoding_mismatch", "bound_violation") or not math.isfinite(r.value):
            raise SolverFailure("scip", r.status, _inner_failure(r.status, z))
        return r

    res = certified_outer(system, i, e, inner, tol, upper=up, start=starts, time_limit=time_limit, seeds=seeds,
                          master_upper=_master_upper(system, i, e, tol, inner_time_limit) if up == "master" else None,
                          refine=refine, inner_cutoff=True)
    r = res["inner"]
    status = "optimal" if res["certified"] else res["reason"]
    if res["reason"] == "certified" and not r.certified:
        status = r.status
    bad = [p for p in res["points"] if p[2] is None]
    details = {k: res[k] for k in ("lower", "upper", "iterations", "inner_solves", "lipschitz", "reason")}
    details["upper_method"] = up
    details["inner_failures"] = len(bad)
    details["engine"] = eng
    return _result(system, i, "global", res["strategy"], r, res["certified"], f"{eng}+{up}", t0, status, tol, details)


# ----------------------------------------------------------------------------- gap report
def gap_report(system: System, bank: Union[int, str], tol: float = 1e-4, alpha: Optional[float] = None,
               engine: str = "auto") -> dict:
    """Relaxation gap of docs/model.md §4 for bank i.

    ``v_opt`` = certified value of (7); ``v_rob`` = min_{x_-i} V_i at the robust strategy
    x_i* (Theorem 4.4, or ell_i / 2 by Theorem 5.3, or in the unified model the numeric
    relaxed solution where no closed form applies; ``robust_method`` says which), certified by
    SCIP; ``vt`` = the relaxed worst case min_{x_-i} Vt_i(x_i*, .) — the closed-form value of
    (9), the numeric max-min value, or for (20) the other module's ``inner_relaxed``.  ``regret = v_opt - v_rob >= 0`` and ``conservatism = v_rob - vt``;
    the validity bound V_i >= min(Vt_i, L_i) (Proposition 4.3) only guarantees
    ``conservatism_capped = v_rob - min(vt, L_i) >= 0`` (``vt`` may exceed L_i).
    """
    t0 = time.perf_counter()
    sysm = system.with_alpha(alpha)
    i = _bank(sysm, bank)
    e = ell_of(sysm)
    from liqstress.solvers.robust_unified import robust_bank

    rob = robust_bank(sysm, i, ell_vec=e, tol=min(1e-5, 0.1 * tol))  # closed form, or numeric (unified model)
    xs = rob["strategy"]
    vt_cert = rob["certified"]
    vt_solver = rob["vt_method"]
    if rob["vt"] is not None:
        vt = rob["vt"]
    else:
        from liqstress.solvers.relaxed import inner_relaxed  # the relaxed problems' module

        rr = inner_relaxed(sysm, i, xs, method="global", ell_vec=e)
        vt, vt_cert, vt_solver = float(rr.value), bool(rr.certified), f"inner_relaxed:{rr.solver}"
    eng = _engine(sysm, engine)
    rob_in = _inner_global(sysm, i, xs, e, min(1e-7, 0.05 * tol), 60.0, False, eng)
    if rob_in.status in ("encoding_mismatch", "bound_violation") or not math.isfinite(rob_in.value):
        raise SolverFailure(rob_in.solver, rob_in.status, _inner_failure(rob_in.status, xs) + " (v_rob)")
    opt = maximin_original(sysm, i, "global", tol=tol, ell_vec=e, engine=eng)
    v_opt = opt.value
    return {
        "bank": sysm.names[i],
        "alpha": sysm.alpha,
        "robust_strategy": xs,
        "optimal_strategy": opt.strategy,
        "v_opt": v_opt,
        "v_rob": rob_in.value,
        "vt": vt,
        "regret": v_opt - rob_in.value,
        "conservatism": rob_in.value - vt,
        # Proposition 4.3 / Section 5 validity is V_i >= min(Vt_i, L_i): only the capped relaxed
        # value is a guaranteed lower bound of v_rob (vt itself can exceed L_i for a bank that
        # always covers its liabilities, making the plain conservatism negative)
        "vt_capped": min(vt, float(sysm.pbar[i])),
        "conservatism_capped": rob_in.value - min(vt, float(sysm.pbar[i])),
        "liabilities": float(sysm.pbar[i]),
        "certified": bool(opt.certified and rob_in.certified and vt_cert),
        "v_opt_status": opt.status,
        "v_rob_status": rob_in.status,
        "tolerance": tol,
        "v_opt_bounds": [opt.details.get("lower"), opt.details.get("upper")],
        "v_rob_gap": rob_in.gap,
        "vt_solver": vt_solver,
        "robust_method": rob["method"],
        "seconds": time.perf_counter() - t0,
    }
