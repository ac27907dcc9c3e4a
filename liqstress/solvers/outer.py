"""Certified outer level of the original problem (7): ``max_{x_i} m(x_i)``,
``m(x_i) = min_{x_-i} V_i(x_i, x_-i)``.

Scheme (a discretisation / cutting-plane method for max-min, Blankenship and Falk 1976):
keep evaluated points x_i^k with SCIP-certified inner bounds ``lb_k <= m(x_i^k) <= ub_k``
and the worst responses xbar^k found there.  For every x_i and every k,
``m(x_i) <= V_i(x_i, xbar^k_-i)``, so

    max_{x_i} m(x_i)  <=  max_{x_i} U(x_i),      U(x_i) = min_k V_i(x_i, xbar^k_-i),

while ``max_k lb_k <= max m``.  ``U`` is a one-dimensional function computable exactly by
clearing, so its maximum is bounded in one of two ways:

* ``lipschitz`` (permanent price impact, (4)):  U is ``L_V``-Lipschitz (a minimum of
  L_V-Lipschitz functions) with the constant of :func:`lipschitz_constant`; Piyavskii's
  bound ``(U(a) + U(b) + L_V (b - a)) / 2`` on every cell of an adaptively refined grid,
  evaluated with the vectorised exact clearing, gives a certified upper bound of max U.
* ``master`` (interbank (15), or on request):  SCIP solves
  ``max t s.t. t <= V_i(x_i, xbar^k)`` with one exact clearing copy per scenario
  (:func:`liqstress.models.original_pyomo.build_master`); its proven dual bound is the upper bound.

If ``UB - max_k lb_k <= tol`` the value is certified to ``tol``; otherwise the inner problem
is solved at the maximiser of U (the most promising x_i) and the loop repeats.

Cap (permanent impact).  By (6), ``V_i <= max(L_i, c_i + x_i f(X)) <= max(L_i, c_i + x_i)``
(if d_i > 0 the bank pays at most L_i, otherwise V_i = c_i + x_i f(X)), so on a cell
``[a, b]`` the Piyavskii bound is capped at ``max(L_i, c_i + b)``.  Without it, a bank that
stays solvent on an interval (m = L_i there) needs cells of width ~ tol / L_V over the whole
interval before the bound reaches L_i + tol, which exhausts the point budget.

When the maximiser of U is an already evaluated point, only the inner gap at that point or
the Lipschitz slack separates the bounds: the inner problem there is re-solved with a
tighter tolerance (``refine``) if its gap is the larger part, else the point budget of the
envelope is doubled (up to 8 times); only when neither helps is the run ``stalled``.

Lipschitz constant (permanent impact, Assumption 4.1, no use of Lemma 4.2).  With
``u = alpha X + sum_j y_j in [0, S]`` and ``p = f(u)``, implicit differentiation of (4) in
any regime gives ``|dp/dx_i| <= |f'(u)| (1 + alpha f(u)) / (f(u) + u f'(u))``: the map
``G(p) = p - f(u(p))`` has ``dG/dp >= (f + u f') / f > 0`` and ``|du/dx_i| <= alpha + 1/p``
because ``|d(x_j f(X))/dx_i| <= max(f(X), X |f'(X)|) <= 1``.  As ``|f'|`` is non-increasing
(f'' >= 0, 4.1(iv)) and ``(u f(u))'`` is non-increasing (4.1(v)),

    K_p = |f'(0)| (1 + alpha) / (f(S) + S f'(S)).

V_i = c_i + x_i f(X) + min(d_i, (s_i - x_i) p) has, piece by piece, derivative 0
(V_i = L_i), ``f(X) + x_i f'(X) in (0, 1]`` (d_i = 0), or
``f + x_i f' - p + (s_i - x_i) dp/dx_i`` (all sold), hence

    L_V = 1 + s_i K_p

bounds ``|dV_i/dx_i|`` for every x_-i, and m and U are L_V-Lipschitz.  p is continuous and
piecewise C^1, so the piecewise bounds give a global Lipschitz constant.
(``tests/test_original_lipschitz.py`` checks it on random systems.)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from liqstress.models.system import System
from liqstress.solvers.original_batch import batch_values
from liqstress.solvers.results import InnerResult


def lipschitz_constant(system: System, i: int) -> float:
    """L_V = 1 + s_i K_p with K_p = |f'(0)| (1 + alpha) / (f(S) + S f'(S)) (see module doc)."""
    f = system.f
    S = float(system.S)
    denom = float(f(S) + S * f.d1(S))
    if not denom > 0:
        return math.inf
    Kp = abs(float(f.d1(0.0))) * (1.0 + float(system.alpha)) / denom
    return 1.0 + float(system.s[i]) * Kp


def envelope_values(system: System, i: int, xs: np.ndarray, scenarios: np.ndarray) -> np.ndarray:
    """U(x_i) = min_k V_i(x_i, xbar^k_-i) at the points xs (exact vectorised clearing)."""
    xs = np.asarray(xs, dtype=float)
    K = scenarios.shape[0]
    X = np.repeat(scenarios[None, :, :], xs.size, axis=0).reshape(xs.size * K, -1).copy()
    X[:, i] = np.repeat(xs, K)
    V = batch_values(system, X)[:, i].reshape(xs.size, K)
    return V.min(axis=1)


def value_cap(system: System, i: int) -> Optional[Callable[[np.ndarray], np.ndarray]]:
    """``cap(b) = max(L_i, c_i + b f(b))``: an upper bound of V_i for every x with x_i <= b
    (permanent impact (6): V_i <= max(L_i, c_i + x_i f(X)) with X >= x_i, f decreasing and
    x f(x) increasing, Assumption 4.1(iii)).  None with an interbank block (V_i of (17) also
    holds interbank assets, for which this bound is not derived)."""
    if system.has_interbank:
        return None
    Li, ci, f = float(system.L[i]), float(system.c[i]), system.f
    return lambda b: np.maximum(Li, ci + np.asarray(b, dtype=float) * f(np.asarray(b, dtype=float)))


def piyavskii_upper(system: System, i: int, hi: float, scenarios: np.ndarray, L: float, target: float,
                    resolution: float, max_points: int = 400_000, init: int = 65,
                    cap: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> tuple[float, float, float, int]:
    """Certified upper bound of ``max_{[0, hi]} U`` by adaptive refinement with Lipschitz L.

    Cells are split while their bound exceeds ``max(target, best + resolution)``.  Returns
    (UB, argmax of U on the evaluated points, max U there, points evaluated); the point count
    is negative when the budget ``max_points`` stopped the refinement.  UB is valid whatever
    the stopping reason (it is the max over all cells of Piyavskii's bound, each capped by
    ``cap(right end of the cell)`` when given).
    """
    if hi <= 0:
        u0 = float(envelope_values(system, i, np.zeros(1), scenarios)[0])
        return u0, 0.0, u0, 1
    x = np.linspace(0.0, hi, init)
    u = envelope_values(system, i, x, scenarios)
    used = x.size
    while True:
        B = 0.5 * (u[:-1] + u[1:]) + 0.5 * L * np.diff(x)
        if cap is not None:
            B = np.minimum(B, cap(x[1:]))
        kbest = int(u.argmax())
        thr = max(target, float(u[kbest]) + resolution)
        split = np.flatnonzero(B > thr)
        if split.size == 0 or used + split.size > max_points:
            return float(max(B.max(), u.max())), float(x[kbest]), float(u[kbest]), (used if split.size == 0 else -used)
        mids = 0.5 * (x[split] + x[split + 1])
        um = envelope_values(system, i, mids, scenarios)
        used += mids.size
        x = np.insert(x, split + 1, mids)
        u = np.insert(u, split + 1, um)


@dataclass
class OuterState:
    points: list = field(default_factory=list)  # (x_i, InnerResult)
    history: list = field(default_factory=list)  # (iteration, LB, UB)


def certified_outer(
    system: System,
    i: int,
    ell_vec: np.ndarray,
    inner: Callable[[float], InnerResult],
    tol: float,
    upper: str = "lipschitz",
    start: Optional[list] = None,
    max_iter: int = 40,
    time_limit: float = 600.0,
    master_upper: Optional[Callable[[np.ndarray], tuple[float, float, str]]] = None,
    seeds: Optional[np.ndarray] = None,
    refine: Optional[Callable[[float], InnerResult]] = None,
    max_points: int = 400_000,
    inner_cutoff: bool = False,
) -> dict:
    """Cutting-plane max-min with certified bounds (module doc).  ``inner(x_i)`` must return a
    SCIP-certified :class:`InnerResult`; ``master_upper(scenarios) -> (UB, x_cand, status)``
    is used when ``upper == 'master'``.  ``seeds`` are extra responses x_-i (full vectors)
    put into the envelope from the start (any x_-i gives a valid upper envelope).
    ``refine(x_i)`` re-solves the inner problem with a tighter tolerance when the maximiser
    of the envelope is an evaluated point whose inner gap keeps the bounds apart.  With
    ``inner_cutoff`` the inner solver is called as ``inner(x_i, cutoff)`` with the current
    lower bound of the max-min: once its value is below the cutoff the point cannot be the
    maximiser, and the solver may stop early (its worst response still enters the envelope)."""
    t0 = time.perf_counter()
    ell_i = float(ell_vec[i])
    L = lipschitz_constant(system, i) if upper == "lipschitz" else math.nan
    pts: list = []
    state = OuterState()
    todo = sorted(set(float(min(max(z, 0.0), ell_i)) for z in (start or [0.0, 0.5 * ell_i, ell_i])))
    cap = value_cap(system, i) if upper == "lipschitz" else None
    budget = int(max_points)
    refined: set = set()
    UB = math.inf
    reason = "iteration limit"
    all_cert = True
    for it in range(max_iter):
        for z in todo:
            if inner_cutoff:
                lbs = [q.lower_bound for _, q in pts if q.certified and q.lower_bound is not None]
                r = inner(z, max(lbs) if lbs else -math.inf)
            else:
                r = inner(z)
            pts.append((z, r))
            all_cert &= bool(r.certified)
        LBs = np.array([r.lower_bound if (r.certified and r.lower_bound is not None) else -math.inf for _, r in pts])
        kbest = int(LBs.argmax())
        LB = float(LBs[kbest])
        scen = np.array([r.x for _, r in pts])
        if seeds is not None and len(seeds):
            scen = np.vstack([scen, np.asarray(seeds, dtype=float)])
        if upper == "lipschitz":
            UB, xc, uc, npts = piyavskii_upper(system, i, ell_i, scen, L, LB + 0.5 * tol, 0.25 * tol,
                                               max_points=budget, cap=cap)
            ustat = f"piyavskii({abs(npts)} points{', budget reached' if npts < 0 else ''})"
        else:
            UB, xc, ustat = master_upper(scen)
        state.history.append((it, LB, UB, ustat))
        if UB - LB <= tol:
            reason = "certified"
            break
        if time.perf_counter() - t0 > time_limit:
            reason = "time limit"
            break
        if not math.isfinite(xc):
            reason = f"upper bound failed ({ustat})"
            break
        done = [z for z, _ in pts]
        dist = [abs(xc - z) for z in done]
        k_at = int(np.argmin(dist))
        if dist[k_at] <= 1e-12 * max(1.0, ell_i):
            # the maximiser of U is already evaluated: U(xc) <= the inner value there, so only
            # the inner gap at xc or the envelope's Lipschitz slack separates the bounds
            r_at = pts[k_at][1]
            inner_gap = (r_at.value - r_at.lower_bound) if (r_at.certified and r_at.lower_bound is not None) else math.inf
            if refine is not None and k_at not in refined and inner_gap > 0.1 * tol:
                refined.add(k_at)
                pts[k_at] = (pts[k_at][0], refine(pts[k_at][0]))
                all_cert &= bool(pts[k_at][1].certified)
                todo = []
                continue
            if upper == "lipschitz" and npts < 0 and budget < 8 * int(max_points):
                budget *= 2
                todo = []
                continue
            reason = "stalled"
            break
        todo = [xc]
    zbest, rbest = pts[kbest]
    return {
        "strategy": zbest,
        "inner": rbest,
        "lower": LB,
        "upper": UB,
        "certified": bool(reason == "certified" and rbest.certified),
        "reason": reason,
        "iterations": len(state.history),
        "inner_solves": len(pts),
        "lipschitz": L,
        "history": state.history,
        "points": [(z, r.value, r.lower_bound) for z, r in pts],
        "seconds": time.perf_counter() - t0,
    }
