"""Stress LCR: Basel III (BCBS 238, January 2013) Annex 1 caps, haircuts, 75% inflow cap."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from liqstress.models.stress_file import load_stress
from liqstress.stress.lcr import compute_lcr, hqla_annex1
from liqstress.stress.scenarios import resolve

MINI = {
    "name": "mini", "horizon_days": 40, "opening_cash": 100.0,
    "liabilities": [
        {"id": "ret", "category": "retail_stable", "amount": 1000.0},
        {"id": "corp", "category": "corporate_nonoperational", "amount": 500.0},
        {"id": "cp", "category": "unsecured_wholesale", "amount": 300.0,
         "maturities": [{"day": 10, "amount": 200.0}, {"day": 35, "amount": 100.0}]},
    ],
    "flows": [{"id": "loans", "direction": "inflow", "kind": "corporate_loan", "amount": 100.0, "day": 5, "repeat_days": 10}],
    "cbc": [
        {"id": "ust", "level": "L1", "amount": 200.0, "sale_discount": 0.0, "repo_haircut": 0.02, "daily_capacity": 100.0, "settlement_days": 1},
        {"id": "gse", "level": "L2A", "amount": 100.0, "sale_discount": 0.03, "repo_haircut": 0.06, "daily_capacity": 50.0, "settlement_days": 1},
        {"id": "rmbs", "level": "L2B", "amount": 40.0, "sale_discount": 0.1, "repo_haircut": 0.2, "daily_capacity": 20.0, "settlement_days": 2},
        {"id": "corpb", "level": "L2B", "amount": 20.0, "sale_discount": 0.1, "repo_haircut": 0.2, "daily_capacity": 20.0, "settlement_days": 2},
    ],
    "scenarios": [
        {"name": "idio", "type": "idiosyncratic",
         "run_off": {"retail_stable": {"rate": 0.08, "days": 30, "basis": "x"}, "corporate_nonoperational": {"rate": 0.3, "days": 10, "basis": "y"}},
         "rollover": {"unsecured_wholesale": 0.0}, "inflow_haircut": {"corporate_loan": 0.2},
         "sale_discount_add": {"L2B": 0.1}},
    ],
    "cfp": {"triggers": [{"id": "t", "indicator": "lcr", "op": "below", "level": 1.0, "phase": "crisis"}]},
    "lcr": {"l2b_haircuts": {"rmbs": 0.25}},
}


def test_annex1_15pct_cap_binds_hand_computed():
    # L1 = 40, L2B = 60 after haircuts: Adj15 = max(60 - 15/85*40, 60 - 15/60*40, 0) = 60 - 7.0588
    s = hqla_annex1(40.0, 0.0, 60.0)
    assert s.adj15 == pytest.approx(60.0 - 15.0 / 85.0 * 40.0)
    assert s.adj40 == pytest.approx(0.0)
    assert s.hqla == pytest.approx(40.0 / 0.85)  # L2B is then exactly 15% of the stock
    assert (s.l2b - s.adj15) / s.hqla == pytest.approx(0.15)


def test_annex1_40pct_cap_binds_hand_computed():
    # L1 = 30, L2A = 70: Adj40 = 70 - 2/3*30 = 50, HQLA = 50, Level 2 share 40%
    s = hqla_annex1(30.0, 70.0, 0.0)
    assert s.adj15 == 0.0
    assert s.adj40 == pytest.approx(50.0)
    assert s.hqla == pytest.approx(50.0)


def test_annex1_both_caps_hand_computed():
    # L1 = 50, L2A = 30, L2B = 40: Adj15 = max(40 - 15/85*80, 40 - 15/60*50, 0) = max(25.882, 27.5) = 27.5
    # Adj40 = max(30 + 40 - 27.5 - 2/3*50, 0) = 9.1667;  HQLA = 120 - 27.5 - 9.1667 = 83.333
    s = hqla_annex1(50.0, 30.0, 40.0)
    assert s.adj15 == pytest.approx(27.5)
    assert s.adj40 == pytest.approx(70.0 - 27.5 - 100.0 / 3.0)
    assert s.hqla == pytest.approx(250.0 / 3.0)
    assert (s.l2b - s.adj15) / s.hqla == pytest.approx(0.15)  # both caps bind
    assert (s.l2a + s.l2b - s.adj15 - s.adj40) / s.hqla == pytest.approx(0.40)


def test_annex1_15_60_branch():
    # no L2A, L1 = 60, L2B = 100: the 15/60 branch (40% cap through L2B) vs 15/85 branch
    s = hqla_annex1(60.0, 0.0, 100.0)
    assert s.adj15 == pytest.approx(max(100 - 15 / 85 * 60, 100 - 15 / 60 * 60))
    assert s.hqla == pytest.approx(60 / 0.85)


def test_annex1_unwinding_uses_adjusted_amounts():
    # A repo maturing within 30 days: the bank borrowed 50 cash (L1) against L2A collateral worth 50
    # after haircut.  Unwinding: adjusted L1 = 60 - 50 = 10, adjusted L2A = 0 + 50 = 50 (Annex 1 para 2).
    s = hqla_annex1(60.0, 0.0, 0.0, adj_l1=10.0, adj_l2a=50.0, adj_l2b=0.0)
    assert s.adj40 == pytest.approx(50.0 - 2.0 / 3.0 * 10.0)
    assert s.hqla == pytest.approx(60.0 - (50.0 - 20.0 / 3.0))


def _lp_stock(l1, l2a, l2b):
    # max a1 + a2a + a2b, a <= L, a2b <= 0.15 total, a2a + a2b <= 0.40 total
    c = -np.ones(3)
    A = [[-0.15, -0.15, 0.85], [-0.40, 0.60, 0.60]]
    res = linprog(c, A_ub=A, b_ub=[0, 0], bounds=[(0, l1), (0, l2a), (0, l2b)], method="highs")
    assert res.status == 0
    return -res.fun


@settings(max_examples=200, deadline=None)
@given(*[st.one_of(st.just(0.0), st.floats(1e-3, 1000.0))] * 3)
def test_annex1_formula_equals_capped_lp(l1, l2a, l2b):
    assert hqla_annex1(l1, l2a, l2b).hqla == pytest.approx(_lp_stock(l1, l2a, l2b), rel=1e-8, abs=1e-6)


def test_base_lcr_hand_computed():
    s = load_stress(MINI)
    r = compute_lcr(s)
    # HQLA: L1 100 cash + 200 ust; L2A 100*0.85 = 85; L2B 40*0.75 + 20*0.5 = 40
    # Adj15 = max(40 - 15/85*385, 40 - 15/60*300, 0) = 0;  Adj40 = max(125 - 200, 0) = 0
    assert r.stock.l1 == pytest.approx(300.0) and r.stock.l2a == pytest.approx(85.0) and r.stock.l2b == pytest.approx(40.0)
    assert r.hqla == pytest.approx(425.0)
    # outflows: 5% * 1000 + 40% * 500 + 100% * 200 (CP maturing day 10) = 450
    assert r.total_outflows == pytest.approx(450.0)
    # inflows: loans on days 5, 15, 25 -> 300 at 50% = 150 (below 75% cap)
    assert r.total_inflows == pytest.approx(150.0)
    assert r.lcr == pytest.approx(425.0 / 300.0)


def test_stress_lcr_hand_computed_and_inflow_cap():
    s = load_stress(MINI)
    res = resolve(s, "idio")
    r = compute_lcr(s, res)
    # run-offs: retail max(5%, 8%) = 8% -> 80; corporate max(40%, 30%) = 40% -> 200; CP 100% -> 200
    assert r.total_outflows == pytest.approx(480.0)
    # inflows: 300 * 50% * (1 - 20%) = 120
    assert r.total_inflows == pytest.approx(120.0)
    # L2B after a 10% fire-sale add-on: 40*0.9*0.75 + 20*0.9*0.5 = 36
    assert r.stock.l2b == pytest.approx(36.0)
    assert r.lcr == pytest.approx((300 + 85 + 36) / 360.0)
    # 75% inflow cap: make inflows huge
    doc = copy.deepcopy(MINI)
    doc["flows"][0]["amount"] = 10000.0
    r2 = compute_lcr(load_stress(doc), resolve(load_stress(doc), "idio"))
    assert r2.capped_inflows == pytest.approx(0.75 * r2.total_outflows)
    assert r2.net_outflows == pytest.approx(0.25 * r2.total_outflows)


def test_l2b_cap_binds_in_file():
    doc = copy.deepcopy(MINI)
    doc["cbc"][2]["amount"] = 2000.0  # lots of RMBS
    r = compute_lcr(load_stress(doc))
    assert r.stock.adj15 > 0
    l2b_after = r.stock.l2b - r.stock.adj15
    assert l2b_after / r.hqla == pytest.approx(0.15)


def test_secured_transaction_unwinding_in_file():
    doc = copy.deepcopy(MINI)
    doc["cbc"][1]["amount"] = 400.0  # 340 of L2A after haircut, 300 of L1: 40% cap binds
    doc["lcr"]["secured_transactions"] = [
        {"id": "repo", "maturity_days": 10, "gave": {"level": "L2A", "value": 60.0}, "received": {"level": "L1", "value": 60.0}},
        {"id": "late", "maturity_days": 45, "gave": {"level": "L2A", "value": 999.0}, "received": {"level": "L1", "value": 999.0}},
    ]
    r = compute_lcr(load_stress(doc))
    assert r.stock.adj_l1 == pytest.approx(240.0) and r.stock.adj_l2a == pytest.approx(400.0)
    expect = hqla_annex1(300.0, 340.0, 40.0, 240.0, 400.0, 40.0).hqla
    assert r.hqla == pytest.approx(expect)
    assert r.hqla < hqla_annex1(300.0, 340.0, 40.0).hqla  # unwinding tightens the cap here


def test_examples_binding_scenario_is_lowest():
    from liqstress.stress.lcr import binding

    s = load_stress("examples/stress/midsize_bank.yaml")
    rs = [compute_lcr(s, resolve(s, x.name)) for x in s.scenarios]
    b = binding(rs)
    assert b.lcr == min(r.lcr for r in rs)
    assert b.scenario == "combined"
    base = compute_lcr(s)
    assert all(r.lcr <= base.lcr + 1e-12 for r in rs)
