"""Stress LCR against BCBS 238: para 115 secured funding rates by the collateral pledged, linked
collateral encumbrance, Annex 1 adjusted amounts applied literally, fire-sale add-ons on the
unwound legs.  Every expected value is computed by hand in the comments."""

from __future__ import annotations

import copy

import pytest

from liqstress.errors import InputError
from liqstress.models.stress_file import load_stress, secured_outflow_rate
from liqstress.solvers.cbc import solve_plan
from liqstress.stress.engine import plan_for_scenario
from liqstress.stress.lcr import compute_lcr, hqla_annex1
from liqstress.stress.scenarios import resolve

from test_stress_lcr import MINI


@pytest.mark.parametrize("level, rmbs, cp, rate", [
    ("L1", False, "market", 0.0),  # backed by Level 1
    ("L2A", False, "market", 0.15),  # backed by Level 2A
    ("L2B", True, "market", 0.25),  # RMBS eligible for Level 2B
    ("L2B", False, "market", 0.50),  # other Level 2B (the old code gave 25%)
    ("non_HQLA", False, "market", 1.0),  # all other secured funding
    ("non_HQLA", False, "central_bank", 0.0),  # with the domestic central bank, whatever the collateral
    ("L2B", False, "central_bank", 0.0),
    ("non_HQLA", False, "sovereign", 0.25),  # domestic sovereign / MDB / PSE, not backed by L1 or L2A
    ("L2B", False, "sovereign", 0.25),
    ("L2A", False, "sovereign", 0.15),  # backed by L2A: the L2A rate, not 25%
    ("L1", False, "sovereign", 0.0),
])
def test_para_115_table(level, rmbs, cp, rate):
    assert secured_outflow_rate(level, rmbs, cp) == rate


def _with(**extra):
    doc = copy.deepcopy(MINI)
    for k, v in extra.items():
        doc[k] = v
    return doc


def _repo(i, coll, units, amount, day, **kw):
    return {"id": f"repo{i}", "category": "secured_funding", "collateral": coll, "collateral_units": units,
            "amount": amount, "maturities": [{"day": day, "amount": amount}], **kw}


def _add_secured(doc, *lines, roll=0.0):
    doc["liabilities"] += list(lines)
    for s in doc["scenarios"]:
        s["rollover"]["secured_funding"] = roll
    return doc


def test_linked_secured_funding_rate_follows_its_collateral():
    # MINI base outflows 450 (see test_base_lcr_hand_computed).  Add repos maturing day 40 (not
    # unwound, not in the 30-day window) and day 10 (in it).
    doc = _add_secured(copy.deepcopy(MINI),
                       _repo(1, "rmbs", 10.0, 8.0, 10),  # RMBS (lcr.l2b_rmbs): 25% -> 2
                       _repo(2, "corpb", 10.0, 8.0, 10),  # other Level 2B: 50% -> 4
                       _repo(3, "gse", 10.0, 8.0, 10),  # Level 2A: 15% -> 1.2
                       _repo(4, "ust", 10.0, 8.0, 10, counterparty="central_bank"))  # 0%
    doc["lcr"]["l2b_rmbs"] = ["rmbs"]
    s = load_stress(doc)
    r = compute_lcr(s)
    assert r.line_outflows["repo1"] == pytest.approx(2.0)
    assert r.line_outflows["repo2"] == pytest.approx(4.0)
    assert r.line_outflows["repo3"] == pytest.approx(1.2)
    assert r.line_outflows["repo4"] == pytest.approx(0.0)
    assert r.outflows["secured_funding"] == pytest.approx(7.2)
    assert r.total_outflows == pytest.approx(450.0 + 7.2)
    # the level is taken from the collateral line (written back on load)
    assert [l.collateral_level for l in s.liabilities[-4:]] == ["L2B", "L2B", "L2A", "L1"]


def test_linked_units_are_encumbered_in_stock_and_plan():
    # repo against 50 of the 200 ust units, maturing day 35 (outside the 30-day window: no unwinding)
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "ust", 50.0, 48.0, 35))
    s = load_stress(doc)
    r = compute_lcr(s)
    assert r.stock.l1 == pytest.approx(100.0 + 150.0)  # cash + free ust
    assert r.stock.adj_l1 == pytest.approx(250.0) and not r.unwound
    plan = plan_for_scenario(s, "idio")
    ust = next(a for a in plan.assets if a.id == "ust")
    assert ust.encumbered == pytest.approx(50.0) and ust.available == pytest.approx(150.0)
    # the LP cannot sell or repo the pledged units: no action on ust exceeds 150 units in total
    res = solve_plan(plan)
    assert sum(x["amount"] for x in res.actions if x["asset"] == "ust") <= 150.0 + 1e-6


