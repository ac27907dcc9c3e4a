"""Currencies: validation, the all-currency view, the multi-currency CBC LP, the two-currency example."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from liqstress.errors import InputError
from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan
from liqstress.solvers.cbc_fx import FXLineSpec, build_multi, currency_horizon
from liqstress.stress import fx
from liqstress.stress.engine import analyse
from liqstress.stress.lcr import compute_lcr
from liqstress.stress.scenarios import resolve

ROOT = Path(__file__).resolve().parents[1]
TWO = ROOT / "examples/stress/two_currency_bank.yaml"
MID = ROOT / "examples/stress/midsize_bank.yaml"


def _plan(opening: float, out: list[float], assets=()) -> CBCPlan:
    return CBCPlan.from_dict({"horizon_days": len(out), "opening_cash": opening, "net_outflows": out, "assets": list(assets)})


def _horizon(usd_cash, usd_out, eur_cash, eur_out, line: FXLineSpec, H=10) -> tuple[int, int]:
    plans = {"USD": _plan(usd_cash, [usd_out] * H), "EUR": _plan(eur_cash, [eur_out] * H)}
    alone = {k: solve_plan(p).survival_days for k, p in plans.items()}
    ch = currency_horizon(build_multi(plans, [line]), "EUR", alone)
    return ch.survival_days, ch.standalone_days


# ---------------------------------------------------------------- hand-computed multi-currency horizons
def test_fx_line_capacity_and_lag_hand_computed():
    # EUR: 25 cash, 10 out per day; USD has plenty.  B_EUR(t) = 25 - 10 t + FX(t) >= 0.
    line = FXLineSpec("l", "USD", "EUR", 1.0, 0, daily_capacity=5)
    assert _horizon(100, 0, 25, 10, line) == (5, 2)  # 25 - 5t >= 0
    lagged = FXLineSpec("l", "USD", "EUR", 1.0, 1, daily_capacity=5)
    assert _horizon(100, 0, 25, 10, lagged)[0] == 4  # 25 - 10t + 5(t - 1) >= 0
    haircut = FXLineSpec("l", "USD", "EUR", 0.8, 0, daily_capacity=5)
    assert _horizon(100, 0, 25, 10, haircut)[0] == 4  # 25 - 6t >= 0
    closed = FXLineSpec("l", "USD", "EUR", 1.0, 0, daily_capacity=5, closed=True)
    assert _horizon(100, 0, 25, 10, closed) == (2, 2)
    total = FXLineSpec("l", "USD", "EUR", 1.0, 0, daily_capacity=5, amount=7)
    assert _horizon(100, 0, 25, 10, total)[0] == 3  # 25 - 30 + 7 >= 0, 25 - 40 + 7 < 0


def test_other_currency_lends_only_what_it_can_spare():
    line = FXLineSpec("l", "USD", "EUR", 1.0, 0, daily_capacity=5)
    # USD 12 cash, no USD outflows: FX(t) <= 12 -> 25 - 40 + 12 < 0 at t = 4
    assert _horizon(12, 0, 25, 10, line)[0] == 3
    # USD 12 cash and 1 out per day over 10 days: it can spare 12 - 10 = 2 < 5 needed by day 3
    assert _horizon(12, 1, 25, 10, line)[0] == 2
    # USD 12 cash and 0.5 out per day: spares 7 >= 5 by day 3, but 25 - 40 + 7 < 0 on day 4
    assert _horizon(12, 0.5, 25, 10, line)[0] == 3
    # USD 12 cash and 2 out per day: USD alone fails after day 6 and has nothing to spare before
    assert _horizon(12, 2, 25, 10, line) == (2, 2)


@settings(max_examples=25, deadline=None)
@given(cap=st.floats(0, 20), lag=st.integers(0, 3), hc=st.floats(0, 0.5), usd=st.floats(0, 200),
       eur=st.floats(0, 60), out=st.floats(1, 15))
def test_properties_of_the_currency_horizon(cap, lag, hc, usd, eur, out):
    line = FXLineSpec("l", "USD", "EUR", 1.0 - hc, lag, daily_capacity=cap)
    T, alone = _horizon(usd, 0, eur, out, line)
    assert alone <= T <= 10
    T_closed, _ = _horizon(usd, 0, eur, out, FXLineSpec("l", "USD", "EUR", 1.0 - hc, lag, daily_capacity=cap, closed=True))
    assert T_closed == alone
    T_more, _ = _horizon(usd, 0, eur, out, FXLineSpec("l", "USD", "EUR", 1.0 - hc, lag, daily_capacity=cap + 5))
    assert T_more >= T
    # independent check: with no USD needs, converting at full capacity as early as possible is
    # optimal; replay it day by day (cash of day s lands on day s + lag; USD cash limits the total)
    y = [min(cap, max(usd - cap * (s - 1), 0.0)) for s in range(1, 11)]
    ok = 0
    for t in range(1, 11):
        bal = eur - out * t + (1.0 - hc) * sum(y[s - 1] for s in range(1, 11) if s + lag <= t)
        if bal < -1e-7 * max(1.0, eur):
            break
        ok = t
    assert T == ok


# ---------------------------------------------------------------- validation
def _two() -> dict:
    import yaml

    return yaml.safe_load(TWO.read_text())


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["liabilities"][0].update(currency="GBP"), "liabilities[0].currency"),
    (lambda d: d["fx"]["rates"].update(EUR=-1.0), "fx.rates.EUR"),
    (lambda d: d["fx"]["lines"][0].update(buy="USD"), "fx.lines[0]"),
    (lambda d: d["scenarios"][1].update(fx_shock={"EUR": -1.5}), "scenarios[1].fx_shock.EUR"),
    (lambda d: d["scenarios"][1].update(fx_swap_closed=["nope"]), "scenarios[1].fx_swap_closed"),
    (lambda d: d["scenarios"][2].update(fx_haircut_add=0.1), "scenarios[2]"),
])
def test_currency_validation_names_the_field(mutate, field):
    d = _two()
    mutate(d)
    with pytest.raises(InputError) as e:
        load_stress(d)
    assert field in str(e.value) and "\n" not in str(e.value)


# ---------------------------------------------------------------- all-currency view
def test_single_currency_file_is_unchanged():
    s = load_stress(MID)
    assert not fx.is_multi(s) and fx.aggregate(s, "combined") is s
    d = _two()
    for group in ("liabilities", "flows", "cbc", "facilities", "management_actions"):
        for x in d.get(group, []):
            x["currency"] = "USD"
    d.pop("fx")
    d.pop("nsfr")
    for sc in d["scenarios"]:
        for k in ("fx_shock", "fx_haircut_add", "fx_swap_closed"):
            sc.pop(k, None)
    explicit = load_stress(d)
    assert not fx.is_multi(explicit)


def test_aggregate_converts_every_amount_at_stressed_rates():
    s = load_stress(TWO)
    agg = fx.aggregate(s, "market_wide")  # EUR 1.10 * (1 + 10%) = 1.21
    r = 1.10 * 1.10
    by = {x.id: x for x in agg.liabilities}
    assert by["corporate_eur"].amount == pytest.approx(1500 * r)
    assert by["ecp_eur"].maturities[0].amount == pytest.approx(200 * r)
    assert {a.id: a.amount for a in agg.cbc}["bunds"] == pytest.approx(150 * r)
    assert agg.opening_cash == pytest.approx(1500 + 250 * r)
    base = fx.aggregate(s, None)
    assert base.opening_cash == pytest.approx(1500 + 250 * 1.10)
    # per-currency LCR is the Basel LCR of the currency's own items
    sub = fx.sub_file(s, "EUR")
    assert {x.id for x in sub.liabilities} == {"corporate_eur", "fi_eur", "ecp_eur"}
    assert sub.opening_cash == 250
    st_ = compute_lcr(sub, resolve(sub, "market_wide"))
    assert st_.stock.l1 == pytest.approx(250 + 150)


def test_two_currency_example_all_long_one_short():
    s = load_stress(TWO)
    assert fx.significant(s) == ["USD", "EUR"]
    for name in ("market_wide", "combined"):
        a = analyse(s, name)
        cur = fx.currency_analysis(s, name)
        H = a.horizon_days
        assert a.lp.survival_days == H  # all currencies together: the whole projection
        assert cur["USD"].censored
        assert cur["EUR"].survival_days < 30 and not cur["EUR"].censored
        assert cur["EUR"].standalone_days <= cur["EUR"].survival_days
    idio = fx.currency_analysis(s, "idiosyncratic")
    assert idio["EUR"].survival_days > idio["EUR"].standalone_days  # swaps open: USD funds EUR
    assert any(u["line"] == "usd_eur_swap" for u in idio["EUR"].fx_used)
    mw = fx.currency_analysis(s, "market_wide")
    assert all(u["line"] != "usd_eur_swap" for u in mw["EUR"].fx_used)  # FX-swap market closed


def test_report_json_currencies_and_nsfr(tmp_path):
    out = tmp_path / "two.md"
    p = subprocess.run([sys.executable, "-c", "from liqstress.cli import main; main()", "report", str(TWO), "-o", str(out),
                        "--no-reverse", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    for sc in doc["scenarios"]:
        assert set(sc["currencies"]) == {"USD", "EUR"}
        for c in sc["currencies"].values():
            assert {"survival_days", "censored", "stress_lcr"} <= set(c)
    comb = next(x for x in doc["scenarios"] if x["name"] == "combined")
    assert comb["survival_days"] == 180 and comb["currencies"]["EUR"]["survival_days"] < 30
    assert set(doc["nsfr"]) >= {"ratio", "asf", "rsf", "binding_items"}
    text = out.read_text()
    assert "# Currencies" in text and "## EUR" in text and "# Net Stable Funding Ratio (BCBS 295)" in text
    for name in ("idiosyncratic", "market_wide", "combined"):
        assert (tmp_path / f"two_{name}_c6601.csv").exists()


# ---------------------------------------------------------------- currencies with the survival floor and linked collateral
def _two_with_floor_and_links() -> dict:
    d = _two()
    d["minimum_operational_cash"] = 100.0
    d["intraday_liquidity_requirement"] = 50.0
    d["liabilities"] += [
        # USD repo against EUR Bunds (cross-currency collateral) and an EUR repo against EUR covered bonds
        {"id": "repo_usd_bunds", "category": "secured_funding", "amount": 110.0, "collateral": "bunds",
         "collateral_units": 60.0, "maturities": [{"day": 5, "amount": 110.0}]},
        {"id": "repo_eur_covered", "category": "secured_funding", "currency": "EUR", "amount": 40.0,
         "collateral": "eur_covered", "collateral_units": 45.0, "maturities": [{"day": 12, "amount": 40.0}]},
    ]
    for sc in d["scenarios"][:2]:
        sc["rollover"]["secured_funding"] = 0.5
    return d


def test_floor_and_pledged_units_across_currencies():
    s = load_stress(_two_with_floor_and_links())
    # all currencies: pledged units convert with their cbc line, so free units = (amount - pledged) * rate
    r = 1.10 * 1.10  # market_wide EUR rate
    agg = fx.aggregate(s, "market_wide")
    free = agg.free_units()
    assert free["bunds"] == pytest.approx((150 - 60) * r)
    assert free["eur_covered"] == pytest.approx((100 - 45) * r)
    assert free["ust"] == pytest.approx(5500)
    assert agg.survival_floor() == pytest.approx(150.0)  # reporting-currency amount, not converted
    # per currency: the floor stays with the reporting currency; the EUR book counts the Bunds
    # pledged to the USD repo as encumbered; the USD repo keeps its para 115 rate (Level 1: 0%)
    usd, eur = fx.sub_file(s, "USD"), fx.sub_file(s, "EUR")
    assert usd.survival_floor() == pytest.approx(150.0) and eur.survival_floor() == 0.0
    assert eur.free_units() == {"bunds": pytest.approx(90.0), "eur_covered": pytest.approx(55.0)}
    repo = next(x for x in usd.liabilities if x.id == "repo_usd_bunds")
    assert repo.collateral is None and usd.basel_rate(repo) == 0.0
    assert next(x for x in eur.liabilities if x.id == "repo_eur_covered").collateral == "eur_covered"
    plans = fx.currency_plans(s, "market_wide")
    assert plans["USD"][2].minimum_balance == pytest.approx(150.0) and plans["EUR"][2].minimum_balance == 0.0
    assert {a.id: a.encumbered for a in plans["EUR"][2].assets} == {"bunds": pytest.approx(60.0),
                                                                    "eur_covered": pytest.approx(45.0)}
    # the per-currency LCR runs on both sub-files (no dangling collateral link)
    for sub in (usd, eur):
        compute_lcr(sub, resolve(sub, "market_wide"))
    cur = fx.currency_analysis(s, "market_wide")
    assert set(cur) == {"USD", "EUR"}
    # the EUR stand-alone horizon equals the single-currency LP of the EUR sub-file (no floor)
    assert cur["EUR"].standalone_days == solve_plan(plans["EUR"][2]).survival_days


def test_scenario_analyses_of_the_report_run_on_the_all_currency_file():
    """Reconciliation, cliffs and sensitivities use the file the scenario was analysed on (all
    currencies at its stressed rates), not the per-currency source: the reconciliation's cash
    column sums to the projection's 30-day net outflow and its LCR column to the stress LCR's,
    and the sensitivities' tightest-day surplus at the scenario values is that of the LP plan."""
    from liqstress.reports.data import collect
    from liqstress.stress.reconcile import totals
    from liqstress.stress.survival import cash_shortfall

    s = load_stress(TWO)
    d = collect(s, reverse=False, sensitivities=True)
    for sd in d.scenarios:
        a = sd.a
        assert sd.stress == fx.aggregate(s, sd.name)
        cash, lcr = totals(sd.recon)
        assert cash == pytest.approx(float(a.proj.daily["net_outflows"].iloc[:30].sum()), rel=1e-9)
        assert lcr == pytest.approx(a.lcr.net_outflows, rel=1e-9)
        assert a.censored and sd.sensitivities
        assert sd.sensitivities[0].surplus == pytest.approx(-cash_shortfall(a.plan, a.horizon_days), rel=1e-9)
    mw = next(sd for sd in d.scenarios if sd.name == "market_wide")
    eur = next(r for r in mw.recon if r.item == "corporate_eur")
    p30 = mw.a.res.run_off["corporate_nonoperational"].cumulative(30)
    assert eur.cash == pytest.approx(1500 * 1.10 * 1.10 * p30)  # EUR 1,500 at the stressed rate 1.21
