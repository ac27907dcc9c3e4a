"""The CBC monetisation LP / MILP (docs/model.md §6.3) as sparse matrices solved by HiGHS.

Variables (days t = 0..H-1 in arrays, 1..H in files):

* ``x[j, t] >= 0``  units of source j acted on day t (see ``cbc_compile``);
* ``B[t]``          cumulative cash balance at the end of day t;
* ``roll[g, t]``    units of asset g's maturing repos rolled on day t (groups with rollover);
* ``hold[g, t]``    units of asset g in use (sold or pledged) at the end of day t (groups
  whose repos mature inside the horizon; otherwise one aggregate holdings row suffices).

Constraints:

* balance (docs/model.md §6.3) ``B_t = B_{t-1} + sum_j cash_j x[j, t - lag_j] - repay_t - out_t``,
  ``B_{-1} = opening_cash``; ``repay_t = sum cash_j (M[g, t] - roll[g, t])`` with
  ``M[g, t] = x[repo_g, t - lag - m] + roll[g, t - m]`` the units maturing on day t;
* daily capacity ``sum_{j in g} x[j, t] <= cap_g``; closed days ``x[j, t] = 0``;
* holdings ``sum_{j in g, t} x[j, t] <= avail_g`` (or ``0 <= hold[g, t] <= avail_g`` with
  ``hold_t = hold_{t-1} + sum_j x[j, t] - (M[g, t] - roll[g, t])`` when repos mature);
* rollover ``roll[g, t] <= M[g, t]``; tranche widths ``sum_t x[q, t] <= h``;
* survival to T: ``B_t >= 0`` for t < T (the (a) MILP replaces this with
  ``B_t >= -M_t (1 - z_t)``, ``z_t >= z_{t+1}``, ``max sum_t z_t``).

Big-M: every source's net cash contribution to ``B_t`` is >= 0 (cash in precedes its
repayment), so ``B_t >= opening - sum_{s<=t} out_s`` and
``M_t = max(0, sum_{s<=t} out_s - opening) (1 + 1e-9) + 1`` is valid and tight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from liqstress.errors import SolverFailure
from liqstress.solvers.cbc_compile import Compiled

INF = np.inf
TIE_BREAK = 1e-7  # per unit acted, in the second (remaining-CBC) LP only


@dataclass
class Layout:
    """Column offsets of the variable blocks."""

    S: int
    H: int
    nB: int
    roll_groups: np.ndarray  # group indices with roll variables
    hold_groups: np.ndarray  # group indices with hold variables
    nroll: int
    nhold: int
    ncol: int

    def x(self, j, t):
        return j * self.H + t

    def B(self, t):
        return self.nB + t

    def roll(self, r, t):  # r = position in roll_groups
        return self.nroll + r * self.H + t

    def hold(self, r, t):  # r = position in hold_groups
        return self.nhold + r * self.H + t


def _layout(c: Compiled) -> Layout:
    S, H = c.S, c.H
    roll_groups = np.flatnonzero(c.g_roll & (c.g_term > 0))
    hold_groups = np.flatnonzero(c.g_term > 0)
    nB = S * H
    nroll = nB + H
    nhold = nroll + len(roll_groups) * H
    ncol = nhold + len(hold_groups) * H
    return Layout(S, H, nB, roll_groups, hold_groups, nroll, nhold, ncol)


@dataclass
class LPData:
    """Sparse LP ``row_lo <= A v <= row_hi``, ``col_lo <= v <= col_hi``."""

    lay: Layout
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    arrival: np.ndarray  # (S*H,) 0-based arrival day of each x column (may be >= H)


def build_lp(c: Compiled) -> LPData:
    """Assemble the constraint matrix of the module docstring (B unconstrained below)."""
    lay = _layout(c)
    H, S = c.H, c.S
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rlo: list[np.ndarray] = []
    rhi: list[np.ndarray] = []
    nrow = 0

    def add(r, col, v):
        rows.append(np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(col, dtype=np.int64))
        vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)).copy())

    t = np.arange(H)
    # 1. balance rows 0..H-1: B_t - B_{t-1} - cash_in_t + repay_t = -out_t (+ opening at t=0)
    bal0 = nrow
    add(bal0 + t, lay.nB + t, 1.0)
    add(bal0 + t[1:], lay.nB + t[:-1], -1.0)
    rhs = -c.out.copy()
    rhs[0] += c.opening
    rlo.append(rhs)
    rhi.append(rhs.copy())
    nrow += H
    arrival = np.empty(S * H, dtype=np.int64)
    for j in range(S):
        a = t + c.s_lag[j]
        arrival[j * H : (j + 1) * H] = a
        ok = a < H
        add(bal0 + a[ok], lay.x(j, t[ok]), -c.s_cash[j])
    # repo maturities and rolls
    roll_pos = {int(g): r for r, g in enumerate(lay.roll_groups)}
    hold_pos = {int(g): r for r, g in enumerate(lay.hold_groups)}
    for g in lay.hold_groups:
        m = int(c.g_term[g])
        jr = c.repo_source_of(int(g))
        L, cash = int(c.s_lag[jr]), float(c.s_cash[jr])
        mat = t + L + m  # maturity day of a repo acted on day t
        ok = mat < H
        add(bal0 + mat[ok], lay.x(jr, t[ok]), cash)  # repayment
        if g in roll_pos:
            r = roll_pos[g]
            add(bal0 + t, lay.roll(r, t), -cash)  # rolled: not repaid today ...
            ok2 = t + m < H
            add(bal0 + (t + m)[ok2], lay.roll(r, t[ok2]), cash)  # ... but m days later
    # 2. daily capacity rows (only for groups with >1 source and a binding cap)
    col_hi = np.full(lay.ncol, INF)
    col_lo = np.full(lay.ncol, 0.0)
    col_lo[lay.nB : lay.nB + H] = -INF
    for g in range(c.G):
        srcs = np.flatnonzero(c.s_group == g)
        cap = c.g_cap[g]
        binding = np.isfinite(cap) and (cap < c.g_avail[g] or c.g_term[g] > 0)
        for j in srcs:
            hi = col_hi[j * H : (j + 1) * H]
            hi[c.g_closed[g]] = 0.0
            if np.isfinite(c.s_width[j]):
                hi[:] = np.minimum(hi, c.s_width[j])
            if c.g_term[g] == 0:
                hi[:] = np.minimum(hi, c.g_avail[g])
            if binding and len(srcs) == 1:
                hi[:] = np.minimum(hi, cap)
        if binding and len(srcs) > 1:
            for j in srcs:
                add(nrow + t, lay.x(j, t), 1.0)
            rlo.append(np.full(H, -INF))
            rhi.append(np.full(H, cap))
            nrow += H
        # 3. tranche widths
        for j in srcs:
            if np.isfinite(c.s_width[j]):
                add(np.full(H, nrow), lay.x(j, t), 1.0)
                rlo.append(np.array([-INF]))
                rhi.append(np.array([c.s_width[j]]))
                nrow += 1
        # 4. holdings
        if c.g_term[g] == 0:
            for j in srcs:
                add(np.full(H, nrow), lay.x(j, t), 1.0)
            rlo.append(np.array([-INF]))
            rhi.append(np.array([c.g_avail[g]]))
            nrow += 1
        else:
            # hold_t - hold_{t-1} - sum_j x[j,t] + x_repo[t-L-m] + roll[t-m] - roll[t] = 0
            h = hold_pos[int(g)]
            m = int(c.g_term[g])
            jr = c.repo_source_of(int(g))
            L = int(c.s_lag[jr])
            add(nrow + t, lay.hold(h, t), 1.0)
            add(nrow + t[1:], lay.hold(h, t[:-1]), -1.0)
            for j in srcs:
                add(nrow + t, lay.x(j, t), -1.0)
            ok = t + L + m < H
            add(nrow + (t + L + m)[ok], lay.x(jr, t[ok]), 1.0)
            if int(g) in roll_pos:
                r = roll_pos[int(g)]
                ok2 = t + m < H
                add(nrow + (t + m)[ok2], lay.roll(r, t[ok2]), 1.0)
                add(nrow + t, lay.roll(r, t), -1.0)
            rlo.append(np.zeros(H))
            rhi.append(np.zeros(H))
            nrow += H
            col_hi[lay.hold(h, t)] = c.g_avail[g]
            # rollover: roll[t] - x_repo[t-L-m] - roll[t-m] <= 0
            if int(g) in roll_pos:
                r = roll_pos[int(g)]
                add(nrow + t, lay.roll(r, t), 1.0)
                add(nrow + (t + L + m)[ok], lay.x(jr, t[ok]), -1.0)
                add(nrow + (t + m)[ok2], lay.roll(r, t[ok2]), -1.0)
                rlo.append(np.full(H, -INF))
                rhi.append(np.zeros(H))
                nrow += H
    R = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    C = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    V = np.concatenate(vals) if vals else np.zeros(0)
    A = sp.csc_matrix((V, (R, C)), shape=(nrow, lay.ncol))
    A.sum_duplicates()
    return LPData(lay, A, np.concatenate(rlo), np.concatenate(rhi), col_lo, col_hi, arrival)


def big_m(c: Compiled) -> np.ndarray:
    """Valid and tight big-M per day (module docstring)."""
    deficit = np.cumsum(c.out) - c.opening
    return np.maximum(deficit, 0.0) * (1 + 1e-9) + 1.0


# ---------------------------------------------------------------------- HiGHS driver
IPM_MIN_COLS = 50_000


def choose_algorithm(data: LPData, algorithm: str = "auto") -> str:
    """LP algorithm: ``"simplex"`` (HiGHS primal simplex, ``simplex_strategy=4``: on these
    staircase LPs it needed 10-30x fewer iterations than the default dual simplex) or ``"ipm"``
    (interior point + crossover).  ``"auto"``: IPM for large plans with term repos (their
    collateral-stock rows slowed the simplex down >10x: 365 days x 200 lines with 24 term-repo
    lines took > 150 s with the simplex and 26 s with IPM), the primal simplex otherwise."""
    if algorithm in ("simplex", "ipm"):
        return algorithm
    if algorithm != "auto":
        raise ValueError(f"algorithm must be auto, simplex or ipm, got {algorithm!r}")
    big = data.lay.ncol >= IPM_MIN_COLS
    return "ipm" if big and len(data.lay.hold_groups) > 0 else "simplex"


def new_highs():
    """A ``highspy.Highs()`` whose construction banner (written by the C++ library to file
    descriptor 1 on the first instance of a process) does not pollute ``--json`` output."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured stdout (tests): nothing to guard
        return highspy.Highs()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            h = highspy.Highs()
    finally:
        os.dup2(saved, fd)
        os.close(saved)
    return h


