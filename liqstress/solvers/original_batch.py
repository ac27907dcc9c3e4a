"""Vectorised exact clearing for many early-sale vectors at once, and the dense grid baseline.

* :func:`batch_values` — V(x) of (6) (permanent impact, price fixed point (4)) or of (17)
  (interbank clearing (15), price f(alpha X + sum_j y_j)) for a batch ``X`` of shape (B, n).
* :func:`grid_maximin` — the dense-grid baseline of the original problem (7): a tensor grid
  over x_-i and a grid over x_i, exact clearing at every point, max over x_i of the min over
  the grid of x_-i (not certified: a grid only sees finitely many x_-i).

Price fixed point (4).  For a row, ``h(p) = p - f(alpha X + sum_j min(d_j / p, r_j))`` has a
unique zero in ``[f(alpha X + sum_j r_j), f(alpha X)]`` (uniqueness: at a fixed point
``u = alpha X + Y`` satisfies ``f(u) (u - alpha X) = sum_j min(d_j, r_j f(u))``; the left side
is strictly increasing in u by Assumption 4.1(iii), the right side non-increasing), h < 0
below it and h > 0 above it, so vectorised bisection (64 halvings, relative width ~1e-19)
returns the greatest = unique fixed point that :func:`liqstress.solvers.clearing.clear`
computes by an exact regime search.

Interbank clearing (15).  For a price q the payments are the greatest Eisenberg–Noe vector
(batched dense fictitious default algorithm, :func:`en_batch`) and q is the zero of
``q - f(alpha X + sum_j y_j(q))`` on ``[f(alpha X + sum_j r_j), f(alpha X)]`` found by bisection, as
:func:`liqstress.solvers.clearing._clear_interbank` (Brent) does for one x.
"""

from __future__ import annotations

import itertools
import time
from typing import Optional

import numpy as np

from liqstress.models.system import System

_BISECT = 64
_CHUNK = 200_000


# ----------------------------------------------------------------------------- (4)-(6)
def batch_price_permanent(system: System, X: np.ndarray, alpha: Optional[float] = None):
    """(p1, p2, y, cash) for every row of X (B, n): prices at t=1 and t=2 (4), sales y (5)."""
    a_ = system.alpha if alpha is None else float(alpha)
    f = system.f
    X = np.atleast_2d(np.asarray(X, dtype=float))
    tot = X.sum(axis=1)
    p1 = f(tot)
    cash = system.c + X * p1[:, None]
    d = np.maximum(system.L - cash, 0.0)
    r = np.maximum(system.s - X, 0.0)
    a = a_ * tot
    lo = f(a + r.sum(axis=1))
    hi = f(a)
    p2 = _root_newton(f, d, r, a, lo, hi)
    y = np.minimum(d / p2[:, None], r)
    return p1, p2, y, cash


def _root_newton(f, d: np.ndarray, r: np.ndarray, a: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 bisect: int = 6, newton: int = 40) -> np.ndarray:
    """Zero of h(p) = p - f(a + sum_j min(d_j / p, r_j)) in [lo, hi] for every row.

    h < 0 below the unique zero and h > 0 above it, so a bracket is kept and a Newton step
    (h' = 1 + f'(u) sum_{d_j < r_j p} d_j / p^2) is accepted only inside the bracket, else
    the bracket is bisected.  Stops when every bracket or step is at rounding level.
    """
    for _ in range(bisect):
        mid = 0.5 * (lo + hi)
        neg = mid - f(a + np.minimum(d / mid[:, None], r).sum(axis=1)) <= 0.0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    p = 0.5 * (lo + hi)
    for _ in range(newton):
        q = d / p[:, None]
        sel = q < r
        u = a + np.where(sel, q, r).sum(axis=1)
        h = p - f(u)
        neg = h <= 0.0
        lo = np.where(neg, p, lo)
        hi = np.where(neg, hi, p)
        dh = 1.0 + f.d1(u) * np.where(sel, q, 0.0).sum(axis=1) / p
        with np.errstate(divide="ignore", invalid="ignore"):
            pn = p - h / dh
        bad = ~np.isfinite(pn) | (pn < lo) | (pn > hi)
        pn = np.where(bad, 0.5 * (lo + hi), pn)
        done = (np.abs(pn - p) <= 4e-16 * np.maximum(p, 1e-300)) | (hi - lo <= 4e-16 * hi)
        p = pn
        if done.all():
            break
    return p


