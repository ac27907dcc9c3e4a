"""Exact middle level of the original problem (7) with permanent price impact.

The middle level of (7) at a fixed own early sale ``x_i`` is

    m(x_i) = min_{x_-i in prod_{j != i} [0, ell_j]}  V_i(x_i, x_-i)

with V_i from the clearing (4)/(6).  A general MINLP solver does not see its structure;
this module solves it exactly by three nested one-dimensional or separable problems
(``docs/model.md``, section "Exact middle level of (7)", has the proofs):

1. **Aggregate early sales.**  Write ``w = sum_{j != i} x_j``, ``X = x_i + w``.  With X fixed,
   the first-period price ``P = f(X)`` and bank i's cash ``c_i + x_i P`` are fixed, and
   ``V_i = min(max(L_i, c_i + x_i P), c_i + x_i P + (s_i - x_i) p)`` is non-decreasing in the
   clearing price p.  So the adversary, at fixed w, maximises the clearing volume u* of (4)
   (``p = f(u*)``).
2. **Clearing volume by a separable test.**  ``u*(x)`` is the unique root of the strictly
   increasing ``F(u, x) = f(u) (u - alpha X) - sum_j g_j(x_j; u)`` with
   ``g_j(x_j; u) = min(max(L_j - c_j - x_j P, 0), (s_j - x_j) f(u))`` (see
   :func:`liqstress.solvers.clearing.clearing_volume`).  Hence ``u*(x) >= u`` iff
   ``F(u, x) <= 0``, and the adversary's best volume ``u_max(w)`` satisfies
   ``u_max(w) >= u`` iff ``H(u, w) = min_x F(u, x) <= 0``, where the minimum over the
   box with ``sum_j x_j = w`` is the *allocation problem* :func:`min_loss`: maximise a sum of
   one-dimensional piecewise-linear functions of x_j under one linear constraint.  H is
   strictly increasing in u (a minimum of strictly increasing functions), so ``u_max(w)`` is
   found by a Dinkelbach-type iteration (:func:`max_volume`): solve the allocation problem
   at u, jump to the exact clearing volume of its optimal allocation, repeat; stop with the
   certificate ``H(u_hi, w) > 0`` for ``u_hi = u_lo + du``.
3. **Branch and bound over w.**  For an interval ``[w_a, w_b]`` the same test with the data
   relaxed to the interval (``P = f(x_i + w_b)``, ``alpha X = alpha (x_i + w_b)``, volume
   ``w_a``) gives an upper bound of ``u_max`` on the whole interval, hence a lower bound of
   V_i there; the relaxed allocation (volume ``w_a``) is an actual point of the box whose
   exactly cleared V_i is an upper bound.  Best-first bisection of ``[0, W_i]`` closes the gap.

The allocation problem (:func:`min_loss`) has only three slopes: each bank's loss
``g_j(0) - g_j(x_j)`` is piecewise linear with slope ``m = min(P, q)`` on ``[0, a_j]``,
``M = max(P, q)`` on ``[a_j, a_j + b_j]`` and 0 on the free tail ``[a_j + b_j, ell_j]`` (a bank
that has covered its shortfall with early sales sells nothing more at t = 2).  It is solved
exactly by branch and bound on "tail used or not" with the convex envelope (a greedy fill
by slope) as the bound; :func:`min_loss_milp` is the same problem as a HiGHS MILP (one binary
per bank with a tail), used as fallback and as independent check in the tests.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from liqstress.models.system import System
from liqstress.solvers.clearing import clear, clearing_volume
from liqstress.solvers.results import InnerResult

# ----------------------------------------------------------------------------- allocation problem


@dataclass(frozen=True)
class Segments:
    """Loss pieces of the allocation problem at fixed (P, q) for the adversary's banks.

    Bank j's loss ``g_j(0) - g_j(x)`` has slope ``m`` on ``[0, a_j]``, ``M`` on
    ``[a_j, a_j + b_j]`` and 0 on ``[a_j + b_j, a_j + b_j + e_j]`` (``= ell_j``).
    """

    g0: np.ndarray
    a: np.ndarray
    b: np.ndarray
    e: np.ndarray
    m: float
    M: float

    def loss(self, x: np.ndarray) -> np.ndarray:
        """The exact loss of every bank at x (vectorised)."""
        return self.m * np.minimum(x, self.a) + self.M * np.clip(x - self.a, 0.0, self.b)


def loss_segments(D: np.ndarray, s: np.ndarray, ell: np.ndarray, P: float, q: float) -> Segments:
    """Pieces of ``g_j(x) = min(max(D_j - x P, 0), (s_j - x) q)`` on ``[0, ell_j]``
    (``D_j = L_j - c_j > 0``, ``0 < ell_j <= s_j``).

    ``min(D_j - x P, (s_j - x) q)`` is concave: its slope is that of the smaller line at 0,
    switching to the steeper line where they cross; it reaches 0 only through the first line,
    at ``z_j = D_j / P`` (the second is positive below s_j), after which g_j = 0 (free tail).
    """
    g0 = np.minimum(D, s * q)
    T = np.minimum(D / P, ell)
    e = ell - T
    m, M = (P, q) if P <= q else (q, P)
    if P == q:
        a = T.copy()
    else:
        first_slope = np.where(D <= s * q, P, q)
        xc = (D - s * q) / (P - q)
        a = np.where(first_slope == m, np.clip(xc, 0.0, T), 0.0)
    b = T - a
    return Segments(g0, a, b, np.maximum(e, 0.0), float(m), float(M))


@dataclass
class Allocation:
    """Result of the allocation problem: a feasible allocation ``x`` with its exact ``loss``
    and a proven lower bound ``bound`` of the minimum (``loss - bound`` is the gap)."""

    loss: float
    bound: float
    x: np.ndarray
    nodes: int
    status: str  # "optimal" (gap <= gap_tol) | "below threshold" | "above threshold" | "milp"


def _state_table(seg: Segments, ell: np.ndarray) -> np.ndarray:
    """Per bank and branch state (0 free, 1 tail used: x_j >= a_j + b_j, 2 tail unused:
    x_j <= a_j + b_j) the envelope pieces ``(len1, slope1, len2, slope2, forced, const)``;
    shape (3, 6, k).  A free bank's envelope has slope m on [0, a_j], then the chord to
    (ell_j, m a_j + M b_j); if that chord is flatter than m, the single chord from the origin."""
    a, b, e, m, M = seg.a, seg.b, seg.e, seg.m, seg.M
    z = np.zeros_like(a)
    be = b + e
    full = m * a + M * b
    chord = np.divide(M * b, be, out=np.full_like(b, M), where=be > 0)
    single = chord < m
    mk = np.full_like(a, m)
    free = (np.where(single, 0.0, a), mk, np.where(single, ell, be),
            np.where(single, np.divide(full, ell, out=np.zeros_like(ell), where=ell > 0), chord), z, z)
    tail = (z, mk, e, z, a + b, full)
    notail = (a, mk, b, np.full_like(a, M), z, z)
    return np.array([free, tail, notail])


def _node(seg: Segments, table: np.ndarray, state: np.ndarray, w: float, tol: float):
    """Convex-envelope bound of the allocation problem at a branch ``state`` (see
    :func:`_state_table`): the greedy fill of all envelope pieces by slope, which is exact for
    the convex relaxation (separable, piecewise linear, one linear constraint).

    Returns (bound, x, true loss of x, per-bank excess of the true loss over the envelope)
    or None if the node is infeasible.
    """
    k = state.size
    len1, sl1, len2, sl2, forced, const = table[state, :, np.arange(k)].T
    rest = w - forced.sum()
    if rest < -tol * max(1.0, w):
        return None
    rest = max(rest, 0.0)
    lens = np.concatenate((len1, len2))
    slopes = np.concatenate((sl1, sl2))
    order = np.argsort(slopes, kind="stable")
    lo = lens[order]
    cum = np.cumsum(lo)
    if cum[-1] < rest - tol * max(1.0, w):
        return None
    fill = np.empty_like(lens)
    fill[order] = np.clip(rest - (cum - lo), 0.0, lo)
    env = const + fill[:k] * sl1 + fill[k:] * sl2
    x = forced + fill[:k] + fill[k:]
    true = seg.loss(x)
    return float(env.sum()), x, float(true.sum()), np.where(state == 0, true - env, 0.0)


def tail_cost(seg: Segments, ell: np.ndarray, T: np.ndarray, w: float) -> np.ndarray:
    """Minimum loss when exactly the banks in T (rows of a 0/1 matrix over the banks) use their
    tails: ``sum_T c_j + phi(w - sum_T ell_j)`` with ``c_j = m a_j + M b_j`` and
    ``phi(r) = max(0, m r, m r + (M - m)(r - A_U))`` (the others fill their m-pieces, then their
    M-pieces); ``inf`` where the others cannot absorb the rest.  Vectorised over rows."""
    a, b, e, m, M = seg.a, seg.b, seg.e, seg.m, seg.M
    T = np.atleast_2d(T).astype(float)
    c = m * a + M * b
    C = T @ c
    r = w - T @ ell
    AU = a.sum() - T @ a
    BU = b.sum() - T @ b
    cost = C + np.maximum(0.0, np.maximum(m * r, m * r + (M - m) * (r - AU)))
    return np.where(r <= AU + BU + 1e-12 * max(1.0, w), cost, np.inf)


def _break_slope(seg: Segments, ell: np.ndarray, w: float) -> float:
    """The slope at which the greedy fill of the free banks' convex envelopes stops (LP dual)."""
    table = _state_table(seg, ell)
    len1, sl1, len2, sl2, _, _ = table[0]
    lens = np.concatenate((len1, len2))
    slopes = np.concatenate((sl1, sl2))
    order = np.argsort(slopes, kind="stable")
    cum = np.cumsum(lens[order])
    k = int(np.searchsorted(cum, w))
    return float(slopes[order[min(k, order.size - 1)]])