class HighsLP:
    """A HiGHS instance holding the LP; re-solved with changed bounds (warm start)."""

    def __init__(self, data: LPData, Mt: np.ndarray | None = None, time_limit: float | None = None,
                 algorithm: str = "auto"):
        import highspy

        self._hs = highspy
        self.data = data
        lay = data.lay
        A = data.A
        ncol, nrow = A.shape[1], A.shape[0]
        col_lo, col_hi = data.col_lo.copy(), data.col_hi.copy()
        cost = np.zeros(ncol)
        self.nz = 0
        self.algorithm = "branch-and-cut"
        milp_z = Mt is not None
        if milp_z:  # append z_t (binary) and the big-M / monotonicity rows
            H = lay.H
            self.nz = H
            t = np.arange(H)
            zc = ncol + t
            extra_r = np.concatenate([t, t, H + t[:-1], H + t[:-1]])
            extra_c = np.concatenate([lay.nB + t, zc, zc[:-1], zc[1:]])
            extra_v = np.concatenate([np.ones(H), -Mt, np.ones(H - 1), -np.ones(H - 1)])
            E = sp.csc_matrix((extra_v, (extra_r, extra_c)), shape=(2 * H - 1, ncol + H))
            A = sp.vstack([sp.hstack([A, sp.csc_matrix((nrow, H))]), E]).tocsc()
            row_lo = np.concatenate([data.row_lo, -Mt, np.zeros(H - 1)])
            row_hi = np.concatenate([data.row_hi, np.full(2 * H - 1, INF)])
            col_lo = np.concatenate([col_lo, np.zeros(H)])
            col_hi = np.concatenate([col_hi, np.ones(H)])
            cost = np.concatenate([cost, np.ones(H)])
            ncol += H
            nrow = A.shape[0]
        else:
            row_lo, row_hi = data.row_lo, data.row_hi
        lp = highspy.HighsLp()
        lp.num_col_ = ncol
        lp.num_row_ = nrow
        lp.col_cost_ = cost
        lp.col_lower_ = col_lo
        lp.col_upper_ = col_hi
        lp.row_lower_ = row_lo
        lp.row_upper_ = row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        if milp_z:
            integ = [highspy.HighsVarType.kContinuous] * (ncol - self.nz) + [highspy.HighsVarType.kInteger] * self.nz
            lp.integrality_ = integ
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        if not milp_z:
            self.algorithm = choose_algorithm(data, algorithm)
            if self.algorithm == "ipm":
                h.setOptionValue("solver", "ipm")
            else:
                h.setOptionValue("simplex_strategy", 4)
        if milp_z:
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("mip_abs_gap", 0.5)
            h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        h.passModel(lp)
        if milp_z:
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        self.ncol = ncol
        self.n_solves = 0

    # -------------------------------------------------------------- helpers
    def set_B_lower(self, lo: np.ndarray) -> None:
        lay = self.data.lay
        idx = (lay.nB + np.arange(lay.H)).astype(np.int32)
        self.h.changeColsBounds(len(idx), idx, np.asarray(lo, float), np.full(len(idx), INF))

    def set_x_window(self, T: int) -> None:
        """Forbid actions whose cash would arrive after day T (1-based)."""
        d = self.data
        n = d.lay.S * d.lay.H
        hi = d.col_hi[:n].copy()
        hi[d.arrival >= T] = 0.0
        idx = np.arange(n, dtype=np.int32)
        self.h.changeColsBounds(n, idx, d.col_lo[:n], hi)

    def set_cost(self, cost: np.ndarray, maximize: bool) -> None:
        idx = np.arange(len(cost), dtype=np.int32)
        self.h.changeColsCost(len(idx), idx, np.asarray(cost, float))
        self.h.changeObjectiveSense(self._hs.ObjSense.kMaximize if maximize else self._hs.ObjSense.kMinimize)

    def run(self) -> str:
        """Solve; return 'optimal' | 'infeasible'; anything else raises SolverFailure."""
        self.h.run()
        self.n_solves += 1
        st = self.h.getModelStatus()
        MS = self._hs.HighsModelStatus
        if st == MS.kOptimal:
            return "optimal"
        if st in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
            if st == MS.kUnboundedOrInfeasible:
                # objective is bounded here, but make sure: retry without presolve
                self.h.setOptionValue("presolve", "off")
                self.h.run()
                self.h.setOptionValue("presolve", "choose")
                if self.h.getModelStatus() == MS.kOptimal:
                    return "optimal"
                if self.h.getModelStatus() != MS.kInfeasible:
                    raise SolverFailure("highs", self.h.modelStatusToString(self.h.getModelStatus()))
            return "infeasible"
        raise SolverFailure("highs", self.h.modelStatusToString(st))

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=float)


