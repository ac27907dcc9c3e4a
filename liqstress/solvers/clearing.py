"""Clearing equilibria with fire sales (SPEC A.2 and A.5).

* :func:`greatest_price` — the scalar fixed point (4), exact: the map p -> f(a + sum_j
  min(d_j/p, r_j)) is piecewise smooth with breakpoints d_j / r_j; we evaluate p - Phi(p) at
  every breakpoint at once (sorted cumulative sums, one vectorised call of f), pick the
  highest interval whose left end has p <= Phi(p), and solve the single smooth regime there
  by Brent's method to ~1e-15.  Within a regime the root is unique because u f(u) is
  increasing (Assumption 4.1(iii)), so this is the greatest (and unique) fixed point.
* :func:`clear` — prices at t=1 and t=2, sales at clearing y(x), values V(x) (6) and
  payments; with an interbank block the joint clearing (15) and values (17).
* :func:`ell` — the no-early-liquidation sales y(0).
* :func:`relaxed_value` — Vt (9); :func:`relaxed_value_interbank` — Vt (20) with (18), (19).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.optimize import brentq

from liqstress.errors import SolverFailure
from liqstress.models.inverse_demand import InverseDemand
from liqstress.models.system import System
from liqstress.solvers.eisenberg_noe import en_clearing


# ----------------------------------------------------------------------------- (4)
def greatest_price(d: np.ndarray, r: np.ndarray, a: float, f: InverseDemand, xtol: float = 1e-15) -> float:
    """Greatest p in (0, 1] with ``p = f(a + sum_j min(d_j / p, r_j))``  — equation (4).

    ``d_j >= 0`` is bank j's cash shortfall at t=2, ``r_j >= 0`` its remaining units,
    ``a = alpha X`` the permanent impact of early sales.
    """
    d = np.asarray(d, dtype=float)
    r = np.asarray(r, dtype=float)
    act = (d > 0) & (r > 0)
    d, r = d[act], r[act]
    if d.size == 0:
        return float(f(a))
    b = d / r  # y_j(p) = r_j for p <= b_j, d_j / p above
    order = np.argsort(b, kind="stable")
    b, d, r = b[order], d[order], r[order]
    # interval k = [P_k, P_{k+1}] with P_0 = 0, P_k = b_{k-1}; banks 0..k-1 sell d/p there
    pts = np.concatenate(([0.0], b))
    D = np.concatenate(([0.0], np.cumsum(d)))
    R = r.sum() - np.concatenate(([0.0], np.cumsum(r)))
    R = np.maximum(R, 0.0)
    inside = pts < 1.0
    pts, D, R = pts[inside], D[inside], R[inside]
    with np.errstate(divide="ignore", invalid="ignore"):
        Y = np.where(pts > 0, D / np.where(pts > 0, pts, 1.0) + R, R)
    h = pts - f(a + Y)
    h[0] = -float(f(a + R[0]))  # at p -> 0+ every bank sells all it has: h < 0
    k = int(np.flatnonzero(h <= 0)[-1])
    lo = pts[k]
    hi = pts[k + 1] if k + 1 < pts.size else 1.0
    Dk, Rk = D[k], R[k]

    def hk(p: float) -> float:
        return p - float(f(a + (Dk / p if Dk > 0 else 0.0) + Rk))

    if Dk == 0.0:
        p0 = float(f(a + Rk))  # constant regime: the root is explicit
        return min(max(p0, lo), hi)
    lo_eval = max(lo, 1e-300)
    hlo, hhi = hk(lo_eval), hk(hi)
    if hlo > 0:  # can only happen by rounding at a breakpoint
        return lo
    if hhi < 0:  # p = 1 cannot be exceeded; Phi <= 1
        return hi
    return float(brentq(hk, lo_eval, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200))


@dataclass
class Clearing:
    """Result of a clearing computation (SPEC Part C ``liqstress clear``)."""

    price_t1: float
    price_t2: float
    sales_t2: np.ndarray
    values: np.ndarray
    payments: np.ndarray
    iterations: int = 0
    status: str = "converged"

    def to_json(self) -> dict:
        return {
            "price_t1": self.price_t1,
            "price_t2": self.price_t2,
            "sales_t2": self.sales_t2,
            "values": self.values,
            "payments": self.payments,
        }


def _clear_permanent(system: System, x: np.ndarray, alpha: float) -> Clearing:
    """Clearing with permanent price impact, (4)–(6)."""
    f = system.f
    X = float(x.sum())
    p1 = float(f(X))
    cash1 = system.c + x * p1
    d = np.maximum(system.L - cash1, 0.0)
    r = np.maximum(system.s - x, 0.0)
    p2 = greatest_price(d, r, alpha * X, f)
    y = np.minimum(np.divide(d, p2), r)
    V = cash1 + y * p2  # (6)
    return Clearing(p1, p2, y, V, np.minimum(system.L, V))


# ----------------------------------------------------------------------------- (15)
def _clear_interbank(system: System, x: np.ndarray, tol: float = 1e-13) -> Clearing:
    """Joint Eisenberg–Noe + fire-sale clearing (15), values (17).

    For a price q the payments P(q) are the greatest EN vector with endowments
    c + x f(X) + (s - x) q, and Phi(q) = f(sum_j y_j(q, P(q))) is continuous and
    non-decreasing; the clearing price is its unique fixed point (Amini et al., 2016,
    Lemma 3), bracketed on [f(sum(s - x)), 1] and found by Brent's method.
    """
    f = system.f
    pbar = system.pbar
    Pi = system.Pi
    PiT = Pi.T.tocsr()
    X = float(x.sum())
    p1 = float(f(X))
    cash1 = system.c + x * p1
    r = np.maximum(system.s - x, 0.0)
    evals = [0]

    def state(q: float):
        evals[0] += 1
        P = en_clearing(pbar, Pi, cash1 + r * q)
        need = np.maximum(pbar - cash1 - PiT @ P, 0.0)
        y = np.minimum(need / q, r)
        return P, y

    def h(q: float) -> float:
        _, y = state(q)
        return q - float(f(y.sum()))

    q_lo = float(f(r.sum()))
    if h(1.0) <= 0:
        q = 1.0
    elif h(q_lo) >= 0:
        q = q_lo
    else:
        q = float(brentq(h, q_lo, 1.0, xtol=tol, rtol=4 * np.finfo(float).eps, maxiter=300))
    P, y = state(q)
    V = cash1 + y * q + PiT @ P  # (17)
    return Clearing(p1, q, y, V, P, iterations=evals[0])


def clear(system: System, x: Optional[np.ndarray] = None, alpha: Optional[float] = None) -> Clearing:
    """Clearing state given early sales ``x`` (default: none).

    Without interbank block: the price fixed point (4), sales (5) and values (6).
    With it (alpha = 0): the joint clearing (15), values (17); ``payments`` is P.
    """
    sysm = system.with_alpha(alpha)
    x = np.zeros(sysm.n) if x is None else sysm.check_early(x)
    if sysm.has_interbank:
        return _clear_interbank(sysm, x)
    return _clear_permanent(sysm, x, sysm.alpha)


def ell(system: System) -> np.ndarray:
    """ell = y(0): what each bank sells at clearing without early liquidation (alpha plays no role)."""
    return clear(system, np.zeros(system.n)).sales_t2


def value(system: System, x: np.ndarray, alpha: Optional[float] = None) -> np.ndarray:
    """V(x), (6) or (17), for every bank."""
    return clear(system, x, alpha).values


# ----------------------------------------------------------------------------- relaxed
def relaxed_value(system: System, x: np.ndarray, ell_vec: np.ndarray, alpha: Optional[float] = None) -> np.ndarray:
    """Vt_i(x) = c_i + x_i f(X) + (ell_i - x_i) f(Lambda - (1 - alpha) X) for every bank — (9)."""
    a = system.alpha if alpha is None else alpha
    x = np.asarray(x, dtype=float)
    X = x.sum()
    Lam = ell_vec.sum()
    f = system.f
    return system.c + x * f(X) + (ell_vec - x) * f(Lam - (1 - a) * X)


def worst_case_income(system: System, x: np.ndarray, ell_vec: np.ndarray) -> np.ndarray:
    """h(x), (18): x_i f(X) + (ell_i - x_i) f(sum_j (ell_j - x_j))."""
    x = np.asarray(x, dtype=float)
    X = x.sum()
    f = system.f
    return x * f(X) + (ell_vec - x) * f(ell_vec.sum() - X)


def worst_case_payments(system: System, x: np.ndarray, ell_vec: np.ndarray) -> np.ndarray:
    """Pt(x), (19): the greatest solution of Pt = min(pbar, c + h(x) + Pi^T Pt)."""
    if not system.has_interbank:
        raise SolverFailure("worst_case_payments", "not applicable", "the system has no interbank block")
    return en_clearing(system.pbar, system.Pi, system.c + worst_case_income(system, x, ell_vec))


def relaxed_value_interbank(system: System, x: np.ndarray, ell_vec: np.ndarray) -> np.ndarray:
    """Vt_i(x) = c_i + h_i(x) + (Pi^T Pt(x))_i for every bank — (20)."""
    Pt = worst_case_payments(system, x, ell_vec)
    return system.c + worst_case_income(system, x, ell_vec) + system.Pi.T @ Pt
