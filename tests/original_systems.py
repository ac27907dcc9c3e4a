"""Distressed random systems for the original-problem tests (banks that may sell everything)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from liqstress.models.inverse_demand import Exponential, Linear, Power
from liqstress.models.system import System


def make_f(kind: str, strength: float, S: float):
    if kind == "linear":
        return Linear(strength / (2.0 * S))
    if kind == "exponential":
        return Exponential(strength / S)
    return Power(3.0 * strength / S, 0.7)


def distressed(seed: int, n: int, kind: str = "linear", alpha: float = 0.0, strength: float = 0.95,
               lo: float = 0.2, hi: float = 0.9) -> System:
    """Bank 0 is distressed (L_0 > c_0 + s_0, it sells everything); the others' shortfalls are
    uniform fractions in [lo, hi] of their holdings, so some sell part and some all."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(1.0, 5.0, n)
    c = rng.uniform(0.0, 1.0, n)
    L = c + s * rng.uniform(lo, hi, n)
    L[0] = c[0] + 1.1 * s[0]
    return System.from_arrays(c, s, L, make_f(kind, strength, s.sum()), alpha=alpha)


def distressed_interbank(seed: int, n: int, kind: str = "linear", strength: float = 0.9) -> System:
    """Interbank system (alpha = 0) with heavy external liabilities and a dense-ish network."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(1.0, 5.0, n)
    c = rng.uniform(0.0, 0.5, n)
    M = rng.uniform(0.2, 1.0, (n, n)) * (rng.random((n, n)) < 0.7)
    np.fill_diagonal(M, 0.0)
    if M.sum() == 0:
        M[0, 1] = 0.5
    b = c + s * rng.uniform(0.5, 1.1, n)
    return System.from_arrays(c, s, b, make_f(kind, strength, s.sum()), alpha=0.0, Lmat=sp.csr_matrix(M))
