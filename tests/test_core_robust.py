"""Closed-form robust strategies and the paper's properties on random systems."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core_systems import interbank_systems, random_system, systems
from liqstress.models.inverse_demand import Exponential, Linear
from liqstress.models.system import System
from liqstress.solvers.clearing import clear, ell, relaxed_value, relaxed_value_interbank
from liqstress.solvers.robust import g_relaxed, phi, robust_permanent, robust_strategies, solve_phi


# ------------------------------------------------------------------ Lemma 4.2 / Prop 4.3
@settings(max_examples=60, deadline=None)
@given(systems, st.integers(0, 10**6))
def test_lemma_4_2_and_prop_4_3(system, seed):
    """x_i + y_i(x) <= ell_i (Lemma 4.2) and V_i(x) >= min(Vt_i(x), L_i) (Prop 4.3) on the box."""
    rng = np.random.default_rng(seed)
    e = ell(system)
    for _ in range(5):
        x = rng.uniform(0, 1, system.n) * e * (rng.random(system.n) < 0.8)
        res = clear(system, x)
        assert np.all(x + res.sales_t2 <= e + 1e-9)
        Vt = relaxed_value(system, x, e)
        assert np.all(res.values >= np.minimum(Vt, system.L) - 1e-9)


@settings(max_examples=30, deadline=None)
@given(interbank_systems, st.integers(0, 10**6))
def test_lemma_5_1_and_prop_5_2(system, seed):
    """x_i + y_i(x) <= ell_i (Lemma 5.1) and V_i(x) >= min(Vt_i(x), pbar_i) (Prop 5.2)."""
    rng = np.random.default_rng(seed)
    e = ell(system)
    for _ in range(4):
        x = rng.uniform(0, 1, system.n) * e
        res = clear(system, x)
        assert np.all(x + res.sales_t2 <= e + 1e-8)
        Vt = relaxed_value_interbank(system, x, e)
        assert np.all(res.values >= np.minimum(Vt, system.pbar) - 1e-8)


# ------------------------------------------------------------------ brute force of (12)
@pytest.mark.parametrize("kind", ["linear", "exponential", "power"])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.6, 0.9, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_matches_brute_force_grid_of_12(kind, alpha, seed):
    """max_z min_w g(z, w) on a 1201 x 1201 grid vs the closed forms (10)/(11)/(14)."""
    system = random_system(seed, 4, kind, alpha)
    res = robust_strategies(system)
    e, Lam, f = res.ell, res.Lambda, system.f
    for i in range(system.n):
        if e[i] <= 0:
            assert res.strategy[i] == 0
            continue
        W = Lam - e[i]
        z = np.linspace(0, e[i], 1201)[:, None]
        w = np.linspace(0, W, 1201)[None, :]
        G = g_relaxed(z, w, e[i], Lam, alpha, f)
        inner = G.min(axis=1)
        k = int(inner.argmax())
        hz = e[i] / 1200
        v_cf = res.worst_case_value[i] - system.c[i]
        assert abs(v_cf - inner[k]) < 5e-3 * max(1.0, e[i])
        # saddle-point certificate on the grid: g(z, w*) <= v <= g(z*, w) for every z, w
        zs, ws = res.strategy[i], res.worst_case_others[i]
        assert g_relaxed(z[:, 0], ws, e[i], Lam, alpha, f).max() <= v_cf + 1e-10
        assert g_relaxed(zs, w[0], e[i], Lam, alpha, f).min() >= v_cf - 1e-10
        # strategy: the grid maximiser is within a few cells (g concave in z)
        assert abs(z[k, 0] - res.strategy[i]) <= 3 * hz + 1e-3 * e[i]
        # w*: the worst case of the closed form z is at w*
        gz = g_relaxed(res.strategy[i], w, e[i], Lam, alpha, f)
        assert g_relaxed(res.strategy[i], res.worst_case_others[i], e[i], Lam, alpha, f) <= gz.min() + 1e-9


@settings(max_examples=60, deadline=None)
@given(systems)
def test_strategy_bounds_and_alpha_zero(system):
    """x_i* <= ell_i / 2 (Theorem 4.4) and x_i*(0) = ell_i / 2."""
    res = robust_strategies(system)
    assert np.all(res.strategy <= res.ell / 2 + 1e-12)
    assert np.all(res.strategy >= 0)
    r0 = robust_strategies(system, alpha=0.0)
    assert np.allclose(r0.strategy, r0.ell / 2, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(systems)
def test_continuity_at_alphabar(system):
    r = robust_strategies(system)
    e = r.ell
    for i in np.flatnonzero((r.alpha_bar > 1e-3) & (r.alpha_bar < 1 - 1e-3)):
        ab = r.alpha_bar[i]
        lo = robust_strategies(system, alpha=ab - 1e-7)
        hi = robust_strategies(system, alpha=ab + 1e-7)
        assert abs(lo.strategy[i] - hi.strategy[i]) < 1e-5 * max(e[i], 1)
        assert abs(lo.worst_case_others[i] - hi.worst_case_others[i]) < 1e-5 * max(e.sum(), 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 7), st.floats(0.05, 0.97))
def test_linear_V_shape(seed, n, strength):
    """Linear f: decreasing on [0, alphabar_i], increasing on [alphabar_i, 1] back to ell_i/2 (14)."""
    system = random_system(seed, n, "linear", strength=strength)
    alphas = np.linspace(0, 1, 101)
    X = np.array([robust_strategies(system, alpha=a).strategy for a in alphas])
    r = robust_strategies(system)
    for i in range(n):
        if r.ell[i] <= 0:
            continue
        ab = r.alpha_bar[i]
        left = X[alphas <= ab, i]
        right = X[alphas >= ab, i]
        assert np.all(np.diff(left) <= 1e-12)
        assert np.all(np.diff(right) >= -1e-12)
        assert X[-1, i] == pytest.approx(r.ell[i] / 2, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(systems)
def test_worst_case_aggregate_rises_then_plateaus(system):
    alphas = np.linspace(0, 1, 41)
    r = robust_strategies(system)
    Wv = np.array([robust_strategies(system, alpha=a).worst_case_others for a in alphas])
    for i in range(system.n):
        ab = r.alpha_bar[i]
        W = r.Lambda - r.ell[i]
        assert np.all(np.diff(Wv[alphas <= ab, i]) >= -1e-12)
        assert np.allclose(Wv[alphas > ab, i], W, atol=1e-12)
        assert np.all(Wv[:, i] <= W + 1e-12)


def _exp_system_with_ell(ell_vec, beta):
    """A system whose no-early-liquidation sales are exactly ell (liquid assets 0, liabilities
    chosen so the clearing sells ell at price f(Lambda))."""
    ell_vec = np.asarray(ell_vec, float)
    f = Exponential(beta)
    p = float(f(ell_vec.sum()))
    s = ell_vec * 1.5
    L = ell_vec * p
    return System.from_arrays(np.zeros_like(s), s, L, f)


def test_prop_4_6_dominant_bank_decreases_on_whole_interval():
    """Prop 4.6: strictly convex f, 2 ell_i > Lambda, W_i small => x_i*(alpha) decreasing on [0, 1]."""
    system = _exp_system_with_ell([10.0, 0.1, 0.1], beta=0.05)
    assert np.allclose(ell(system), [10.0, 0.1, 0.1], rtol=1e-9)
    alphas = np.linspace(0, 1, 201)
    X = np.array([robust_strategies(system, alpha=a).strategy[0] for a in alphas])
    assert np.all(np.diff(X) < 0)


def test_theorem_4_5_small_bank_increases_after_tipping_point():
    """Theorem 4.5: 2 ell_i < Lambda => x_i* increasing on [alphabar_i, 1] (exponential f)."""
    system = _exp_system_with_ell([3.0, 2.0, 2.0, 1.0], beta=0.08)
    r = robust_strategies(system)
    for i in range(4):
        alphas = np.linspace(r.alpha_bar[i], 1, 101)
        X = np.array([robust_strategies(system, alpha=a).strategy[i] for a in alphas])
        assert np.all(np.diff(X) > -1e-12)


# ------------------------------------------------------------------ (11) root finding
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 8), st.floats(0.05, 0.97), st.floats(0.0, 1.0))
def test_vectorised_root_of_11_matches_linear_closed_form_14(seed, n, strength, alpha):
    """The safeguarded Newton root of phi on linear f equals (14)."""
    system = random_system(seed, n, "linear", alpha=alpha, strength=strength)
    e = ell(system)
    Lam = e.sum()
    ab, x, w, val, regime = robust_permanent(system.c, e, alpha, system.f)
    idx = np.flatnonzero(regime & (e > 0))
    if idx.size:
        z = solve_phi(Lam - e[idx], e[idx], Lam, alpha, system.f)
        assert np.allclose(z, x[idx], atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 8), st.floats(0.05, 0.97), st.floats(0.0, 1.0), st.sampled_from(["exponential", "power"]))
def test_root_of_11_is_a_root_and_unique_sign_change(seed, n, strength, alpha, kind):
    system = random_system(seed, n, kind, alpha=alpha, strength=strength)
    e = ell(system)
    Lam = e.sum()
    ab, x, w, val, regime = robust_permanent(system.c, e, alpha, system.f)
    for i in np.flatnonzero(regime & (e > 0)):
        W = Lam - e[i]
        zz = np.linspace(0, e[i], 2001)
        ph = phi(zz, W, e[i], Lam, alpha, system.f)
        assert np.all(np.diff(ph) < 0)  # strictly decreasing
        if ph[0] > 0 > ph[-1]:
            assert abs(phi(x[i], W, e[i], Lam, alpha, system.f)) < 1e-10
        # the closed form is a maximiser of g(., W) on [0, ell_i]
        assert g_relaxed(x[i], W, e[i], Lam, alpha, system.f) >= g_relaxed(zz, W, e[i], Lam, alpha, system.f).max() - 1e-10


def test_interbank_strategy_is_half_ell():
    system = random_system(5, 4, "linear", interbank=True)
    r = robust_strategies(system)
    assert np.allclose(r.strategy, ell(system) / 2)
    assert r.alpha_bar is None


def test_banks_that_never_sell_and_zero_lambda():
    f = Linear(0.01)
    system = System.from_arrays([5.0, 5.0], [1.0, 2.0], [1.0, 2.0], f)
    r = robust_strategies(system, alpha=0.7)
    assert r.Lambda == 0
    assert np.all(r.strategy == 0) and np.all(np.isfinite(r.alpha_bar))