def test_linked_pledge_beyond_holdings_is_rejected():
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "ust", 150.0, 100.0, 10), _repo(2, "ust", 60.0, 50.0, 12))
    with pytest.raises(InputError) as ei:
        load_stress(doc)
    assert str(ei.value).startswith("liabilities[4].collateral_units") and "200 units" in str(ei.value)


def test_unwinding_of_linked_repo_within_30_days():
    # repo of 48 against 50 ust maturing day 10: unadjusted L1 = 100 + 150 = 250;
    # adjusted L1 = 250 - 48 (cash returned) + 50 (ust back, 0% haircut) = 252
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "ust", 50.0, 48.0, 10))
    r = compute_lcr(load_stress(doc))
    assert r.stock.l1 == pytest.approx(250.0)
    assert r.stock.adj_l1 == pytest.approx(252.0)
    assert r.hqla == pytest.approx(hqla_annex1(250.0, 85.0, 40.0, 252.0, 85.0, 40.0).hqla)


def test_caps_bind_only_after_unwinding():
    # gse 350 units of which 250 pledged to a repo of 200 maturing day 10.
    # Unadjusted: L1 = 300, L2A = 100 * 0.85 = 85, L2B = 40: no cap binds
    #   Adj15 = max(40 - 15/85*385, 40 - 15/60*300, 0) = 0, Adj40 = max(125 - 200, 0) = 0.
    # Adjusted: L1 = 300 - 200 = 100, L2A = 85 + 250*0.85 = 297.5, L2B = 40:
    #   Adj15 = max(40 - 15/85*397.5, 40 - 15/60*100, 0) = 15
    #   Adj40 = max(297.5 + 40 - 15 - 2/3*100, 0) = 255.8333
    #   HQLA = 300 + 85 + 40 - 15 - 255.8333 = 154.1667
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "gse", 250.0, 200.0, 10))
    doc["cbc"][1]["amount"] = 350.0
    r = compute_lcr(load_stress(doc))
    plain = hqla_annex1(300.0, 85.0, 40.0)
    assert plain.adj15 == 0.0 and plain.adj40 == 0.0
    st = r.stock
    assert (st.l1, st.l2a, st.l2b) == pytest.approx((300.0, 85.0, 40.0))
    assert (st.adj_l1, st.adj_l2a, st.adj_l2b) == pytest.approx((100.0, 297.5, 40.0))
    assert st.adj15 == pytest.approx(15.0)
    assert st.adj40 == pytest.approx(297.5 + 40 - 15 - 200.0 / 3.0)
    assert r.hqla == pytest.approx(425.0 - 15.0 - (322.5 - 200.0 / 3.0))
    assert not st.negative_adjusted_l1


def test_negative_adjusted_level1_applied_literally():
    # gse 550 units, 450 pledged to a repo of 400 maturing day 5.
    # Unadjusted: L1 = 300, L2A = 85, L2B = 40.  Adjusted: L1 = 300 - 400 = -100 (negative, not floored),
    # L2A = 85 + 450*0.85 = 467.5, L2B = 40.
    #   Adj15 = max(40 - 15/85*367.5, 40 - 15/60*(-100), 0) = 65
    #   Adj40 = max(467.5 + 40 - 65 - 2/3*(-100), 0) = 509.1667
    #   HQLA = 425 - 65 - 509.1667 = -149.1667
    # (flooring adjusted L1 at 0 would give Adj15 = 40, Adj40 = 467.5, HQLA = -82.5)
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "gse", 450.0, 400.0, 5))
    doc["cbc"][1]["amount"] = 550.0
    r = compute_lcr(load_stress(doc))
    st = r.stock
    assert st.adj_l1 == pytest.approx(-100.0) and st.negative_adjusted_l1
    assert st.adj15 == pytest.approx(65.0)
    assert st.adj40 == pytest.approx(442.5 + 200.0 / 3.0)
    assert r.hqla == pytest.approx(425.0 - 65.0 - 442.5 - 200.0 / 3.0)
    floored = hqla_annex1(300.0, 85.0, 40.0, 0.0, 467.5, 40.0)
    assert floored.hqla == pytest.approx(-82.5) and r.hqla != pytest.approx(floored.hqla)