def _survival_lower(lay: Layout, T: int) -> np.ndarray:
    lo = np.full(lay.H, -INF)
    lo[:T] = 0.0
    return lo


def horizon_bisection(c: Compiled, data: LPData, time_limit: float | None = None,
                      known_feasible: int = 0, algorithm: str = "auto",
                      known_bound: int | None = None) -> tuple[int, HighsLP, dict]:
    """(b) Largest T with the LP ``B_t >= 0, t <= T`` feasible.  Feasibility is monotone in T
    (a plan feasible for T is feasible for every T' <= T), so a bracketing search is exact.
    ``known_feasible``: a horizon already certified by a feasible plan (the waterfall's, which
    obeys every LP constraint); ``known_bound``: a proven upper bound on the horizon
    (``cbc_asap.upper_bound``), so ``known_bound + 1`` is infeasible without an LP.
    Search: test ``lo + 1`` first (the LP often equals the waterfall: one LP proves it), then
    gallop upwards (steps 2, 4, 8, ...) and bisect."""
    lp = HighsLP(data, time_limit=time_limit, algorithm=algorithm)
    H = c.H
    log: list = []

    def feasible(T: int) -> bool:
        if T == 0:
            return True
        t0 = time.perf_counter()
        lp.set_B_lower(_survival_lower(data.lay, T))
        ok = lp.run() == "optimal"
        log.append((T, ok, round(time.perf_counter() - t0, 4)))
        return ok

    lo = max(0, min(int(known_feasible), H))
    hi = H + 1  # smallest horizon known infeasible (H + 1: none known)
    if known_bound is not None and known_bound < H:
        hi = max(lo + 1, int(known_bound) + 1)
    step = 1
    galloping = True
    while galloping and lo < H and hi - lo > 1:
        probe = min(lo + step, H, hi - 1)
        if feasible(probe):
            lo = probe
            step *= 2
        else:
            hi = probe
            galloping = False
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(mid):
            lo = mid
        else:
            hi = mid
    return lo, lp, {"lp_solves": lp.n_solves, "bracket_start": int(known_feasible), "solve_log": log}


