"""Survival definition (cash floor, censoring), shortfall against the internal minimum, cliff
effects, management-action feasibility, one-factor sensitivities and fragility, and the
reconciliation of the 30-day cash table with the stress LCR."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from liqstress.errors import InputError
from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan, survival_text, waterfall
from liqstress.stress import actions as act
from liqstress.stress.engine import analyse, build_plan, plan_for_scenario
from liqstress.stress.projection import project
from liqstress.stress.reconcile import reconcile, totals
from liqstress.stress.scenarios import resolve
from liqstress.stress.sensitivity import factors, fragility, headroom_fragility, horizon_at, one_factor
from liqstress.stress.survival import cash_shortfall, cliff_effects, lumps

from test_stress_lcr import MINI

ROOT = Path(__file__).resolve().parents[1]


def _tight() -> dict:
    """MINI with less cash and Treasuries: it fails on day 10 of 40 (scenario idio)."""
    doc = copy.deepcopy(MINI)
    doc["opening_cash"] = 50.0
    doc["cbc"][0]["amount"] = 100.0
    return doc


# --------------------------------------------------------------------------- cash floor
def test_floor_equals_opening_cash_reduced_by_it():
    doc = _tight()
    doc["minimum_operational_cash"] = 30.0
    doc["intraday_liquidity_requirement"] = 20.0
    s = load_stress(doc)
    plan = plan_for_scenario(s, "idio")
    assert plan.minimum_balance == pytest.approx(50.0)
    res = solve_plan(plan)
    # independent: the same plan without a floor but 50 less opening cash
    ref = solve_plan(plan.model_copy(update={"minimum_balance": 0.0, "opening_cash": plan.opening_cash - 50.0}))
    assert res.survival_days == ref.survival_days
    assert waterfall(plan).survival_days == waterfall(
        plan.model_copy(update={"minimum_balance": 0.0, "opening_cash": plan.opening_cash - 50.0})).survival_days
    # balances are the real cash balance (floor added back) and stay >= the floor up to the horizon
    assert np.allclose(res.balances, ref.balances + 50.0)
    T = res.survival_days
    assert np.all(res.balances[:T] >= 50.0 - 1e-6)
    no_floor = solve_plan(plan_for_scenario(load_stress(_tight()), "idio"))
    assert no_floor.survival_days >= T


def test_floor_zero_is_stated_in_the_report(tmp_path):
    from liqstress.reports.narrative import write_report

    out = write_report(MINI, tmp_path / "m.md", reverse=False, sensitivities=False)
    text = (tmp_path / "m.md").read_text()
    assert "minimum_operational_cash = 0<sup>i</sup>" in text and "intraday_liquidity_requirement = 0<sup>i</sup>" in text
    assert "cash floor of zero" in text
    assert out.summary()["minimum_operational_cash"] == 0.0


# --------------------------------------------------------------------------- censoring
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from liqstress.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_cbc_json_censored_flag(tmp_path):
    plan = {"horizon_days": 5, "opening_cash": 100.0, "net_outflows": [1, 1, 1, 1, 1], "assets": []}
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(plan))
    p = _cli("cbc", str(f), "--json")
    doc = json.loads(p.stdout)
    assert doc["censored"] is True and doc["survival_text"] == ">= 5 (whole projection)" and doc["survival_days"] == 5
    p = _cli("cbc", str(f))
    assert ">= 5 (whole projection)" in p.stdout
    plan["net_outflows"] = [1, 1, 200, 1, 1]
    f.write_text(yaml.safe_dump(plan))
    doc = json.loads(_cli("cbc", str(f), "--json").stdout)
    assert doc["censored"] is False and doc["survival_days"] == 2 and doc["survival_text"] == "2"


def test_survival_text():
    assert survival_text(365, 365) == ">= 365 (whole projection)"
    assert survival_text(88, 365) == "88"


# --------------------------------------------------------------------------- shortfall
def _bisect_extra_cash(plan: CBCPlan, days: int, hi: float) -> float:
    lo = 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if solve_plan(plan.model_copy(update={"opening_cash": plan.opening_cash + mid})).survival_days >= days:
            hi = mid
        else:
            lo = mid
    return hi


def test_cash_shortfall_equals_bisection_on_opening_cash():
    s = load_stress(_tight())
    plan = plan_for_scenario(s, "idio")
    T = solve_plan(plan).survival_days
    assert T < 40
    x = cash_shortfall(plan, 40)
    assert x > 0
    assert x == pytest.approx(_bisect_extra_cash(plan, 40, 5000.0), abs=1e-4)
    # a surplus when the target is already met: -x is the largest extra day-1 outflow absorbed
    y = cash_shortfall(plan, max(T, 1))
    assert y <= 1e-9
    extra = -y
    net = list(plan.net_outflows)
    net[0] += extra * (1 - 1e-9)
    assert solve_plan(plan.model_copy(update={"net_outflows": net})).survival_days >= T
    net[0] += 1e-3 * max(1.0, extra) + 1e-6
    assert solve_plan(plan.model_copy(update={"net_outflows": net})).survival_days < max(T, 1)


def test_midsize_combined_shortfall_in_dollars():
    s = load_stress("examples/stress/midsize_bank.yaml")
    a = analyse(s, "combined")
    assert a.horizon < a.internal_minimum
    x = cash_shortfall(a.plan, a.internal_minimum)
    assert x > 0
    more = a.plan.model_copy(update={"opening_cash": a.plan.opening_cash + x + 1e-6})
    less = a.plan.model_copy(update={"opening_cash": a.plan.opening_cash + x - 1e-3})
    assert solve_plan(more).survival_days >= a.internal_minimum > solve_plan(less).survival_days


# --------------------------------------------------------------------------- cliffs
def test_cliff_effect_hand_example():
    # 10 days, 100 cash, 5 a day, and a maturity of 80 not rolled on day 6: the bank survives
    # days 1-5 (cash 75), fails on day 6 (75 - 5 - 80 < 0); without the maturity it survives all 10.
    doc = {"name": "cliff", "horizon_days": 10, "opening_cash": 100.0,
           "liabilities": [{"id": "dep", "category": "retail_stable", "amount": 500.0},
                           {"id": "bond", "category": "unsecured_wholesale", "amount": 80.0,
                            "maturities": [{"day": 6, "amount": 80.0}]}],
           "scenarios": [{"name": "s", "type": "idiosyncratic",
                          "run_off": {"retail_stable": {"rate": 0.1, "days": 10, "front_share": 0.1}},
                          "rollover": {"unsecured_wholesale": 0.0}}],
           "cfp": {"triggers": [{"id": "t", "indicator": "lcr", "op": "below", "level": 1.0, "phase": "crisis"}]}}
    s = load_stress(doc)
    res = resolve(s, "s")
    plan = build_plan(s, res, project(s, res))
    T = solve_plan(plan).survival_days
    assert T == 5
    assert lumps(s, res, 6) == [("bond", "maturity", 6, 80.0)]
    (c,) = cliff_effects(s, res, plan, T)
    assert (c.source, c.day, c.amount, c.horizon_without, c.days_lost) == ("bond", 6, 80.0, 10, 5)
    assert cliff_effects(s, res, plan, 10) == []  # censored: nothing shortens it


# --------------------------------------------------------------------------- management actions
def _mid_doc():
    return yaml.safe_load((ROOT / "examples/stress/midsize_bank.yaml").read_text())


def test_actions_feasibility_per_scenario():
    s = load_stress(_mid_doc())
    abs_ = next(m for m in s.management_actions if m.id == "abs_issuance")
    ok, why = act.feasibility(s, resolve(s, "idiosyncratic"), abs_)
    assert ok
    ok, why = act.feasibility(s, resolve(s, "market_wide"), abs_)
    assert not ok and why.startswith("infeasible in market_wide") and "term funding" in why
    ok, why = act.feasibility(s, resolve(s, "combined"), abs_)
    assert not ok and why == "infeasible in combined: needs the term funding market, closed by its market_wide component"
    # the statuses say so in every scenario
    a = analyse(s, "combined")
    st = {x.id: x for x in a.actions}
    assert not st["abs_issuance"].counted and not st["abs_issuance"].feasible
    assert st["halt_originations"].counted and st["halt_originations"].counted_amount == pytest.approx(450.0)
    assert not st["mortgage_securitisation"].counted and st["mortgage_securitisation"].reason == "not pre-approved"


def test_action_without_mechanism_is_not_counted():
    doc = _mid_doc()
    for m in doc["management_actions"]:
        m.pop("kind", None)
        m.pop("curtails", None)
        m.pop("requires_markets", None)
    s = load_stress(doc)
    a = analyse(s, "idiosyncratic")
    assert not a.plan_actions.management_actions
    assert np.allclose(a.plan_actions.net_outflows, a.plan.net_outflows)
    assert all(not x.counted and "mechanism not stated" in x.reason for x in a.actions if x.id != "mortgage_securitisation")
    assert a.lp_actions.survival_days == a.lp.survival_days


def test_curtailment_only_against_a_modelled_flow():
    doc = _mid_doc()
    doc["management_actions"][0]["curtails"] = "loan_book_growth"
    with pytest.raises(InputError) as ei:
        load_stress(doc)
    assert str(ei.value).startswith("management_actions[0].curtails") and "not an outflow in flows" in str(ei.value)
    doc = _mid_doc()
    doc["management_actions"][0].pop("curtails")
    with pytest.raises(InputError) as ei:
        load_stress(doc)
    assert str(ei.value).startswith("management_actions[0].curtails")
    # a flow that ended before the action takes effect leaves nothing to halt
    doc = _mid_doc()
    nl = next(f for f in doc["flows"] if f["id"] == "new_lending")
    nl["until_day"] = 1
    s = load_stress(doc)
    a = analyse(s, "combined")
    st = {x.id: x for x in a.actions}
    assert not st["halt_originations"].counted and "nothing of new_lending is left to halt" in st["halt_originations"].reason


def test_curtailment_hand_example():
    s = load_stress(_mid_doc())
    halt = next(m for m in s.management_actions if m.id == "halt_originations")
    arr = act.curtailment(s, halt, 50)  # new_lending 12 a day on days 1..90: days 50..90 = 41 days = 492 > 450
    assert arr[:49].sum() == 0.0
    assert arr.sum() == pytest.approx(450.0)
    assert arr[49:86].sum() == pytest.approx(444.0) and arr[86] == pytest.approx(6.0)


# --------------------------------------------------------------------------- sensitivities
def test_one_factor_monotone_and_matches_direct_edit():
    s = load_stress(_tight())
    res = resolve(s, "idio")
    T = solve_plan(build_plan(s, res, project(s, res))).survival_days
    sens = one_factor(s, res, T)
    assert {x.factor.kind for x in sens} >= {"run_off", "rollover", "inflow", "haircut", "closure", "lag"}
    for x in sens:
        if x.horizon_up is not None:
            assert x.horizon_up <= T, x.factor.key
        if x.horizon_down is not None:
            assert x.horizon_down >= T, x.factor.key
    # independent path: edit the file itself and rerun the plan
    doc = _tight()
    doc["scenarios"][0]["run_off"]["corporate_nonoperational"]["rate"] = 0.3 * 1.2
    direct = solve_plan(plan_for_scenario(load_stress(doc), "idio")).survival_days
    row = next(x for x in sens if x.factor.key == "run_off.corporate_nonoperational")
    assert row.horizon_up == direct
    doc = _tight()
    doc["cbc"][1]["settlement_days"] = 2
    lag = next(x for x in sens if x.factor.key == "lag.gse")
    assert lag.horizon_up == solve_plan(plan_for_scenario(load_stress(doc), "idio")).survival_days
    doc = _tight()
    doc["scenarios"][0]["closed_sale"] = ["ust"]
    doc["scenarios"][0]["closed_repo"] = ["ust"]
    clo = next(x for x in sens if x.factor.key == "closure.ust")
    assert clo.horizon_up == solve_plan(plan_for_scenario(load_stress(doc), "idio")).survival_days


def test_fragility_break_even_brackets_the_minimum():
    s = load_stress(_tight())
    res = resolve(s, "idio")
    T = solve_plan(build_plan(s, res, project(s, res))).survival_days
    f = next(x for x in factors(s, res) if x.key == "run_off.corporate_nonoperational")
    M = T  # headroom 0: lost by the smallest increase
    fr = fragility(s, res, f, T, M)
    assert fr.direction == "lost" and fr.value is not None
    assert horizon_at(s, res, f, fr.value) < M <= horizon_at(s, res, f, fr.value - fr.tol)
    M2 = T + 3  # below the minimum: the least severe value that restores it
    fr2 = fragility(s, res, f, T, M2)
    assert fr2.direction == "restored"
    if fr2.value is not None:
        assert horizon_at(s, res, f, fr2.value) >= M2 > horizon_at(s, res, f, fr2.value + fr2.tol)
    assert len(headroom_fragility(s, res, one_factor(s, res, T), T, M, top=2)) == 2


# --------------------------------------------------------------------------- reconciliation
def test_reconciliation_adds_up():
    s = load_stress("examples/stress/midsize_bank.yaml")
    for name in ("idiosyncratic", "combined"):
        a = analyse(s, name)
        rows = reconcile(s, a.res, a.lcr)
        cash, lcr = totals(rows)
        assert cash == pytest.approx(float(a.proj.daily["net_outflows"].iloc[:30].sum()))
        assert lcr == pytest.approx(a.lcr.net_outflows)
        assert sum(r.difference for r in rows) == pytest.approx(lcr - cash)
        # one row by hand: retail_insured 18,000, Basel 5% vs the scenario's 30-day run-off
        r = next(x for x in rows if x.item == "retail_insured")
        p30 = a.res.run_off["retail_stable"].cumulative(30)
        assert r.cash == pytest.approx(18000 * p30) and r.lcr == pytest.approx(18000 * max(0.05, p30))
        nl = next(x for x in rows if x.item == "new_lending")
        assert nl.cash == pytest.approx(360.0) and nl.lcr == 0.0 and "lcr_rate" in nl.reason
