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


def robust_strategies(system: System, alpha: Optional[float] = None, ell_vec: Optional[np.ndarray] = None) -> RobustResult:
    """Robust optimal strategies of every bank.

    Without interbank block: Theorem 4.4 ((10), (11), (14)) with alpha from the argument or
    the system.  With interbank block (alpha = 0): Theorem 5.3, x_i* = ell_i / 2; the
    relaxed worst-case value then needs the (n-1)-dimensional inner minimisation of (20)
    and is left to :mod:`liqstress.solvers.maximin` (``worst_case_value`` is None here).
    """
    sysm = system.with_alpha(alpha)
    e = ell_of(sysm) if ell_vec is None else np.asarray(ell_vec, dtype=float)
    Lam = float(e.sum())
    if sysm.has_interbank:
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
        )
    ab, x, w, val, regime = robust_permanent(sysm.c, e, sysm.alpha, sysm.f)
    return RobustResult(sysm.names, Lam, e, sysm.alpha, ab, x, w, val, regime)