def core_primal(seg: Segments, ell: np.ndarray, w: float, core: int = 12) -> tuple[float, np.ndarray]:
    """A primal allocation by core enumeration (as in the core algorithms for knapsack): banks
    with a tail are ordered by the slope of their envelope's tail chord; those far below the
    LP break slope use their tail, those far above do not, and every subset of the ``core``
    banks nearest the break is tried (vectorised).  Returns (exact loss, allocation)."""
    J = np.flatnonzero(seg.e > 0)
    if J.size == 0:
        x = _fill(seg, ell, np.zeros(ell.size, dtype=bool), w)
        return float(seg.loss(x).sum()), x
    a, b, e, m, M = seg.a[J], seg.b[J], seg.e[J], seg.m, seg.M
    be = b + e
    chord = np.divide(M * b, be, out=np.full_like(b, M), where=be > 0)
    full = m * a + M * b
    slope = np.where(chord < m, full / ell[J], chord)
    # LP break slope: the largest slope the greedy fill of the convex envelopes reaches
    lam = _break_slope(seg, ell, w)
    k = min(core, J.size)
    near = np.argsort(np.abs(slope - lam), kind="stable")[:k]
    core_idx = J[near]
    base = np.zeros(ell.size)
    base[J[slope < lam]] = 1.0
    base[core_idx] = 0.0
    subsets = ((np.arange(2 ** k)[:, None] >> np.arange(k)) & 1).astype(float)
    T = np.repeat(base[None, :], subsets.shape[0], axis=0)
    T[:, core_idx] = subsets
    cost = tail_cost(seg, ell, T, w)
    best = int(np.argmin(cost))
    t = T[best].copy()
    val = float(cost[best])
    # local search over the banks with a tail: single flips and in/out swaps, until no move helps
    n_t = J.size
    eye = np.eye(ell.size)[J]
    pairs = np.array([(p, q) for p in range(n_t) for q in range(p + 1, n_t)], dtype=int).reshape(-1, 2)
    for _ in range(50):
        flips = np.abs(t[None, :] - eye)
        moves = [flips]
        if pairs.size:
            moves.append(np.abs(t[None, :] - eye[pairs[:, 0]] - eye[pairs[:, 1]]))
        cand = np.vstack(moves)
        cand = cand[(cand >= -1e-12).all(axis=1) & (cand <= 1 + 1e-12).all(axis=1)]
        cc = tail_cost(seg, ell, cand, w)
        k_best = int(np.argmin(cc))
        if not cc[k_best] < val - 1e-15 * max(1.0, abs(val)):
            break
        t, val = cand[k_best], float(cc[k_best])
    x = _fill(seg, ell, t > 0.5, w)
    return float(seg.loss(x).sum()), x


