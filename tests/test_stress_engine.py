"""Stress engine: projection, CBC plans, survival horizons, CFP, reverse stress."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan, waterfall
from liqstress.stress import cfp
from liqstress.stress.engine import analyse, plan_for_scenario, reverse_stress, survival_only
from liqstress.stress.projection import bucketed, buckets, project
from liqstress.stress.scenarios import resolve

from test_stress_lcr import MINI

MID = "examples/stress/midsize_bank.yaml"
SVB = "examples/stress/svb_2023.yaml"


def test_svb_observed_march_2023_survives_at_most_one_day():
    plan = plan_for_scenario(SVB, "observed_march_2023")
    res = solve_plan(plan)
    assert res.status == "optimal"
    assert res.survival_days <= 1
    assert waterfall(plan).survival_days <= 1
    # day-1 outflow is the public $42bn, day 2 the queued $100bn (uninsured deposits)
    s = load_stress(SVB)
    d = project(s, resolve(s, "observed_march_2023")).daily
    assert d["out:uninsured_deposits"].iloc[0] == pytest.approx(42.0, abs=0.1)
    assert d["out:uninsured_deposits"].iloc[1] == pytest.approx(100.0, abs=0.1)


def test_projection_by_hand():
    s = load_stress(MINI)
    r = resolve(s, "idio")
    d = project(s, r).daily
    # retail 8% of 1000 over 30 days, evenly (front_share 0): 80/29 on days 2..30, 0 on day 1
    assert d["out:retail_stable"].iloc[0] == pytest.approx(0.0)
    assert d["out:retail_stable"].iloc[1:30].sum() == pytest.approx(80.0)
    # CP: 200 on day 10, 100 on day 35, rollover 0
    assert d["out:unsecured_wholesale"].iloc[9] == pytest.approx(200.0)
    assert d["out:unsecured_wholesale"].iloc[34] == pytest.approx(100.0)
    # loans: 100 on days 5, 15, 25, 35 at 80%
    assert d["inflows"].sum() == pytest.approx(4 * 80.0)
    assert d["net_outflows"].sum() == pytest.approx(d["outflows"].sum() - d["inflows"].sum())


def test_buckets_daily_weekly_monthly():
    b = buckets(100)
    assert [x[0] for x in b[:7]] == [f"Day {d}" for d in range(1, 8)]
    assert [(x[1], x[2]) for x in b[7:11]] == [(8, 14), (15, 21), (22, 28), (29, 30)]
    assert [(x[1], x[2]) for x in b[11:]] == [(31, 60), (61, 90), (91, 100)]
    days = [d for _, a, z in b for d in range(a, z + 1)]
    assert days == list(range(1, 101))  # a partition of the horizon
    s = load_stress(MID)
    r = resolve(s, "combined")
    daily = project(s, r).daily
    bt = bucketed(daily, s.horizon_days)
    assert bt["outflows"].sum() == pytest.approx(daily["outflows"].sum())


def test_plan_matches_projection_and_scenario():
    s = load_stress(MID)
    r = resolve(s, "market_wide")
    plan = plan_for_scenario(MID, "market_wide")
    assert isinstance(plan, CBCPlan)
    assert np.allclose(plan.net_outflows, project(s, r).net_outflows)
    rmbs = next(a for a in plan.assets if a.id == "rmbs")
    base = next(a for a in s.cbc if a.id == "rmbs")
    assert rmbs.sale_discount == pytest.approx(base.sale_discount + 0.15)
    assert rmbs.repo_haircut == pytest.approx(base.repo_haircut + 0.10)
    assert rmbs.daily_capacity == pytest.approx(base.daily_capacity * 0.5)
    dw = next(f for f in plan.facilities if f.id == "discount_window")
    assert dw.counted_in_horizon is False  # central bank shown, not counted
    assert not plan.management_actions


@pytest.mark.parametrize("name", ["idiosyncratic", "market_wide", "combined"])
def test_survival_consistent_with_plan_for_scenario(name):
    s = load_stress(MID)
    a = analyse(s, name)
    assert a.lp.survival_days == solve_plan(plan_for_scenario(MID, name)).survival_days
    assert a.lp_actions.survival_days == solve_plan(plan_for_scenario(MID, name, with_actions=True)).survival_days
    # LP never worse than the waterfall; actions never shorten the horizon
    assert a.lp.survival_days >= a.wf.survival_days
    assert a.lp_actions.survival_days >= a.lp.survival_days
    # the LP plan keeps the cumulative cash position >= 0 up to the horizon, and day H+1 fails
    T = a.lp.survival_days
    assert np.all(a.lp.balances[:T] >= -1e-6)


def test_midsize_horizons_against_minimum():
    s = load_stress(MID)
    h = {n: survival_only(s, n, 1.0) for n in ("idiosyncratic", "combined")}
    assert h["idiosyncratic"] >= 180  # meets its internal minimum
    assert h["combined"] < 90  # breaches by a few days (a near miss, the case the report must explain)


def test_cfp_phases_sticky_and_triggers():
    s = load_stress(MID)
    a = analyse(s, "combined")
    rank = a.cfp.daily["phase_rank"].to_numpy()
    assert np.all(np.diff(rank) >= 0)
    tr = a.cfp.triggers.set_index("id")
    # wholesale closed in the scenario: contingency trigger breached on day 1
    assert tr.loc["wholesale_closure", "first_breach_day"] == 1
    # the runway indicator (observable: liquid resources over the trailing 10-day average net
    # outflow, pre-stress days at zero) recomputed independently; crisis = first day below 90
    net = a.proj.daily["net_outflows"].to_numpy()
    liq = np.maximum(a.wf.balances - s.survival_floor() + a.wf.deployment["remaining"].to_numpy(), 0.0)
    avg = np.array([net[max(0, t - 10):t].sum() / 10 for t in range(1, len(net) + 1)])
    runway = np.where(avg > 0, liq / np.where(avg > 0, avg, 1), np.inf)
    assert np.allclose(a.cfp.daily["survival_days"].to_numpy()[np.isfinite(runway)], runway[np.isfinite(runway)])
    upto = a.lp.survival_days + 1
    first90 = int(np.flatnonzero(runway[:upto] < 90)[0]) + 1
    assert tr.loc["survival_90", "first_breach_day"] == first90
    # independent check of one LCR trigger: first day the path is below 105%
    hit = np.flatnonzero(a.lcr_path[: a.lp.survival_days + 1] < 1.05)
    assert tr.loc["lcr_105", "first_breach_day"] == (hit[0] + 1 if len(hit) else None)


def test_cfp_phases_do_not_use_the_model_survival_horizon():
    s = load_stress(MID)
    res = resolve(s, "combined")
    a = analyse(s, "combined")
    # the indicators are the same whatever survival horizon is passed: they never read it
    i1 = cfp.indicators(s, res, a.proj, 5, a.lcr_path, runway=a.runway)
    i2 = cfp.indicators(s, res, a.proj, 300, a.lcr_path, runway=a.runway)
    assert i1.equals(i2)


def test_escalation_timeline_distinguishes_days():
    s = load_stress(MINI)
    import pandas as pd

    doc = copy.deepcopy(MINI)
    doc["cfp"]["triggers"] = [
        {"id": "a", "indicator": "lcr", "op": "below", "level": 1.4, "phase": "heightened_alert"},
        {"id": "b", "indicator": "lcr", "op": "below", "level": 1.0, "phase": "crisis"},
        {"id": "c", "indicator": "rating_notches", "op": "at_or_above", "level": 1, "phase": "contingency"},
    ]
    s = load_stress(doc)
    ind = pd.DataFrame({"day": [1, 2, 3, 4], "lcr": [1.5, 1.3, 1.2, 0.9], "survival_days": [np.inf] * 4,
                        "deposit_outflow_sigma": [0] * 4, "wholesale_closed": [0] * 4, "rating_notches": [0, 2, 2, 2]})
    r = cfp.evaluate(s, ind)
    esc = cfp.escalation(r)
    assert [e["day"] for e in esc] == [2, 4]
    assert esc[0]["phases"] == ["heightened_alert", "contingency"] and esc[0]["implied"] == []
    assert {t["id"] for t in esc[0]["triggers"]} == {"a", "c"}
    assert esc[1]["phases"] == ["crisis"] and esc[1]["triggers"][0]["value"] == pytest.approx(0.9)
    # a phase reached only through a higher phase's trigger is marked implied
    ind2 = ind.assign(rating_notches=[0, 0, 0, 0], lcr=[1.5, 0.8, 0.8, 0.8])
    esc2 = cfp.escalation(cfp.evaluate(s, ind2))
    assert esc2[0]["day"] == 2 and esc2[0]["phases"] == ["heightened_alert", "contingency", "crisis"]
    assert esc2[0]["implied"] == ["contingency"]


def test_cfp_evaluate_hand_example():
    s = load_stress(MINI)
    import pandas as pd

    ind = pd.DataFrame({"day": [1, 2, 3, 4], "lcr": [1.5, 0.9, 1.2, 1.1], "survival_days": [np.inf] * 4,
                        "deposit_outflow_sigma": [0, 0, 0, 0], "wholesale_closed": [0, 0, 0, 0], "rating_notches": [0, 0, 0, 0]})
    r = cfp.evaluate(s, ind)
    assert list(r.daily["phase"]) == ["monitoring", "crisis", "crisis", "crisis"]  # sticky after day 2
    assert r.activation["crisis"] == 2


def test_reverse_stress_monotone_and_bisection():
    s = load_stress(MID)
    ms = [0.0, 0.5, 0.9, 1.0, 1.02, 1.2, 1.6, 2.5]
    hs = [survival_only(s, "idiosyncratic", m) for m in ms]
    assert all(x >= y for x, y in zip(hs, hs[1:])), hs  # horizon non-increasing in severity
    rv = reverse_stress(s, "idiosyncratic", tol=0.01)
    assert rv.multiplier is not None
    assert survival_only(s, "idiosyncratic", rv.multiplier) < rv.internal_minimum
    assert survival_only(s, "idiosyncratic", rv.multiplier - rv.tol) >= rv.internal_minimum


def test_management_actions_activation_days():
    s = load_stress(MID)
    a = analyse(s, "combined")
    plan = a.plan_actions
    ids = {m.id for m in plan.management_actions}
    assert "mortgage_securitisation" not in ids  # not pre-approved, low feasibility
    assert "abs_issuance" not in ids  # term funding markets closed (market_wide component)
    sell = next(m for m in plan.management_actions if m.id == "sell_equity_stakes")
    crisis = a.cfp.activation["crisis"]
    assert sell.lead_days == crisis - 1 + 10
    assert sell.capacity_per_day == pytest.approx(150.0 / 5)
    # the curtailments are the modelled outflows removed from the effective day on, capped at impact
    cont = a.cfp.activation["contingency"]
    removed = np.asarray(a.plan.net_outflows) - np.asarray(plan.net_outflows)
    expect = np.zeros(s.horizon_days)
    halt_from = cont + 2
    left = 450.0
    for d in range(halt_from, 91):  # new_lending: 12 a day on days 1..90
        take = min(12.0, left)
        expect[d - 1] += take
        left -= take
    left = 300.0
    for d in (40, 131, 222, 313):  # dividend: 100 on day 40 every 91 days
        if d >= crisis + 5 and left > 0:
            expect[d - 1] += min(100.0, left)
            left -= min(100.0, left)
    assert np.allclose(removed, expect)


def test_central_bank_counted_only_when_file_says_so():
    doc = copy.deepcopy(MINI)
    doc["facilities"] = [{"id": "dw", "kind": "central_bank", "amount": 1000.0, "haircut": 0.3, "lead_days": 1}]
    s = load_stress(doc)
    p = plan_for_scenario(s, "idio")
    assert p.facilities[0].counted_in_horizon is False
    doc["facilities"][0]["counted"] = True
    p2 = plan_for_scenario(load_stress(doc), "idio")
    assert p2.facilities[0].counted_in_horizon is True
    assert solve_plan(p2).survival_days >= solve_plan(p).survival_days