def horizon_milp(c: Compiled, data: LPData, time_limit: float | None = None) -> tuple[int, dict]:
    """(a) MILP with monotone day indicators: max sum_t z_t, z_t >= z_{t+1},
    ``B_t >= -M_t (1 - z_t)`` (big-M of :func:`big_m`)."""
    lp = HighsLP(data, Mt=big_m(c), time_limit=time_limit)
    status = lp.run()
    if status != "optimal":
        raise SolverFailure("highs-milp", status)
    v = lp.values()
    z = v[lp.ncol - lp.nz :]
    T = int(np.sum(z > 0.5))
    info = {"mip_nodes": int(lp.h.getInfo().mip_node_count), "objective": float(lp.h.getInfo().objective_function_value)}
    return T, info


def remaining_objective(c: Compiled, data: LPData, T: int) -> np.ndarray:
    """Cost vector (to maximise) of the remaining unencumbered CBC at the end of day T:
    ``sum_g value_g (avail_g - used_g(T))`` minus a tiny per-unit tie-break; constant dropped."""
    lay = data.lay
    cost = np.zeros(lay.ncol)
    H = c.H
    hold_pos = {int(g): r for r, g in enumerate(lay.hold_groups)}
    for j in range(c.S):
        g = int(c.s_group[j])
        sl = slice(j * H, (j + 1) * H)
        cost[sl] -= TIE_BREAK
        if g not in hold_pos:
            cost[sl] -= c.g_value[g]
    for g, r in hold_pos.items():
        if T >= 1:
            cost[lay.hold(r, T - 1)] -= c.g_value[g]
    if len(lay.roll_groups):
        cost[lay.nroll : lay.nhold] -= TIE_BREAK
    return cost


