"""Closed-form robust early-liquidation strategies for all banks at once (docs/model.md §2.6, §3.2).

Theorem 4.4 (permanent price impact alpha).  With ``alphabar_i = 1 - ell_i / Lambda``:

* ``alpha <= alphabar_i``:  x_i* = (1 - alpha) ell_i / (2 - alpha)                     (10)
  and the others' worst-case aggregate w* = (Lambda - (1 - alpha) ell_i) / (2 - alpha)  (13)
* ``alpha >  alphabar_i``:  w* = W_i = Lambda - ell_i and x_i* is the unique root on
  [0, ell_i] of the strictly decreasing phi of (11); for linear f it is (14):
  x_i* = (ell_i + (1 - alpha)(2 ell_i - Lambda)) / (2 (2 - alpha)).

The relaxed max-min value is c_i + g(x_i*, w*) with
``g(z, w) = z f(z + w) + (ell_i - z) f(Lambda - (1 - alpha)(z + w))``  (12).

Theorem 5.3 (interbank exposures, alpha = 0): x_i* = ell_i / 2.

Unified model (interbank exposures and alpha > 0): Theorem 4.4 holds verbatim for a bank none
of whose debtors defaults without early liquidation (its interbank income in (20) is then the
constant sum_j L_ji for every x in the box; :func:`claims_safe`); for the other banks the
relaxed max-min problem has no closed form and is solved numerically
(:mod:`liqstress.solvers.robust_unified`).  Every bank's ``method`` says which applies.

Root finding for (11) is a vectorised safeguarded Newton method over all banks at once
(bisection when a Newton step leaves the bracket), to ~1e-14 relative to ell_i.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from liqstress.models.inverse_demand import InverseDemand, Linear
from liqstress.models.system import System
from liqstress.solvers.clearing import ell as ell_of


@dataclass
class RobustResult:
    """Robust strategies for every bank (docs/model.md §9.3 ``liqstress robust``)."""

    names: tuple
    Lambda: float
    ell: np.ndarray
    alpha: float
    alpha_bar: Optional[np.ndarray]
    strategy: np.ndarray
    worst_case_others: Optional[np.ndarray]
    worst_case_value: Optional[np.ndarray]
    regime: Optional[np.ndarray] = None  # True where alpha > alphabar_i (equation (11))
    value_note: str = ""
    method: Optional[list] = None  # per bank: "closed form (10)", "Theorem 5.3", "numeric (SCIP certified)", ...

    def to_json(self) -> dict:
        banks = []
        for k, nm in enumerate(self.names):
            banks.append(
                {
                    "name": nm,
                    "ell": self.ell[k],
                    "alpha_bar": None if self.alpha_bar is None else self.alpha_bar[k],
                    "strategy": self.strategy[k],
                    "worst_case_others": None if self.worst_case_others is None else self.worst_case_others[k],
                    "worst_case_value": None if self.worst_case_value is None else self.worst_case_value[k],
                    "method": None if self.method is None else self.method[k],
                }
            )
        return {"Lambda": self.Lambda, "alpha": self.alpha, "banks": banks}


def g_relaxed(z, w, ell_i, Lam, alpha: float, f: InverseDemand):
    """g(z, w) of (12): bank i's relaxed fire-sale income (concave in z, convex in w)."""
    u = z + w
    return z * f(u) + (ell_i - z) * f(Lam - (1.0 - alpha) * u)


def phi(z, W, ell_i, Lam, alpha: float, f: InverseDemand):
    """phi(z) of (11) (strictly decreasing in z): d/dz g(z, W) at w = W = Lambda - ell_i."""
    u = z + W
    v = Lam - (1.0 - alpha) * u
    return f(u) + z * f.d1(u) - f(v) - (1.0 - alpha) * (ell_i - z) * f.d1(v)


def dphi(z, W, ell_i, Lam, alpha: float, f: InverseDemand):
    """phi'(z) = 2 f'(u) + z f''(u) + 2 (1-alpha) f'(v) + (1-alpha)^2 (ell_i - z) f''(v)."""
    u = z + W
    v = Lam - (1.0 - alpha) * u
    a1 = 1.0 - alpha
    return 2 * f.d1(u) + z * f.d2(u) + 2 * a1 * f.d1(v) + a1 * a1 * (ell_i - z) * f.d2(v)