def min_loss(seg: Segments, ell: np.ndarray, w: float, gap_tol: float = 0.0, threshold: Optional[float] = None,
             node_limit: int = 2000) -> Allocation:
    """``min sum_j loss_j(x_j)`` s.t. ``sum_j x_j = w``, ``0 <= x_j <= ell_j``, to within ``gap_tol``.

    Best-first branch and bound: a node fixes, for some banks, whether the free tail is used;
    its bound is the greedy fill of the convex envelopes (exact for the convex relaxation),
    and the envelope coincides with the loss except on the banks whose chord is partly
    filled (at most one, barring ties), on which we branch.  Every node's allocation is
    feasible, so its true loss is an incumbent.  The search stops when the incumbent is within
    ``gap_tol`` of the smallest open bound, or — the decision form used by
    :func:`max_volume` — as soon as the bound exceeds ``threshold`` or the incumbent is at or
    below it.  Past ``node_limit`` nodes the MILP :func:`min_loss_milp` takes over.
    """
    k = ell.size
    eps = 1e-13 * max(1.0, seg.M * max(w, 1e-300))
    if k == 0:
        return Allocation(0.0, 0.0, np.zeros(0), 0, "optimal")
    table = _state_table(seg, ell)
    st0 = np.zeros(k, dtype=np.intp)
    root = _node(seg, table, st0, w, 1e-12)
    if root is None:  # w > sum ell up to rounding: everyone sells everything
        v = float(seg.loss(ell).sum())
        return Allocation(v, v, ell.copy(), 1, "optimal")
    best_val, best_x = root[2], root[1]
    heap = [(root[0], 0, st0, root)]
    nodes, tick = 1, 1
    tol = max(gap_tol, eps)
    while heap:
        bound = heap[0][0]
        if best_val - bound <= tol:
            return Allocation(best_val, bound, best_x, nodes, "optimal")
        if threshold is not None:
            if bound > threshold:
                return Allocation(best_val, bound, best_x, nodes, "above threshold")
            if best_val <= threshold:
                return Allocation(best_val, bound, best_x, nodes, "below threshold")
        if nodes > node_limit:
            if threshold is not None:  # undecided: the caller moves the threshold
                return Allocation(best_val, bound, best_x, nodes, "node limit")
            r = min_loss_milp(seg, ell, w, gap_tol)
            r.nodes += nodes
            return r
        _, _, state, res = heapq.heappop(heap)
        excess = res[3]
        j = int(np.argmax(excess))
        if excess[j] <= eps:
            continue  # cannot happen below best_val - tol (bound attained means best_val <= bound)
        for choice in (1, 2):
            st = state.copy()
            st[j] = choice
            ch = _node(seg, table, st, w, 1e-12)
            nodes += 1
            if ch is None:
                continue
            if ch[2] < best_val:
                best_val, best_x = ch[2], ch[1]
            if ch[0] < best_val - tol:
                heapq.heappush(heap, (ch[0], tick, st, ch))
                tick += 1
    return Allocation(best_val, best_val, best_x, nodes, "optimal")


