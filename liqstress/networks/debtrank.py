"""DebtRank: Battiston et al. (2012), linear and differential DebtRank (Bardoscia et al. 2015).

Notation.  ``L[i, j]`` is what bank i owes bank j (debtor x creditor, the system's
``Lmat``); ``E_j > 0`` the equity buffer of bank j (book equity at par by default:
``c_j + price s_j + sum_i L_ij - pbar_j``, or any buffer given separately); ``v_j`` the
relative economic value (share of total assets by default, or any weights given
separately, normalised to sum 1); ``h_j`` the relative equity loss of j, in [0, 1].

* ``battiston`` — Battiston, Puliga, Kaushik, Tasca and Caldarelli (2012), *DebtRank: too
  central to fail?*, Sci. Rep. 2:541.  Impact of debtor i on creditor j
  ``W_ij = min(1, L_ij / E_j)``; states undistressed / distressed / inactive;

      h_j(t) = min(1, h_j(t-1) + sum_{i distressed at t-1} W_ij h_i(t-1))   for EVERY j,

  a distressed bank propagates once (then becomes inactive), but the relative equity loss
  of every bank — inactive ones included — keeps being updated.
* ``differential`` — Bardoscia, Battiston, Caccioli and Caldarelli (2015), *DebtRank: a
  microscopic foundation for shock propagation*, PLoS ONE 10(6): e0130406.  Interbank
  leverage ``Lambda_ji = L_ij / E_j`` (uncapped); every round each bank passes on the
  *increment* of its distress:

      h_j(t+1) = min(1, h_j(t) + sum_i Lambda_ji (h_i(t) - h_i(t-1))).

  ``rounds`` counts the rounds until no increment exceeds 1e-15 (or ``max_rounds``: then
  ``h`` is h(T) after T rounds).
* ``linear`` — the asymptotic state of the same dynamics, *linear DebtRank*: the least
  fixed point above the shock of ``h = min(1, h(1) + Lambda (h - h(0)))`` (the increments
  telescope, so the rounds above are the Picard iterates of this map).  Computed exactly:
  monotone Picard steps reveal the saturated set S (h = 1), then the linear system
  ``(I - Lambda_NN) h_N = h(1)_N + Lambda_NS 1`` on the rest is solved; a solution in
  [0, 1] is the least fixed point (every Picard iterate lies below it and it is the
  unique, hence least, non-negative solution), otherwise the Picard steps continue.

Banks with ``E_j <= 0`` are in default before any shock: h_j = 1 from the start, they do
not propagate (their default is not part of the scenario) and add nothing to R.

DebtRank of a shock: ``R = sum_j v_j (h_j(T) - h_j(1))`` — the additional loss, as in
Battiston et al. (the initial distress itself is excluded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import System
from liqstress.solvers.eisenberg_noe import solve_block

VARIANTS = ("battiston", "linear", "differential")
TOL = 1e-15


@dataclass
class DebtRankResult:
    debtrank: float  # R: additional relative equity loss, weighted by economic value
    h: np.ndarray  # final relative equity losses in [0, 1]
    distressed: np.ndarray  # banks with h > 0 at the end
    rounds: int
    variant: str = "battiston"
    h1: np.ndarray = field(default_factory=lambda: np.zeros(0))  # initial distress h(1)
    status: str = "converged"

    def to_json(self) -> dict[str, Any]:
        return {"debtrank": self.debtrank, "h": self.h, "rounds": self.rounds}


# ----------------------------------------------------------------------------- inputs
def network_inputs(system: System, equity: Optional[Sequence[float]] = None, weights: Optional[Sequence[float]] = None,
                   price: float = 1.0) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """(L, E, v): the liability matrix, equity buffers and normalised weights.

    ``equity`` defaults to book equity at price ``price`` and ``weights`` to total assets,
    both can be given separately from the balance sheet (one value per bank)."""
    n = system.n
    Lm = sp.csr_matrix(system.Lmat) if system.has_interbank else sp.csr_matrix((n, n))  # no block: nothing spreads
    IA = np.asarray(Lm.sum(axis=0)).ravel()
    assets = system.c + price * system.s + IA
    if equity is None:
        E = assets - system.pbar
    else:
        E = _vector(equity, n, "equity", nonneg=False)
    if weights is None:
        w = assets
    else:
        w = _vector(weights, n, "weights", nonneg=True)
    tot = float(w.sum())
    if not tot > 0:
        raise InputError("weights", "must have a positive sum")
    return Lm, E, w / tot


def _vector(x: Any, n: int, name: str, nonneg: bool) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    if arr.size != n:
        raise InputError(name, f"needs {n} values (one per bank), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "must be finite numbers (no NaN or inf)")
    if nonneg and (arr < 0).any():
        k = int((arr < 0).argmax())
        raise InputError(f"{name}[{k}]", f"must be >= 0, got {arr[k]}")
    return arr


def shock_vector(system: System, shock: Any, psi: float = 1.0) -> np.ndarray:
    """Initial relative equity losses h(1) from a shock specification.

    ``shock`` is a float array with one value in [0, 1] per bank, a boolean mask or a
    sequence of bank indices (each shocked by ``psi``), a bank name, or a mapping
    ``{name or index: psi}``."""
    n = system.n
    if isinstance(shock, Mapping):
        h = np.zeros(n)
        for key, val in shock.items():
            k = _bank_index(system, key)
            h[k] = _psi(val, f"shock[{system.names[k]}]")
        return h
    if isinstance(shock, str):
        h = np.zeros(n)
        h[_bank_index(system, shock)] = _psi(psi, "psi")
        return h
    arr = np.asarray(list(shock) if not isinstance(shock, np.ndarray) else shock)
    if arr.size == 0:
        raise InputError("shocked", "at least one shocked bank is required")
    if arr.dtype == bool:
        if arr.size != n:
            raise InputError("shock", f"a mask needs {n} values, got {arr.size}")
        return np.where(arr, _psi(psi, "psi"), 0.0)
    if arr.dtype.kind == "f":
        if arr.size != n:
            raise InputError("shock", f"a shock vector needs {n} values (one per bank), got {arr.size}")
        if not np.all(np.isfinite(arr)) or (arr < 0).any() or (arr > 1).any():
            k = int(np.argmax(~np.isfinite(arr) | (arr < 0) | (arr > 1)))
            raise InputError(f"shock[{system.names[k]}]", f"must be in [0, 1], got {arr[k]}")
        return arr.astype(float)
    if arr.dtype.kind in "iu":
        idx = arr.astype(np.int64).ravel()
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
            raise InputError("shocked", f"bank indices must be in [0, {n - 1}]")
        h = np.zeros(n)
        h[idx] = _psi(psi, "psi")
        return h
    h = np.zeros(n)  # sequence of names
    for key in arr.tolist():
        h[_bank_index(system, key)] = _psi(psi, "psi")
    return h


def _psi(v: Any, name: str) -> float:
    if isinstance(v, (bool, np.bool_)):
        raise InputError(name, f"expected a number in (0, 1], got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(name, f"expected a number in (0, 1], got {v!r}") from None
    if not (np.isfinite(x) and 0.0 < x <= 1.0):
        raise InputError(name, f"must be in (0, 1], got {v}")
    return x


def _bank_index(system: System, key: Any) -> int:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if not 0 <= int(key) < system.n:
            raise InputError("shock", f"bank index {key} out of range [0, {system.n - 1}]")
        return int(key)
    return system.index(str(key))


# ----------------------------------------------------------------------------- core
def impact_matrices(L: sp.csr_matrix, E: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(WT, LamT): ``WT[j, i] = W_ij = min(1, L_ij / E_j)`` and ``LamT[j, i] = L_ij / E_j``
    (uncapped), for creditors with E_j > 0 (columns of defaulted creditors are dropped)."""
    n = L.shape[0]
    coo = sp.coo_matrix(L)
    Ej = E[coo.col]
    keep = (Ej > 0) & (coo.data > 0)
    lam = coo.data[keep] / Ej[keep]
    LamT = sp.csr_matrix((lam, (coo.col[keep], coo.row[keep])), shape=(n, n))
    WT = sp.csr_matrix((np.minimum(lam, 1.0), (coo.col[keep], coo.row[keep])), shape=(n, n))
    return WT, LamT