def solve_phi(W, ell_i, Lam, alpha: float, f: InverseDemand, tol: float = 1e-14, max_iter: int = 100) -> np.ndarray:
    """Vectorised root of (11) on [0, ell_i] (safeguarded Newton; bisection fallback)."""
    W = np.asarray(W, dtype=float)
    ell_i = np.asarray(ell_i, dtype=float)
    lo = np.zeros_like(ell_i)
    hi = ell_i.copy()
    plo = phi(lo, W, ell_i, Lam, alpha, f)
    phi_hi = phi(hi, W, ell_i, Lam, alpha, f)
    z = np.where(plo <= 0, 0.0, np.where(phi_hi >= 0, ell_i, 0.5 * ell_i))
    active = (plo > 0) & (phi_hi < 0)
    if not active.any():
        return z
    idx = np.flatnonzero(active)
    zl, zh, za = lo[idx], hi[idx], z[idx]
    Wa, ea = W[idx], ell_i[idx]
    scale = np.maximum(ea, 1e-300)
    eps = np.finfo(float).eps
    for _ in range(max_iter):
        p = phi(za, Wa, ea, Lam, alpha, f)
        # rounding level of phi: its terms are O(f) and cancel near the root
        noise = 16 * eps * (f(za + Wa) + f(Lam - (1.0 - alpha) * (za + Wa)))
        # maintain the bracket: phi(zl) > 0 > phi(zh)
        pos = p > 0
        zl = np.where(pos, za, zl)
        zh = np.where(pos, zh, za)
        dp = dphi(za, Wa, ea, Lam, alpha, f)
        with np.errstate(divide="ignore", invalid="ignore"):
            zn = za - p / dp
        bad = ~np.isfinite(zn) | (zn <= zl) | (zn >= zh)
        zn = np.where(bad, 0.5 * (zl + zh), zn)
        zn = np.where(p == 0, za, zn)  # exact root: keep it
        zn = np.where(np.abs(p) <= noise, za, zn)  # at the rounding level: converged
        done = (np.abs(zn - za) <= tol * scale) | ((zh - zl) <= tol * scale) | (np.abs(p) <= noise)
        za = zn
        if done.all():
            break
    z[idx] = za
    return z


def robust_permanent(c, ell_vec, alpha: float, f: InverseDemand):
    """Theorem 4.4 for all banks: (alpha_bar, x*, w*, value, regime) as arrays."""
    ell_vec = np.asarray(ell_vec, dtype=float)
    c = np.asarray(c, dtype=float)
    Lam = float(ell_vec.sum())
    if Lam <= 0:
        zeros = np.zeros_like(ell_vec)
        return np.ones_like(ell_vec), zeros, zeros, c + zeros, np.zeros(ell_vec.size, bool)
    alpha_bar = 1.0 - ell_vec / Lam
    regime = alpha > alpha_bar  # boundary regime, (11)
    x = (1.0 - alpha) * ell_vec / (2.0 - alpha)  # (10)
    w = (Lam - (1.0 - alpha) * ell_vec) / (2.0 - alpha)  # (13)
    if regime.any():
        Wb = Lam - ell_vec[regime]
        eb = ell_vec[regime]
        if isinstance(f, Linear):
            xb = (eb + (1.0 - alpha) * (2.0 * eb - Lam)) / (2.0 * (2.0 - alpha))  # (14)
            xb = np.clip(xb, 0.0, eb)
        else:
            xb = solve_phi(Wb, eb, Lam, alpha, f)
        x[regime] = xb
        w[regime] = Wb
    val = c + g_relaxed(x, w, ell_vec, Lam, alpha, f)
    return alpha_bar, x, w, val, regime


def closed_form_methods(regime: np.ndarray, f: InverseDemand) -> list:
    """Per bank, the equation of Theorem 4.4 that gives its strategy: (10), or (14) / (11)."""
    boundary = "closed form (14)" if isinstance(f, Linear) else "closed form (11)"
    return [boundary if r else "closed form (10)" for r in np.asarray(regime, dtype=bool)]


