"""The CBC LP of ``cbc_lp`` solved exactly on a reduced formulation (the default).

Same two stages as ``cbc_lp.solve_lexicographic`` -- the maximal survival horizon T, then the
maximal remaining CBC at T (with the same 1e-7 per-unit tie-break) -- with the same optimal
values, on a much smaller LP.  The reductions (proofs in ``docs/cbc.md``, "Reduced
formulation"; closed forms in ``cbc_asap``):

* **Horizon bracket.**  The waterfall's horizon ``T_w`` is feasible (its plan obeys every LP
  constraint) and the closed form ``T_ub`` of ``cbc_asap.upper_bound`` (Proposition 1) is an
  upper bound, so LPs are solved only for T in ``(T_w, T_ub]``; none when ``T_w = T_ub``.
  When no repo must be repaid, ``T_ub`` is the horizon itself (Proposition 2): no LP at all.
* **Stage 1 without the other groups.**  Only groups with term repos that must be repaid
  (``repo_term_days`` without ``rollover``) stay in the feasibility LP.  Every other group
  contributes its ASAP cash ``V_g(t)`` as a constant: by Proposition 1 no plan gets more
  from it by any day, and the ASAP plan gets exactly that while using only the group's own
  constraints.
* **Stage 2 without daily variables for groups without term repos.**  For such a group
  (one lag, shared daily capacity and holdings, no repayment) any plan can be replaced by the
  ASAP plan with the same total volume ``U_g``, filled in decreasing cash per unit: the total
  (hence the remaining CBC and the tie-break) is unchanged and the cash delivered by every
  day can only grow.  So the group is one column ``U_g`` (plus ``w_g = F_g(U_g)`` when it has
  several cash rates, through the affine pieces of the concave ``F_g``) and its cash by day t
  is ``F_g(min(U_g, K_g(t - L_g)))``, written with one column ``z`` per day on which the
  capacity ``K_g`` is still below the group's usable volume (``z <= w_g``, ``z <= F_g(K)``);
  after that day the cash is ``w_g`` itself.  Stage 2 runs on the plan truncated to T days.
* **Term-repo groups in stage 2.**  A *restriction* (a real plan: rollable repos rolled at
  every maturity, other term repos only on the days from which they mature after T) and a
  *relaxation* (before T a term-repo group delivers its ``V_g(t)`` for free; on day T at
  most the cash of the units it still holds) are two small LPs; if their optima coincide
  the restriction's plan is optimal.  Otherwise (fallback) the term-repo groups keep their
  daily variables in the reduced LP.

The reported plan: the LP's actions for term-repo groups, the ASAP schedule of the optimal
totals ``U_g`` for the others (each line monetises the chosen amount as early as its
capacity allows; any timing with the same totals has the same remaining CBC).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from liqstress.errors import SolverFailure
from liqstress.solvers import cbc_asap as asap
from liqstress.solvers.cbc_compile import Compiled
from liqstress.solvers.cbc_lp import (  # noqa: I001
    INF,
    TIE_BREAK,
    HighsLP,
    LPData,
    _survival_lower,
    build_lp,
    horizon_bisection,
    remaining_objective,
)


GAP_TOL = 1e-9  # relaxation - restriction objective gap accepted as zero (times the plan's scale)


class StageTwoInfeasible(SolverFailure):
    """The stage-2 LP is infeasible at the horizon the closed forms certified.  Only possible
    when a balance lies within the closed forms' tolerance (``cbc_asap.TOL``) of zero and HiGHS
    judges it with its own tolerance; :func:`solve_reduced` then solves the full LP instead."""


def subset(c: Compiled, groups, out: np.ndarray | None = None) -> tuple[Compiled, np.ndarray]:
    """The plan restricted to ``groups`` (with net outflows ``out``); returns it and the
    global index of each of its sources."""
    groups = np.asarray(sorted(int(g) for g in groups), dtype=int)
    gmap = {int(g): k for k, g in enumerate(groups)}
    src = np.flatnonzero(np.isin(c.s_group, groups))
    sub = Compiled(
        H=c.H, opening=c.opening, out=c.out.copy() if out is None else np.asarray(out, float),
        g_id=[c.g_id[g] for g in groups], g_type=[c.g_type[g] for g in groups],
        g_level=[c.g_level[g] for g in groups], g_avail=c.g_avail[groups], g_cap=c.g_cap[groups],
        g_value=c.g_value[groups], g_closed=c.g_closed[groups].reshape(len(groups), c.H),
        g_term=c.g_term[groups], g_roll=c.g_roll[groups],
        s_group=np.asarray([gmap[int(c.s_group[j])] for j in src], dtype=int),
        s_kind=[c.s_kind[j] for j in src], s_cash=c.s_cash[src], s_lag=c.s_lag[src],
        s_width=c.s_width[src], s_tranche=c.s_tranche[src], memo_facilities=[], floor=c.floor,
    )
    return sub, src


def truncate(c: Compiled, T: int) -> Compiled:
    """The plan restricted to its first T days."""
    sub, _ = subset(c, range(c.G), c.out[:T])
    sub.H = T
    sub.g_closed = c.g_closed[:, :T].copy()
    return sub


@dataclass
class Spec:
    """A group written with one volume column U (module docstring): its cash by day t is
    ``F(min(U, Kt[t]))`` (``F`` the cash curve ``u``/``F``), U in [0, Ubar], cost ``unit_cost``
    per unit of U (value used + tie-break)."""

    g: int
    u: np.ndarray
    F: np.ndarray
    Kt: np.ndarray  # (H,) units whose cash can have landed by day t
    Ubar: float
    unit_cost: float
    kinds: tuple | None = None  # source kinds of the curve (None: all)


def rest_spec(c: Compiled, g: int, T: int, kinds: tuple | None = None, widths: dict | None = None) -> Spec | None:
    """Spec of a group without repayments (Proposition 2 of ``cbc_asap``) at horizon T."""
    u, F, order = asap.cash_curve(c, g, kinds, widths)
    if len(order) == 0:
        return None
    L = int(asap.group_lag(c, g))
    Kt = asap.shift(asap.capacity_units(c, g), L)
    Ubar = min(float(c.g_avail[g]), float(Kt[T - 1]))
    if Ubar <= 0:
        return None
    return Spec(g, u, F, np.minimum(Kt, Ubar), Ubar, float(c.g_value[g]) + TIE_BREAK, kinds)


class _Block:
    """Extra columns / rows appended to a sub-LP (the U, w, z columns of the module doc)."""

    def __init__(self, ncol0: int, nrow0: int):
        self.ncol0, self.nrow0 = ncol0, nrow0
        self.ncol = 0
        self.nrow = 0
        self.lo: list = []
        self.hi: list = []
        self.cost: list = []
        self.r: list = []
        self.c: list = []
        self.v: list = []
        self.rlo: list = []
        self.rhi: list = []

    def cols(self, lo, hi, cost=0.0) -> np.ndarray:
        lo = np.atleast_1d(np.asarray(lo, float))
        n = len(lo)
        self.lo.append(lo)
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n,)))
        self.cost.append(np.broadcast_to(np.asarray(cost, float), (n,)))
        idx = self.ncol0 + self.ncol + np.arange(n)
        self.ncol += n
        return idx

    def rows(self, n: int, lo, hi) -> np.ndarray:
        self.rlo.append(np.broadcast_to(np.asarray(lo, float), (n,)))
        self.rhi.append(np.broadcast_to(np.asarray(hi, float), (n,)))
        idx = self.nrow0 + self.nrow + np.arange(n)
        self.nrow += n
        return idx

    def entries(self, r, col, val) -> None:
        r = np.atleast_1d(np.asarray(r, int))
        self.r.append(r)
        self.c.append(np.broadcast_to(np.asarray(col, int), r.shape))
        self.v.append(np.broadcast_to(np.asarray(val, float), r.shape))

    def cat(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0)


def _add_spec(blk: _Block, sp_: Spec, H: int) -> int:
    """Append the U (and w, z) columns of one spec; return the U column."""
    u, F, Ubar = sp_.u, sp_.F, sp_.Ubar
    U = int(blk.cols(0.0, Ubar, -sp_.unit_cost)[0])
    pieces = np.asarray([k for k in range(len(u) - 1) if u[k] < Ubar], dtype=int)
    slope = np.diff(F) / np.diff(u)
    if len(pieces) == 1:
        Wc, Wv = U, float(slope[0])
    else:  # w <= F(u_k) + slope_k (U - u_k)
        Wc, Wv = int(blk.cols(0.0, float(np.interp(Ubar, u, F)))[0]), 1.0
        r = blk.rows(len(pieces), -INF, F[pieces] - slope[pieces] * u[pieces])
        blk.entries(r, Wc, 1.0)
        blk.entries(r, U, -slope[pieces])
    Kt = np.asarray(sp_.Kt, float)
    t = np.arange(H)
    full = Kt >= Ubar * (1 - 1e-12)
    mid = (Kt > 0) & ~full
    # one z per run of equal capacity (closed days repeat the day before's volume)
    prevK = np.concatenate([[-1.0], Kt[:-1]])
    prevmid = np.concatenate([[False], mid[:-1]])
    new = mid & ~(prevmid & (Kt == prevK))
    nz = int(new.sum())
    col_t = np.full(H, -1)
    val_t = np.zeros(H)
    if nz:
        zc = blk.cols(np.zeros(nz), np.interp(Kt[new], u, F))
        r = blk.rows(nz, -INF, 0.0)  # z - W <= 0
        blk.entries(r, zc, 1.0)
        blk.entries(r, Wc, -Wv)
        run = np.cumsum(new) - 1
        col_t[mid] = zc[run[mid]]
        val_t[mid] = 1.0
    col_t[full] = Wc
    val_t[full] = Wv
    has = col_t >= 0
    # balance row t: B_t - B_{t-1} - (E(t) - E(t-1)) + ... = -out_t
    blk.entries(t[has], col_t[has], -val_t[has])
    nxt = has & (t + 1 < H)
    blk.entries(t[nxt] + 1, col_t[nxt], val_t[nxt])
    return U


def reduced_lp(c: Compiled, lp_groups, specs: list, T: int, const_cash: np.ndarray | None = None,
               late_repos_only: bool = False):
    """Stage-2 LP at horizon T: the daily LP of ``lp_groups`` plus one U/w/z block per spec;
    ``const_cash`` (H,): cumulative cash by day from outside the LP (a constant).
    ``late_repos_only``: the term repos of ``lp_groups`` may only be taken on days from which
    they mature after the horizon (so they never mature in the LP: no collateral stock rows).
    Returns (LPData, sub-plan, its source indices, {spec index: U column}, cost to maximise)."""
    H = c.H
    out = c.out.copy()
    if const_cash is not None:
        out -= np.diff(np.concatenate([[0.0], const_cash]))
    sub, src = subset(c, lp_groups, out)
    if late_repos_only:
        term = sub.g_term.copy()
        sub.g_term = np.zeros_like(term)
        sub.g_roll = np.zeros_like(sub.g_roll)
    base = build_lp(sub)
    if late_repos_only:
        for j in range(sub.S):
            g = int(sub.s_group[j])
            if sub.s_kind[j] == "repo" and term[g] > 0:
                first = max(0, T - int(sub.s_lag[j]) - int(term[g]))  # matures on day >= T
                base.col_hi[j * H : j * H + min(first, H)] = 0.0
    nrow0, ncol0 = base.A.shape
    blk = _Block(ncol0, nrow0)
    ucol = {k: _add_spec(blk, sp_, H) for k, sp_ in enumerate(specs)}
    ncol = ncol0 + blk.ncol
    nrow = nrow0 + blk.nrow
    A0 = base.A.tocoo()
    R = np.concatenate([A0.row, blk.cat("r")]).astype(int)
    C = np.concatenate([A0.col, blk.cat("c")]).astype(int)
    V = np.concatenate([A0.data, blk.cat("v")])
    A = sp.csc_matrix((V, (R, C)), shape=(nrow, ncol))
    A.sum_duplicates()
    A.eliminate_zeros()
    data = LPData(base.lay, A, np.concatenate([base.row_lo, blk.cat("rlo")]), np.concatenate([base.row_hi, blk.cat("rhi")]),
                  np.concatenate([base.col_lo, blk.cat("lo")]), np.concatenate([base.col_hi, blk.cat("hi")]), base.arrival)
    cost = np.concatenate([remaining_objective(sub, base, T), blk.cat("cost")])
    return data, sub, src, ucol, cost


def _solve(data: LPData, cost: np.ndarray, T: int, time_limit, algorithm, allow_infeasible: bool = False):
    lp = HighsLP(data, time_limit=time_limit, algorithm=algorithm)
    lp.set_B_lower(_survival_lower(data.lay, T))
    lp.set_x_window(T)
    lp.set_cost(cost, maximize=True)
    st = lp.run()  # raises SolverFailure on any status but optimal / infeasible
    if st != "optimal":
        if allow_infeasible:
            return None
        raise StageTwoInfeasible("highs", "reduced stage 2 infeasible at the certified horizon")
    return lp.values(), float(lp.h.getInfo().objective_function_value), lp.algorithm


def _place(c: Compiled, data: LPData, groups: np.ndarray, src: np.ndarray, v: np.ndarray,
           x: np.ndarray, roll: np.ndarray) -> None:
    """Copy the sub-LP's actions and rolls (solution vector v) into the global arrays;
    ``groups``: global index of each sub-LP group."""
    lay = data.lay
    H = c.H
    x[src] = np.clip(v[: lay.S * H].reshape(lay.S, H), 0.0, None)
    gidx = np.asarray(sorted(int(g) for g in groups), dtype=int)
    for r, g in enumerate(lay.roll_groups):
        roll[gidx[g]] = np.clip(v[lay.roll(r, 0) : lay.roll(r, 0) + H], 0.0, None)


def _apply_specs(c: Compiled, specs: list, ucol: dict, v: np.ndarray, x: np.ndarray, roll: np.ndarray) -> None:
    """ASAP schedules of the optimal volumes U (every repo of a term group rolled)."""
    for k, sp_ in enumerate(specs):
        U = float(np.clip(v[ucol[k]], 0.0, sp_.Ubar))
        if U <= 1e-12 * max(1.0, sp_.Ubar):
            continue
        g = sp_.g
        for j, arr in asap.asap_schedule(c, g, U, kinds=sp_.kinds).items():
            x[j] = arr
            if c.g_term[g] > 0 and c.s_kind[j] == "repo":
                roll[g] = asap.rolled_forever(c, g, arr, int(c.s_lag[j]))


def _window_widths(c: Compiled, g: int, T: int) -> dict:
    """{repo source: units it can take on the days from which it matures after day T}."""
    out = {}
    for j in np.flatnonzero(c.s_group == g):
        if c.s_kind[j] == "repo":
            L, m = int(c.s_lag[j]), int(c.g_term[g])
            last, first = T - 1 - L, T - L - m  # action days that pay by T and mature >= T
            if last < 0:
                out[int(j)] = 0.0
                continue
            is_open = ~c.g_closed[g, max(first, 0) : last + 1]
            n = int(is_open.sum())
            cap = float(c.g_cap[g])
            out[int(j)] = min(float(c.g_avail[g]), cap * n if np.isfinite(cap) else (float(c.g_avail[g]) if n else 0.0))
    return out


def _bounds(c: Compiled, T: int, rest_specs: list, info: dict, time_limit, algorithm):
    """Restriction (a feasible plan: no repo repaid inside the horizon) and relaxation (term
    repos fund any day before T for free) of stage 2; returns the restriction's solution if
    the two objectives coincide, else None."""
    H = c.H
    term = np.flatnonzero(c.g_term > 0)
    roll_g = [int(g) for g in term if c.g_roll[g]]
    late_g = [int(g) for g in term if not c.g_roll[g]]
    # restriction: rollable repos rolled at every maturity (a U/w/z spec); the others only on
    # the days from which they mature after T (daily variables, no collateral returns)
    restr = [s_ for s_ in (rest_spec(c, g, T) for g in roll_g) if s_ is not None]
    specs = rest_specs + restr
    data, sub, src, ucol, cost = reduced_lp(c, late_g, specs, T, late_repos_only=True)
    got = _solve(data, cost, T, time_limit, algorithm, allow_infeasible=True)
    if got is None:  # the horizon needs repos repaid inside it
        info["lp_solves"] += 1
        info["stage2_restriction"] = "infeasible"
        return None
    v0, _, algo = got
    nx = data.lay.S * H
    main0 = -sum(float(c.g_value[s_.g]) * float(v0[ucol[k]]) for k, s_ in enumerate(specs))
    xs = np.clip(v0[:nx].reshape(data.lay.S, H), 0.0, None)
    main0 -= float(sum(sub.g_value[sub_g] * xs[j].sum() for j, sub_g in enumerate(sub.s_group)))
    # relaxation: before day T a term group delivers its ASAP cash V_g(t) for free; on day T
    # it delivers at most the cash of the units it still holds (sold, or repos outstanding
    # at T: rolled ones from any day, the others taken late enough to mature after T)
    relax, const = [], np.zeros(H)
    for g in term:
        g = int(g)
        full = rest_spec(c, g, T, widths=None if c.g_roll[g] else _window_widths(c, g, T))
        if full is None:
            continue
        const[: T - 1] += asap.group_cash(c, g)[: T - 1]
        Kt = full.Kt.copy()
        Kt[: T - 1] = 0.0
        relax.append(replace(full, Kt=Kt))
    relax_all = [replace(s_, unit_cost=float(c.g_value[s_.g])) for s_ in rest_specs + relax]
    data_r, _, _, _, cost_r = reduced_lp(c, [], relax_all, T, const_cash=const)
    _, obj_ub, _ = _solve(data_r, cost_r, T, time_limit, algorithm)
    info["lp_solves"] += 2
    gap = obj_ub - main0
    info["stage2_gap"] = gap
    if gap > GAP_TOL * max(1.0, float(c.g_value @ c.g_avail)):
        return None
    info["stage2_algorithm"] = algo
    info["stage2_columns"] = int(data.A.shape[1])
    return data, sub, src, ucol, specs, v0, late_g


def stage2(c: Compiled, T: int, x: np.ndarray, roll: np.ndarray, info: dict, time_limit=None,
           algorithm: str = "auto", certify: bool = True) -> None:
    """Maximal remaining CBC at horizon T (module docstring); fills x and roll.
    ``certify=False`` skips the restriction / relaxation pair (benchmarks of the fallback)."""
    term = np.flatnonzero(c.g_term > 0)
    rest = [g for g in range(c.G) if c.g_term[g] == 0]
    rest_specs = [s_ for s_ in (rest_spec(c, g, T) for g in rest) if s_ is not None]
    if len(term) and certify:
        got = _bounds(c, T, rest_specs, info, time_limit, algorithm)
        if got is not None:
            data, sub, src, ucol, specs, v0, late_g = got
            info["stage2"] = "restriction certified by relaxation"
            _place(c, data, late_g, src, v0, x, roll)
            _apply_specs(c, specs, ucol, v0, x, roll)
            return
    data, sub, src, ucol, cost = reduced_lp(c, term, rest_specs, T)
    info["stage2"] = "reduced LP" if len(term) == 0 else "reduced LP with daily term-repo variables"
    info["stage2_columns"] = int(data.A.shape[1])
    v, _, algo = _solve(data, cost, T, time_limit, algorithm)
    info["lp_solves"] += 1
    info["stage2_algorithm"] = algo
    _place(c, data, term, src, v, x, roll)
    _apply_specs(c, rest_specs, ucol, v, x, roll)


def solve_reduced(c: Compiled, known_feasible: int = 0, time_limit: float | None = None,
                  algorithm: str = "auto", lower_bound=None, certify: bool = True) -> dict:
    """Stage 1 (bracket + small LPs) and stage 2 (reduced LP); same return value as
    ``cbc_lp.solve_lexicographic``."""
    t0 = time.perf_counter()
    H = c.H
    info: dict = {"formulation": "reduced"}
    bound = asap.upper_bound(c)
    lo = max(0, min(int(known_feasible), H))
    info["upper_bound"] = bound.T
    info["closed_form"] = bound.exact
    info["lp_solves"] = 0
    if not bound.exact:
        lo = max(lo, asap.restricted_horizon(c))
        info["restricted_horizon"] = lo
        if lo < bound.T and lower_bound is not None:  # e.g. the waterfall's horizon
            lo = max(lo, int(lower_bound()))
    if bound.exact or lo >= bound.T:
        T = bound.T if bound.exact else max(lo, bound.T)
        info["lp_algorithm"] = "none (closed form)" if bound.exact else "none (bracket closed)"
    else:
        stage1 = asap.needs_lp(c)
        rest = [g for g in range(c.G) if g not in set(stage1.tolist())]
        out = c.out - np.diff(np.concatenate([[0.0], asap.asap_cash(c, rest)]))
        sub, _ = subset(c, stage1, out)
        data1 = build_lp(sub)
        T, lp1, inf = horizon_bisection(sub, data1, time_limit, lo, algorithm, known_bound=bound.T)
        info["lp_solves"] = inf["lp_solves"]
        info["solve_log"] = inf["solve_log"]
        info["lp_algorithm"] = lp1.algorithm
        info["stage1_columns"] = int(data1.A.shape[1])
    info["horizon_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    x = np.zeros((c.S, H))
    roll = np.zeros((c.G, H))
    if T >= 1:
        # days after T play no part in stage 2 (no constraint on B there, no action may pay
        # after T): solve on the plan truncated to T days
        cT = truncate(c, T)
        xT, rT = np.zeros((c.S, T)), np.zeros((c.G, T))
        try:
            stage2(cT, T, xT, rT, info, time_limit, algorithm, certify)
        except StageTwoInfeasible:
            # a balance within the closed forms' tolerance of zero that HiGHS rejects: the
            # full LP decides (bisection from 0, no bracket taken from a tolerance test)
            from liqstress.solvers.cbc_lp import solve_lexicographic

            out = solve_lexicographic(c, method="bisection", time_limit=time_limit, known_feasible=0,
                                      algorithm=algorithm)
            out["info"].update(formulation="full (fallback: stage 2 infeasible at the closed-form horizon)",
                               closed_form_horizon=int(T), upper_bound=bound.T)
            return out
        x[:, :T], roll[:, :T] = xT, rT
    info["stage2_seconds"] = time.perf_counter() - t1
    return {"T": T, "x": x, "roll": roll, "info": info}


__all__ = ["Spec", "StageTwoInfeasible", "reduced_lp", "rest_spec", "solve_reduced", "stage2", "subset"]