def min_loss_milp(seg: Segments, ell: np.ndarray, w: float, gap_tol: float = 0.0,
                  threshold: Optional[float] = None, time_limit: float = 60.0) -> Allocation:
    """The allocation problem as a compact MILP solved by SCIP, one binary ``t_j`` per bank with a
    tail (t_j = 1: x_j >= a_j + b_j).  For a set T of such banks the best allocation fills T's
    banks up to ell_j and the others greedily (slope m, then M), at cost
    ``sum_T c_j + phi(w - sum_T ell_j)`` with ``c_j = m a_j + M b_j`` and
    ``phi(r) = max(0, m r, m r + (M - m)(r - A_U))`` (A_U: the others' m-capacity), so

        min z  s.t.  z >= sum_T c_j,  z >= m w + sum_T (c_j - m ell_j),
                     z >= m A + M (w - A) - M sum_T e_j,  sum_T e_j >= w - A - B.

    With ``threshold`` the objective limit makes it the decision problem of
    :func:`min_loss` (status ``above threshold`` when no allocation reaches it).  The
    allocation is rebuilt from T and its loss recomputed exactly."""
    from pyscipopt import Model, quicksum

    from liqstress.errors import SolverFailure

    a, b, e, m, M = seg.a, seg.b, seg.e, seg.m, seg.M
    A, B = float(a.sum()), float(b.sum())
    J = np.flatnonzero(e > 0)
    c = m * a + M * b
    mdl = Model()
    mdl.hideOutput()
    mdl.setParam("limits/time", float(time_limit))
    mdl.setParam("limits/absgap", float(max(gap_tol, 0.0)))
    t = {int(j): mdl.addVar(vtype="B", name=f"t{j}") for j in J}
    z = mdl.addVar(lb=None, name="z")
    mdl.addCons(z >= quicksum(float(c[j]) * t[j] for j in t))
    mdl.addCons(z >= m * w + quicksum(float(c[j] - m * ell[j]) * t[j] for j in t))
    mdl.addCons(z >= m * A + M * (w - A) - quicksum(float(M * e[j]) * t[j] for j in t))
    if t:
        mdl.addCons(quicksum(float(e[j]) * t[j] for j in t) >= w - A - B)
    mdl.setObjective(z, "minimize")
    if threshold is not None:  # decision form: the first allocation at or below it settles it
        mdl.setObjlimit(float(threshold) * (1 + 1e-12) + 1e-12)
        mdl.setParam("limits/solutions", 1)
    mdl.optimize()
    status = mdl.getStatus()
    if threshold is not None and status in ("infeasible", "inforunbd") and mdl.getNSols() == 0:
        # no allocation below the objective limit (solutions above it do not count)
        x = _fill(seg, ell, np.zeros(ell.size, dtype=bool), w)
        return Allocation(float(seg.loss(x).sum()), float(threshold), x, 0, "above threshold")
    if mdl.getNSols() == 0:
        raise SolverFailure("scip (allocation MILP)", status)
    tail = np.zeros(ell.size, dtype=bool)
    for j, v in t.items():
        tail[j] = mdl.getVal(v) > 0.5
    x = _fill(seg, ell, tail, w)
    loss = float(seg.loss(x).sum())
    bound = min(loss, float(mdl.getDualbound()))
    if threshold is not None:
        if loss <= threshold:
            return Allocation(loss, bound, x, 0, "below threshold")
        return Allocation(loss, bound, x, 0, "node limit")  # undecided (time limit, or rounding)
    if status == "optimal":
        return Allocation(loss, bound, x, 0, "milp")
    raise SolverFailure("scip (allocation MILP)", status)