def test_fire_sale_add_on_applies_to_unwound_legs():
    # scenario idio has sale_discount_add L2B 0.10; add L2A 0.20 too.
    doc = _add_secured(copy.deepcopy(MINI), _repo(1, "gse", 100.0, 80.0, 10))
    doc["cbc"][1]["amount"] = 200.0
    doc["scenarios"][0]["sale_discount_add"]["L2A"] = 0.20
    doc["lcr"]["secured_transactions"] = [
        # collateral swap: the bank lent 30 of L2B (level only: the L2B add-on 10% applies on unwinding)
        # against 25 of Level 1 securities (L1 add-on: 0)
        {"id": "swap", "maturity_days": 7, "gave": {"level": "L2B", "value": 30.0}, "received": {"level": "L1", "value": 25.0}},
        # secured lending: cash 20 lent (comes back, no add-on), L2A collateral 22 received (goes back,
        # valued with the gse add-on 20% since the leg names the line)
        {"id": "revrepo", "maturity_days": 3, "gave": {"level": "L1", "value": 20.0, "cash": True},
         "received": {"level": "L2A", "value": 22.0, "asset": "gse"}},
    ]
    s = load_stress(doc)
    base = compute_lcr(s)
    st = compute_lcr(s, resolve(s, "idio"))
    # base: no add-ons.  L2A free units 100 -> 85; adjusted L2A = 85 + 100*0.85 - 22 = 148
    assert base.stock.adj_l2a == pytest.approx(85.0 + 85.0 - 22.0)
    assert base.stock.adj_l1 == pytest.approx(300.0 - 80.0 - 25.0 + 20.0)
    assert base.stock.adj_l2b == pytest.approx(40.0 + 30.0)
    # stressed: L2A price 0.8: free 100*0.8*0.85 = 68, unwound repo collateral 100*0.8*0.85 = 68,
    # reverse-repo collateral returned 22*0.8 = 17.6; L2B: stock 36 (test_stress_lcr), swap leg 30*0.9 = 27
    assert st.stock.l2a == pytest.approx(68.0)
    assert st.stock.adj_l2a == pytest.approx(68.0 + 68.0 - 17.6)
    assert st.stock.adj_l2b == pytest.approx(36.0 + 27.0)
    assert st.stock.adj_l1 == pytest.approx(300.0 - 80.0 - 25.0 + 20.0)  # cash legs are not discounted


def test_rmbs_default_haircut_is_25pct():
    doc = copy.deepcopy(MINI)
    doc["lcr"] = {"l2b_rmbs": ["rmbs", "corpb"]}  # no explicit l2b_haircuts: both 25% as RMBS
    r = compute_lcr(load_stress(doc))
    assert r.stock.l2b == pytest.approx(40.0 * 0.75 + 20.0 * 0.75)
    doc["lcr"] = {}
    assert compute_lcr(load_stress(doc)).stock.l2b == pytest.approx(60.0 * 0.5)


@pytest.mark.parametrize("mutate, field, rule", [
    (lambda d: d["liabilities"].append(_repo(9, "gold", 1.0, 1.0, 5)), "liabilities[3].collateral", "not a cbc asset id"),
    (lambda d: d["liabilities"].append({**_repo(9, "ust", 1.0, 1.0, 5), "collateral_level": "L2A"}),
     "liabilities[3].collateral_level", "differs from the level L1"),
    (lambda d: d["liabilities"].append({k: v for k, v in _repo(9, "ust", 1.0, 1.0, 5).items() if k != "maturities"}),
     "liabilities[3].maturities", "needs its maturities"),
    (lambda d: d["liabilities"][0].__setitem__("collateral", "ust"), "liabilities[0].collateral", "only for category secured_funding"),
    (lambda d: d["liabilities"].append({**_repo(9, "ust", 1.0, 1.0, 5), "counterparty": "mars"}),
     "liabilities[3].counterparty", "market"),
    (lambda d: d["lcr"].__setitem__("l2b_rmbs", ["gse"]), "lcr.l2b_rmbs", "not a Level 2B asset"),
    (lambda d: d["lcr"].__setitem__("secured_transactions", [{"id": "x", "maturity_days": 3, "gave": {"level": "L2A", "value": 1, "asset": "ust"},
                                                             "received": {"level": "L1", "value": 1}}]),
     "lcr.secured_transactions[0].gave.asset", "is not a L2A cbc asset"),
    (lambda d: d.__setitem__("minimum_operational_cash", -1), "minimum_operational_cash", ">= 0"),
    (lambda d: d["scenarios"][0].__setitem__("closed_markets", ["moon"]), "scenarios[0].closed_markets[0]", "term_funding"),
    (lambda d: d["cfp"].__setitem__("runway_window_days", 0), "cfp.runway_window_days", "greater than or equal to 1"),
    (lambda d: d.__setitem__("intraday_liquidity_requirement", float("nan")), "intraday_liquidity_requirement", "finite"),
])
def test_bad_new_fields_name_the_field(mutate, field, rule):
    doc = copy.deepcopy(MINI)
    for s in doc["scenarios"]:
        s["rollover"]["secured_funding"] = 0.5
    mutate(doc)
    with pytest.raises(InputError) as ei:
        load_stress(doc)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith(field), msg
    assert rule in msg, msg
