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
* :func:`min_density` — minimum density (Anand, Craig and von Peter 2015): the fewest
  links meeting the margins, exactly (HiGHS MILP, small systems) or by a greedy heuristic.

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


# ----------------------------------------------------------------------------- minimum density
@dataclass
class MinDensityResult:
    L: sp.csr_matrix
    links: int
    method: str  # "greedy" or "milp"
    optimal: bool  # True: the fewest links (MILP solved to optimality)
    max_rel_error: float


def min_density(row_totals, col_totals, method: str = "greedy", tol: float = 1e-12, time_limit: float = 60.0,
                max_n: int = 5000) -> MinDensityResult:
    """Minimum-density reconstruction (Anand, Craig and von Peter 2015, *Filling in the
    blanks*): the liability matrix with the given margins (zero diagonal) and as few links
    as possible — the sparse, concentrated counterpart of maximum entropy.

    ``method="milp"``: the exact fewest-links matrix, a fixed-charge transportation MILP
    (``min sum z_ij`` s.t. the margins, ``0 <= L_ij <= min(r_i, c_j) z_ij``, z binary) solved
    by HiGHS — for small systems (it has one binary per admissible pair).
    ``method="greedy"``: at each step the pair closing a row and a column deficit at once
    (equal deficits) if one exists, otherwise the largest row deficit against the largest
    column deficit, allocating the smaller of the two; a deficit left on one bank's own
    row and column (the diagonal is excluded) is moved through an existing link
    (``L_kl -= y, L_ki += y, L_il += y``, margins unchanged).  At most ``rows + cols - 1``
    links plus two per repair; O(n) per step.
    """
    r, c = _check_margins(row_totals, col_totals)
    n = r.size
    if c.size != n:
        raise InputError("col_totals", f"needs {n} values (square matrix), got {c.size}")
    if n > max_n:
        raise InputError("banks", f"n = {n} exceeds {max_n} for minimum density")
    if method == "milp":
        return _min_density_milp(r, c, time_limit)
    if method != "greedy":
        raise InputError("method", f"must be greedy or milp, got {method!r}")
    total = max(float(r.sum()), 1e-300)
    eps = tol * total
    ad, ld = r.copy(), c.copy()
    entries: dict[tuple[int, int], float] = {}
    for _ in range(4 * n + 10):
        act_r = np.flatnonzero(ad > eps)
        act_c = np.flatnonzero(ld > eps)
        if act_r.size == 0 or act_c.size == 0:
            break
        i, j = _exact_pair(ad, ld, act_r, act_c, eps)
        if i < 0:
            i = int(act_r[np.argmax(ad[act_r])])
            j = int(act_c[np.argmax(ld[act_c])])
            if i == j:
                others_c = act_c[act_c != i]
                others_r = act_r[act_r != j]
                cand = []
                if others_c.size:
                    jj = int(others_c[np.argmax(ld[others_c])])
                    cand.append((min(ad[i], ld[jj]), i, jj))
                if others_r.size:
                    ii = int(others_r[np.argmax(ad[others_r])])
                    cand.append((min(ad[ii], ld[j]), ii, j))
                if not cand:  # only bank i has deficits left, on its own row and column
                    _repair_diagonal(entries, ad, ld, i)
                    continue
                _, i, j = max(cand)
        x = min(ad[i], ld[j])
        entries[(i, j)] = entries.get((i, j), 0.0) + x
        ad[i] -= x
        ld[j] -= x
    L = _to_csr(entries, n)
    err = max(float(np.abs(np.asarray(L.sum(axis=1)).ravel() - r).max()),
              float(np.abs(np.asarray(L.sum(axis=0)).ravel() - c).max())) / total
    return MinDensityResult(L=L, links=int(L.nnz), method="greedy", optimal=False, max_rel_error=err)


