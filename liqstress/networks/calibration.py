"""Liability matrices from row and column totals: RAS and maximum entropy (zero diagonal).

Given each bank's total interbank liabilities ``r_i`` (row sums, what i owes) and total
interbank assets ``c_j`` (column sums, what j is owed), find ``L >= 0`` with those margins.

* :func:`ras` — iterative proportional fitting (RAS, Bacharach 1970) on a prior ``K``
  (its sparsity pattern is kept): ``L = diag(u) K diag(v)``, alternately rescaling rows
  and columns to their targets.  It minimises the relative entropy ``sum L log(L / K)`` subject to the
  margins (Csiszár 1975) and converges whenever the margins are attainable on the pattern; otherwise it tends to
  the closest attainable matrix and ``converged`` is False.
* :func:`max_entropy` — RAS on the complete off-diagonal pattern with prior
  ``K_ij = r_i c_j`` (i != j): the maximum-entropy matrix with zero diagonal (Upper and
  Worms 2004; Mistrulli 2011).  Dense: O(n^2) memory, meant for n up to a few thousand.

Both report the largest relative margin error, so a caller never gets silently wrong totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError


@dataclass
class RASResult:
    L: sp.csr_matrix
    iterations: int
    max_rel_error: float  # max over rows and columns of |margin - target| / max(target sum, tiny)
    converged: bool


def _check_margins(r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r, dtype=float).ravel()
    c = np.asarray(c, dtype=float).ravel()
    for name, v in (("row_totals", r), ("col_totals", c)):
        if not np.all(np.isfinite(v)):
            raise InputError(name, "must be finite numbers (no NaN or inf)")
        if (v < 0).any():
            raise InputError(name, f"must be >= 0 (entry {int((v < 0).argmax())})")
    tr, tc = r.sum(), c.sum()
    if abs(tr - tc) > 1e-9 * max(tr, tc, 1.0):
        raise InputError("row_totals", f"sum of row totals {tr:.10g} must equal sum of column totals {tc:.10g} (every liability is someone's asset)")
    return r, c


def ras(prior: sp.spmatrix, row_totals, col_totals, tol: float = 1e-10, max_iter: int = 10_000, keep_zeros: bool = False) -> RASResult:
    """RAS / iterative proportional fitting of ``prior`` (n x n, >= 0) to the margins.

    The diagonal of ``prior`` is dropped (``L_ii = 0``).  Rows (columns) with a positive
    target but no admissible entry make the margins unattainable: InputError.
    ``keep_zeros`` keeps entries of the pattern that RAS drove to 0 as explicit zeros.
    """
    r, c = _check_margins(row_totals, col_totals)
    K = sp.csr_matrix(prior, dtype=float)
    n = r.size
    if K.shape != (n, c.size):
        raise InputError("prior", f"shape {K.shape} does not match margins ({n}, {c.size})")
    K.setdiag(0.0)
    K.eliminate_zeros()
    if (K.data < 0).any():
        raise InputError("prior", "entries must be >= 0")
    rowmass = np.asarray(K.sum(axis=1)).ravel()
    colmass = np.asarray(K.sum(axis=0)).ravel()
    bad_r = (r > 0) & (rowmass <= 0)
    bad_c = (c > 0) & (colmass <= 0)
    if bad_r.any():
        raise InputError("row_totals", f"bank {int(bad_r.argmax())} has interbank liabilities but no creditor in the pattern")
    if bad_c.any():
        raise InputError("col_totals", f"bank {int(bad_c.argmax())} has interbank assets but no debtor in the pattern")
    # entry-wise form (L itself is scaled, never u and v, so infeasible margins cannot
    # overflow): rows to their targets, then columns to theirs.
    K.sum_duplicates()
    coo = K.tocoo()
    ri, ci, data = coo.row, coo.col, coo.data.copy()
    total = max(r.sum(), 1e-300)
    it = 0
    err = np.inf
    for it in range(1, max_iter + 1):
        rs = np.bincount(ri, weights=data, minlength=n)
        data *= np.divide(r, rs, out=np.zeros_like(r), where=rs > 0)[ri]
        cs = np.bincount(ci, weights=data, minlength=c.size)
        data *= np.divide(c, cs, out=np.zeros_like(c), where=cs > 0)[ci]
        rs = np.bincount(ri, weights=data, minlength=n)
        err = float(np.abs(rs - r).max()) / total  # columns are exact after their step
        if err <= tol:
            break
    L = sp.csr_matrix((data, (ri, ci)), shape=K.shape)
    if not keep_zeros:
        L.eliminate_zeros()
    cols = np.asarray(L.sum(axis=0)).ravel()
    rows = np.asarray(L.sum(axis=1)).ravel()
    err = max(float(np.abs(rows - r).max()), float(np.abs(cols - c).max())) / total
    return RASResult(L=L, iterations=it, max_rel_error=err, converged=err <= 10 * tol)


def max_entropy(row_totals, col_totals, tol: float = 1e-12, max_iter: int = 10_000, max_n: int = 5000) -> RASResult:
    """Maximum-entropy liability matrix with zero diagonal (prior r_i c_j on i != j)."""
    r, c = _check_margins(row_totals, col_totals)
    n = r.size
    if n > max_n:
        raise InputError("banks", f"maximum entropy is dense (O(n^2)); n = {n} exceeds {max_n}: use ras() on a sparse pattern")
    K = np.outer(r, c)
    np.fill_diagonal(K, 0.0)
    return ras(sp.csr_matrix(K), r, c, tol=tol, max_iter=max_iter)
