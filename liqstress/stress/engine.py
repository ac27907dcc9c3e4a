"""Liquidity stress engine: scenario -> projection -> CBC plan -> survival horizon, LCR, CFP.

Per scenario (docs/model.md §6):

1. resolve the scenario (combined = overlay, :mod:`liqstress.stress.scenarios`);
2. project stressed daily flows (:mod:`liqstress.stress.projection`);
3. build a :class:`~liqstress.models.cbc_plan.CBCPlan` (:func:`build_plan`): the daily net
   outflows of the projection, the CBC inventory with the scenario's discount / haircut
   add-ons, capacity factors and market closures, the committed facilities (counted) and the
   central-bank facilities (shown, counted only when the file says so), the survival floor
   (minimum operational cash + intraday liquidity requirement: ``minimum_balance``), the cbc
   units pledged to linked secured funding as encumbered, and -- with management actions --
   each counted action (:mod:`liqstress.stress.actions`) as a cash source available from the
   day its CFP phase activates plus its lead time, or, for an action that halts a modelled
   outflow, as that outflow removed from the same day on;
4. survival horizon with the CBC LP (``solve_plan``) and with the waterfall baseline, with and
   without management actions;
5. stress LCR (:mod:`liqstress.stress.lcr`) and the CFP phase per day (:mod:`liqstress.stress.cfp`).

:func:`plan_for_scenario` is the entry point used by ``liqstress cbc STRESS --scenario NAME``
so that the horizon printed there equals the one in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from liqstress.errors import InputError
from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import StressFile, load_stress
from liqstress.solvers.cbc import CBCResult, solve_plan, waterfall
from liqstress.stress import actions as actions_mod
from liqstress.stress import cfp as cfp_mod
from liqstress.stress import fx as fx_mod
from liqstress.stress.lcr import INFLOW_CAP, LCRResult, compute_lcr, stock
from liqstress.stress.projection import Projection, project
from liqstress.stress.scenarios import Resolved, resolve, scaled

EXHAUSTED = 0.01  # CBC counts as exhausted below 1% of its starting value


# --------------------------------------------------------------------------- plan building
def _asset_dict(a, res: Resolved, pledged: float = 0.0) -> dict:
    d = a.model_dump(exclude_none=True)
    if pledged > 0:  # units pledged to linked secured funding cannot be sold or repoed again
        d["encumbered"] = min(float(a.amount), float(a.encumbered) + pledged)
    sd = (a.sale_discount or 0.0) + res.sale_discount_add.get(a.id, 0.0)
    rh = (a.repo_haircut or 0.0) + res.repo_haircut_add.get(a.id, 0.0)
    sale = bool(a.sale and a.id not in res.closed_sale and sd < 1.0)
    repo = bool(a.repo and a.id not in res.closed_repo and rh < 1.0)
    d["sale"], d["repo"] = sale, repo
    if sale:
        d["sale_discount"] = sd
    if repo:
        d["repo_haircut"] = rh
    if not sale:
        d.pop("price_impact", None)
    if a.daily_capacity is not None:
        d["daily_capacity"] = a.daily_capacity * res.capacity_factor.get(a.id, 1.0)
    return d


def build_plan(stress: StressFile, res: Resolved, proj: Projection,
               activation: Optional[dict[str, int]] = None, count_central_bank: bool = False) -> CBCPlan:
    """The CBC plan of a scenario.  ``activation`` maps counted management-action ids to the
    day their CFP phase activates (None: no management actions).  A counted action activated on
    day a with lead time L pays from day ``a + L`` on (plan lead ``a - 1 + L`` for an action
    taken on day 1), at most ``impact / spread_days`` per day, ``impact`` in total; a counted
    ``curtail_outflow`` action instead removes its modelled outflow from day ``a + L`` on
    (capped at ``impact``).  Only actions counted by :func:`liqstress.stress.actions.feasibility`
    enter the plan."""
    pledged = stress.pledged_units()
    net = np.asarray(proj.net_outflows, dtype=float).copy()
    mgmt = []
    if activation:
        for a in stress.management_actions:
            day = activation.get(a.id)
            if day is None or not actions_mod.feasibility(stress, res, a)[0]:
                continue
            if a.kind == "curtail_outflow":
                net -= actions_mod.curtailment(stress, a, int(day) + a.lead_days)
            else:
                mgmt.append({"id": a.id, "amount": a.impact, "lead_days": int(day) - 1 + a.lead_days,
                             "capacity_per_day": a.impact / a.spread_days})
    doc: dict[str, Any] = {
        "name": f"{stress.name} / {res.name}",
        "horizon_days": stress.horizon_days,
        "opening_cash": stress.opening_cash,
        "minimum_balance": stress.survival_floor(),
        "net_outflows": [float(x) for x in net],
        "assets": [_asset_dict(a, res, pledged.get(a.id, 0.0)) for a in stress.cbc],
        "facilities": [
            {"id": f.id, "amount": f.amount, "haircut": f.haircut, "lead_days": f.lead_days,
             "counted_in_horizon": bool(f.is_counted() or (count_central_bank and f.kind == "central_bank"))}
            for f in stress.facilities
        ],
        "management_actions": mgmt,
    }
    return CBCPlan.from_dict(doc)


# --------------------------------------------------------------------------- LCR path
def remaining_units(stress: StressFile, result: CBCResult) -> np.ndarray:
    """(n_assets, H) units of each CBC line not yet sold or pledged at the end of each day.
    Collateral returned by maturing term repos is ignored (conservative)."""
    H = stress.horizon_days
    idx = {a.id: i for i, a in enumerate(stress.cbc)}
    used = np.zeros((len(stress.cbc), H))
    for act in result.actions:
        i = idx.get(act["asset"])
        if i is not None:
            used[i, act["day"] - 1] += act["amount"]
    free = stress.free_units()
    avail = np.array([free[a.id] for a in stress.cbc])[:, None]
    return np.maximum(avail - np.cumsum(used, axis=1), 0.0)


def forward_nco(proj: Projection) -> np.ndarray:
    """Stressed net outflows of the 30 days after each day t (t = 1..H) on the scenario's own
    projected flows: outflows - min(inflows, 75% outflows) over days t+1..t+30 (para 69)."""
    out = proj.daily["outflows"].to_numpy()
    inn = proj.daily["inflows"].to_numpy()
    co = np.concatenate([[0.0], np.cumsum(out)])
    ci = np.concatenate([[0.0], np.cumsum(inn)])
    H = len(out)
    t = np.arange(1, H + 1)
    end = np.minimum(t + 30, H)
    o = co[end] - co[t]
    i = ci[end] - ci[t]
    return o - np.minimum(i, INFLOW_CAP * o)


def lcr_path(stress: StressFile, res: Resolved, proj: Projection, result: CBCResult, st: LCRResult) -> np.ndarray:
    """Forward-looking stress LCR at the end of each day t: capped HQLA still held (cash balance
    as Level 1 plus unused CBC lines at stressed LCR values, Annex 1) over the net outflows of
    days t+1..t+30 (:func:`forward_nco`), the latter scaled by ``k = NCO_stress / NCO_fwd(days
    1..30)`` so that the path starts from the stress LCR's denominator (Basel-floored rates) and
    then follows the shape of the projection.  Near the end of the projection the window is
    truncated."""
    rem = remaining_units(stress, result)
    ids = [a.id for a in stress.cbc]
    nco = forward_nco(proj)
    o = proj.daily["outflows"].to_numpy()[:30].sum()
    i = proj.daily["inflows"].to_numpy()[:30].sum()
    nco0 = o - min(i, INFLOW_CAP * o)
    if nco0 > 1e-9 and st.net_outflows > 0:
        nco = nco * (st.net_outflows / nco0)
    out = np.empty(stress.horizon_days)
    for t in range(stress.horizon_days):
        h = stock(stress, res, dict(zip(ids, rem[:, t])), cash=float(result.balances[t]), unwind=False).hqla
        out[t] = np.inf if nco[t] <= 1e-9 else h / nco[t]
    return out


def runway_path(stress: StressFile, proj: Projection, result: CBCResult, window: Optional[int] = None) -> np.ndarray:
    """Observable runway indicator (days) at the end of each day t: liquid resources -- cash
    above the survival floor plus the CBC still unused under ``result`` (stressed value) --
    over the average daily net outflow of the last ``window`` days (``cfp.runway_window_days``,
    default 10; days before the stress count as zero net outflow), ``inf`` when that average is
    not positive.  It uses only what the bank observes up to day t, never the model's survival
    horizon, so CFP phases are driven by indicators."""
    w = int(window or stress.cfp.runway_window_days)
    net = proj.daily["net_outflows"].to_numpy()
    H = len(net)
    c = np.concatenate([[0.0], np.cumsum(net)])
    t = np.arange(1, H + 1)
    avg = (c[t] - c[np.maximum(t - w, 0)]) / w
    res_ = np.maximum(result.balances - stress.survival_floor() + result.deployment["remaining"].to_numpy(), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(avg > 1e-12, res_ / np.where(avg > 1e-12, avg, 1.0), np.inf)


# --------------------------------------------------------------------------- analysis
@dataclass
class ScenarioAnalysis:
    res: Resolved
    proj: Projection
    plan: CBCPlan
    lp: CBCResult
    wf: CBCResult
    lcr_base: LCRResult
    lcr: LCRResult
    lcr_path: np.ndarray
    cfp: cfp_mod.CFPResult
    activation: dict
    plan_actions: CBCPlan
    lp_actions: CBCResult
    wf_actions: CBCResult
    lp_central_bank: Optional[CBCResult] = None
    notes: list = field(default_factory=list)
    actions: list = field(default_factory=list)  # actions.ActionStatus per management action
    runway: Optional[np.ndarray] = None  # CFP runway indicator per day

    @property
    def censored(self) -> bool:
        """The LP horizon (no actions) reaches the end of the projection."""
        return self.lp.survival_days >= self.plan.horizon_days

    @property
    def horizon(self) -> int:
        return self.lp.survival_days

    @property
    def internal_minimum(self) -> int:
        return self.res.internal_minimum

    @property
    def horizon_days(self) -> int:
        return self.plan.horizon_days


def _stage1(stress: StressFile, res: Resolved, method: str):
    proj = project(stress, res)
    plan = build_plan(stress, res, proj)
    lp = solve_plan(plan, method=method)
    wf = waterfall(plan)
    base = compute_lcr(stress)
    st = compute_lcr(stress, res)
    path = lcr_path(stress, res, proj, wf, st)
    runway = runway_path(stress, proj, wf)
    ind = cfp_mod.indicators(stress, res, proj, lp.survival_days, path, runway=runway)
    upto = min(stress.horizon_days, lp.survival_days + 1)
    cf = cfp_mod.evaluate(stress, ind, upto=upto)
    activation = {a.id: cf.activation[a.phase] for a in stress.management_actions
                  if actions_mod.feasibility(stress, res, a)[0]}
    return proj, plan, lp, wf, base, st, path, cf, activation


def _as_stress(source: Any) -> StressFile:
    if isinstance(source, (str, Path, dict, StressFile)):
        return load_stress(source)
    raise InputError("stress", f"expected a path, a mapping or a StressFile, got {type(source).__name__}")


def plan_for_scenario(stress_path_or_dict: Any, scenario_name: str, with_actions: bool = False) -> CBCPlan:
    """The CBC plan the report solves for ``scenario_name`` (``liqstress cbc STRESS --scenario``).

    Without actions it depends only on the projection; with actions the activation days come
    from the CFP of the action-free LP solution (bisection), exactly as in the report."""
    stress = fx_mod.aggregate(_as_stress(stress_path_or_dict), scenario_name)  # all currencies (identity if one)
    res = resolve(stress, scenario_name)
    proj = project(stress, res)
    if not with_actions:
        return build_plan(stress, res, proj)
    activation = _stage1(stress, res, "bisection")[-1]
    return build_plan(stress, res, proj, activation)


def analyse(stress: StressFile, name: str, method: str = "bisection", multiplier: float = 1.0) -> ScenarioAnalysis:
    """Everything the report states about one scenario (all currencies together, converted at
    the scenario's stressed FX rates; the base LCR at base rates)."""
    source, stress = stress, fx_mod.aggregate(stress, name)
    res = resolve(stress, name)
    if multiplier != 1.0:
        res = scaled(res, multiplier)
    proj, plan, lp, wf, base, st, path, cf, activation = _stage1(stress, res, method)
    plan_a = build_plan(stress, res, proj, activation)
    lp_a = solve_plan(plan_a, method=method)
    wf_a = waterfall(plan_a)
    cb = None
    if any(f.kind == "central_bank" and not f.is_counted() for f in stress.facilities):
        cb = solve_plan(build_plan(stress, res, proj, count_central_bank=True), method=method)
    if stress is not source:
        base = compute_lcr(fx_mod.aggregate(source, None))
    out = ScenarioAnalysis(res, proj, plan, lp, wf, base, st, path, cf, activation, plan_a, lp_a, wf_a, cb)
    out.actions = actions_mod.statuses(stress, res, cf.activation)
    out.runway = np.asarray(cf.daily["survival_days"].to_numpy(), dtype=float)
    return out


def survival_only(stress: StressFile, name: str, multiplier: float, method: str = "bisection") -> int:
    """LP survival horizon (without management actions) at a severity multiplier."""
    stress = fx_mod.aggregate(stress, name)
    res = scaled(resolve(stress, name), multiplier)
    return solve_plan(build_plan(stress, res, project(stress, res)), method=method).survival_days


@dataclass
class ReverseStress:
    scenario: str
    internal_minimum: int
    multiplier: Optional[float]  # smallest m with horizon < minimum (None: not reached)
    horizon_at_multiplier: Optional[int]
    horizon_below: Optional[int]  # horizon just below the multiplier (m - tol)
    evaluations: list  # (m, horizon)
    m_max: float
    tol: float


def reverse_stress(stress: StressFile, name: str, tol: float = 0.01, m_max: float = 10.0,
                   method: str = "bisection") -> ReverseStress:
    """Smallest severity multiplier m at which the LP horizon (no management actions) falls below
    the internal minimum.  Bisection on m is valid because the horizon is non-increasing in m
    (:func:`liqstress.stress.scenarios.scaled`; checked on a grid in the tests)."""
    res0 = resolve(stress, name)
    need = res0.internal_minimum
    evals: list[tuple[float, int]] = []

    def h(m: float) -> int:
        v = survival_only(stress, name, m, method)
        evals.append((m, v))
        return v

    if h(0.0) < need:
        return ReverseStress(name, need, 0.0, evals[-1][1], None, evals, m_max, tol)
    lo, hi = 0.0, 1.0
    while h(hi) >= need:
        lo, hi = hi, hi * 2
        if hi > m_max:
            if h(m_max) >= need:
                return ReverseStress(name, need, None, None, None, evals, m_max, tol)
            hi = m_max
            break
    h_hi = dict(evals)[hi]
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        v = h(mid)
        if v < need:
            hi, h_hi = mid, v
        else:
            lo = mid
    return ReverseStress(name, need, hi, h_hi, dict(evals).get(lo), evals, m_max, tol)