def _check_options(variant: str, max_rounds: Optional[int]) -> None:
    if variant not in VARIANTS:
        raise InputError("variant", f"must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if max_rounds is not None and max_rounds < 0:
        raise InputError("max_rounds", f"must be >= 0, got {max_rounds}")


def debtrank_arrays(L: sp.spmatrix, E: np.ndarray, h1: np.ndarray, v: np.ndarray, variant: str = "battiston",
                    max_rounds: Optional[int] = None) -> DebtRankResult:
    """DebtRank on raw arrays: ``L`` debtor x creditor, buffers ``E``, initial distress
    ``h1`` (values in [0, 1]) and normalised weights ``v``."""
    _check_options(variant, max_rounds)
    E = np.asarray(E, dtype=float)
    WT, LamT = impact_matrices(sp.csr_matrix(L, dtype=float), E)
    return _run(WT, LamT, E, h1, np.asarray(v, dtype=float), variant, max_rounds)


def _run(WT, LamT, E, h1, v, variant, max_rounds) -> DebtRankResult:
    dead = E <= 0  # in default before the shock
    h0 = np.where(dead, 1.0, 0.0)
    h1 = np.maximum(np.asarray(h1, dtype=float), h0)
    if variant == "battiston":
        h, rounds, status = _battiston(WT, h1, dead, max_rounds)
    elif variant == "differential":
        h, rounds, status = _differential(LamT, h0, h1, max_rounds)
    else:
        h, rounds, status = _linear(LamT, h0, h1)
    R = float(v @ (h - h1))
    return DebtRankResult(debtrank=R, h=h, distressed=h > 0, rounds=rounds, variant=variant, h1=h1, status=status)


def _battiston(WT: sp.csr_matrix, h1: np.ndarray, dead: np.ndarray, max_rounds: Optional[int]):
    h = h1.copy()
    state = np.zeros(h.size, dtype=np.int8)  # 0 undistressed, 1 distressed, 2 inactive
    state[h1 > 0] = 1
    state[dead] = 2
    rounds = 0
    while (state == 1).any():
        if max_rounds is not None and rounds >= max_rounds:
            return h, rounds, "max_rounds"
        rounds += 1
        act = state == 1
        h_new = np.minimum(1.0, h + WT @ np.where(act, h, 0.0))  # every bank is updated
        state[act] = 2
        state[(state == 0) & (h_new > 0)] = 1
        h = h_new
    return h, rounds, "converged"


def _differential(LamT: sp.csr_matrix, h0: np.ndarray, h1: np.ndarray, max_rounds: Optional[int]):
    prev, h = h0, h1.copy()
    limit = 100_000 if max_rounds is None else max_rounds
    rounds = 0
    while True:
        hn = np.minimum(1.0, h + LamT @ (h - prev))
        if not (hn - h > TOL * np.maximum(hn, 1e-300)).any():
            return np.maximum(hn, h), rounds, "converged"
        if rounds >= limit:
            return h, rounds, "max_rounds" if max_rounds is not None else "not_converged"
        rounds += 1
        prev, h = h, hn


def _linear(LamT: sp.csr_matrix, h0: np.ndarray, h1: np.ndarray, max_iter: int = 100_000):
    """Least fixed point of G(h) = min(1, h1 + Lambda (h - h0)) above h1 (see module doc)."""
    dead = h0 > 0
    h = h1.copy()
    tried: set[bytes] = set()
    sat_prev: Optional[np.ndarray] = None
    for rounds in range(1, max_iter + 1):
        hn = np.minimum(1.0, h1 + LamT @ (h - h0))
        hn = np.maximum(hn, h)  # monotone (guards rounding only)
        if np.array_equal(hn, h):
            return h, rounds - 1, "converged"
        if float(np.abs(hn - h).max()) <= TOL:
            return hn, rounds, "converged_picard"
        h = hn
        sat = h >= 1.0
        if sat_prev is not None and np.array_equal(sat, sat_prev):
            key = np.packbits(sat).tobytes()
            if key not in tried:
                tried.add(key)
                y = _certify(LamT, h0, h1, sat | dead, h)
                if y is not None:
                    return y, rounds, "converged"
        sat_prev = sat
    raise SolverFailure("linear DebtRank", "max_iter reached", f"{max_iter} Picard steps")


def _certify(LamT: sp.csr_matrix, h0: np.ndarray, h1: np.ndarray, fixed: np.ndarray, h: np.ndarray) -> Optional[np.ndarray]:
    """Solve the unsaturated block; return the fixed point if the solution lies in [0, 1]."""
    idx = np.flatnonzero(~fixed)
    y = np.where(fixed, h, 0.0)  # saturated and dead banks at 1
    if idx.size:
        rhs = h1[idx] + (LamT @ np.where(fixed, y - h0, 0.0))[idx]  # dead banks pass nothing on
        x, ok = solve_block(LamT, idx, rhs, x0=h[idx])
        if not ok or not np.all(np.isfinite(x)) or x.min() < -1e-12 or x.max() > 1.0 + 1e-12:
            return None
        y[idx] = np.clip(x, h[idx], 1.0)  # the fixed point lies above every Picard iterate
    return y


# ----------------------------------------------------------------------------- public
def debtrank(system: System, shocked: Any, psi: float = 1.0, price: float = 1.0, variant: str = "battiston",
             equity: Optional[Sequence[float]] = None, weights: Optional[Sequence[float]] = None,
             max_rounds: Optional[int] = None) -> DebtRankResult:
    """DebtRank of one shock scenario.

    ``shocked``: bank indices / names / mask (distress ``psi`` each), a per-bank vector of
    initial relative equity losses, or ``{name: psi}`` (see :func:`shock_vector`).
    ``variant``: ``battiston`` (2012), ``linear`` or ``differential`` (Bardoscia et al. 2015).
    ``equity`` / ``weights``: buffers and relative economic values given separately from the
    balance sheet (defaults: book equity at ``price``, share of total assets).
    """
    Lm, E, v = network_inputs(system, equity, weights, price)
    h1 = shock_vector(system, shocked, psi)
    return debtrank_arrays(Lm, E, h1, v, variant=variant, max_rounds=max_rounds)


def debtrank_scenarios(system: System, scenarios: Mapping[str, Any] | Iterable[Any], psi: float = 1.0, price: float = 1.0,
                       variant: str = "battiston", equity: Optional[Sequence[float]] = None,
                       weights: Optional[Sequence[float]] = None, max_rounds: Optional[int] = None,
                       on_scenario: Optional[Callable[[], Any]] = None) -> dict[str, DebtRankResult]:
    """DebtRank of a list (or ``{name: shock}`` mapping) of shock scenarios, sharing the
    impact matrices; default scenario names are ``scenario1``, ``scenario2``, ...
    ``on_scenario`` is called after each scenario (a progress bar)."""
    Lm, E, v = network_inputs(system, equity, weights, price)
    WT, LamT = impact_matrices(Lm, E)
    _check_options(variant, max_rounds)
    items = list(scenarios.items()) if isinstance(scenarios, Mapping) else [(f"scenario{k + 1}", s) for k, s in enumerate(scenarios)]
    if not items:
        raise InputError("scenarios", "at least one shock scenario is required")
    out = {}
    for name, s in items:
        out[name] = _run(WT, LamT, E, shock_vector(system, s, psi), v, variant, max_rounds)
        if on_scenario is not None:
            on_scenario()
    return out