# ----------------------------------------------------------------------------- (15)-(17)
def en_batch(pbar: np.ndarray, PiT: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Greatest solutions of ``P = min(pbar, e + Pi^T P)`` for a batch of endowments E (B, n).

    Dense fictitious default algorithm (Eisenberg and Noe 2001, Section 3): start with every
    bank solvent, solve the linear system of the defaulting set, grow the set; <= n rounds.
    ``PiT[j, k] = Pi_kj``.
    """
    E = np.atleast_2d(E)
    B, n = E.shape
    P = np.broadcast_to(pbar, (B, n)).copy()
    thr = pbar * (1 - 1e-15) - 1e-300
    D = (E + P @ PiT.T) < thr
    eye = np.eye(n)
    for _ in range(n + 1):
        if not D.any():
            break
        # default rows: P_j - sum_{k in D} Pi_kj P_k = e_j + sum_{k notin D} Pi_kj pbar_k
        A = eye[None] - PiT[None] * (D[:, :, None] & D[:, None, :])
        rhs = np.where(D, E + (pbar * ~D) @ PiT.T, pbar)
        P = np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
        P = np.clip(P, 0.0, pbar)
        newD = D | ((E + P @ PiT.T) < thr)
        if np.array_equal(newD, D):
            break
        D = newD
    return P


def batch_price_interbank(system: System, X: np.ndarray, alpha: Optional[float] = None):
    """(p1, q, y, cash, P) for every row of X: the joint clearing (15), q = f(alpha X + sum_j y_j)."""
    a_ = system.alpha if alpha is None else float(alpha)
    f = system.f
    X = np.atleast_2d(np.asarray(X, dtype=float))
    pbar = np.asarray(system.pbar, dtype=float)
    PiT = np.asarray(system.Pi.T.todense(), dtype=float)
    tot = X.sum(axis=1)
    p1 = f(tot)
    cash = system.c + X * p1[:, None]
    r = np.maximum(system.s - X, 0.0)
    off = a_ * tot

    def state(q):
        P = en_batch(pbar, PiT, cash + r * q[:, None])
        need = np.maximum(pbar - cash - P @ PiT.T, 0.0)
        y = np.minimum(need / q[:, None], r)
        return P, y

    lo = f(off + r.sum(axis=1))
    hi = f(off)
    for _ in range(_BISECT):
        mid = 0.5 * (lo + hi)
        _, y = state(mid)
        neg = mid - f(off + y.sum(axis=1)) <= 0.0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    q = 0.5 * (lo + hi)
    P, y = state(q)
    return p1, q, y, cash, P


def batch_values(system: System, X: np.ndarray, alpha: Optional[float] = None) -> np.ndarray:
    """V(x) for every row of X (B, n): (6) without, (17) with an interbank block."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    out = np.empty_like(X)
    step = max(1, _CHUNK // max(1, X.shape[1]))
    for k in range(0, X.shape[0], step):
        Xc = X[k : k + step]
        if system.has_interbank:
            _, q, y, cash, P = batch_price_interbank(system, Xc, alpha)
            PiT = np.asarray(system.Pi.T.todense(), dtype=float)
            out[k : k + step] = cash + y * q[:, None] + P @ PiT.T
        else:
            _, p2, y, cash = batch_price_permanent(system, Xc, alpha)
            out[k : k + step] = cash + y * p2[:, None]
    return out


def batch_value_i(system: System, i: int, X: np.ndarray) -> np.ndarray:
    """V_i(x) for every row of X."""
    return batch_values(system, X)[:, i]


# ----------------------------------------------------------------------------- grid baseline
def grid_maximin(system: System, i: int, ell_vec: np.ndarray, k_others: int = 21, k_own: int = 101,
                 max_points: int = 20_000_000) -> dict:
    """Dense grid for (7): x_i on ``k_own`` points of [0, ell_i], each x_j (j != i) on
    ``k_others`` points of [0, ell_j]; exact clearing everywhere; returns the best strategy on
    the grid, its grid-min value and the grid minimiser.  Not certified (the min over a grid of
    x_-i over-estimates the true inner min; the max over a grid of x_i under-estimates)."""
    t0 = time.perf_counter()
    n = system.n
    others = [j for j in range(n) if j != i]
    axes = [np.linspace(0.0, ell_vec[j], k_others if ell_vec[j] > 0 else 1) for j in others]
    G = np.array(list(itertools.product(*axes))) if others else np.zeros((1, 0))
    xs = np.linspace(0.0, ell_vec[i], k_own if ell_vec[i] > 0 else 1)
    if G.shape[0] * xs.size > max_points:
        raise ValueError(f"grid of {G.shape[0] * xs.size} points exceeds max_points={max_points}")
    best = (-np.inf, 0.0, None)
    mins = np.empty(xs.size)
    per = max(1, _CHUNK // max(1, G.shape[0]))
    for k0 in range(0, xs.size, per):
        xk = xs[k0 : k0 + per]
        X = np.empty((xk.size * G.shape[0], n))
        X[:, i] = np.repeat(xk, G.shape[0])
        X[:, others] = np.tile(G, (xk.size, 1))
        V = batch_values(system, X)[:, i].reshape(xk.size, G.shape[0])
        arg = V.argmin(axis=1)
        vm = V[np.arange(xk.size), arg]
        mins[k0 : k0 + xk.size] = vm
        kb = int(vm.argmax())
        if vm[kb] > best[0]:
            best = (float(vm[kb]), float(xk[kb]), G[arg[kb]].copy())
    return {
        "value": best[0],
        "strategy": best[1],
        "worst_case_others": best[2],
        "x_own": xs,
        "inner_min": mins,
        "points": int(G.shape[0] * xs.size),
        "seconds": time.perf_counter() - t0,
    }


def grid_inner(system: System, i: int, x_i: float, ell_vec: np.ndarray, k_others: int = 41) -> tuple[float, np.ndarray]:
    """min over a tensor grid of x_-i of V_i(x_i, x_-i) (exact clearing); (value, full x)."""
    n = system.n
    others = [j for j in range(n) if j != i]
    axes = [np.linspace(0.0, ell_vec[j], k_others if ell_vec[j] > 0 else 1) for j in others]
    G = np.array(list(itertools.product(*axes))) if others else np.zeros((1, 0))
    X = np.empty((G.shape[0], n))
    X[:, i] = x_i
    X[:, others] = G
    V = batch_values(system, X)[:, i]
    k = int(V.argmin())
    return float(V[k]), X[k].copy()