def _exact_pair(ad, ld, act_r, act_c, eps) -> tuple[int, int]:
    """The largest row deficit equal (within eps) to a column deficit of another bank."""
    order = act_c[np.argsort(ld[act_c])]
    vals = ld[order]
    best = (-1.0, -1, -1)
    pos = np.searchsorted(vals, ad[act_r] - eps)
    for i, p in zip(act_r, pos):
        k = p
        while k < vals.size and vals[k] <= ad[i] + eps:
            j = int(order[k])
            if j != i and ad[i] > best[0]:
                best = (ad[i], int(i), j)
                break
            k += 1
    return best[1], best[2]


def _repair_diagonal(entries: dict, ad: np.ndarray, ld: np.ndarray, i: int) -> None:
    """Bank i still owes x and is owed x: route it through existing links (k, l), k, l != i."""
    x = min(ad[i], ld[i])
    for (k, l), v in sorted(entries.items(), key=lambda kv: -kv[1]):
        if x <= 0:
            break
        if k == i or l == i or v <= 0:
            continue
        y = min(x, v)
        entries[(k, l)] = v - y
        entries[(k, i)] = entries.get((k, i), 0.0) + y
        entries[(i, l)] = entries.get((i, l), 0.0) + y
        ad[i] -= y
        ld[i] -= y
        x -= y
    if x > 0:
        raise InputError("row_totals", f"bank {i}'s interbank liabilities can only be owed to itself (no other creditor left)")


def _to_csr(entries: dict, n: int) -> sp.csr_matrix:
    if not entries:
        return sp.csr_matrix((n, n))
    keys = np.array(list(entries.keys()), dtype=np.int64)
    L = sp.csr_matrix((np.array(list(entries.values())), (keys[:, 0], keys[:, 1])), shape=(n, n))
    L.eliminate_zeros()
    return L


def _min_density_milp(r: np.ndarray, c: np.ndarray, time_limit: float) -> MinDensityResult:
    import highspy

    from liqstress.solvers.cbc_lp import new_highs

    n = r.size
    rows, cols = np.nonzero((r[:, None] > 0) & (c[None, :] > 0) & ~np.eye(n, dtype=bool))
    m = rows.size
    if m > 200_000:
        raise InputError("banks", f"{m} admissible pairs: too many for the exact MILP, use method='greedy'")
    U = np.minimum(r[rows], c[cols])
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    inf = highspy.kHighsInf
    h.addVars(2 * m, np.zeros(2 * m), np.r_[U, np.ones(m)])
    h.changeColsCost(2 * m, np.arange(2 * m, dtype=np.int32), np.r_[np.zeros(m), np.ones(m)])
    h.changeColsIntegrality(m, np.arange(m, 2 * m, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * m))
    for idx_of, target in ((rows, r), (cols, c)):
        for k in np.flatnonzero(target > 0):
            idx = np.flatnonzero(idx_of == k).astype(np.int32)
            h.addRow(float(target[k]), float(target[k]), idx.size, idx, np.ones(idx.size))
    for k in range(m):
        h.addRow(-inf, 0.0, 2, np.array([k, m + k], dtype=np.int32), np.array([1.0, -U[k]]))
    h.run()
    status = h.getModelStatus()
    sol = np.asarray(h.getSolution().col_value)
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit) or sol.size != 2 * m:
        from liqstress.errors import SolverFailure

        raise SolverFailure("min_density (HiGHS MILP)", str(status))
    x = np.where(sol[m:] > 0.5, sol[:m], 0.0)
    L = sp.csr_matrix((x, (rows, cols)), shape=(n, n))
    L.eliminate_zeros()
    total = max(float(r.sum()), 1e-300)
    err = max(float(np.abs(np.asarray(L.sum(axis=1)).ravel() - r).max()),
              float(np.abs(np.asarray(L.sum(axis=0)).ravel() - c).max())) / total
    return MinDensityResult(L=L, links=int(L.nnz), method="milp", optimal=status == highspy.HighsModelStatus.kOptimal,
                            max_rel_error=err)
