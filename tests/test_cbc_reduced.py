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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEEDS)
def test_reduced_equals_full_lp(seed):
    p = random_plan(seed)
    cp = CBCPlan.from_dict(p)
    red = solve_plan(cp)
    assert red.info["formulation"] == "reduced"
    _same(red, solve_plan(cp, formulation="full"))
    check(p, red)


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


def test_formulation_validated():
    with pytest.raises(InputError):
        solve_plan(CBCPlan.from_dict(plan(1, 1, [0])), formulation="fast")