def solve_lexicographic(c: Compiled, method: str = "bisection", time_limit: float | None = None,
                        known_feasible: int = 0, algorithm: str = "auto") -> dict:
    """Stage 1: the exact survival horizon (bisection or MILP).  Stage 2: at that horizon,
    maximise the remaining unencumbered CBC (lexicographic).  Returns x, roll arrays."""
    t0 = time.perf_counter()
    data = build_lp(c)
    t_build = time.perf_counter() - t0
    info: dict = {"build_seconds": t_build}
    if method == "bisection":
        T, lp, inf = horizon_bisection(c, data, time_limit, known_feasible, algorithm)
    elif method == "milp":
        T, inf = horizon_milp(c, data, time_limit)
        lp = HighsLP(data, time_limit=time_limit, algorithm=algorithm)
    else:
        raise ValueError(f"method must be 'bisection' or 'milp', got {method!r}")
    info.update(inf)
    info["lp_algorithm"] = lp.algorithm
    t1 = time.perf_counter()
    info["horizon_seconds"] = t1 - t0
    lay = data.lay
    H = c.H
    # stage 2 (also a certificate that T is feasible for the exact constraint B_t >= 0)
    while True:
        lp.set_B_lower(_survival_lower(lay, T))
        lp.set_x_window(T)
        lp.set_cost(remaining_objective(c, data, T), maximize=True)
        st = lp.run()
        if st == "optimal":
            break
        if method == "milp" and T > 0:  # big-M tolerance overshoot: step back (never seen)
            info.setdefault("notes", []).append(f"MILP horizon {T} not LP-feasible; stepped back")
            T -= 1
            continue
        raise SolverFailure("highs", "infeasible at the certified horizon")
    info["stage2_seconds"] = time.perf_counter() - t1
    v = lp.values()
    x = np.clip(v[: lay.S * H].reshape(lay.S, H), 0.0, None)
    roll = np.zeros((c.G, H))
    for r, g in enumerate(lay.roll_groups):
        roll[g] = np.clip(v[lay.roll(r, 0) : lay.roll(r, 0) + H], 0.0, None)
    return {"T": T, "x": x, "roll": roll, "info": info}
