"""Clearing equilibria with fire sales (docs/model.md §2.3 and §3.1).

* :func:`greatest_price` — the scalar fixed point (4): unique (so it is the greatest), found
  by a safeguarded Newton method on a strictly increasing scalar equation, O(n) per step.
* :func:`clear` — prices at t=1 and t=2, sales at clearing y(x), values V(x) (6) and
  payments; with an interbank block the joint clearing (15) and values (17) — for any alpha
  (the unified model: the price at clearing is q = f(alpha X + sum_j y_j)).
* :func:`ell` — the no-early-liquidation sales y(0).
* :func:`relaxed_value` — Vt (9); :func:`relaxed_value_interbank` — Vt (20) with (18), (19)
  (unified model: the worst-case second-period price of (18) is f(Lambda - (1 - alpha) X)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from liqstress.errors import SolverFailure
from liqstress.models.inverse_demand import InverseDemand
from liqstress.models.system import System
from liqstress.solvers.eisenberg_noe import en_clearing


# ----------------------------------------------------------------------------- (4)
def greatest_price(d: np.ndarray, r: np.ndarray, a: float, f: InverseDemand, tol: float = 1e-15, max_iter: int = 200) -> float:
    """The fixed point p in (0, 1] of ``p = f(a + sum_j min(d_j / p, r_j))``  — equation (4);
    ``p = f(u*)`` with ``u*`` from :func:`clearing_volume`."""
    return float(f(clearing_volume(d, r, a, f, tol, max_iter)))


def clearing_volume(d: np.ndarray, r: np.ndarray, a: float, f: InverseDemand, tol: float = 1e-15, max_iter: int = 200) -> float:
    """The price-relevant volume ``u* = a + sum_j y_j`` at the fixed point of (4), p = f(u*).

    ``d_j >= 0`` is bank j's cash shortfall at t=2, ``r_j >= 0`` its remaining units,
    ``a = alpha X`` the permanent impact of early sales.

    Uniqueness (hence this is the greatest fixed point): with u = a + sum_j y_j and
    Q(p) = sum_j min(d_j, r_j p) (the proceeds at price p), p is a fixed point iff
    F(u) = f(u) (u - a) - Q(f(u)) = 0.  F is strictly increasing — f(u)(u - a) has
    derivative f + u f' - a f' > 0 by Assumption 4.1(ii)-(iii), and Q(f(u)) is
    non-increasing — so the root u* in [a, a + sum r] is unique.  We find it by Newton's
    method on F safeguarded by bisection (each step O(n), no sorting), to |du| <= 1e-15 u.
    """
    d = np.asarray(d, dtype=float)
    r = np.asarray(r, dtype=float)
    act = (d > 0) & (r > 0)
    if not act.all():
        d, r = d[act], r[act]
    if d.size == 0:
        return float(a)

    def F_and_dF(u: float) -> tuple[float, float]:
        p = float(f(u))
        rp = r * p
        below = rp < d  # banks that sell everything at this price
        Q = float(np.where(below, rp, d).sum())
        dQ = float(r[below].sum())  # Q'(p)
        fp = float(f.d1(u))
        return p * (u - a) - Q, p + (u - a) * fp - dQ * fp

    lo, hi = a, a + float(r.sum())
    Fhi, _ = F_and_dF(hi)
    if Fhi <= 0:  # every bank sells everything
        return float(hi)
    u = a + float(np.minimum(d, r).sum())  # first monotone iterate from p = 1: a lower bound of u*
    for _ in range(max_iter):
        Fu, dFu = F_and_dF(u)
        if Fu == 0.0:
            break
        if Fu < 0:
            lo = u
        else:
            hi = u
        un = u - Fu / dFu if dFu > 0 else 0.5 * (lo + hi)
        if not (lo < un < hi):
            un = 0.5 * (lo + hi)
        if abs(un - u) <= tol * max(1.0, abs(u)) or hi - lo <= tol * max(1.0, abs(u)):
            u = un
            break
        u = un
    else:  # pragma: no cover - Newton + bisection always terminates well before
        raise SolverFailure("clearing_volume", "max_iter reached", f"bracket [{lo}, {hi}]")
    return float(u)


@dataclass
class Clearing:
    """Result of a clearing computation (docs/model.md §9.3 ``liqstress clear``)."""

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
    V = cash1 + y * p2  # (6); equals min(L, cash1 + (s - x) p2) unless cash1 > L already (then y = 0)
    return Clearing(p1, p2, y, V, np.minimum(system.L, V))


# ----------------------------------------------------------------------------- (15)
def _clear_interbank(system: System, x: np.ndarray, tol: float = 1e-13) -> Clearing:
    """Joint Eisenberg–Noe + fire-sale clearing (15), values (17).

    The greatest solution (q, P) of (15) with the price q = f(alpha X + sum_j y_j) (alpha = 0
    in the paper's Section 5; alpha > 0 is the unified model), the limit of the monotone
    iteration from (1, pbar), computed exactly by the regime method of
    :func:`liqstress.solvers.eisenberg_noe.joint_clearing`: sparse (memory O(nnz)), a few
    warm-started Eisenberg–Noe solves, each regime's price from an exact piecewise scalar
    equation.  ``iterations`` counts EN solves; ``status`` is the solver's status.
    """
    from liqstress.solvers.eisenberg_noe import joint_clearing

    f = system.f
    pbar = system.pbar
    A = system.Lmat.T.tocsr()  # A = Pi^T: A[j, i] = L_ij / pbar_i
    inv = np.divide(1.0, pbar, out=np.zeros_like(pbar), where=pbar > 0)
    A.data = A.data * inv[A.indices]
    X = float(x.sum())
    p1 = float(f(X))
    cash1 = system.c + x * p1
    r = np.maximum(system.s - x, 0.0)
    jc = joint_clearing(pbar, A, cash1, r, f, offset=system.alpha * X)
    if jc.status not in ("converged", "converged_picard") or not jc.residual <= max(tol, 1e-9):
        raise SolverFailure("joint_clearing (15)", jc.status, f"residual {jc.residual:.3g}")
    V = cash1 + jc.y * jc.q + jc.AP  # (17)
    return Clearing(p1, jc.q, jc.y, V, jc.P, iterations=jc.en_solves, status=jc.status)


def clear(system: System, x: Optional[np.ndarray] = None, alpha: Optional[float] = None) -> Clearing:
    """Clearing state given early sales ``x`` (default: none).

    Without interbank block: the price fixed point (4), sales (5) and values (6).
    With it: the joint clearing (15) with q = f(alpha X + sum_j y_j), values (17);
    ``payments`` is P.
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


def worst_case_income(system: System, x: np.ndarray, ell_vec: np.ndarray, alpha: Optional[float] = None) -> np.ndarray:
    """h(x), (18): x_i f(X) + (ell_i - x_i) f(Lambda - (1 - alpha) X).

    alpha = 0 gives the paper's f(sum_j (ell_j - x_j)); alpha > 0 the unified model's
    worst-case second-period price (the lower bound of q(x) that Lemma 5.1 gives there)."""
    a = system.alpha if alpha is None else float(alpha)
    x = np.asarray(x, dtype=float)
    X = x.sum()
    f = system.f
    return x * f(X) + (ell_vec - x) * f(ell_vec.sum() - (1.0 - a) * X)


def worst_case_payments(system: System, x: np.ndarray, ell_vec: np.ndarray, h: np.ndarray | None = None,
                        alpha: Optional[float] = None) -> np.ndarray:
    """Pt(x), (19): the greatest solution of Pt = min(pbar, c + h(x) + Pi^T Pt)."""
    if not system.has_interbank:
        raise SolverFailure("worst_case_payments", "not applicable", "the system has no interbank block")
    if h is None:
        h = worst_case_income(system, x, ell_vec, alpha)
    return en_clearing(system.pbar, system.Pi, system.c + h)


def relaxed_value_interbank(system: System, x: np.ndarray, ell_vec: np.ndarray, alpha: Optional[float] = None) -> np.ndarray:
    """Vt_i(x) = c_i + h_i(x) + (Pi^T Pt(x))_i for every bank — (20) (h of (18) with alpha)."""
    h = worst_case_income(system, x, ell_vec, alpha)
    Pt = worst_case_payments(system, x, ell_vec, h)
    return system.c + h + system.Pi.T @ Pt