def _fill(seg: Segments, ell: np.ndarray, tail: np.ndarray, w: float) -> np.ndarray:
    """The best allocation for a given set of tail banks: those at a_j + b_j (then their free
    tails), the others' m-pieces, then their M-pieces."""
    a, b = seg.a, seg.b
    x = np.where(tail, a + b, 0.0)
    rest = w - float(x.sum())
    for room in (np.where(tail, ell - a - b, 0.0), np.where(tail, 0.0, a), np.where(tail, 0.0, b)):
        if rest <= 0:
            break
        tot = float(room.sum())
        take = min(rest, tot)
        if tot > 0:
            cum = np.cumsum(room)
            x = x + np.clip(take - (cum - room), 0.0, room)
        rest -= take
    if rest < 0:  # the forced part exceeds w: scale the tails' forced volumes back (cost only falls)
        x = x * (w / float(x.sum()))
    return np.minimum(x, ell)


# ----------------------------------------------------------------------------- clearing volume


class Adversary:
    """Data of the middle level at a fixed own early sale ``x_i`` (vectorised over banks)."""

    def __init__(self, system: System, i: int, x_i: float, ell: np.ndarray, others: np.ndarray):
        self.system, self.i, self.x_i, self.ell, self.others = system, i, float(x_i), ell, others
        self.D = system.L - system.c
        fixed = np.ones(system.n, dtype=bool)
        fixed[others] = False
        # banks that do not move: bank i (x_i) and banks with ell_j = 0 (x_j = 0)
        self.D_fix = self.D[fixed]
        self.x_fix = np.where(np.arange(system.n) == i, self.x_i, 0.0)[fixed]
        self.r_fix = np.maximum(system.s[fixed] - self.x_fix, 0.0)
        self.D_oth, self.s_oth, self.ell_oth = self.D[others], system.s[others], ell[others]

    def full(self, x_oth: np.ndarray) -> np.ndarray:
        x = np.zeros(self.system.n)
        x[self.i] = self.x_i
        x[self.others] = x_oth
        return x


def _fixed_terms(adv: Adversary, P: float, q: float) -> float:
    """sum of g_j over the banks that do not move."""
    return float(np.minimum(np.maximum(adv.D_fix - adv.x_fix * P, 0.0), adv.r_fix * q).sum())


