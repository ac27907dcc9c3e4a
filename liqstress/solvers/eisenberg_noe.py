"""Eisenberg–Noe clearing vectors on sparse liability networks (memory O(nnz)).

``en_clearing(pbar, Pi, e)`` returns the greatest solution of

    P = min(pbar, e + Pi^T P)                                   (EN 2001; SPEC (19))

with ``e >= 0`` and ``Pi`` row-substochastic.  Write ``T(P) = min(pbar, e + A P)``,
``A = Pi^T`` (column sums <= 1, so ``||A||_1 <= 1``).  :func:`en_solve` combines

1. **monotone Picard steps** ``P <- T(P)`` from an upper bound ``P0`` with ``T(P0) <= P0``
   (``pbar`` by default).  Every iterate is an upper bound of the greatest clearing vector
   P* (T is monotone), so every default set ``D(P) = {i : (e + A P)_i < pbar_i}`` it
   reveals is contained in the true default set D*.  Picard is one sparse mat-vec per
   step and discovers the cascade wave by wave;
2. **fictitious-default rounds** (Eisenberg and Noe, 2001, Section 3): for the current
   ``D ⊆ D*`` solve the linear system of the defaulting block
   ``(I - A_DD) P_D = e_D + A_DN pbar_N`` with ``P_N = pbar_N``.  Its solution is again an
   upper bound of P* (P* is a sub-solution of this affine monotone map) and a
   super-solution of T, so it can only add defaulters.  If no bank outside D defaults at
   the solution, it *is* a clearing vector and, being >= P*, it is the greatest one
   (exact finite termination; at most n rounds since D only grows).

The block solve is direct (SuperLU) for small blocks and GMRES (warm-started from the
Picard iterate) for large ones — random liability graphs have no good elimination order,
so a direct factorisation of a big default block can fill in catastrophically.  Nothing
denser than the CSR matrix and a few vectors is ever formed.  If a block is singular
(a closed ring of defaulting banks with no external creditor), the solver falls back to
Picard steps, which still converge monotonically to the greatest clearing vector.

The answer is exact up to the linear solve (``residual`` reports
``||P - T(P)||_1 / ||pbar||_1``; typically 1e-16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: relative margin below pbar_i that counts as a default
DEFAULT_RTOL = 1e-12
#: largest default block factorised directly (random graphs: fill-in grows fast above)
DIRECT_MAX = 1500


@dataclass
class ENResult:
    """Greatest Eisenberg–Noe clearing vector with its certificate data."""

    P: np.ndarray
    default: np.ndarray  # boolean: P_i < pbar_i
    picard_steps: int
    rounds: int  # fictitious-default linear solves
    residual: float  # ||P - T(P)||_1 / max(||pbar||_1, 1)
    status: str = "converged"

    @property
    def n_default(self) -> int:
        return int(self.default.sum())


def _as_A(Pi: sp.spmatrix | None, A: sp.spmatrix | None) -> sp.csr_matrix:
    if A is not None:
        return A if sp.isspmatrix_csr(A) or isinstance(A, sp.csr_array) else sp.csr_matrix(A)
    return sp.csr_matrix(Pi).T.tocsr()


def _default_mask(T: np.ndarray, pbar: np.ndarray) -> np.ndarray:
    return T < pbar - DEFAULT_RTOL * np.maximum(pbar, 1e-300)


def solve_block(A: sp.csr_matrix, idx: np.ndarray, rhs: np.ndarray, x0: Optional[np.ndarray] = None, tol: float = 1e-15) -> tuple[np.ndarray, bool]:
    """Solve ``(I - A_DD) x = rhs`` on the index set ``idx``; returns (x, ok).

    Direct LU for ``|D| <= DIRECT_MAX``; GMRES (restart 40, warm start ``x0``) otherwise.
    ``ok`` is False if the block is (numerically) singular or GMRES did not reach ``tol``.
    """
    k = idx.size
    if k == 0:
        return np.zeros(0), True
    B = A[idx][:, idx]
    M = (sp.identity(k, format="csc") - B.tocsc()).tocsc()
    scale = max(float(np.abs(rhs).max(initial=0.0)), 1e-300)
    if k <= DIRECT_MAX:
        try:
            lu = spla.splu(M)
            x = lu.solve(rhs)
        except RuntimeError:  # exactly singular
            return (x0 if x0 is not None else rhs).copy(), False
        ok = bool(np.all(np.isfinite(x))) and float(np.abs(M @ x - rhs).max()) <= 1e-10 * scale
        return x, ok
    Mr = M.tocsr()
    x, info = spla.gmres(Mr, rhs, x0=x0, rtol=tol, atol=0.0, restart=40, maxiter=50)
    res = float(np.abs(Mr @ x - rhs).max())
    ok = info == 0 or res <= 1e-12 * scale
    if not np.all(np.isfinite(x)):
        return (x0 if x0 is not None else rhs).copy(), False
    return x, ok


def en_solve(
    pbar: np.ndarray,
    Pi: sp.spmatrix | None,
    e: np.ndarray,
    *,
    A: sp.spmatrix | None = None,
    P0: Optional[np.ndarray] = None,
    tol: float = 1e-15,
    max_picard: int = 60,
    max_rounds: Optional[int] = None,
) -> ENResult:
    """Greatest clearing vector of ``P = min(pbar, e + Pi^T P)`` (EN 2001), see module doc.

    ``A`` may be given instead of ``Pi`` (``A = Pi^T`` in CSR, reused across calls).
    ``P0`` is a warm start: it must be an upper bound of the answer with ``T(P0) <= P0``
    (e.g. the clearing vector for a larger endowment ``e``); default ``pbar``.
    """
    pbar = np.asarray(pbar, dtype=float)
    e = np.asarray(e, dtype=float)
    A = _as_A(Pi, A)
    n = pbar.size
    norm = max(float(pbar.sum()), 1.0)
    P = pbar.copy() if P0 is None else np.minimum(np.asarray(P0, dtype=float), pbar)
    steps = 0
    # ---- phase 1: monotone Picard (cheap; reveals D wave by wave) -------------------------
    prev = np.inf
    stable = 0
    D_prev = None
    T = e + A @ P
    for steps in range(1, max_picard + 1):
        Pn = np.minimum(P, np.minimum(pbar, T))  # min with P: monotone despite rounding
        delta = float((P - Pn).sum())
        P = Pn
        T = e + A @ P
        D = _default_mask(T, pbar)
        if delta <= tol * norm:
            break
        same = D_prev is not None and np.array_equal(D, D_prev)
        stable = stable + 1 if same else 0
        rate = delta / prev if prev > 0 else 1.0
        prev = delta
        # slow contraction on a settled default set: a linear solve is cheaper now
        if stable >= 2 and rate > 0.3:
            break
        D_prev = D
    # ---- phase 2: fictitious-default rounds with exact finite termination ----------------
    rounds = 0
    limit = n + 1 if max_rounds is None else max_rounds
    status = "converged"
    while True:
        D = _default_mask(T, pbar)
        if not D.any():
            P = pbar.copy()
            T = e + A @ P
            break
        if rounds >= limit:
            status = "max_rounds"
            break
        rounds += 1
        idx = np.flatnonzero(D)
        Pfix = np.where(D, 0.0, pbar)
        rhs = (e + A @ Pfix)[idx]
        x, ok = solve_block(A, idx, rhs, x0=P[idx])
        if not ok:
            # singular / unconverged block: monotone Picard still converges to P*
            for _ in range(20 * max_picard):
                Pn = np.minimum(P, np.minimum(pbar, e + A @ P))
                d = float((P - Pn).sum())
                P = Pn
                steps += 1
                if d <= tol * norm:
                    break
            T = e + A @ P
            if float((P - np.minimum(pbar, T)).sum()) > 1e-9 * norm:
                status = "not_converged"
            break
        Pn = pbar.copy()
        Pn[idx] = np.clip(x, 0.0, pbar[idx])
        P = np.minimum(P, Pn)  # both are upper bounds of P*; min keeps T(P) <= P
        T = e + A @ P
        Dn = _default_mask(T, pbar)
        if not (Dn & ~D).any():
            # consistent default set: P solves the block system and T(P) = P
            break
    resid = float(np.abs(P - np.minimum(pbar, T)).sum()) / norm
    default = P < pbar - DEFAULT_RTOL * np.maximum(pbar, 1e-300)
    return ENResult(P=P, default=default, picard_steps=steps, rounds=rounds, residual=resid, status=status)


def en_clearing(pbar: np.ndarray, Pi: sp.spmatrix, e: np.ndarray, max_rounds: int | None = None) -> np.ndarray:
    """Greatest clearing vector of ``P = min(pbar, e + Pi^T P)``, with ``e >= 0``.

    ``Pi`` is the relative liability matrix (rows sum to <= 1).  Monotone Picard steps plus
    fictitious-default rounds (see :func:`en_solve`): exact after at most n rounds.
    """
    return en_solve(pbar, Pi, e, max_rounds=max_rounds).P


def en_picard(pbar: np.ndarray, Pi: sp.spmatrix, e: np.ndarray, tol: float = 1e-15, max_iter: int = 1_000_000) -> tuple[np.ndarray, int]:
    """Plain monotone Picard iteration ``P <- min(pbar, e + Pi^T P)`` from pbar (baseline)."""
    pbar = np.asarray(pbar, dtype=float)
    A = _as_A(Pi, None)
    P = pbar.copy()
    norm = max(float(pbar.sum()), 1.0)
    for k in range(1, max_iter + 1):
        Pn = np.minimum(P, np.minimum(pbar, e + A @ P))
        d = float((P - Pn).sum())
        P = Pn
        if d <= tol * norm:
            return P, k
    return P, max_iter
