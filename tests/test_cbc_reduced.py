"""The reduced CBC formulation (closed-form bounds, reduced LPs) against the full daily LP.

The full LP (``formulation="full"``, the method before the reduction) and the MILP are the
references; every plan of the reduced method is also replayed by the independent simulator
of ``test_cbc_solver``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.models.cbc_plan import CBCPlan
from liqstress.solvers import cbc_asap as asap
from liqstress.solvers.cbc import solve_plan
from liqstress.solvers.cbc_compile import compile_plan
from tests.test_cbc_solver import asset, check, plan, random_plan

SEEDS = st.integers(0, 2**32 - 1)


def _same(a, b):
    assert a.survival_days == b.survival_days
    assert a.remaining_cbc == pytest.approx(b.remaining_cbc, rel=1e-6, abs=1e-6)


def floored_plan(seed: int) -> dict:
    """``random_plan(seed)`` with a cash floor (``minimum_balance``, from 0 to above the opening
    cash), encumbered units on every asset line and some lines closed to both sale and repo, drawn from a separate stream so that the
    draws of ``random_plan`` (and the fixed seeds below) are unchanged."""
    p = random_plan(seed)
    rng = np.random.default_rng([seed, 1])
    for a in p["assets"]:
        a["encumbered"] = float(np.round(a["amount"] * rng.uniform(0, 0.6), 2))
        if rng.random() < 0.1:  # both markets closed (a scenario closure): a line without any source
            a.update(sale=False, repo=False)
            for k in ("price_impact", "repo_term_days", "rollover"):
                a.pop(k, None)
    p["minimum_balance"] = float(np.round(p["opening_cash"] * rng.uniform(0, 1.2) + rng.uniform(0, 3), 2))
    return p


def _without_floor(p: dict) -> CBCPlan:
    """The same plan with the floor taken out of the opening cash (survival to T: B_t >= floor)."""
    return CBCPlan.from_dict({**p, "opening_cash": p["opening_cash"] - p.get("minimum_balance", 0.0), "minimum_balance": 0.0})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEEDS)
def test_reduced_equals_full_lp(seed):
    p = random_plan(seed)
    cp = CBCPlan.from_dict(p)
    red = solve_plan(cp)
    assert red.info["formulation"] == "reduced"
    _same(red, solve_plan(cp, formulation="full"))
    check(p, red)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEEDS)
def test_reduced_equals_full_lp_with_floor_and_encumbrance(seed):
    """Cash floors and encumbered units: the closed forms and the reduced LPs give the full
    LP's horizon and remaining CBC, the plan replays above the floor, and both equal the plan
    whose opening cash is reduced by the floor (an independent statement of the floor)."""
    p = floored_plan(seed)
    cp = CBCPlan.from_dict(p)
    red = solve_plan(cp)
    full = solve_plan(cp, formulation="full")
    _same(red, full)
    _same(red, solve_plan(_without_floor(p), formulation="full"))
    check(p, red)
    c = compile_plan(cp)
    ub = asap.upper_bound(c)
    assert asap.restricted_horizon(c) <= red.survival_days <= ub.T
    if ub.exact:
        assert red.survival_days == ub.T


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEEDS)
def test_closed_forms_bracket_the_lp_horizon(seed):
    """Proposition 1: upper bound; restricted ASAP plan: lower bound; Proposition 2: exact
    when no repo must be repaid."""
    cp = CBCPlan.from_dict(random_plan(seed))
    c = compile_plan(cp)
    T = solve_plan(cp, formulation="full").survival_days
    ub = asap.upper_bound(c)
    assert asap.restricted_horizon(c) <= T <= ub.T
    if ub.exact:
        assert T == ub.T == asap.exact_horizon(c)


@pytest.mark.parametrize("seed", [12, 16, 40, 47])
def test_daily_term_repo_fallback_matches_full(seed):
    """Plans whose restriction / relaxation do not meet: the reduced LP keeps daily term-repo
    variables and must still equal the full LP."""
    p = random_plan(seed)
    cp = CBCPlan.from_dict(p)
    red = solve_plan(cp)
    assert red.info["stage2"] == "reduced LP with daily term-repo variables"
    _same(red, solve_plan(cp, formulation="full"))
    _same(red, solve_plan(cp, method="milp"))
    check(p, red)


@pytest.mark.parametrize("seed", [124, 194])
def test_stage_one_lps_inside_the_bracket(seed):
    p = random_plan(seed)
    cp = CBCPlan.from_dict(p)
    red = solve_plan(cp)
    assert red.info["lp_algorithm"] not in ("none (closed form)", "none (bracket closed)")
    assert red.info["restricted_horizon"] < red.info["upper_bound"]
    _same(red, solve_plan(cp, formulation="full"))
    check(p, red)


def test_temporary_repo_needs_the_lp():
    # day 1 needs 10 (only the lag-0 term repo can pay it), day 4 an inflow of 12 repays it;
    # a 2-day term repo of the 10 units matures on day 3: repaid from the opening cash.
    p = plan(5, 12, [10, 0, 0, -12, 8], [asset(amount=10, sale=False, lag=0, repo_term_days=2),
                                          asset(id="b", amount=20, disc=0.5, hc=0.5, lag=0, repo=False)])
    cp = CBCPlan.from_dict(p)
    red, full = solve_plan(cp), solve_plan(cp, formulation="full")
    _same(red, full)
    check(p, red)


@pytest.mark.parametrize("deficit", [1.5e-7, 2.5e-7])
def test_balance_within_the_closed_form_tolerance_falls_back_to_the_full_lp(deficit):
    """Day 3 misses zero by less than the closed forms' tolerance (1e-9 x the plan's scale) but
    by more than HiGHS accepts: the closed form certifies 4 days, the stage-2 LP is infeasible
    there, and the full LP decides (found by the bisection on opening cash of the shortfall
    test; before the fallback this raised SolverFailure)."""
    p = plan(4, 300.0, [150.0, 140.0, 10.0 + deficit, 0.0],
             [asset(amount=5.0, sale=False, repo=True, hc=0.0, lag=3)])
    cp = CBCPlan.from_dict(p)
    assert asap.upper_bound(compile_plan(cp)).T == 4
    red = solve_plan(cp)
    assert red.info["formulation"].startswith("full (fallback")
    _same(red, solve_plan(cp, formulation="full"))
    assert red.survival_days == 2


def test_line_with_both_markets_closed():
    """A line whose sale and repo markets are both closed in the scenario (no source at all,
    as the plan builder makes it) contributes nothing and does not break the closed forms."""
    p = plan(6, 3, [2, 2, 2, 2, 2, 2], [asset(amount=50, sale=False, repo=False, cap=10),
                                         asset(id="b", amount=6, disc=0.1, cap=2, lag=1, repo=False)], minimum_balance=1)
    cp = CBCPlan.from_dict(p)
    c = compile_plan(cp)
    np.testing.assert_array_equal(asap.group_cash(c, 0), np.zeros(6))
    red, full = solve_plan(cp), solve_plan(cp, formulation="full")
    _same(red, full)
    check(p, red)
    # opening 3 - floor 1 = 2, day 1 -> 0; b pays 1.8 a day from day 2 against 2 a day: day 2 fails
    assert red.survival_days == 1


def test_asap_schedule_delivers_the_closed_form():
    p = plan(6, 0, [1, 2, 3, 4, 5, 6], [asset(amount=12, cap=5, lag=1, closed_days=[2]),
                                         asset(id="pi", amount=10, disc=0.1, hc=0.3, cap=4, lag=0,
                                               price_impact={"kind": "linear", "beta": 0.02, "tranches": 4})])
    c = compile_plan(CBCPlan.from_dict(p))
    for g in range(c.G):
        sched = asap.asap_schedule(c, g, float(c.g_avail[g]))
        cash = np.zeros(c.H)
        for j, arr in sched.items():
            cash += asap.shift(np.cumsum(arr) * c.s_cash[j], int(c.s_lag[j]))
        np.testing.assert_allclose(cash, asap.group_cash(c, g), atol=1e-12)


def test_paths_vectorised_equal_lp_per_path():
    """Proposition 2 over outflow paths (what the Monte Carlo uses) against the LP."""
    rng = np.random.default_rng(3)
    p = plan(20, 5, [0] * 20, [asset(amount=30, cap=6, lag=1), asset(id="b", amount=25, disc=0.1, hc=0.05, cap=3, lag=2),
                               asset(id="r", amount=15, hc=0.1, sale=False, lag=0, repo_term_days=5, rollover=True)])
    c = compile_plan(CBCPlan.from_dict(p))
    paths = rng.uniform(-1, 6, size=(25, 20)).round(2)
    got = asap.horizons_for_paths(asap.asap_cash(c), c.opening, paths)
    for k in range(len(paths)):
        q = dict(p, net_outflows=paths[k].tolist())
        assert got[k] == solve_plan(CBCPlan.from_dict(q), formulation="full").survival_days


def test_paths_vectorised_equal_lp_per_path_with_floor():
    """The same with a cash floor and encumbered units: the Monte Carlo's closed form reads
    the compiled opening cash (minus the floor) and the available units (minus encumbered)."""
    rng = np.random.default_rng(5)
    p = plan(20, 9, [0] * 20, [asset(amount=30, cap=6, lag=1, encumbered=11),
                               asset(id="b", amount=25, disc=0.1, hc=0.05, cap=3, lag=2, encumbered=4.5),
                               asset(id="r", amount=15, hc=0.1, sale=False, lag=0, repo_term_days=5, rollover=True,
                                     encumbered=6)],
             minimum_balance=4)
    c = compile_plan(CBCPlan.from_dict(p))
    assert c.opening == 5 and c.floor == 4
    paths = rng.uniform(-1, 8, size=(25, 20)).round(2)
    got = asap.horizons_for_paths(asap.asap_cash(c), c.opening, paths)
    assert len(set(got.tolist())) >= 4
    for k in range(len(paths)):
        q = dict(p, net_outflows=paths[k].tolist())
        assert got[k] == solve_plan(CBCPlan.from_dict(q), formulation="full").survival_days
        assert got[k] == solve_plan(_without_floor(q), formulation="full").survival_days


def test_currency_plans_reduced_equals_full():
    """Multi-currency files: every currency's plan (the blocks ``cbc_fx.build_multi`` stacks,
    whose stand-alone horizons come from ``solve_plan``) gives the same horizon and remaining
    CBC with the reduced and the full formulation, and the multi-currency horizons are those
    computed with the full formulation's stand-alone horizons."""
    from pathlib import Path

    from liqstress.models.stress_file import load_stress
    from liqstress.solvers.cbc_fx import build_multi, currency_horizon
    from liqstress.stress import fx

    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[1] / "examples/stress/two_currency_bank.yaml").read_text())
    doc.update(minimum_operational_cash=150.0, intraday_liquidity_requirement=100.0)  # a floor on the USD book
    stress = load_stress(doc)
    seen_floor = False
    for sc in stress.scenarios:
        plans = fx.currency_plans(stress, sc.name)
        alone = {}
        for code, (_, _, p) in plans.items():
            seen_floor |= p.minimum_balance > 0
            red, full = solve_plan(p), solve_plan(p, formulation="full")
            _same(red, full)
            alone[code] = full.survival_days
        m = build_multi({k: p for k, (_, _, p) in plans.items()}, fx.line_specs(stress, fx.fx_scenario(stress, sc.name)))
        got = fx.currency_analysis(stress, sc.name)
        for code, cr in got.items():
            assert cr.standalone_days == alone[code]
            assert cr.survival_days == currency_horizon(m, code, alone).survival_days
    assert seen_floor  # the reporting currency carries the file's cash floor


def test_formulation_validated():
    with pytest.raises(InputError):
        solve_plan(CBCPlan.from_dict(plan(1, 1, [0])), formulation="fast")