def allocation_test(adv: Adversary, P: float, aX: float, w: float, u: float, node_limit: int = 30,
                    exact: bool = False, time_limit: float = 10.0):
    """Decide ``H(u) = min_x F(u, x) <= 0`` over the others' box with ``sum x = w`` (first-period
    price P, permanent impact aX).  ``H(u) <= 0`` iff the allocation problem's minimum loss is
    at most ``theta = sum_j g_j(0) - f(u) (u - aX)`` (g over all banks at u); returns
    ``(theta, Allocation)``: ``bound > theta`` proves H(u) > 0, ``loss <= theta`` exhibits
    an allocation with F(u, x) <= 0; status ``node limit`` means undecided.  With ``exact``,
    an undecided branch and bound hands over to SCIP's MILP (decision form, time limit)."""
    q = float(adv.system.f(u))
    seg = loss_segments(adv.D_oth, adv.s_oth, adv.ell_oth, P, q)
    theta = float(seg.g0.sum()) + _fixed_terms(adv, P, q) - q * (u - aX)
    al = min_loss(seg, adv.ell_oth, w, threshold=theta, node_limit=node_limit)
    if exact and al.status == "node limit":
        al = min_loss_milp(seg, adv.ell_oth, w, threshold=theta, time_limit=time_limit)
    return theta, al


def volume_of(adv: Adversary, P: float, aX: float, x_oth: np.ndarray) -> float:
    """Root u of F(., x) for the allocation x_oth with first-period price P and impact aX; with
    the true data (P = f(X), aX = alpha X) this is the clearing volume of (4)."""
    x = adv.full(x_oth)
    sysm = adv.system
    return clearing_volume(np.maximum(adv.D - x * P, 0.0), np.maximum(sysm.s - x, 0.0), aX, sysm.f)


@dataclass
class VolumeBracket:
    u_lo: float  # attained: the volume of x_oth
    u_hi: float  # certified: H(u_hi) > 0, so u_max < u_hi
    x_oth: np.ndarray
    iterations: int
    certified: bool


def _rescale(x: np.ndarray, ub: np.ndarray, w: float) -> np.ndarray:
    """An allocation in the box [0, ub] with sum w, close to x (proportional shrink or fill)."""
    t = float(x.sum())
    if t > w:
        return x * (w / t) if t > 0 else x
    room = ub - x
    R = float(room.sum())
    return x + room * ((w - t) / R) if R > 0 else x


def max_volume(adv: Adversary, P: float, aX: float, w: float, du: float, max_iter: int = 200,
               start: Optional[np.ndarray] = None, exact: bool = True) -> VolumeBracket:
    """``u_max = max {u*(x) : sum_j x_j = w}`` bracketed as ``[u_lo, u_hi)`` (Dinkelbach-type).

    Any allocation x with sum w has an attained volume ``u*(x)`` (its root).  Test
    ``u = u*(x) + du``: if the allocation problem proves ``H(u) > 0``, then ``u_max < u``; if it
    finds x' with ``F(u, x') <= 0``, the root of x' is at least u: continue from x'; if it is
    undecided within its node budget (the minimum loss lies within the knapsack-type
    integrality gap of the threshold), widen du fourfold and test again.  Each step raises the
    attained volume by at least du, so the loop is finite; in practice a handful of steps.
    Without ``exact`` (a primal search) the allocation problem gets no MILP and an undecided
    test ends the search with the best attained volume (``certified`` False).
    """
    if start is None:
        start = adv.ell_oth * 0.5
    x = _rescale(np.minimum(start, adv.ell_oth), adv.ell_oth, w)
    best_u, best_x = -math.inf, x
    for it in range(1, max_iter + 1):
        un = volume_of(adv, P, aX, x)
        if un > best_u:
            best_u, best_x = un, x
        uh = best_u + du
        theta, al = allocation_test(adv, P, aX, w, uh, exact=exact)
        if al.bound > theta:
            return VolumeBracket(best_u, uh, best_x, it, True)
        if al.loss <= theta:
            x = al.x
        elif exact:
            du *= 4.0
        else:  # undecided, and only a good allocation is wanted: stop here
            return VolumeBracket(best_u, math.inf, best_x, it, False)
    return VolumeBracket(best_u, math.inf, best_x, max_iter, False)


# ----------------------------------------------------------------------------- branch and bound over w


def _vi_bound(adv: Adversary, P: float, q: float) -> float:
    """V_i = min(max(L_i, cash), cash + (s_i - x_i) q) with cash = c_i + x_i P (non-decreasing in P, q)."""
    sysm, i = adv.system, adv.i
    cash = float(sysm.c[i]) + adv.x_i * P
    return min(max(float(sysm.L[i]), cash), cash + (float(sysm.s[i]) - adv.x_i) * q)


