"""Compile a :class:`~liqstress.models.cbc_plan.CBCPlan` into flat numpy arrays.

The LP (``cbc_lp``), the Pyomo model (``cbc_pyomo``), the waterfall (``cbc_waterfall``) and
the plan replay (``replay``) all read this one representation, so the semantics of
docs/model.md §6.3 are written down exactly once:

* a *group* is one capacity holder: an asset line, a counted central-bank facility or a
  management action; it has ``avail`` units in total and ``cap`` units per day;
* a *source* is one way to turn a group's units into cash: ``sell`` / ``repo`` of an asset
  line (a price-impacted sale is split into ``Q`` tranche sources with falling prices),
  ``facility`` draws and ``mgmt`` actions.  ``u`` units of source j acted on day t pay
  ``cash[j] * u`` on day ``t + lag[j]``; repos with a term ``m`` repay the same cash on day
  ``t + lag + m`` unless rolled (``rollover``), and their collateral is then free again.

Days are 1..H in files and 0..H-1 in arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liqstress.models.cbc_plan import LEVELS, CBCPlan

KINDS = ("sell", "repo", "facility", "mgmt")


@dataclass
class Compiled:
    """Flat arrays of one plan (see module docstring)."""

    H: int
    opening: float
    out: np.ndarray  # (H,) net outflows by day
    # groups
    g_id: list[str]
    g_type: list[str]  # "asset" | "facility" | "mgmt"
    g_level: list[str]  # asset level, "facility", "mgmt"
    g_avail: np.ndarray  # (G,) units that can be used
    g_cap: np.ndarray  # (G,) units per day (inf = no daily limit)
    g_value: np.ndarray  # (G,) CBC value per unused unit (after haircut)
    g_closed: np.ndarray  # (G, H) bool: no action that day
    g_term: np.ndarray  # (G,) repo term in days (0 = repos never mature in the horizon)
    g_roll: np.ndarray  # (G,) bool rollover allowed
    # sources
    s_group: np.ndarray  # (S,) int
    s_kind: list[str]  # (S,) one of KINDS
    s_cash: np.ndarray  # (S,) cash per unit
    s_lag: np.ndarray  # (S,) int days
    s_width: np.ndarray  # (S,) total units of this source (tranche width; inf if none)
    s_tranche: np.ndarray  # (S,) tranche number 1..Q (0 if not a tranche)
    # memo: central-bank lines not counted in the horizon (shown only)
    memo_facilities: list[dict] = field(default_factory=list)
    # survival floor (plan.minimum_balance): ``opening`` is the opening cash minus it, so that
    # every solver's ``B_t >= 0`` means ``B_t + floor >= floor``; results add it back
    floor: float = 0.0

    @property
    def S(self) -> int:
        return len(self.s_kind)

    @property
    def G(self) -> int:
        return len(self.g_id)

    def repo_source_of(self, g: int) -> int | None:
        for j in np.flatnonzero(self.s_group == g):
            if self.s_kind[j] == "repo":
                return int(j)
        return None


def tranche_prices(pi, avail: float) -> tuple[np.ndarray, float]:
    """Average price of each of Q equal tranches of width h = avail / Q:
    ``p_q = (F(q h) - F((q-1) h)) / h``, ``F(u) = u f(u)`` (docs/model.md §6.3: concave proceeds).
    Prices fall with q (F concave, Assumption 4.1 (v)), so the piecewise-linear proceeds
    interpolate F at the breakpoints and, by concavity, never exceed the exact ``F(U)``."""
    Q = int(pi.tranches)
    h = avail / Q
    f = pi.inverse_demand()
    grid = h * np.arange(Q + 1)
    F = grid * np.asarray(f(grid), dtype=float)
    return np.diff(F) / h, h


def compile_plan(plan: CBCPlan) -> Compiled:
    """Flatten ``plan`` (scenario haircut add-ons applied; uncounted facilities to memo; the
    survival floor ``minimum_balance`` subtracted from the opening cash, see ``Compiled.floor``)."""
    H = plan.horizon_days
    g_id, g_type, g_level = [], [], []
    avail, cap, value, closed, term, roll = [], [], [], [], [], []
    s_group, s_kind, s_cash, s_lag, s_width, s_tranche = [], [], [], [], [], []

    def add_group(gid, gtype, level, a, c, v, closed_days=(), t=0, r=False):
        g_id.append(gid)
        g_type.append(gtype)
        g_level.append(level)
        avail.append(float(a))
        cap.append(float(c) if c is not None else np.inf)
        value.append(float(v))
        mask = np.zeros(H, dtype=bool)
        for d in closed_days:
            mask[d - 1] = True
        closed.append(mask)
        term.append(int(t or 0))
        roll.append(bool(r))
        return len(g_id) - 1

    def add_source(g, kind, cash, lag, width=np.inf, tranche=0):
        s_group.append(g)
        s_kind.append(kind)
        s_cash.append(float(cash))
        s_lag.append(int(lag))
        s_width.append(float(width))
        s_tranche.append(int(tranche))

    for a in plan.assets:
        d = plan.effective_sale_discount(a)
        hc = plan.effective_repo_haircut(a)
        av = a.available
        sale_value = 0.0
        prices = None
        if a.sale:
            if a.price_impact is not None and av > 0:
                prices, width = tranche_prices(a.price_impact, av)
                sale_value = (1.0 - d) * float(prices.mean())  # = (1-d) F(avail) / avail
            else:
                sale_value = 1.0 - d
        repo_value = (1.0 - hc) if a.repo else 0.0
        g = add_group(
            a.id, "asset", a.level, av, a.daily_capacity, max(sale_value, repo_value),
            a.closed_days, a.repo_term_days if a.repo else 0, a.rollover and a.repo,
        )
        # Dominance: without a repo term and without price impact, sale and repo of the same
        # line share capacity, holdings and settlement lag, so the one paying less cash per
        # unit is never useful (neither for the horizon nor for the remaining CBC, valued at
        # the better of the two): keep only the better one (repo on ties).
        use_repo, use_sale = a.repo, a.sale
        if a.repo and a.sale and prices is None and not a.repo_term_days:
            if 1.0 - hc >= 1.0 - d:
                use_sale = False
            else:
                use_repo = False
        if use_repo:
            add_source(g, "repo", 1.0 - hc, a.settlement_days)
        if use_sale:
            if prices is not None:
                for q, p in enumerate(prices, start=1):
                    add_source(g, "sell", (1.0 - d) * p, a.settlement_days, width, q)
            else:
                add_source(g, "sell", 1.0 - d, a.settlement_days)
    memo = []
    for f in plan.facilities:
        if not f.counted_in_horizon:
            memo.append({"id": f.id, "amount": f.amount, "haircut": f.haircut, "lead_days": f.lead_days,
                         "cash_capacity": f.amount * (1.0 - f.haircut)})
            continue
        g = add_group(f.id, "facility", "facility", f.amount, f.daily_capacity, 1.0 - f.haircut)
        add_source(g, "facility", 1.0 - f.haircut, f.lead_days)
    for m in plan.management_actions:
        g = add_group(m.id, "mgmt", "mgmt", m.amount, m.capacity_per_day, 0.0)
        add_source(g, "mgmt", 1.0, m.lead_days)

    G = len(g_id)
    return Compiled(
        H=H,
        opening=float(plan.opening_cash) - float(plan.minimum_balance),
        out=np.asarray(plan.net_outflows, dtype=float),
        g_id=g_id,
        g_type=g_type,
        g_level=g_level,
        g_avail=np.asarray(avail, dtype=float),
        g_cap=np.asarray(cap, dtype=float),
        g_value=np.asarray(value, dtype=float),
        g_closed=np.asarray(closed, dtype=bool).reshape(G, H),
        g_term=np.asarray(term, dtype=int),
        g_roll=np.asarray(roll, dtype=bool),
        s_group=np.asarray(s_group, dtype=int),
        s_kind=s_kind,
        s_cash=np.asarray(s_cash, dtype=float),
        s_lag=np.asarray(s_lag, dtype=int),
        s_width=np.asarray(s_width, dtype=float),
        s_tranche=np.asarray(s_tranche, dtype=int),
        memo_facilities=memo,
        floor=float(plan.minimum_balance),
    )


def level_rank(level: str) -> int:
    """Waterfall rank: L1 < L2A < L2B < non_HQLA < mgmt < facility."""
    order = {**{lv: i for i, lv in enumerate(LEVELS)}, "mgmt": len(LEVELS), "facility": len(LEVELS) + 1}
    return order[level]
