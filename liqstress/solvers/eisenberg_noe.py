"""Eisenberg–Noe clearing vectors on sparse liability networks.

``en_clearing(pbar, Pi, e)`` returns the greatest solution of

    P = min(pbar, e + Pi^T P)                                              (EN 2001; SPEC (19))

by the fictitious default algorithm (Eisenberg and Noe, 2001, Section 3): start with every
bank solvent, solve the linear system of the defaulting set, add the banks that cannot pay,
repeat.  The default set only grows, so it stops after at most n rounds, and the answer is
exact up to the linear solve (scipy.sparse, memory O(nnz)).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def en_clearing(pbar: np.ndarray, Pi: sp.spmatrix, e: np.ndarray, max_rounds: int | None = None) -> np.ndarray:
    """Greatest clearing vector of ``P = min(pbar, e + Pi^T P)``, with ``e >= 0``.

    ``Pi`` is the relative liability matrix (rows sum to <= 1).  Fictitious default
    algorithm: exact after at most n rounds.
    """
    pbar = np.asarray(pbar, dtype=float)
    e = np.asarray(e, dtype=float)
    n = pbar.size
    PiT = sp.csr_matrix(Pi).T.tocsr()
    P = pbar.copy()
    default = (e + PiT @ P) < pbar * (1 - 1e-15) - 1e-300
    rounds = 0
    limit = n + 1 if max_rounds is None else max_rounds
    while default.any() and rounds < limit:
        rounds += 1
        D = np.flatnonzero(default)
        N = np.flatnonzero(~default)
        A = PiT[D][:, D]
        rhs = e[D] + (PiT[D][:, N] @ pbar[N] if N.size else 0.0)
        M = (sp.identity(D.size, format="csc") - A.tocsc())
        PD = spla.spsolve(M, rhs) if D.size > 1 else np.atleast_1d(rhs / M.toarray()[0, 0])
        P = pbar.copy()
        P[D] = np.minimum(np.asarray(PD).ravel(), pbar[D])
        P = np.maximum(P, 0.0)
        new_default = (e + PiT @ P) < pbar * (1 - 1e-15) - 1e-300
        new_default |= default  # the default set is monotone
        if np.array_equal(new_default, default):
            break
        default = new_default
    return P
