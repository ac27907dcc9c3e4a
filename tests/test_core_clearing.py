"""Clearing (4), (15), (19) against independent computations."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core_systems import interbank_systems, random_system, systems
from liqstress.models.inverse_demand import Linear
from liqstress.solvers.clearing import clear, ell, greatest_price, worst_case_payments
from liqstress.solvers.eisenberg_noe import en_clearing


def bisect_greatest(d, r, a, f):
    """Independent reference: the greatest root of p - Phi(p) by scanning from p = 1 down on a
    fine grid (Phi non-decreasing), then plain bisection on the last sign change."""
    def h(p):
        return p - f(a + np.minimum(d / p, r).sum())
    grid = np.linspace(1.0, 1e-9, 20001)
    hv = np.array([h(p) for p in grid])
    k = int(np.argmax(hv <= 0))  # first point (from the top) with Phi(p) >= p
    lo, hi = grid[k], grid[k - 1] if k > 0 else 1.0
    if k == 0:
        return 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if h(mid) <= 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@settings(max_examples=40, deadline=None)
@given(systems, st.integers(0, 10**6))
def test_price_fixed_point_matches_bisection(system, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, system.n) * ell(system)
    res = clear(system, x)
    p = res.price_t2
    X = x.sum()
    d = np.maximum(system.L - system.c - x * system.f(X), 0)
    r = system.s - x
    ref = bisect_greatest(d, r, system.alpha * X, system.f)
    assert abs(p - ref) < 1e-9
    # it is a fixed point to ~1e-12
    assert abs(p - system.f(system.alpha * X + np.minimum(d / p, r).sum())) < 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 30), st.floats(0.05, 0.99), st.floats(0, 1))
def test_linear_price_is_the_greatest_quadratic_root(seed, n, u, alpha):
    """For linear f and a single regime the fixed point solves p^2 - A p + beta D = 0."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.5, 3, n)
    d = rng.uniform(0, 0.3, n) * r  # shortfalls small: every bank is in the d/p regime near p = 1
    f = Linear(u / (2 * r.sum()))
    p = greatest_price(d, r, 0.0, f)
    y = np.minimum(d / p, r)
    if np.all(d / p < r):  # single regime: explicit root
        A = 1.0
        disc = A * A - 4 * f.beta * d.sum()
        assert abs(p - (A + np.sqrt(disc)) / 2) < 1e-12
    assert abs(p - f(y.sum())) < 1e-12


def test_no_shortfall_gives_price_of_permanent_impact_only():
    sysm = random_system(3, 4, "exponential", alpha=0.6)
    big = sysm.__class__.from_arrays(sysm.L + 10, sysm.s, sysm.L, sysm.f, alpha=0.6)
    x = np.array([0.1, 0.2, 0.0, 0.3])
    res = clear(big, x)
    assert res.price_t2 == pytest.approx(float(big.f(0.6 * x.sum())), abs=1e-15)
    assert np.all(res.sales_t2 == 0)
    assert np.all(ell(big) == 0)


def picard_en(pbar, Pi, e, iters=200000):
    P = pbar.copy()
    PiT = Pi.T.toarray()
    for _ in range(iters):
        Pn = np.minimum(pbar, e + PiT @ P)
        if np.max(np.abs(Pn - P)) < 1e-15:
            break
        P = Pn
    return P


@settings(max_examples=30, deadline=None)
@given(interbank_systems, st.integers(0, 10**6))
def test_eisenberg_noe_fictitious_default_vs_picard(system, seed):
    rng = np.random.default_rng(seed)
    e = rng.uniform(0, 1, system.n) * system.pbar * 0.8
    P = en_clearing(system.pbar, system.Pi, e)
    ref = picard_en(system.pbar, system.Pi, e)
    assert np.allclose(P, ref, atol=1e-9)
    assert np.allclose(P, np.minimum(system.pbar, e + system.Pi.T @ P), atol=1e-10)


def joint_monotone_iteration(system, x, iters=200000):
    """Reference for (15): monotone iteration of the joint map from (q, P) = (1, pbar)."""
    f = system.f
    X = x.sum()
    cash1 = system.c + x * f(X)
    r = system.s - x
    PiT = system.Pi.T.toarray()
    pbar = system.pbar
    q, P = 1.0, pbar.copy()
    for _ in range(iters):
        y = np.minimum(np.maximum(pbar - cash1 - PiT @ P, 0) / q, r)
        qn = float(f(y.sum()))
        Pn = np.minimum(pbar, cash1 + PiT @ P + r * q)
        if abs(qn - q) < 1e-15 and np.max(np.abs(Pn - P)) < 1e-15:
            break
        q, P = qn, Pn
    return q, P


@settings(max_examples=25, deadline=None)
@given(interbank_systems, st.integers(0, 10**6))
def test_interbank_clearing_15_vs_joint_iteration(system, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, system.n) * ell(system)
    res = clear(system, x)
    q, P = joint_monotone_iteration(system, x)
    assert abs(res.price_t2 - q) < 1e-8
    assert np.allclose(res.payments, P, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(interbank_systems, st.integers(0, 10**6))
def test_worst_case_payments_19_is_en_fixed_point(system, seed):
    rng = np.random.default_rng(seed)
    e = ell(system)
    x = rng.uniform(0, 1, system.n) * e
    Pt = worst_case_payments(system, x, e)
    X = x.sum()
    h = x * system.f(X) + (e - x) * system.f(e.sum() - X)
    assert np.allclose(Pt, picard_en(system.pbar, system.Pi, system.c + h), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(systems, st.integers(0, 10**6))
def test_value_6_both_forms_agree(system, seed):
    """(6): min(L, c + x f(X) + y p) == min(L, c + x f(X) + (s - x) p); without the cap on
    the left they differ only for banks whose cash after t=1 already exceeds L (y = 0)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, system.n) * ell(system)
    res = clear(system, x)
    p1, p2 = res.price_t1, res.price_t2
    other = np.minimum(system.L, system.c + x * p1 + (system.s - x) * p2)
    assert np.allclose(np.minimum(system.L, res.values), other, rtol=1e-11, atol=1e-11)
    surplus = system.c + x * p1 >= system.L
    assert np.allclose(res.values[~surplus], other[~surplus], rtol=1e-11, atol=1e-11)
    assert np.all(res.sales_t2[surplus] == 0)
