"""Eisenberg–Noe clearing vectors on sparse liability networks (memory O(nnz)).

``en_clearing(pbar, Pi, e)`` returns the greatest solution of

    P = min(pbar, e + Pi^T P)                                   (EN 2001; (19), docs/model.md §3.2)

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

The block solve (:class:`BlockSolver`) is the Neumann iteration ``x <- rhs + A_DD x`` from
the warm start (A_DD is a 1-norm contraction when the defaulting banks owe something
outside the block), switching to SuperLU for small blocks or BiCGSTAB with
iterative refinement for large ones when it contracts slowly — random liability graphs have no good elimination order, so a
direct factorisation of a big default block can fill in catastrophically.  Nothing
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


def submatrix(A: sp.csr_matrix, idx: np.ndarray) -> sp.csr_matrix:
    """``A[idx][:, idx]`` for CSR ``A`` and sorted ``idx`` (vectorised, one object built)."""
    n = A.shape[0]
    k = idx.size
    starts = A.indptr[idx]
    lens = A.indptr[idx + 1] - starts
    tot = int(lens.sum())
    if tot == 0:
        return sp.csr_matrix((k, k))
    # positions of the selected rows' entries
    offs = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    pos = np.arange(tot) + offs
    cols = A.indices[pos]
    newcol = np.full(n, -1, dtype=np.int64)
    newcol[idx] = np.arange(k)
    nc = newcol[cols]
    keep = nc >= 0
    rowid = np.repeat(np.arange(k), lens)[keep]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rowid, minlength=k))))
    return sp.csr_matrix((A.data[pos][keep], nc[keep].astype(A.indices.dtype), indptr.astype(A.indptr.dtype)), shape=(k, k))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # numpy pairwise sum, not BLAS: no thread spin-up on a shared, loaded machine
    return float(np.multiply(a, b).sum())


def _bicgstab(M: sp.csr_matrix, b: np.ndarray, rtol: float = 1e-10, maxiter: int = 5000) -> tuple[np.ndarray, bool]:
    """BiCGSTAB (van der Vorst 1992) for ``M x = b`` from x = 0, to ``||r|| <= rtol ||b||``."""
    x = np.zeros_like(b)
    r = b.copy()
    bn = np.sqrt(_dot(b, b))
    if bn == 0:
        return x, True
    rh = r.copy()
    rho = alpha = omega = 1.0
    v = np.zeros_like(b)
    p = np.zeros_like(b)
    for _ in range(maxiter):
        rho_n = _dot(rh, r)
        if rho_n == 0 or omega == 0:
            return x, False
        beta = (rho_n / rho) * (alpha / omega)
        p = r + beta * (p - omega * v)
        v = M @ p
        den = _dot(rh, v)
        if den == 0:
            return x, False
        alpha = rho_n / den
        s_ = r - alpha * v
        if np.sqrt(_dot(s_, s_)) <= rtol * bn:
            return x + alpha * p, True
        t = M @ s_
        tt = _dot(t, t)
        omega = _dot(t, s_) / tt if tt > 0 else 0.0
        x = x + alpha * p + omega * s_
        r = s_ - omega * t
        rho = rho_n
        if np.sqrt(_dot(r, r)) <= rtol * bn:
            return x, True
    return x, False


class BlockSolver:
    """Solves ``(I - A_DD) x = rhs`` on an index set D, reusable for several right-hand sides.

    First the Neumann (Jacobi) iteration ``x <- rhs + A_DD x`` from the warm start: A_DD has
    column sums <= 1 (a contraction in the 1-norm when the defaulting banks have external
    creditors), each step is one sparse mat-vec on the block, and it stops when a step
    changes x by <= 1e-15 relative (1-norm).  If it contracts slowly (rate > 0.9), a
    direct LU (SuperLU) is used for ``|D| <= DIRECT_MAX``, otherwise BiCGSTAB with iterative
    refinement to a residual <= 1e-13 max|rhs| —
    random liability graphs have no good elimination order, so a direct factorisation of a
    big default block can fill in catastrophically.
    """

    def __init__(self, A: sp.csr_matrix, idx: np.ndarray):
        self.idx = idx
        self.B = submatrix(A, idx) if idx.size else sp.csr_matrix((0, 0))
        self._M: Optional[sp.csr_matrix] = None
        self._lu = None
        self.singular = False

    @property
    def M(self) -> sp.csr_matrix:
        if self._M is None:
            k = self.idx.size
            self._M = sp.csr_matrix(sp.identity(k, format="csr") - self.B)
        return self._M

    def _neumann(self, rhs: np.ndarray, x0: Optional[np.ndarray], max_iter: int = 400) -> tuple[np.ndarray, bool]:
        x = rhs.copy() if x0 is None else np.asarray(x0, dtype=float).copy()
        prev = np.inf
        for it in range(max_iter):
            xn = rhs + self.B @ x
            d = float(np.abs(xn - x).sum())
            x = xn
            nx = float(np.abs(x).sum())
            if d <= 1e-15 * max(nx, 1e-300):
                return x, True
            rate = d / prev if prev > 0 else 1.0
            prev = d
            if it >= 8 and rate > 0.9:
                return x, False
        return x, False

    def solve(self, rhs: np.ndarray, x0: Optional[np.ndarray] = None, tol: float = 1e-15) -> tuple[np.ndarray, bool]:
        """(x, ok): ok is False if the block is (numerically) singular or no method converged."""
        k = self.idx.size
        if k == 0:
            return np.zeros(0), True
        fallback = (x0 if x0 is not None else rhs).copy()
        scale = max(float(np.abs(rhs).max(initial=0.0)), 1e-300)
        x, ok = self._neumann(rhs, x0)
        if ok and np.all(np.isfinite(x)):
            return x, True
        if self.singular:
            return fallback, False
        if k <= DIRECT_MAX:
            if self._lu is None:
                try:
                    self._lu = spla.splu(self.M.tocsc())
                except RuntimeError:  # exactly singular
                    self.singular = True
                    return fallback, False
            x = self._lu.solve(rhs)
            ok = bool(np.all(np.isfinite(x))) and float(np.abs(self.M @ x - rhs).max()) <= 1e-10 * scale
            return x, ok
        # large, slowly contracting block: BiCGSTAB with iterative refinement
        x = x if np.all(np.isfinite(x)) else (x0.copy() if x0 is not None else rhs.copy())
        for _ in range(4):
            res = rhs - self.M @ x
            if float(np.abs(res).max()) <= 1e-14 * scale:
                return x, True
            d, ok = _bicgstab(self.M, res, rtol=1e-10)
            if not ok and not np.all(np.isfinite(d)):
                break
            x = x + d
        if np.all(np.isfinite(x)) and float(np.abs(self.M @ x - rhs).max()) <= 1e-13 * scale:
            return x, True
        return fallback, False


class _BlockCache:
    """Keeps the block solver of the last default set (joint clearing reuses it)."""

    def __init__(self, A: sp.csr_matrix):
        self.A = A
        self.key: Optional[bytes] = None
        self.solver: Optional[BlockSolver] = None

    def get(self, D: np.ndarray) -> BlockSolver:
        key = np.packbits(D).tobytes()
        if key != self.key:
            self.solver = BlockSolver(self.A, np.flatnonzero(D))
            self.key = key
        return self.solver


def solve_block(A: sp.csr_matrix, idx: np.ndarray, rhs: np.ndarray, x0: Optional[np.ndarray] = None, tol: float = 1e-15) -> tuple[np.ndarray, bool]:
    """Solve ``(I - A_DD) x = rhs`` on the sorted index set ``idx``; returns (x, ok)."""
    return BlockSolver(A, np.asarray(idx)).solve(rhs, x0, tol)


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
    cache: Optional[_BlockCache] = None,
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
        solver = cache.get(D) if cache is not None else BlockSolver(A, idx)
        x, ok = solver.solve(rhs, x0=P[idx])
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


# ----------------------------------------------------------------------------- (15)
@dataclass
class JointClearing:
    """Greatest solution (q, P) of the joint fire-sale / EN clearing (15)."""

    q: float
    P: np.ndarray
    y: np.ndarray  # fire sales at t=2
    AP: np.ndarray  # (Pi^T P): interbank income
    default: np.ndarray
    en_solves: int
    regimes: int
    residual: float
    status: str = "converged"


def _regime_pieces(a: np.ndarray, b: np.ndarray, r: np.ndarray, t_lo: float = 0.0, t_hi: float = np.inf):
    """Breakpoints of ``Y(t) = sum_j clip(a_j / t - b_j, 0, r_j)`` on ``[t_lo, t_hi)``, ascending.

    Returns ``(T, A, B, R)``: on ``[T_k, T_{k+1})`` ``Y(t) = A_k / t - B_k + R_k``; ``T_0 = t_lo``.
    Bank j sells everything (r_j) for t <= a_j / (b_j + r_j), nothing for t >= a_j / b_j,
    and ``a_j / t - b_j`` in between.  Only breakpoints inside the window are sorted.
    """
    act = (a > 0) & (r > 0)
    a, b, r = a[act], b[act], r[act]
    t1 = a / (b + r)
    with np.errstate(divide="ignore", over="ignore"):
        t2 = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.inf)
    # state at t_lo (events at or below t_lo already applied)
    cap = t1 > t_lo  # bank j sells everything for t <= t1_j
    mid = (~cap) & (t2 > t_lo)
    A0 = float(a[mid].sum())
    B0 = float(b[mid].sum())
    R0 = float(r[cap].sum())
    w1 = (t1 > t_lo) & (t1 < t_hi)
    w2 = (t2 > t_lo) & (t2 < t_hi)
    ev_t = np.concatenate((t1[w1], t2[w2]))
    dA = np.concatenate((a[w1], -a[w2]))
    dB = np.concatenate((b[w1], -b[w2]))
    dR = np.concatenate((-r[w1], np.zeros(int(w2.sum()))))
    order = np.argsort(ev_t)
    T = np.concatenate(([t_lo], ev_t[order]))
    A = A0 + np.concatenate(([0.0], np.cumsum(dA[order])))
    B = B0 + np.concatenate(([0.0], np.cumsum(dB[order])))
    R = R0 + np.concatenate(([0.0], np.cumsum(dR[order])))
    return T, np.maximum(A, 0.0), np.maximum(B, 0.0), np.maximum(R, 0.0)


def greatest_price_affine(a: np.ndarray, b: np.ndarray, r: np.ndarray, f, q_max: float, grid: int = 256,
                          offset: float = 0.0) -> float:
    """Greatest t in (0, q_max] with ``t = f(offset + sum_j clip(a_j / t - b_j, 0, r_j))``.

    Exact piecewise treatment (the regime map of (15) for a fixed default set, where a
    bank's shortfall ``a_j - b_j t`` is affine in the price): ``h(t) = t - f(offset + Y(t))``
    is evaluated at every breakpoint in ``[f(offset + sum r), q_max]`` at once (h <= 0 at the
    left end, where everything is sold); on a piece ``offset + Y = A/t + C`` a root satisfies
    ``f(u) (u - C) = A`` with u = A/t + C, whose left side is strictly increasing in u when
    ``C >= 0`` (Assumption 4.1(ii)-(iii)), so each root is an up-crossing and a piece with
    ``h > 0`` at both ends holds no root; pieces with ``C < 0`` are scanned on a grid.
    ``offset >= 0`` is the permanent impact alpha X of the unified model (it only raises C).
    Requires ``h(q_max) >= 0``.
    """
    from scipy.optimize import brentq

    # t_lo = f(everything sold) has h(t_lo) <= 0, so the greatest root lies in [t_lo, q_max]
    r_all = float(r[(a > 0) & (r > 0)].sum())
    t_lo = float(f(offset + r_all))
    if t_lo >= q_max:
        return float(q_max)
    T, A, B, R = _regime_pieces(a, b, r, t_lo, q_max)
    ends = np.append(T[1:], q_max)

    with np.errstate(divide="ignore", invalid="ignore"):
        Yl = np.where(T > 0, A / np.where(T > 0, T, 1.0) - B + R, R)
    hl = T - f(offset + np.maximum(Yl, 0.0))
    hl[0] = min(hl[0], 0.0)  # h(t_lo) <= 0 (up to rounding)
    C = R - B + offset
    kstar = int(np.flatnonzero(hl <= 0)[-1])
    # pieces above kstar have h > 0 at their left end; with C >= 0 they hold no root.  With
    # C < 0 the cheap bound h(t) >= lo - f(A/hi + C) on [lo, hi] clears most of them.
    above = np.arange(kstar + 1, T.size)
    if above.size:
        lo_a, hi_a = T[above], ends[above]
        bound = lo_a - f(offset + np.maximum(A[above] / hi_a - B[above] + R[above], 0.0))
        suspect = above[(C[above] < 0) & (bound <= 0) & (hi_a > lo_a)]
    else:
        suspect = above

    def g_of(k):
        return lambda t: t - float(f(offset + max(A[k] / t - B[k] + R[k], 0.0)))

    def root_in(k, lo, hi, need_sign_change):
        g = g_of(k)
        if C[k] < 0:  # possibly several roots: highest sign change on a grid
            ts = np.linspace(lo, hi, grid)
            hs = ts - f(offset + np.maximum(A[k] / ts - B[k] + R[k], 0.0))
            neg = np.flatnonzero(hs <= 0)
            if neg.size == 0:
                return None
            j = int(neg[-1])
            if j == grid - 1:
                return float(hi)
            lo, hi = ts[j], ts[j + 1]
        elif need_sign_change:
            return None
        if g(hi) <= 0:
            return float(hi)
        if g(lo) >= 0:
            return float(lo)
        return float(brentq(g, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=200))

    for k in suspect[::-1]:
        t = root_in(int(k), max(T[k], 1e-300), ends[k], True)
        if t is not None:
            return t
    t = root_in(kstar, max(T[kstar], 1e-300), ends[kstar], False)
    if t is not None:
        return t
    return float(T[0])  # unreachable: h(0+) < 0


def joint_clearing(
    pbar: np.ndarray,
    A: sp.csr_matrix,
    cash: np.ndarray,
    r: np.ndarray,
    f,
    max_regimes: int = 10_000,
    offset: float = 0.0,
) -> JointClearing:
    """Greatest solution of (15) for fixed early sales: ``cash = c + x f(X)``, ``r = s - x``.

    ``offset`` is the permanent impact ``alpha X`` of the unified model: the price equation
    becomes ``q = f(offset + sum_j y_j)`` (``offset = 0``: (15) exactly as in the paper).  Every
    step below only uses that the price map is non-increasing in the sales, which adding a
    constant to the argument of f preserves, so the method and its proof are unchanged.

    Regime method (exact, few EN solves).  For a price q let P(q) be the greatest EN vector
    with endowment ``cash + r q`` and D(q) its default set; D(q) shrinks as q grows.  Fix
    the default set D_k found at the current upper bound q_k.  For q <= q_k the block
    solution with that set, ``P^R(q) = P(q_k) - z (q_k - q)`` with ``(I - A_DD) z = r_D``,
    is an upper bound of P(q) (fictitious-default property, D_k ⊆ D(q)), so every bank's
    shortfall ``a_j - b_j q`` (``b = A_{.D} z >= 0``) under-states the true one and the
    regime map Phi_k(q) = f(sum_j clip((a_j - b_j q)/q, 0, r_j)) dominates the true
    Phi(q) = f(sum_j y_j(q, P(q))).  Its greatest fixed point q_{k+1} (exact, piecewise;
    :func:`greatest_price_affine`) is therefore >= the true clearing price q*.  One warm
    EN solve at q_{k+1} (started from P^R(q_{k+1}), a super-solution) gives D_{k+1}; when
    D_{k+1} = D_k the regime map is the true map at q_{k+1}, so q_{k+1} = q*.  The q_k
    decrease, the D_k grow: at most n + 1 regimes, typically 2–4.

    Warm-up: a few steps of the plain monotone iteration of (15) from (1, pbar)
    (:func:`_joint_warmup`, one mat-vec each) first; its iterates (q_k, P_k) are upper
    bounds with ``P_k >= P(q_k)``, ``T_{q_k}(P_k) <= P_k`` and ``Phi(q_k) <= q_k``, so the regime
    method can start from them — on well-contracting networks the warm-up has already
    converged and the regime step only certifies it.
    """
    pbar = np.asarray(pbar, dtype=float)
    cash = np.asarray(cash, dtype=float)
    r = np.asarray(r, dtype=float)
    offset = float(offset)
    q, P_ub = _joint_warmup(pbar, A, cash, r, f, offset=offset)
    cache = _BlockCache(A)
    res = en_solve(pbar, None, cash + r * q, A=A, P0=P_ub, cache=cache)
    en_solves = 1
    regimes = 0
    status = res.status
    while True:
        regimes += 1
        P = res.P
        D = res.default
        AP = A @ P
        idx = np.flatnonzero(D)
        if idx.size:
            z, ok = cache.get(D).solve(r[idx])
            if not ok:  # singular block: fall back to the (slow, safe) joint monotone iteration
                return _joint_picard(pbar, A, cash, r, f, q, P, en_solves, regimes, offset=offset)
            zf = np.zeros_like(pbar)
            zf[idx] = np.maximum(z, 0.0)
            b = A @ zf
        else:
            zf = np.zeros_like(pbar)
            b = np.zeros_like(pbar)
        a = pbar - cash - AP + b * q  # shortfall at price t <= q is a - b t (upper-bound regime)
        q_new = greatest_price_affine(a, b, r, f, q, offset=offset)
        if q_new >= q * (1 - 4 * np.finfo(float).eps) or regimes >= max_regimes:
            if regimes >= max_regimes and q_new < q:
                status = "max_regimes"
            break
        P0 = P - zf * (q - q_new)
        res = en_solve(pbar, None, cash + r * q_new, A=A, P0=P0, cache=cache)
        en_solves += 1
        q = q_new
        if np.array_equal(res.default, D):
            break
    P = res.P
    AP = A @ P
    need = np.maximum(pbar - cash - AP, 0.0)
    y = np.minimum(need / q, r)
    resid_q = abs(q - float(f(offset + y.sum())))
    resid = max(res.residual, resid_q)
    if res.status != "converged":
        status = res.status
    return JointClearing(q=q, P=P, y=y, AP=AP, default=res.default, en_solves=en_solves, regimes=regimes, residual=resid, status=status)


def _joint_step(pbar, A, cash, r, f, q: float, P: np.ndarray, fresh_q: bool = False,
                offset: float = 0.0) -> tuple[float, np.ndarray]:
    """One monotone step of the joint map (15) from an upper bound (q, P): the new price from
    the sales at (q, P), the new payments at q (or at the new price when ``fresh_q``)."""
    AP = A @ P
    y = np.minimum(np.maximum(pbar - cash - AP, 0.0) / q, r)
    qn = min(q, float(f(offset + y.sum())))
    Pn = np.minimum(P, np.minimum(pbar, cash + AP + r * (qn if fresh_q else q)))
    return qn, Pn


def _joint_warmup(pbar, A, cash, r, f, max_iter: int = 60, tol: float = 1e-15, offset: float = 0.0) -> tuple[float, np.ndarray]:
    """Monotone iteration of the joint map (15) from (1, pbar) while it contracts fast.

    Returns an upper bound (q, P) of the greatest solution with P >= P(q) (the greatest EN
    vector at price q), T_q(P) <= P and Phi(q) <= q (see :func:`joint_clearing`)."""
    q, P = 1.0, pbar.copy()
    norm = max(float(pbar.sum()), 1.0)
    prev = np.inf
    for k in range(max_iter):
        qn, Pn = _joint_step(pbar, A, cash, r, f, q, P, offset=offset)
        d = (q - qn) + float((P - Pn).sum()) / norm
        q, P = qn, Pn
        if d <= tol:
            break
        if k >= 4 and d > 0.7 * prev:  # slow contraction: the regime method takes over
            break
        prev = d
    return q, P


def _joint_picard(pbar, A, cash, r, f, q, P, en_solves, regimes, tol=1e-14, max_iter=100_000,
                  offset: float = 0.0) -> JointClearing:
    """Monotone iteration of the joint map (15) from an upper bound (q, P) (safe fallback)."""
    for k in range(max_iter):
        qn, Pn = _joint_step(pbar, A, cash, r, f, q, P, fresh_q=True, offset=offset)
        done = (q - qn) <= tol and float((P - Pn).sum()) <= tol * max(float(pbar.sum()), 1.0)
        q, P = qn, Pn
        if done:
            break
    AP = A @ P
    y = np.minimum(np.maximum(pbar - cash - AP, 0.0) / q, r)
    default = P < pbar - DEFAULT_RTOL * np.maximum(pbar, 1e-300)
    resid = abs(q - float(f(offset + y.sum())))
    return JointClearing(q, P, y, AP, default, en_solves, regimes, resid, "converged_picard")


def joint_picard(pbar, Pi, cash, r, f, tol: float = 1e-15, max_iter: int = 1_000_000, offset: float = 0.0):
    """Plain monotone iteration of the joint map (15) from (q, P) = (1, pbar) — the monotone
    iteration of docs/model.md §3.1, the reference definition of the greatest solution, used as
    a baseline in tests and benchmarks (``offset = alpha X`` in the unified model).
    Returns (q, P, y, iters)."""
    A = _as_A(Pi, None)
    pbar = np.asarray(pbar, float)
    q, P = 1.0, pbar.copy()
    norm = max(float(pbar.sum()), 1.0)
    for k in range(1, max_iter + 1):
        qn, Pn = _joint_step(pbar, A, cash, r, f, q, P, offset=offset)
        d = (q - qn) + float((P - Pn).sum()) / norm
        q, P = qn, Pn
        if d <= tol:
            break
    AP = A @ P
    y = np.minimum(np.maximum(pbar - cash - AP, 0.0) / q, r)
    return q, P, y, k
