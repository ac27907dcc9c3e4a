"""Random systems for the core tests (hypothesis strategies and a seeded generator)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from liqstress.models.inverse_demand import Exponential, Linear, Power
from liqstress.models.system import System


def make_f(kind: str, u: float, S: float, gamma: float = 0.7):
    """A valid inverse demand of the given family; u in (0, 1) sets how strong the impact is."""
    if kind == "linear":
        return Linear(u / (2.0 * S))
    if kind == "exponential":
        return Exponential(u / S)
    return Power(3.0 * u / S, gamma)


def random_system(seed: int, n: int, kind: str = "linear", alpha: float = 0.0, interbank: bool = False, strength: float = 0.8) -> System:
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.5, 5.0, n)
    c = rng.uniform(0.0, 2.0, n)
    L = c + rng.uniform(0.05, 1.0, n) * s
    if n >= 3:
        L[rng.integers(n)] = c[rng.integers(n)] * 0.5  # sometimes a bank that never sells
    Lmat = None
    if interbank:
        M = rng.uniform(0.0, 0.6, (n, n)) * (rng.random((n, n)) < 0.6)
        np.fill_diagonal(M, 0.0)
        if M.sum() == 0:
            M[0, 1] = 0.3
        Lmat = sp.csr_matrix(M)
        L = np.maximum(L - M.sum(axis=1) * 0.5, 0.0)
    f = make_f(kind, strength, s.sum())
    return System.from_arrays(c, s, L, f, alpha=alpha, Lmat=Lmat)


systems = st.builds(
    random_system,
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 7),
    kind=st.sampled_from(["linear", "exponential", "power"]),
    alpha=st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0]) | st.floats(0.0, 1.0),
    strength=st.floats(0.05, 0.97),
)

interbank_systems = st.builds(
    random_system,
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 6),
    kind=st.sampled_from(["linear", "exponential", "power"]),
    interbank=st.just(True),
    strength=st.floats(0.05, 0.97),
)
