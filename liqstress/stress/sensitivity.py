"""One-factor sensitivities of the survival horizon, headroom fragility (issue 12 §5).

Each factor is moved on its own, everything else at the scenario's value, and the LP survival
horizon without management actions (the horizon compared with the internal minimum) is solved
again.  Factors and shocks ("down" = less severe, "up" = more severe):

=====================  ===================================================  ==============
factor                 what moves                                           shock
=====================  ===================================================  ==============
``run_off.<cat>``      the category's run-off rate                          x(1 -/+ 20%)
``rollover.<cat>``     the non-rolled share of a maturing category          x(1 -/+ 20%)
``inflow.<kind>``      the inflow haircut of a flow kind                    -/+ 10 points
``haircut.<id>``       sale discount and repo haircut add-ons of a cbc line -/+ 5 points
``closure.<id>``       sale and repo markets of a cbc line                  closed all horizon
                                                                            (reopened if the
                                                                            scenario closes it)
``lag.<id>``           settlement lag of a cbc line, lead of a facility     -/+ 1 day
=====================  ===================================================  ==============

Rates stay in [0, 1]; an effective discount or haircut stays in [0, 1) (reaching 1 disables
the action, as in the plan builder).  The horizon is non-increasing in every "up" move (more
outflow each day, or less cash per unit, or later cash), which the tests check.

When the horizon is censored (the bank survives the whole projection under every shock), the
horizon cannot rank the factors; each shock then also reports the liquidity surplus on the
tightest day of the projection (``-cash_shortfall(plan, H)``, :mod:`liqstress.stress.survival`),
which does.

Headroom fragility: for the factors with the largest swing, the value of that factor alone at
which the headroom (horizon - internal minimum) is lost -- the smallest severity with a
horizon below the minimum, by bisection on the factor (monotone), or, for a scenario already
below its minimum, the least severe value that restores it.  The joint version is the reverse
stress test of :func:`liqstress.stress.engine.reverse_stress`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import StressFile
from liqstress.solvers.cbc import solve_plan
from liqstress.stress.projection import project
from liqstress.stress.scenarios import Resolved, RunOffParams

RATE_SHOCK = 0.20
INFLOW_SHOCK = 0.10
HAIRCUT_SHOCK = 0.05
LAG_SHOCK = 1


@dataclass(frozen=True)
class Factor:
    key: str  # e.g. "run_off.retail_digital"
    kind: str  # run_off | rollover | inflow | haircut | closure | lag
    label: str  # human label
    base: float  # scenario value (rate, share, add-on, days; closure: 1 closed / 0 open)
    lo: float  # the value bounds the factor can take (severity increasing from lo to hi)
    hi: float
    down: Optional[float]  # value of the "less severe" shock (None: one-sided)
    up: Optional[float]  # value of the "more severe" shock


@dataclass(frozen=True)
class Sensitivity:
    factor: Factor
    horizon: int  # at the scenario value
    horizon_down: Optional[int]
    horizon_up: Optional[int]
    surplus: Optional[float] = None  # censored scenarios: tightest-day surplus at the scenario value
    surplus_down: Optional[float] = None
    surplus_up: Optional[float] = None

    @property
    def swing(self) -> int:
        vals = [x for x in (self.horizon_down, self.horizon_up) if x is not None]
        return (max(vals + [self.horizon]) - min(vals + [self.horizon])) if vals else 0

    @property
    def surplus_swing(self) -> float:
        vals = [x for x in (self.surplus_down, self.surplus_up) if x is not None]
        if self.surplus is None or not vals:
            return 0.0
        return max(vals + [self.surplus]) - min(vals + [self.surplus])

    @property
    def loss(self) -> int:
        """Days lost by the more severe shock (>= 0)."""
        return 0 if self.horizon_up is None else self.horizon - self.horizon_up


@dataclass(frozen=True)
class Fragility:
    factor: Factor
    minimum: int
    horizon: int
    value: Optional[float]  # break-even value of the factor (None: not reached within [lo, hi])
    horizon_at_value: Optional[int]
    direction: str  # "lost" (headroom lost at value) | "restored" (minimum met again at value)
    tol: float


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def factors(stress: StressFile, res: Resolved) -> list[Factor]:
    """The one-factor grid of the module docstring for scenario ``res``."""
    out: list[Factor] = []
    cats_running = sorted({l.category for l in stress.liabilities if l.maturities is None and l.amount > 0})
    cats_maturing = sorted({l.category for l in stress.liabilities if l.maturities is not None and l.amount > 0})
    for c in cats_running:
        r = res.run_off[c].rate
        out.append(Factor(f"run_off.{c}", "run_off", f"{c.replace('_', ' ')} run-off rate", r, 0.0, 1.0,
                          _clip(r * (1 - RATE_SHOCK), 0, 1), _clip(r * (1 + RATE_SHOCK), 0, 1)))
    for c in cats_maturing:
        n = 1.0 - res.rollover[c]
        out.append(Factor(f"rollover.{c}", "rollover", f"{c.replace('_', ' ')} non-rolled share", n, 0.0, 1.0,
                          _clip(n * (1 - RATE_SHOCK), 0, 1), _clip(n * (1 + RATE_SHOCK), 0, 1)))
    kinds = sorted({f.kind for f in stress.flows if f.direction == "inflow" and f.amount > 0})
    for k in kinds:
        h = res.inflow_haircut.get(k, 0.0)
        out.append(Factor(f"inflow.{k}", "inflow", f"{k.replace('_', ' ')} inflow haircut", h, 0.0, 1.0,
                          _clip(h - INFLOW_SHOCK, 0, 1), _clip(h + INFLOW_SHOCK, 0, 1)))
    free = stress.free_units()
    for a in stress.cbc:
        if free[a.id] <= 0:
            continue
        add = max(res.sale_discount_add.get(a.id, 0.0), res.repo_haircut_add.get(a.id, 0.0))
        base_min = min(x for x in (a.sale_discount if a.sale else None, a.repo_haircut if a.repo else None, 1.0)
                       if x is not None)
        # shift applied to both add-ons; lo: every effective value >= 0; hi: the line is worthless
        out.append(Factor(f"haircut.{a.id}", "haircut", f"{a.id} haircut / discount add-on", 0.0,
                          -base_min, 1.0, max(-HAIRCUT_SHOCK, -base_min), HAIRCUT_SHOCK))
        closed = a.id in res.closed_sale and a.id in res.closed_repo
        out.append(Factor(f"closure.{a.id}", "closure", f"{a.id} market closure", 1.0 if closed else 0.0, 0.0, 1.0,
                          0.0 if closed else None, None if closed else 1.0))
        out.append(Factor(f"lag.{a.id}", "lag", f"{a.id} settlement lag", float(a.settlement_days), 0.0, 30.0,
                          float(max(a.settlement_days - LAG_SHOCK, 0)) if a.settlement_days > 0 else None,
                          float(a.settlement_days + LAG_SHOCK)))
    for f in stress.facilities:
        if f.is_counted() and f.amount > 0:
            out.append(Factor(f"lag.{f.id}", "lag", f"{f.id} drawing lead time", float(f.lead_days), 0.0, 30.0,
                              float(max(f.lead_days - LAG_SHOCK, 0)) if f.lead_days > 0 else None,
                              float(f.lead_days + LAG_SHOCK)))
    return out


def shocked(stress: StressFile, res: Resolved, factor: Factor, value: float) -> tuple[Resolved, Callable[[CBCPlan], CBCPlan]]:
    """Scenario with ``factor`` set to ``value`` and a plan modifier (for lags)."""
    name = factor.key.split(".", 1)[1]
    ident = lambda p: p  # noqa: E731
    if factor.kind == "run_off":
        ro = dict(res.run_off)
        p = ro[name]
        ro[name] = RunOffParams(value, p.days, p.front_share, p.basis)
        return replace(res, run_off=ro), ident
    if factor.kind == "rollover":
        return replace(res, rollover={**res.rollover, name: 1.0 - value}), ident
    if factor.kind == "inflow":
        return replace(res, inflow_haircut={**res.inflow_haircut, name: value}), ident
    if factor.kind == "haircut":
        a = next(x for x in stress.cbc if x.id == name)
        sd = res.sale_discount_add.get(name, 0.0) + value
        rh = res.repo_haircut_add.get(name, 0.0) + value
        sd = max(sd, -(a.sale_discount or 0.0))
        rh = max(rh, -(a.repo_haircut or 0.0))
        return replace(res, sale_discount_add={**res.sale_discount_add, name: sd},
                       repo_haircut_add={**res.repo_haircut_add, name: rh}), ident
    if factor.kind == "closure":
        if value >= 0.5:
            return replace(res, closed_sale=res.closed_sale | {name}, closed_repo=res.closed_repo | {name}), ident
        return replace(res, closed_sale=res.closed_sale - {name}, closed_repo=res.closed_repo - {name}), ident
    if factor.kind == "lag":
        days = int(round(value))

        def mod(p: CBCPlan) -> CBCPlan:
            assets = [a.model_copy(update={"settlement_days": days}) if a.id == name else a for a in p.assets]
            facs = [f.model_copy(update={"lead_days": days}) if f.id == name else f for f in p.facilities]
            return p.model_copy(update={"assets": assets, "facilities": facs})

        return res, mod
    raise ValueError(f"unknown factor kind {factor.kind!r}")


def plan_at(stress: StressFile, res: Resolved, factor: Factor, value: float) -> CBCPlan:
    """The action-free CBC plan with ``factor`` at ``value``."""
    from liqstress.stress.engine import build_plan

    r, mod = shocked(stress, res, factor, value)
    return mod(build_plan(stress, r, project(stress, r)))


def horizon_at(stress: StressFile, res: Resolved, factor: Factor, value: float, method: str = "bisection") -> int:
    """LP survival horizon (no management actions) with ``factor`` at ``value``."""
    return solve_plan(plan_at(stress, res, factor, value), method=method).survival_days


def one_factor(stress: StressFile, res: Resolved, horizon: int, method: str = "bisection",
               progress: Optional[Callable[[], None]] = None) -> list[Sensitivity]:
    """Every factor's horizons at its down and up shocks (sorted by swing, largest first; for a
    censored horizon also the tightest-day surplus of each shock)."""
    from liqstress.stress.survival import cash_shortfall

    H = stress.horizon_days
    censored = horizon >= H
    base_surplus = None
    if censored:
        from liqstress.stress.engine import build_plan

        base_surplus = -cash_shortfall(build_plan(stress, res, project(stress, res)), H)
    out = []
    for f in factors(stress, res):
        hs: list = []
        sp: list = []
        for v in (f.down, f.up):
            if v is None or v == f.base:
                hs.append(None if v is None else horizon)
                sp.append(None if v is None else base_surplus)
            else:
                p = plan_at(stress, res, f, v)
                hs.append(solve_plan(p, method=method).survival_days)
                sp.append(-cash_shortfall(p, H) if censored and hs[-1] >= H else None)
            if progress is not None:
                progress()
        out.append(Sensitivity(f, horizon, hs[0], hs[1], base_surplus, sp[0], sp[1]))
    out.sort(key=lambda s: (-s.swing, -s.loss, -s.surplus_swing, s.factor.key))
    return out


def fragility(stress: StressFile, res: Resolved, factor: Factor, horizon: int, minimum: int,
              tol: Optional[float] = None, method: str = "bisection") -> Fragility:
    """Break-even value of one continuous factor for the internal minimum (module docstring)."""
    if tol is None:
        tol = 0.005 if factor.kind != "lag" else 1.0
    h = lambda v: horizon_at(stress, res, factor, v, method)  # noqa: E731
    if horizon >= minimum:  # severity at which the headroom is lost: smallest v > base with h(v) < minimum
        lo, hi = factor.base, factor.hi
        h_hi = h(hi)
        if h_hi >= minimum:
            return Fragility(factor, minimum, horizon, None, None, "lost", tol)
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            v = h(mid)
            if v < minimum:
                hi, h_hi = mid, v
            else:
                lo = mid
        return Fragility(factor, minimum, horizon, hi, h_hi, "lost", tol)
    lo, hi = factor.lo, factor.base  # least severe value restoring the minimum: largest v < base with h(v) >= minimum
    h_lo = h(lo)
    if h_lo < minimum:
        return Fragility(factor, minimum, horizon, None, None, "restored", tol)
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        v = h(mid)
        if v >= minimum:
            lo, h_lo = mid, v
        else:
            hi = mid
    return Fragility(factor, minimum, horizon, lo, h_lo, "restored", tol)


CONTINUOUS = ("run_off", "rollover", "inflow", "haircut")


def headroom_fragility(stress: StressFile, res: Resolved, sens: list[Sensitivity], horizon: int, minimum: int,
                       top: int = 4, method: str = "bisection") -> list[Fragility]:
    """:func:`fragility` of the ``top`` continuous factors with the largest swing."""
    H = stress.horizon_days
    m = min(minimum, H)
    if m <= 0:
        return []
    picks = [s.factor for s in sens if s.factor.kind in CONTINUOUS and s.swing > 0][:top]
    return [fragility(stress, res, f, horizon, m, method=method) for f in picks]


__all__ = ["Factor", "Fragility", "Sensitivity", "factors", "fragility", "headroom_fragility", "horizon_at",
           "one_factor", "shocked"]
