"""Numbers behind the stress report: every scenario analysed once, derived series, checks.

Kept separate from the Markdown rendering so that tests can compare the report's figures
with independent computations (``plan_for_scenario`` + ``solve_plan``, the Annex 1 formula...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import LEVELS, StressFile
from liqstress.solvers.cbc import CBCResult
from liqstress.stress.cfp import escalation
from liqstress.stress.engine import ReverseStress, ScenarioAnalysis, analyse, reverse_stress
from liqstress.stress import fx
from liqstress.stress.lcr import LCRResult, binding, driver
from liqstress.stress.nsfr import compute_nsfr
from liqstress.stress.reconcile import reconcile
from liqstress.stress.sensitivity import factors, headroom_fragility, one_factor
from liqstress.stress.survival import cliff_effects, shortfall_summary


@dataclass
class Deployment:
    """The deployment shown in the report: the level-ordered waterfall when it reaches the LP
    horizon, otherwise the LP plan (which then departs from the liquidity order)."""

    source: str  # "waterfall" | "LP"
    result: CBCResult
    plan: CBCPlan
    remaining_by_level: dict  # level -> (H,) value after haircuts left at the end of each day
    deployed_cum: np.ndarray  # (H,) cumulative CBC value used
    cash_raised_by_level: dict  # level -> cash raised
    first_day_by_level: dict  # level -> first action day (None if unused)
    last_day_by_level: dict


def unit_values(plan: CBCPlan) -> dict[str, tuple[str, float, float]]:
    """id -> (level, available units, best cash per unit) for asset lines and counted facilities."""
    out = {}
    for a in plan.assets:
        best = max((1.0 - plan.effective_sale_discount(a)) if a.sale else 0.0,
                   (1.0 - plan.effective_repo_haircut(a)) if a.repo else 0.0)
        out[a.id] = (a.level, a.available, best)
    for f in plan.facilities:
        if f.counted_in_horizon:
            out[f.id] = ("facility", f.amount, 1.0 - f.haircut)
    return out


def deployment(plan: CBCPlan, res: CBCResult, source: str) -> Deployment:
    H = plan.horizon_days
    vals = unit_values(plan)
    used = {k: np.zeros(H) for k in vals}
    cash = {lv: 0.0 for lv in (*LEVELS, "facility")}
    first: dict[str, Optional[int]] = {lv: None for lv in (*LEVELS, "facility")}
    last: dict[str, Optional[int]] = {lv: None for lv in (*LEVELS, "facility")}
    for a in res.actions:
        if a["asset"] not in vals:
            continue
        lv = vals[a["asset"]][0]
        used[a["asset"]][a["day"] - 1] += a["amount"]
        cash[lv] += a["cash"]
        first[lv] = a["day"] if first[lv] is None else min(first[lv], a["day"])
        last[lv] = a["day"] if last[lv] is None else max(last[lv], a["day"])
    rem = {lv: np.zeros(H) for lv in (*LEVELS, "facility")}
    dep = np.zeros(H)
    for k, (lv, avail, v) in vals.items():
        cu = np.cumsum(used[k])
        rem[lv] += v * np.maximum(avail - cu, 0.0)
        dep += v * np.minimum(cu, avail)
    return Deployment(source, res, plan, rem, dep, cash, first, last)


def replay_balances(plan: CBCPlan, res: CBCResult) -> np.ndarray:
    """Independent replay of docs/model.md §6.3: ``B_t = opening + sum_{s<=t} (cash in_s - out_s)``,
    cash of an action on day t landing on day t + settlement (lead) days."""
    H = plan.horizon_days
    lag = {a.id: a.settlement_days for a in plan.assets}
    lag.update({f.id: f.lead_days for f in plan.facilities})
    lag.update({m.id: m.lead_days for m in plan.management_actions})
    cin = np.zeros(H + 1000)
    for a in res.actions:
        cin[a["day"] - 1 + lag[a["asset"]]] += a["cash"]
    for m in res.management:
        cin[m["day"] - 1 + lag[m["id"]]] += m["cash"]
    return plan.opening_cash + np.cumsum(cin[:H] - np.asarray(plan.net_outflows))


@dataclass
class ScenarioData:
    a: ScenarioAnalysis
    shown: Deployment
    reverse: Optional[ReverseStress]
    lcr_driver: tuple
    cbc_total: float  # cash + stressed CBC value + counted facilities
    cbc_l1: float  # cash + Level 1 lines
    replay_error: float
    binding_constraint: str
    lines_of_defence: list = field(default_factory=list)
    currencies: dict = field(default_factory=dict)  # code -> fx.CurrencyResult (multi-currency files)
    shortfall: dict = field(default_factory=dict)  # survival.shortfall_summary, no actions
    shortfall_actions: dict = field(default_factory=dict)  # the same with management actions
    cliffs: list = field(default_factory=list)  # survival.Cliff
    recon: list = field(default_factory=list)  # reconcile.ReconRow
    sensitivities: list = field(default_factory=list)  # sensitivity.Sensitivity (empty: not run)
    fragility: list = field(default_factory=list)  # sensitivity.Fragility
    escalation: list = field(default_factory=list)  # cfp.escalation
    mc: Optional[object] = None  # liqstress.stress.montecarlo.SurvivalDistribution (behavioural files)
    stress: Optional[StressFile] = None  # the file this scenario ran on: all currencies at its stressed FX rates

    @property
    def censored(self) -> bool:
        return self.a.censored

    @property
    def name(self) -> str:
        return self.a.res.name


def _m(x: float) -> str:
    return f"{x:,.1f}<sup>d</sup>"


def _d(x: int) -> str:
    return f"{x}<sup>d</sup>"


def _binding_constraint(sd_a: ScenarioAnalysis, dep: Deployment) -> str:
    H, T = sd_a.horizon_days, sd_a.horizon
    proj = sd_a.proj.daily
    if T >= H:
        top = proj.filter(like="out:").sum().sort_values(ascending=False)
        k = top.index[0][4:]
        return (f"none within the {H}<sup>i</sup>-day projection; the largest drain is {k.replace('_', ' ')} "
                f"({_m(top.iloc[0])} over the horizon)")
    fail = T + 1
    row = proj.iloc[fail - 1]
    drivers = row.filter(like="out:").sort_values(ascending=False)
    k = drivers.index[0][4:].replace("_", " ")
    tot0 = sum(float(v[0]) for v in dep.remaining_by_level.values()) + sum(
        float(x) for x in dep.cash_raised_by_level.values())
    left = sd_a.lp.remaining_cbc
    if tot0 <= 0 or left <= 0.01 * max(tot0, 1e-12):
        below = "falls below the cash floor" if sd_a.plan.minimum_balance > 0 else "turns negative"
        return (f"counterbalancing capacity exhausted: the cash balance {below} on day {_d(fail)} "
                f"(net outflow that day {_m(row['net_outflows'])}, mostly {k})")
    return (f"monetisation speed (daily market capacity and settlement lags): {_m(left)} of CBC is still "
            f"unused at day {_d(T)} but cannot be turned into cash by day {_d(fail)} "
            f"(net outflow that day {_m(row['net_outflows'])}, mostly {k})")


def _lines_of_defence(sd_a: ScenarioAnalysis, dep: Deployment) -> list[str]:
    from liqstress.solvers.cbc import survival_text

    H, T = sd_a.horizon_days, sd_a.horizon
    name = sd_a.res.name
    floor = sd_a.plan.minimum_balance
    cash = sd_a.proj.daily["cash_before_cbc"].to_numpy()
    neg = np.flatnonzero(cash < floor)
    out = []
    fl = f" above its {floor:,.1f}<sup>i</sup> floor" if floor > 0 else ""
    if len(neg):
        out.append(f"First line (operating cash {sd_a.proj.opening_cash:,.1f}<sup>i</sup>{fl}) is exhausted on day {_d(neg[0] + 1)}; "
                   f"from then on counterbalancing capacity is monetised.")
    else:
        out.append(f"First line (operating cash{fl}) is never exhausted in {name}: contractual inflows cover the stressed outflows.")
    tot = sum(v for v in dep.remaining_by_level.values())
    start = float(tot[0] + dep.deployed_cum[0]) if len(tot) else 0.0
    gone = np.flatnonzero(tot <= 0.01 * max(start, 1e-12)) if start > 0 else np.array([0])
    if T < H:
        if len(gone) and gone[0] < T + 1:
            out.append(f"Second line (CBC) is exhausted on day {_d(gone[0] + 1)}; {name} fails on day {_d(T + 1)}.")
        else:
            out.append(f"Second line (CBC) cannot be monetised fast enough: {name} fails on day {_d(T + 1)} "
                       f"with {_m(sd_a.lp.remaining_cbc)} of CBC unused.")
    else:
        out.append(f"Second line (CBC) is not exhausted within the {H}-day projection of {name} "
                   f"({_m(float(tot[-1]))} left at day {H}<sup>i</sup> in the deployment shown).")
    la = sd_a.lp_actions.survival_days
    moved = sd_a.lp_actions.management or la != T
    if moved:
        out.append(f"Third line (management actions) moves the horizon of {name} to {survival_text(la, H)}<sup>d</sup>"
                   + (" days" if la < H else "") + ".")
    else:
        out.append(f"Third line (management actions) does not change the horizon of {name}" + (
            " (no counted action takes effect before the failure day)." if T < H else " (not needed)."))
    if sd_a.lp_central_bank is not None:
        cb = sd_a.lp_central_bank.survival_days
        out.append(f"Central-bank facilities are shown but not counted; if counted, the horizon of {name} would be "
                   f"{survival_text(cb, H)}<sup>d</sup>" + (" days." if cb < H else "."))
    return out


@dataclass
class ReportData:
    stress: StressFile
    scenarios: list  # ScenarioData
    base_lcr: LCRResult
    binding_lcr: LCRResult
    binding_driver: tuple
    overlay_checks: list  # (combined, [(param, a, b, combined, ok)])
    nsfr: Optional[object] = None  # nsfr.NSFRResult when the file has an nsfr block
    source: Optional[StressFile] = None  # the file as given (per-currency items); stress is all-currency
    sensitivities_run: bool = True


def overlay_check(sd: ScenarioAnalysis, by_name: dict) -> list[tuple]:
    """Combined parameter == the more severe of the two components, parameter by parameter."""
    r = sd.res
    a, b = (by_name[n].res for n in r.overlay_of)
    rows = []
    for k, v in r.run_off.items():
        x, y = a.run_off.get(k), b.run_off.get(k)
        if x is None or y is None:
            continue
        rows.append((f"run_off.{k}.rate", x.rate, y.rate, v.rate, v.rate == max(x.rate, y.rate)))
        rows.append((f"run_off.{k}.days", x.days, y.days, v.days, v.days == min(x.days, y.days)))
        rows.append((f"run_off.{k}.front_share", x.front_share, y.front_share, v.front_share,
                     v.front_share == max(x.front_share, y.front_share)))
    for fld, hi in (("rollover", False), ("inflow_haircut", True), ("sale_discount_add", True),
                    ("repo_haircut_add", True), ("capacity_factor", False)):
        da, db, dc = getattr(a, fld), getattr(b, fld), getattr(r, fld)
        for k, v in dc.items():
            dflt = {"rollover": 1.0, "capacity_factor": 1.0}.get(fld, 0.0)
            x, y = da.get(k, dflt), db.get(k, dflt)
            rows.append((f"{fld}.{k}", x, y, v, v == (max(x, y) if hi else min(x, y))))
    return rows


def mc_batches(stress: StressFile, paths: int) -> int:
    """Monte Carlo batches per scenario (one progress tick each; 0 without a behavioural section)."""
    if stress.behavioural is None or paths <= 0:
        return 0
    from liqstress.stress.montecarlo import BATCH

    return -(-int(paths) // BATCH)


def work_units(stress: StressFile, reverse: bool = True, sensitivities: bool = True, paths: int = 0) -> int:
    """Rough number of progress ticks :func:`collect` reports (for a progress bar)."""
    from liqstress.stress.scenarios import resolve

    n = 0
    for sc in stress.scenarios:
        n += 3 + (1 if reverse else 0) + mc_batches(stress, paths)
        if sensitivities:
            n += 2 * len(factors(stress, resolve(stress, sc.name))) + 4
    return n


def collect(stress: StressFile, method: str = "bisection", reverse: bool = True, sensitivities: bool = True,
            progress=None, paths: int = 10_000, seed: int = 0) -> ReportData:
    """Analyse every scenario.  ``progress``: optional callable ticked once per unit of work.
    ``paths``/``seed``: Monte Carlo survival distribution per scenario (files with a
    ``behavioural`` section; ``paths=0`` skips it)."""
    tick = progress or (lambda: None)
    analyses = {}
    for sc in stress.scenarios:
        analyses[sc.name] = analyse(stress, sc.name, method=method)
        tick()
    base = next(iter(analyses.values())).lcr_base
    bind = binding([x.lcr for x in analyses.values()])
    out = []
    for name, sa in analyses.items():
        agg = fx.aggregate(stress, name)  # what ``analyse`` ran on (the file itself if single-currency)
        if sa.wf.survival_days >= sa.lp.survival_days:
            dep = deployment(sa.plan, sa.wf, "waterfall")
        else:
            dep = deployment(sa.plan, sa.lp, "LP")
        err = float(np.max(np.abs(replay_balances(sa.plan, sa.lp) - sa.lp.balances)))
        vals = unit_values(sa.plan)
        total = sa.plan.opening_cash + sum(n * v for lv, n, v in vals.values())
        l1 = sa.plan.opening_cash + sum(n * v for lv, n, v in vals.values() if lv == "L1")
        rs = reverse_stress(stress, name, method=method) if reverse else None
        if reverse:
            tick()
        sd = ScenarioData(sa, dep, rs, driver(base, sa.lcr), total, l1, err, _binding_constraint(sa, dep))
        sd.stress = agg
        sd.lines_of_defence = _lines_of_defence(sa, dep)
        sd.currencies = fx.currency_analysis(stress, name, method=method)
        sd.shortfall = shortfall_summary(sa.plan, sa.internal_minimum, sa.horizon)
        sd.shortfall_actions = shortfall_summary(sa.plan_actions, sa.internal_minimum, sa.lp_actions.survival_days)
        sd.cliffs = cliff_effects(agg, sa.res, sa.plan, sa.horizon, method=method)
        tick()
        sd.recon = reconcile(agg, sa.res, sa.lcr)
        sd.escalation = escalation(sa.cfp)
        if sensitivities:
            sd.sensitivities = one_factor(agg, sa.res, sa.horizon, method=method, progress=tick)
            sd.fragility = headroom_fragility(agg, sa.res, sd.sensitivities, sa.horizon, sa.internal_minimum,
                                              method=method)
            tick()
        if stress.behavioural is not None and paths > 0:
            from liqstress.stress.montecarlo import run as run_mc

            # on the file the scenario ran on (all currencies at its stressed rates), with the
            # scenario's CBC plan without actions (survival floor and encumbrance included)
            sd.mc = run_mc(agg, sa.res, sa.proj, sa.plan, paths=paths, seed=seed, progress=tick)
        out.append(sd)
    checks = [(sa.res.name, overlay_check(sa, analyses)) for sa in analyses.values() if sa.res.type == "combined"]
    bdrv = driver(base, bind)
    ns = None if stress.nsfr is None else compute_nsfr(stress.nsfr, fx.base_rates(stress))
    return ReportData(fx.aggregate(stress, None), out, base, bind, bdrv, checks, nsfr=ns, source=stress,
                      sensitivities_run=sensitivities)
