"""Random financial systems for the relaxation-gap study (docs/model.md §2.1, §4).

Every system drawn here satisfies the data rules of docs/model.md §2.1 and Assumption 4.1 on
``[0, S]`` by construction (and is re-checked by :meth:`System.from_arrays`):

* illiquid holdings ``s_i = exp(N(log 3, 0.6^2))`` clipped to ``[0.5, 20]`` (units);
* liquid assets ``c_i = s_i * U(0.02, 0.30)``;
* liabilities ``L_i = c_i + s_i * U(0.35, 1.0)`` so ``L_i > c_i``: every bank must sell
  illiquid units at t=2, and bank i is insolvent when the clearing price falls below
  ``(L_i - c_i) / s_i`` -- roughly half of the banks are, so the relaxation gap (which is
  zero for a bank that is solvent in every scenario, ``V_i = L_i``) is exercised;
  With probability ``p_liquid`` a bank is made fully liquid, ``L_i = 0.5 c_i`` (it keeps
  ``ell_i = 0``, the edge case of docs/model.md §2.1);
* inverse demand family uniform over linear / exponential / power unless fixed, with the
  impact strength ``u ~ U(0.3, 0.95)`` placed strictly inside the valid range:
  linear ``beta = u / (2S)`` (valid iff ``beta < 1/(2S)``), exponential ``beta = u / S``
  (valid iff ``beta < 1/S``), power ``beta = 3u / S``, ``gamma ~ U(0.3, 1)``
  (valid for every ``beta > 0``, ``0 < gamma <= 1``);
* ``alpha ~ U(0, 1)`` unless fixed.

Determinism: system ``k`` of seed ``seed`` is drawn from
``numpy.random.default_rng(SeedSequence([seed, k]))``, so it does not depend on how many
systems are requested, on the worker that builds it, or on the order of execution.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, InverseDemand, Linear, Power
from liqstress.models.system import System

KINDS = ("linear", "exponential", "power")


def system_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of system ``index`` in the stream ``seed`` (independent of the others)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def draw_inverse_demand(rng: np.random.Generator, S: float, kind: Optional[str] = None) -> InverseDemand:
    """A valid inverse demand for total holdings ``S`` (Assumption 4.1 on [0, S])."""
    if kind is None:
        kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind not in KINDS:
        raise InputError("kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    u = float(rng.uniform(0.3, 0.95))
    if kind == "linear":
        return Linear(u / (2.0 * S))
    if kind == "exponential":
        return Exponential(u / S)
    gamma = float(rng.uniform(0.3, 1.0))
    return Power(3.0 * u / S, gamma)


def random_system(
    seed: int,
    index: int,
    n: int,
    kind: Optional[str] = None,
    alpha: Optional[float] = None,
    p_liquid: float = 0.0,
) -> System:
    """System ``index`` of the random stream ``seed`` with ``n`` banks (module docstring)."""
    if int(n) < 1:
        raise InputError("banks", f"a random system needs n >= 1 banks, got {n}")
    if alpha is not None and not 0.0 <= float(alpha) <= 1.0:
        raise InputError("alpha", f"must be in [0, 1], got {alpha}")
    if not 0.0 <= p_liquid <= 1.0:
        raise InputError("p_liquid", f"must be in [0, 1], got {p_liquid}")
    rng = system_rng(seed, index)
    n = int(n)
    s = np.clip(np.exp(rng.normal(np.log(3.0), 0.6, n)), 0.5, 20.0)
    c = s * rng.uniform(0.02, 0.30, n)
    L = c + s * rng.uniform(0.35, 1.0, n)
    liquid = rng.uniform(size=n) < p_liquid
    L = np.where(liquid, 0.5 * c, L)
    f = draw_inverse_demand(rng, float(s.sum()), kind)
    a = float(rng.uniform(0.0, 1.0)) if alpha is None else float(alpha)
    names = [f"B{i + 1}" for i in range(n)]
    return System.from_arrays(c=np.round(c, 10), s=np.round(s, 10), L=np.round(L, 10), f=f, alpha=round(a, 12), names=names)


def random_systems(
    seed: int,
    count: int,
    sizes: Sequence[int],
    kind: Optional[str] = None,
    alpha: Optional[float] = None,
    p_liquid: float = 0.0,
) -> list[tuple[str, System]]:
    """``count`` systems ``(system_id, System)``; system k has ``sizes[k % len(sizes)]`` banks.

    The id ``rand-<seed>-<k>`` identifies the draw, so reruns (resumable sweeps) and
    larger ``count`` reproduce exactly the same systems.
    """
    sizes = [int(v) for v in sizes]
    if not sizes:
        raise InputError("banks", "at least one system size is required")
    return [
        (f"rand-{seed}-{k:04d}", random_system(seed, k, sizes[k % len(sizes)], kind=kind, alpha=alpha, p_liquid=p_liquid))
        for k in range(int(count))
    ]
