"""Multi-currency CBC LP: one CBC-LP balance (docs/model.md §6.3) per currency, coupled only by FX lines.

Each currency k has its own plan (its net outflows, CBC lines, facilities and opening cash, in
its own units), compiled and assembled by the single-currency code
(:func:`liqstress.solvers.cbc_lp.build_lp`); the blocks are stacked block-diagonally and FX
line columns are appended.  ``y[l, t] >= 0`` units of currency ``sell(l)`` converted on day t
leave the ``sell`` balance and add ``cash_l * y[l, t]`` to the ``buy`` balance on day
``t + lag_l`` (both legs settle that day), ``cash_l = rate(sell) / rate(buy) * (1 - haircut)``;
``y[l, t] <= daily_capacity_l``, ``sum_t y[l, t] <= amount_l``, and ``y = 0`` when the line's
market is closed in the scenario.

Horizon of currency c (:func:`currency_horizon`): the largest T such that some plan keeps
``B^c_t >= 0`` for t <= T while every other currency k keeps ``B^k_t >= 0`` for
``t <= S_k``, with ``S_k`` the stand-alone horizon of k (own resources, no FX), and converts
nothing out of k with settlement after day ``S_k``: another currency lends only what it can
spare without failing earlier than it would on its own.  Only the constraints on c grow with T,
so feasibility is monotone in T and the bracketing search is exact; ``T = S_c`` is feasible
(no conversion), so ``S_c <= T_c``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.sparse as sp

from liqstress.errors import SolverFailure
from liqstress.models.cbc_plan import CBCPlan
from liqstress.solvers.cbc_compile import compile_plan
from liqstress.solvers.cbc_lp import build_lp, new_highs

INF = np.inf


@dataclass(frozen=True)
class FXLineSpec:
    id: str
    sell: str
    buy: str
    cash_per_unit: float  # units of `buy` per unit of `sell`, after haircut
    lag: int
    daily_capacity: Optional[float] = None
    amount: Optional[float] = None
    closed: bool = False


@dataclass
class MultiLP:
    H: int
    codes: list
    lines: list
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    b_cols: dict  # code -> (H,) column indices of B^code_t
    fx0: int  # first FX column; line l, day t at fx0 + l * H + t


@dataclass
class CurrencyHorizon:
    code: str
    survival_days: int
    standalone_days: int
    horizon_days: int
    fx_used: list = field(default_factory=list)  # [{"line", "sell", "buy", "units", "cash"}]
    lp_solves: int = 0

    @property
    def censored(self) -> bool:
        return self.survival_days >= self.horizon_days


def build_multi(plans: dict, lines: list) -> MultiLP:
    """Stack the single-currency LPs of ``plans`` (code -> CBCPlan, same horizon) and add FX columns."""
    codes = list(plans)
    H = plans[codes[0]].horizon_days
    blocks, row_lo, row_hi, col_lo, col_hi = [], [], [], [], []
    b_cols, row_off = {}, {}
    r0 = c0 = 0
    for k in codes:
        d = build_lp(compile_plan(plans[k]))
        blocks.append(d.A)
        row_lo.append(d.row_lo)
        row_hi.append(d.row_hi)
        col_lo.append(d.col_lo)
        col_hi.append(d.col_hi)
        row_off[k] = r0  # balance rows are the first H rows of each block (cbc_lp.build_lp)
        b_cols[k] = c0 + d.lay.nB + np.arange(H)
        r0 += d.A.shape[0]
        c0 += d.A.shape[1]
    L = len(lines)
    fx0 = c0
    rows, cols, vals = [], [], []
    lo_fx, hi_fx = np.zeros(L * H), np.full(L * H, INF)
    extra_lo, extra_hi = [], []
    n_extra = 0
    t = np.arange(H)
    for l, ln in enumerate(lines):
        col = fx0 + l * H + t
        a = t + ln.lag
        ok = a < H
        rows += [row_off[ln.sell] + a[ok], row_off[ln.buy] + a[ok]]
        cols += [col[ok], col[ok]]
        vals += [np.ones(ok.sum()), np.full(ok.sum(), -ln.cash_per_unit)]
        hi = hi_fx[l * H:(l + 1) * H]
        hi[~ok] = 0.0
        if ln.daily_capacity is not None:
            hi[:] = np.minimum(hi, ln.daily_capacity)
        if ln.closed:
            hi[:] = 0.0
        if ln.amount is not None:
            rows.append(np.full(H, r0 + n_extra))
            cols.append(col)
            vals.append(np.ones(H))
            extra_lo.append(-INF)
            extra_hi.append(ln.amount)
            n_extra += 1
    ncol = fx0 + L * H
    nrow = r0 + n_extra
    A = sp.block_diag(blocks, format="csc") if blocks else sp.csc_matrix((0, 0))
    A = sp.csc_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], A.shape[1]))
    A.resize((nrow, ncol))
    if rows:
        E = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
        A = (A + E).tocsc()
    return MultiLP(H, codes, list(lines), A,
                   np.concatenate(row_lo + [np.asarray(extra_lo, float)]),
                   np.concatenate(row_hi + [np.asarray(extra_hi, float)]),
                   np.concatenate(col_lo + [lo_fx]), np.concatenate(col_hi + [hi_fx]), b_cols, fx0)


class _Highs:
    def __init__(self, m: MultiLP):
        import highspy

        self.hs = highspy
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = m.A.shape[1], m.A.shape[0]
        lp.col_cost_ = np.zeros(m.A.shape[1])
        lp.col_lower_, lp.col_upper_ = m.col_lo, m.col_hi
        lp.row_lower_, lp.row_upper_ = m.row_lo, m.row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = m.A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = m.A.indices.astype(np.int32)
        lp.a_matrix_.value_ = m.A.data
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("simplex_strategy", 4)
        h.passModel(lp)
        self.h = h
        self.n = 0

    def bounds(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        idx = np.asarray(idx, dtype=np.int32)
        self.h.changeColsBounds(len(idx), idx, np.asarray(lo, float), np.asarray(hi, float))

    def run(self) -> bool:
        self.h.run()
        self.n += 1
        st = self.h.getModelStatus()
        MS = self.hs.HighsModelStatus
        if st == MS.kOptimal:
            return True
        if st == MS.kUnboundedOrInfeasible:
            self.h.setOptionValue("presolve", "off")
            self.h.run()
            self.h.setOptionValue("presolve", "choose")
            st = self.h.getModelStatus()
            if st == MS.kOptimal:
                return True
        if st in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
            return False
        raise SolverFailure("highs", self.h.modelStatusToString(st))


def currency_horizon(m: MultiLP, target: str, standalone: dict) -> CurrencyHorizon:
    """Horizon of ``target`` (module docstring); ``standalone[k]`` = S_k for every currency."""
    H = m.H
    hi = m.col_hi.copy()
    t = np.arange(H)
    for l, ln in enumerate(m.lines):  # a currency lends nothing settling after its own failure
        if ln.sell != target and standalone[ln.sell] < H:
            sl = hi[m.fx0 + l * H: m.fx0 + (l + 1) * H]
            sl[t + ln.lag >= standalone[ln.sell]] = 0.0
    h = _Highs(m)
    fx_idx = np.arange(m.fx0, m.A.shape[1])
    h.bounds(fx_idx, m.col_lo[fx_idx], hi[fx_idx])
    b_all = np.concatenate([m.b_cols[k] for k in m.codes])

    def lower(T: int) -> np.ndarray:
        out = []
        for k in m.codes:
            lo = np.full(H, -INF)
            lo[:T if k == target else standalone[k]] = 0.0
            out.append(lo)
        return np.concatenate(out)

    def feasible(T: int) -> bool:
        h.bounds(b_all, lower(T), np.full(len(b_all), INF))
        return h.run()

    lo, hi_T = min(standalone[target], H), H + 1
    step = 1
    while lo < H and hi_T == H + 1:
        probe = min(lo + step, H)
        if feasible(probe):
            lo, step = probe, step * 2
        else:
            hi_T = probe
    while hi_T - lo > 1:
        mid = (lo + hi_T) // 2
        if feasible(mid):
            lo = mid
        else:
            hi_T = mid
    used = []
    if m.lines:
        # at the horizon: the least FX conversion that achieves it (reported usage)
        h.bounds(b_all, lower(lo), np.full(len(b_all), INF))
        cost = np.zeros(m.A.shape[1])
        cost[fx_idx] = 1.0
        h.h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        if not h.run():
            raise SolverFailure("highs", "infeasible at the certified currency horizon")
        v = np.asarray(h.h.getSolution().col_value, dtype=float)
        for l, ln in enumerate(m.lines):
            y = np.clip(v[m.fx0 + l * H: m.fx0 + (l + 1) * H], 0.0, None)
            y[y < 1e-9] = 0.0
            if y.sum() > 0:
                days = np.flatnonzero(y > 0) + 1
                used.append({"line": ln.id, "sell": ln.sell, "buy": ln.buy, "units": float(y.sum()),
                             "cash": float(y.sum() * ln.cash_per_unit), "first_day": int(days[0]),
                             "last_day": int(days[-1])})
    return CurrencyHorizon(target, int(lo), int(standalone[target]), H, used, h.n)


__all__ = ["CurrencyHorizon", "FXLineSpec", "MultiLP", "build_multi", "currency_horizon"]
