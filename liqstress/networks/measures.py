"""The contagion measures users compare (15) against: Eisenberg–Noe, Rogers–Veraart, DebtRank.

All take a :class:`System` (external assets = liquid ``c`` + illiquid ``s`` valued at a
given price, par by default; liabilities ``pbar = b + sum_j L_ij``) and work on the sparse
matrices, memory O(nnz).

* :func:`eisenberg_noe` — plain EN (2001): greatest ``P = min(pbar, e + Pi^T P)`` with
  ``e = c + price * s`` (no fire sales; ``price`` is exogenous).
* :func:`rogers_veraart` — Rogers and Veraart (2013), bankruptcy costs: a defaulting bank
  realises only ``alpha`` of its external assets and ``beta`` of its interbank claims,

      P_i = pbar_i                                 if e_i + (Pi^T P)_i >= pbar_i
      P_i = alpha_c c_i + alpha_s price s_i + beta (Pi^T P)_i   otherwise,

  (``alpha_c = alpha_s = alpha`` is their alpha; liquid and illiquid recovery may differ).
  Greatest clearing vector by their Greatest Clearing Vector Algorithm (Section 3.2):
  D_0 = {}, solve the linear system for the current default set, D_{k+1} = the banks
  that cannot pay in full at that solution; D only grows, exact after at most n steps.
* :func:`debtrank` — Battiston et al. (2012) and linear / differential DebtRank
  (Bardoscia et al. 2015), in :mod:`liqstress.networks.debtrank` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import System
from liqstress.networks.debtrank import DebtRankResult, debtrank, debtrank_scenarios  # noqa: F401  (re-export)
from liqstress.solvers.eisenberg_noe import DEFAULT_RTOL, en_solve, solve_block


@dataclass
class ClearingMeasure:
    """Clearing vector of a contagion model with its default set."""

    model: str
    payments: np.ndarray
    default: np.ndarray
    equity: np.ndarray  # assets at clearing minus pbar (negative = shortfall)
    rounds: int
    status: str = "converged"

    @property
    def n_default(self) -> int:
        return int(self.default.sum())

    def summary(self) -> dict:
        return {"model": self.model, "defaults": self.n_default, "rounds": self.rounds, "status": self.status,
                "total_shortfall": float(np.maximum(-self.equity, 0.0).sum())}


def _require_network(system: System) -> tuple[np.ndarray, sp.csr_matrix]:
    if not system.has_interbank:
        raise InputError("interbank", "the system has no interbank block")
    return system.pbar, system.Pi.T.tocsr()


def eisenberg_noe(system: System, price: float = 1.0, e: Optional[np.ndarray] = None) -> ClearingMeasure:
    """Plain Eisenberg–Noe clearing with external assets ``c + price * s`` (or ``e``)."""
    pbar, A = _require_network(system)
    e = system.c + price * system.s if e is None else np.asarray(e, float)
    res = en_solve(pbar, None, e, A=A)
    eq = e + A @ res.P - pbar
    return ClearingMeasure("eisenberg_noe", res.P, res.default, eq, res.rounds, res.status)


def rogers_veraart(system: System, alpha: float = 1.0, beta: float = 1.0, price: float = 1.0,
                   alpha_liquid: Optional[float] = None, max_rounds: Optional[int] = None) -> ClearingMeasure:
    """Greatest Rogers–Veraart clearing vector (bankruptcy costs alpha, beta in [0, 1]).

    ``alpha`` is the recovery rate on external assets (on the liquid part too unless
    ``alpha_liquid`` is given), ``beta`` on interbank claims.  alpha = beta = 1 is EN.
    """
    for nm, v in (("alpha", alpha), ("beta", beta), ("alpha_liquid", alpha if alpha_liquid is None else alpha_liquid)):
        if not (np.isfinite(v) and 0.0 <= v <= 1.0):
            raise InputError(nm, f"must be in [0, 1], got {v}")
    pbar, A = _require_network(system)
    ac = alpha if alpha_liquid is None else alpha_liquid
    e = system.c + price * system.s
    e_rec = ac * system.c + alpha * price * system.s
    n = system.n
    P = pbar.copy()
    D = np.zeros(n, dtype=bool)
    limit = n + 1 if max_rounds is None else max_rounds
    rounds = 0
    status = "converged"
    while True:
        T = e + A @ P
        Dn = T < pbar - DEFAULT_RTOL * np.maximum(pbar, 1e-300)
        Dn |= D
        if rounds > 0 and np.array_equal(Dn, D):
            break
        if rounds >= limit:
            status = "max_rounds"
            break
        D = Dn
        rounds += 1
        idx = np.flatnonzero(D)
        if idx.size == 0:
            break
        Pfix = np.where(D, 0.0, pbar)
        rhs = e_rec[idx] + beta * (A @ Pfix)[idx]
        # (I - beta A_DD) x = rhs  <=>  x = rhs + beta A_DD x
        x, ok = solve_block(A * beta if beta != 1.0 else A, idx, rhs, x0=P[idx])
        if not ok:
            raise SolverFailure("rogers_veraart", "singular default block", "closed ring of defaulting banks with beta = 1")
        P = pbar.copy()
        P[idx] = np.clip(x, 0.0, pbar[idx])
    eq = e + A @ P - pbar
    default = P < pbar - DEFAULT_RTOL * np.maximum(pbar, 1e-300)
    return ClearingMeasure("rogers_veraart", P, default | D, eq, rounds, status)
