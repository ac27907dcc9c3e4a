"""Default cascades on the interbank network: Furfine's sequential cascade and a cascade with
a fixed exogenous recovery rate.

Both run on equity buffers ``E`` (book equity at par by default, or given separately) and
the liability matrix ``L`` (``L[i, j]`` owed by i to j).  A bank defaults when its losses
reach its buffer: ``loss_j >= E_j`` with ``loss_j > 0`` (a bank with ``E_j < 0`` is in
default from the start).  When debtor i defaults, creditor j loses ``(1 - R_i) L_ij``.

* :func:`furfine` — Furfine (2003), *Interbank exposures: quantifying the risk of
  contagion*, JMCB 35(1): the exogenous failure of the trigger banks (round 0); in round
  k, every bank whose credit losses ``lgd * sum_{i failed before k} L_ij`` reach its capital
  fails.  Reports the round in which each bank fails.
* :func:`recovery_cascade` — equity shocks (relative losses ``psi_j`` of the buffers, as
  for DebtRank) followed by the default cascade with a fixed exogenous recovery rate
  ``rho`` on defaulted debtors' liabilities: the cascade of ``default_cascade`` in the R
  package systemicrisk (Gandy and Veraart) and the fixed point of neva's valuation
  ``V_j = 1 if E_j > 0 else rho`` (Battiston et al. 2016, *The price of complexity*).

Both are the same monotone sequence (defaults only grow), exact after at most n rounds;
each round is one sparse mat-vec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError
from liqstress.models.system import System
from liqstress.networks.debtrank import network_inputs, shock_vector


@dataclass
class CascadeResult:
    model: str
    defaulted: np.ndarray  # bool per bank
    default_round: np.ndarray  # round in which the bank defaulted (0: initially), -1: never
    losses: np.ndarray  # shock + interbank credit losses per bank
    equity: np.ndarray  # buffer minus losses
    rounds: int  # rounds of contagion after round 0

    @property
    def n_default(self) -> int:
        return int(self.defaulted.sum())

    def to_json(self, names: Sequence[str]) -> dict[str, Any]:
        return {
            "model": self.model,
            "defaults": self.n_default,
            "rounds": self.rounds,
            "defaulted": [nm for nm, d in zip(names, self.defaulted) if d],
            "default_round": self.default_round,
            "losses": self.losses,
            "equity": self.equity,
            "total_loss": float(self.losses.sum()),
        }


def _rate(x: Any, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(x, dtype=float), (n,)) if np.ndim(x) == 0 else np.asarray(x, dtype=float).ravel()
    if arr.size != n:
        raise InputError(name, f"needs one value or {n} values (one per bank), got {arr.size}")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
    if bad.any():
        k = int(bad.argmax())
        raise InputError(name if np.ndim(x) == 0 else f"{name}[{k}]", f"must be in [0, 1], got {arr[k]}")
    return np.array(arr, dtype=float)


def cascade_arrays(L: sp.spmatrix, E: np.ndarray, shock_loss: np.ndarray, lgd: np.ndarray,
                   failed: Optional[np.ndarray] = None, model: str = "cascade") -> CascadeResult:
    """The threshold cascade on raw arrays: losses ``shock_loss`` (currency), loss given
    default ``lgd`` of each debtor, optional exogenous failures ``failed`` (bool)."""
    L = sp.csr_matrix(L, dtype=float)
    n = L.shape[0]
    LT = L.T.tocsr()  # LT[j, i] = L_ij: creditor j's claim on debtor i
    E = np.asarray(E, dtype=float)
    shock_loss = np.asarray(shock_loss, dtype=float)
    rnd = np.full(n, -1, dtype=np.int64)

    def hit(loss: np.ndarray) -> np.ndarray:
        return (E < 0) | ((loss >= E) & (loss > 0))

    D = hit(shock_loss)
    if failed is not None:
        D |= failed
    rnd[D] = 0
    loss = shock_loss.copy()
    k = 0
    while True:
        loss = shock_loss + LT @ np.where(D, lgd, 0.0)
        new = hit(loss) & ~D
        if not new.any():
            break
        k += 1
        rnd[new] = k
        D = D | new
    return CascadeResult(model=model, defaulted=D, default_round=rnd, losses=loss, equity=E - loss, rounds=k)


def furfine(system: System, failed: Any, lgd: float | Sequence[float] = 1.0, price: float = 1.0,
            equity: Optional[Sequence[float]] = None) -> CascadeResult:
    """Furfine's sequential default cascade triggered by the failure of ``failed`` (bank
    indices, names or mask); ``lgd`` is the loss given default on interbank claims (one
    value or one per debtor), Furfine's theta."""
    Lm, E, _ = network_inputs(system, equity, None, price)
    h = shock_vector(system, failed, 1.0)
    lgd_v = _rate(lgd, system.n, "lgd")
    return cascade_arrays(Lm, E, np.zeros(system.n), lgd_v, failed=h > 0, model="furfine")


def recovery_cascade(system: System, shock: Any, recovery: float | Sequence[float] = 0.0, psi: float = 1.0,
                     price: float = 1.0, equity: Optional[Sequence[float]] = None) -> CascadeResult:
    """Equity shocks (relative losses, as DebtRank's ``shock``) then the default cascade
    with a fixed exogenous recovery rate ``recovery`` (one value or one per debtor);
    ``shock=None``: no shock (only banks insolvent at book values start the cascade)."""
    Lm, E, _ = network_inputs(system, equity, None, price)
    h = np.zeros(system.n) if shock is None else shock_vector(system, shock, psi)
    rho = _rate(recovery, system.n, "recovery")
    return cascade_arrays(Lm, E, h * np.maximum(E, 0.0), 1.0 - rho, model="recovery")