def _vi_exact(adv: Adversary, x_oth: np.ndarray) -> float:
    sysm = adv.system
    x = adv.full(x_oth)
    X = float(x.sum())
    P = float(sysm.f(X))
    u = clearing_volume(np.maximum(adv.D - x * P, 0.0), np.maximum(sysm.s - x, 0.0), sysm.alpha * X, sysm.f)
    return _vi_bound(adv, P, float(sysm.f(u)))


def volume_target(adv: Adversary, cash: float, target: float) -> float:
    """The smallest clearing volume u with ``V_i(cash, f(u)) < target``: every u below it gives
    ``V_i >= target``.  ``inf`` if no volume does (V_i >= target whatever the price), ``-inf``
    if every volume does."""
    sysm, i = adv.system, adv.i
    L_i, r_i = float(sysm.L[i]), float(sysm.s[i]) - adv.x_i
    if max(L_i, cash) < target:
        return -math.inf
    if cash >= target or r_i <= 0:
        return math.inf
    p = (target - cash) / r_i  # V_i >= target iff f(u) >= p
    if p > 1.0:
        return -math.inf
    return float(sysm.f.inverse(p))


def inner_separable(system: System, i: int, x_i: float, ell_vec: np.ndarray, tol: float = 1e-7,
                    time_limit: float = 60.0, max_nodes: int = 100_000, cutoff: float = -math.inf) -> InnerResult:
    """``min_{x_-i} V_i(x_i, x_-i)`` of (7), permanent price impact (4), exactly (module doc).

    Branch and bound over the others' aggregate early sale w.  A node ``[w_a, w_b]`` is
    discarded when its values cannot go below ``incumbent - tol``:

    * by Lemma 4.2 (:func:`cap_bound`: ``u* <= Lambda - (1 - alpha) X``), or
    * by the separable test: with ``cash_lo = c_i + x_i f(x_i + w_b)``, every V_i on the node is
      at least ``incumbent - tol`` unless the clearing volume reaches
      ``u_t = volume_target(cash_lo, incumbent - tol)``; the allocation problem on the node's
      relaxed data (P = f(x_i + w_b), alpha X = alpha (x_i + w_b), volume w_a) decides whether
      ``H(u_t) > 0`` (branch and bound on the tails, SCIP's MILP when it stays undecided).

    Otherwise the node is halved; the midpoint gets a primal point (the adversary's best
    volume at that w, :func:`max_volume` with the true data, exactly re-cleared).
    ``value`` is V_i re-cleared exactly (:func:`liqstress.solvers.clearing.clear`) at the
    returned ``x``; ``lower_bound`` is the smallest bound over the discarded and open nodes;
    ``certified`` iff ``value - lower_bound <= tol``.  Status: ``optimal``, ``time limit``,
    ``node limit``, or ``dominated``: the value fell below ``cutoff`` (the caller only needed to
    know that, e.g. a point of the outer level that cannot be the maximiser) and the search
    stopped there.
    """
    t0 = time.perf_counter()
    if system.has_interbank:
        raise ValueError("inner_separable is derived for permanent price impact (4) only")
    n = system.n
    ell_vec = np.asarray(ell_vec, dtype=float)
    others = np.array([j for j in range(n) if j != i and ell_vec[j] > 0], dtype=int)
    adv = Adversary(system, i, float(x_i), ell_vec, others)
    f, alpha = system.f, float(system.alpha)
    if others.size == 0:
        x = adv.full(np.zeros(0))
        v = float(clear(system, x).values[i])
        return InnerResult(v, x, True, "separable", "optimal", time.perf_counter() - t0, 0.0, v)
    W = float(ell_vec[others].sum())
    Lam = float(ell_vec.sum())
    c_i, L_i, r_i = float(system.c[i]), float(system.L[i]), float(system.s[i]) - adv.x_i
    S = max(1.0, float(system.S))
    slope = r_i * abs(float(f.d1(0.0)))
    du = min(max(0.02 * tol / slope, 1e-11 * S) if slope > 0 else 1e-3 * S, 1e-3 * S)

    def cash(w):
        return c_i + adv.x_i * float(f(adv.x_i + w))

    def cap_bound(wa: float, wb: float) -> float:
        """Lower bound of V_i on [wa, wb] from Lemma 4.2 (u* <= Lambda - (1 - alpha) X):
        V_i >= min(A(w), B(w)) with A = max(L_i, cash) non-increasing and
        B = cash + (s_i - x_i) f(Lambda - (1 - alpha) X) convex in w (f convex); the minimum
        of B on the interval is bounded below by the intersection of its end tangents."""
        def B(w):
            return cash(w) + r_i * float(f(Lam - (1 - alpha) * (adv.x_i + w)))

        def dB(w):
            X = adv.x_i + w
            return adv.x_i * float(f.d1(X)) - (1 - alpha) * r_i * float(f.d1(Lam - (1 - alpha) * X))

        A = max(L_i, cash(wb))
        Ba, Bb, ga, gb = B(wa), B(wb), dB(wa), dB(wb)
        if ga >= 0:
            lb_B = Ba
        elif gb <= 0:
            lb_B = Bb
        else:  # tangents y = Ba + ga (w - wa) and y = Bb + gb (w - wb) meet below B's minimum
            wc = (Bb - Ba + ga * wa - gb * wb) / (ga - gb)
            lb_B = min(Ba, Bb, Ba + ga * (wc - wa))
        return min(A, lb_B)

    best = {"v": math.inf, "x": None}
    undecided = [0]

    def offer(x_oth: np.ndarray) -> None:
        v = _vi_exact(adv, x_oth)
        if v < best["v"]:
            best["v"], best["x"] = v, x_oth

    def primal(w: float, start: Optional[np.ndarray]) -> np.ndarray:
        X = adv.x_i + w
        br = max_volume(adv, float(f(X)), alpha * X, w, du, start=start, exact=False)
        offer(br.x_oth)
        return br.x_oth

    def separable_test(wa: float, wb: float, target: float, start: Optional[np.ndarray]):
        """(discarded?, allocation found or None)."""
        u_t = volume_target(adv, cash(wb), target)
        if u_t == math.inf or u_t >= Lam - (1 - alpha) * (adv.x_i + wa):
            return True, None
        if u_t == -math.inf:
            return False, None
        X_hi = adv.x_i + wb
        P_lo = float(f(X_hi))
        theta, al = allocation_test(adv, P_lo, alpha * X_hi, wa, u_t, exact=True)
        if al.bound > theta:
            return True, None
        if al.loss > theta:  # undecided within the MILP's time limit: split the node
            undecided[0] += 1
            return False, None
        return False, al.x

    offer(ell_vec[others].copy())
    offer(np.zeros(others.size))
    xm = primal(0.5 * W, None)
    heap: list = [(-math.inf, 0, 0.0, W, xm)]
    settled = math.inf  # smallest bound of the discarded nodes
    nodes, tick, status = 1, 1, "optimal"
    min_width = 1e-13 * max(1.0, W)
    while heap:
        lb, _, wa, wb, xs = heap[0]
        if best["v"] < cutoff:
            status = "dominated"
            break
        target = best["v"] - tol
        if lb >= target:
            break
        if time.perf_counter() - t0 > time_limit:
            status = "time limit"
            break
        if nodes >= max_nodes:
            status = "node limit"
            break
        heapq.heappop(heap)
        lb_cap = cap_bound(wa, wb)
        if lb_cap >= target:
            settled = min(settled, lb_cap)
            continue
        done, x_found = separable_test(wa, wb, target, xs)
        nodes += 1
        if done:
            settled = min(settled, target)
            continue
        if x_found is not None:
            offer(x_found)
        if wb - wa <= min_width:  # cannot split further: keep its bound open
            settled = min(settled, max(lb, lb_cap))
            status = "resolution limit"
            continue
        wm = 0.5 * (wa + wb)
        xm = primal(wm, xs if x_found is None else x_found)
        for a_, b_ in ((wa, wm), (wm, wb)):
            heapq.heappush(heap, (max(lb, lb_cap), tick, a_, b_, xm))
            tick += 1
    lower = min([h[0] for h in heap] + [settled, best["v"]])
    x = adv.full(best["x"])
    value = float(clear(system, x).values[i])
    gap = value - lower
    cert = status == "optimal" and gap <= tol * (1 + 1e-9) + 1e-15
    res = InnerResult(value, x, cert, "separable", status, time.perf_counter() - t0, gap, lower)
    res.nodes = nodes  # type: ignore[attr-defined]
    res.undecided = undecided[0]  # type: ignore[attr-defined]
    return res