def claims_safe(system: System, payments0: Optional[np.ndarray] = None) -> np.ndarray:
    """Banks whose interbank claims are paid in full at every x in the box (unified model).

    With h of (18) at the worst-case price f(Lambda - (1 - alpha) X) <= f(X), both prices in h
    are >= f(Lambda), so h(x) >= ell f(Lambda) and, Pt of (19) being monotone in the endowment,
    Pt(x) >= P(0), the payments of the clearing (15) without early liquidation (P(0) is a fixed
    point of the EN map with endowment c + ell f(Lambda), see docs/unified.md).  A bank none of
    whose debtors defaults at x = 0 (P_j(0) = pbar_j whenever L_ji > 0) therefore receives the
    constant sum_j L_ji in (20) and its relaxed problem is (9) plus that constant.
    ``payments0`` = P(0) (computed when omitted).  All True without an interbank block.
    """
    n = system.n
    if not system.has_interbank:
        return np.ones(n, dtype=bool)
    if payments0 is None:
        from liqstress.solvers.clearing import clear

        payments0 = clear(system, np.zeros(n)).payments
    pbar = np.asarray(system.pbar, dtype=float)
    defaulting = (np.asarray(payments0) < pbar * (1.0 - 1e-12)).astype(float)
    exposed = system.Lmat.T @ defaulting  # sum_j L_ji [j defaults at x = 0]
    return ~(np.asarray(exposed).ravel() > 0)


def robust_strategies(system: System, alpha: Optional[float] = None, ell_vec: Optional[np.ndarray] = None,
                      numeric: bool = True, max_banks: int = 8, tol: float = 1e-5, time_limit: float = 120.0,
                      progress: bool = False) -> RobustResult:
    """Robust optimal strategies of every bank, with the ``method`` that produced each.

    Without interbank block: Theorem 4.4 ((10), (11), (14)) with alpha from the argument or
    the system.  With interbank block and alpha = 0: Theorem 5.3, x_i* = ell_i / 2; the
    relaxed worst-case value then needs the (n-1)-dimensional inner minimisation of (20)
    and is left to :mod:`liqstress.solvers.robust_values` (``worst_case_value`` is None here).
    Unified model (interbank block, alpha > 0): Theorem 4.4 for banks whose claims are safe
    (:func:`claims_safe`; the value adds the interbank income sum_j L_ji), and for the others
    the certified numeric solution of the relaxed max-min problem when ``numeric`` and
    ``n <= max_banks`` (:func:`liqstress.solvers.robust_unified.fill_numeric`), else NaN with
    ``method`` saying why.
    """
    sysm = system.with_alpha(alpha)
    if ell_vec is None:
        from liqstress.solvers.clearing import clear

        cl0 = clear(sysm, np.zeros(sysm.n))
        e, pay0 = cl0.sales_t2, cl0.payments
    else:
        e, pay0 = np.asarray(ell_vec, dtype=float), None
    Lam = float(e.sum())
    if sysm.has_interbank and sysm.alpha == 0.0:
        return RobustResult(
            names=sysm.names,
            Lambda=Lam,
            ell=e,
            alpha=0.0,
            alpha_bar=None,
            strategy=0.5 * e,
            worst_case_others=None,
            worst_case_value=None,
            value_note="Theorem 5.3: x* = ell/2; relaxed worst case needs the inner minimisation of (20)",
            method=["Theorem 5.3"] * sysm.n,
        )
    ab, x, w, val, regime = robust_permanent(sysm.c, e, sysm.alpha, sysm.f)
    methods = closed_form_methods(regime, sysm.f)
    if not sysm.has_interbank:
        return RobustResult(sysm.names, Lam, e, sysm.alpha, ab, x, w, val, regime, method=methods)
    # unified model
    safe = claims_safe(sysm, pay0)
    inflow = np.asarray(sysm.Lmat.sum(axis=0)).ravel()  # sum_j L_ji
    val = val + inflow
    methods = [m + " (Theorem 4.4: claims safe)" if ok else "numeric required" for m, ok in zip(methods, safe)]
    res = RobustResult(sysm.names, Lam, e, sysm.alpha, ab, x.astype(float), w.astype(float), val, regime, method=methods,
                       value_note="unified model: Theorem 4.4 where no debtor of the bank defaults at x = 0; numeric elsewhere")
    if not safe.all():
        from liqstress.solvers.robust_unified import fill_numeric

        res = fill_numeric(sysm, res, ~safe, enabled=numeric, max_banks=max_banks, tol=tol, time_limit=time_limit,
                           progress=progress)
    return res
