"""Inverse demand functions ``f : [0, S] -> (0, 1]`` and the check of Assumption 4.1.

Assumption 4.1 (Ahn and Jiang, 2026): (i) f(0) = 1; (ii) f' < 0; (iii) f(u) + u f'(u) > 0
(the market value u f(u) increases); (iv) f'' >= 0; (v) 2 f'(u) + u f''(u) <= 0
(u f(u) is concave).  Families: linear 1 - beta u (valid iff 0 < beta < 1/(2S)),
exponential exp(-beta u) (valid iff 0 < beta < 1/S), power (1 + beta u)^(-gamma)
(beta > 0, 0 < gamma <= 1), and a user callable checked numerically on a grid.

All methods are vectorised over numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from liqstress.errors import InputError

FIELD = "inverse_demand"


class InverseDemand:
    """Base class. Subclasses implement ``__call__`` (f), ``d1`` (f') and ``d2`` (f'')."""

    kind: str = "abstract"

    def __call__(self, u):  # pragma: no cover - abstract
        raise NotImplementedError

    def d1(self, u):  # pragma: no cover - abstract
        raise NotImplementedError

    def d2(self, u):  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ Assumption 4.1
    def check_assumption(self, S: float, grid: int = 2001) -> None:
        """Raise :class:`InputError` naming the violated condition of Assumption 4.1 and the
        point where it fails; ``S`` is the total illiquid holding sum_i s_i."""
        _check_on_grid(self, S, grid)

    def inverse(self, p: float, hi: float = 1e12) -> float:
        """u >= 0 with f(u) = p for p in (0, 1] (f is strictly decreasing); bisection here,
        closed forms in the families."""
        lo = 0.0
        if p >= 1.0:
            return 0.0
        while float(self(hi)) > p and hi < 1e300:
            hi *= 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(self(mid)) > p:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * hi:
                break
        return 0.5 * (lo + hi)

    def market_value(self, u):
        """u f(u): the market value of selling u units (increasing and concave on [0, S])."""
        u = np.asarray(u, dtype=float)
        return u * self(u)


def _check_on_grid(fn: InverseDemand, S: float, grid: int) -> None:
    S = float(S)
    u = np.linspace(0.0, S, max(int(grid), 3)) if S > 0 else np.zeros(1)
    with np.errstate(all="ignore"):
        f, f1, f2 = (np.asarray(fn(u), float), np.asarray(fn.d1(u), float), np.asarray(fn.d2(u), float))
    for name, arr in (("f", f), ("f'", f1), ("f''", f2)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(FIELD, f"{name} is not finite at u={u[bad.argmax()]:.6g} (Assumption 4.1 on [0, S={S:.6g}])")
    scale = max(1.0, S)
    tol = 1e-12
    if abs(f[0] - 1.0) > 1e-9:
        raise InputError(FIELD, f"Assumption 4.1(i) f(0) = 1 fails: f(0) = {f[0]:.6g}")
    if np.any(f <= 0):
        k = int(np.argmax(f <= 0))
        raise InputError(FIELD, f"f must be positive on [0, S]: f({u[k]:.6g}) = {f[k]:.6g}")
    checks = (
        ("Assumption 4.1(ii) f' < 0", f1 >= 0),
        ("Assumption 4.1(iii) f(u) + u f'(u) > 0", f + u * f1 <= tol),
        ("Assumption 4.1(iv) f'' >= 0", f2 < -tol * scale),
        ("Assumption 4.1(v) 2 f'(u) + u f''(u) <= 0", 2 * f1 + u * f2 > tol * scale),
    )
    for rule, bad in checks:
        if bad.any():
            k = int(np.argmax(bad))
            raise InputError(FIELD, f"{rule} fails at u={u[k]:.6g} on [0, S={S:.6g}]")


@dataclass(frozen=True)
class Linear(InverseDemand):
    """f(u) = 1 - beta u; Assumption 4.1 on [0, S] iff 0 < beta < 1/(2S)."""

    beta: float
    kind: str = field(default="linear", init=False)

    def __call__(self, u):
        return 1.0 - self.beta * np.asarray(u, dtype=float)

    def d1(self, u):
        return np.full_like(np.asarray(u, dtype=float), -self.beta)

    def d2(self, u):
        return np.zeros_like(np.asarray(u, dtype=float))

    def check_assumption(self, S: float, grid: int = 2001) -> None:
        b = self.beta
        if not (math.isfinite(b) and b > 0):
            raise InputError(f"{FIELD}.beta", f"Assumption 4.1(ii) f' < 0 needs beta > 0, got {b}")
        if not b * 2 * S < 1:
            raise InputError(
                f"{FIELD}.beta",
                f"Assumption 4.1(iii) f(u) + u f'(u) > 0 fails at u=S={S:.6g}: linear needs beta < 1/(2S) = {1 / (2 * S):.6g}, got {b}",
            )

    def inverse(self, p: float, hi: float = 0.0) -> float:
        return (1.0 - float(p)) / self.beta

    def to_dict(self):
        return {"kind": "linear", "beta": float(self.beta)}


@dataclass(frozen=True)
class Exponential(InverseDemand):
    """f(u) = exp(-beta u); Assumption 4.1 on [0, S] iff 0 < beta < 1/S."""

    beta: float
    kind: str = field(default="exponential", init=False)

    def __call__(self, u):
        return np.exp(-self.beta * np.asarray(u, dtype=float))

    def d1(self, u):
        return -self.beta * self(u)

    def d2(self, u):
        return self.beta**2 * self(u)

    def check_assumption(self, S: float, grid: int = 2001) -> None:
        b = self.beta
        if not (math.isfinite(b) and b > 0):
            raise InputError(f"{FIELD}.beta", f"Assumption 4.1(ii) f' < 0 needs beta > 0, got {b}")
        if not b * S < 1:
            raise InputError(
                f"{FIELD}.beta",
                f"Assumption 4.1(iii) f(u) + u f'(u) > 0 fails at u=S={S:.6g}: exponential needs beta < 1/S = {1 / S:.6g}, got {b}",
            )

    def inverse(self, p: float, hi: float = 0.0) -> float:
        return -math.log(float(p)) / self.beta

    def to_dict(self):
        return {"kind": "exponential", "beta": float(self.beta)}


@dataclass(frozen=True)
class Power(InverseDemand):
    """f(u) = (1 + beta u)^(-gamma); Assumption 4.1 on all u >= 0 iff beta > 0, 0 < gamma <= 1."""

    beta: float
    gamma: float = 1.0
    kind: str = field(default="power", init=False)

    def __call__(self, u):
        return (1.0 + self.beta * np.asarray(u, dtype=float)) ** (-self.gamma)

    def d1(self, u):
        u = np.asarray(u, dtype=float)
        return -self.gamma * self.beta * (1.0 + self.beta * u) ** (-self.gamma - 1.0)

    def d2(self, u):
        u = np.asarray(u, dtype=float)
        g, b = self.gamma, self.beta
        return g * (g + 1.0) * b * b * (1.0 + b * u) ** (-g - 2.0)

    def check_assumption(self, S: float, grid: int = 2001) -> None:
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise InputError(f"{FIELD}.beta", f"Assumption 4.1(ii) f' < 0 needs beta > 0, got {self.beta}")
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise InputError(
                f"{FIELD}.gamma", f"Assumption 4.1(iii) f(u) + u f'(u) > 0 needs 0 < gamma <= 1, got {self.gamma}"
            )

    def inverse(self, p: float, hi: float = 0.0) -> float:
        return (float(p) ** (-1.0 / self.gamma) - 1.0) / self.beta

    def to_dict(self):
        return {"kind": "power", "beta": float(self.beta), "gamma": float(self.gamma)}


class UserCallable(InverseDemand):
    """A user-supplied f (vectorised callable).  Derivatives are taken from ``d1``/``d2`` when
    given, otherwise by central finite differences; Assumption 4.1 is checked on a grid."""

    kind = "callable"

    def __init__(self, func: Callable, d1: Callable | None = None, d2: Callable | None = None, name: str = "callable"):
        self._f, self._d1, self._d2, self.name = func, d1, d2, name

    def __call__(self, u):
        return np.asarray(self._f(np.asarray(u, dtype=float)), dtype=float)

    def d1(self, u):
        u = np.asarray(u, dtype=float)
        if self._d1 is not None:
            return np.asarray(self._d1(u), dtype=float)
        h = 1e-6 * np.maximum(1.0, np.abs(u))
        return (self(u + h) - self(np.maximum(u - h, 0.0))) / (u + h - np.maximum(u - h, 0.0))

    def d2(self, u):
        u = np.asarray(u, dtype=float)
        if self._d2 is not None:
            return np.asarray(self._d2(u), dtype=float)
        h = 1e-4 * np.maximum(1.0, np.abs(u))
        lo = np.maximum(u - h, 0.0)
        mid = np.maximum(u, lo + h)
        return (self(mid + h) - 2 * self(mid) + self(mid - h)) / (h * h)

    def to_dict(self):
        return {"kind": "callable", "name": self.name}


def from_dict(spec: dict[str, Any]) -> InverseDemand:
    """Build an inverse demand from a system-file entry ``{kind: linear, beta: ...}``."""
    kind = str(spec.get("kind", "")).lower()
    try:
        if kind == "linear":
            return Linear(float(spec["beta"]))
        if kind == "exponential":
            return Exponential(float(spec["beta"]))
        if kind == "power":
            return Power(float(spec["beta"]), float(spec.get("gamma", 1.0)))
    except KeyError as err:
        raise InputError(f"{FIELD}.{err.args[0]}", "is required") from None
    except (TypeError, ValueError):
        raise InputError(FIELD, "beta/gamma must be numbers") from None
    raise InputError(f"{FIELD}.kind", f"must be one of linear, exponential, power; got {kind!r}")
