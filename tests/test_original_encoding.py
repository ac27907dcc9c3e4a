"""Exactness of the MINLP encodings of the clearing (4) and (15), the vectorised clearing and
the Lipschitz constant of the outer level — each against independent computations."""

import math

import numpy as np
import pyomo.environ as pyo
import pytest
from original_systems import distressed, distressed_interbank

from liqstress.models.original_pyomo import add_clearing_interbank, add_clearing_permanent, solve_scip
from liqstress.solvers.clearing import clear, ell, relaxed_value
from liqstress.solvers.original import inner_original
from liqstress.solvers.original_batch import batch_values
from liqstress.solvers.outer import lipschitz_constant


def _pinned_range(system, x, e, target):
    """min and max of ``target(blk)`` over the encoding with every x_j fixed: an exact
    encoding has a single feasible equilibrium, so both equal the clearing value."""
    out = []
    for sense in (pyo.minimize, pyo.maximize):
        m = pyo.ConcreteModel()
        xe = {j: float(x[j]) for j in range(system.n) if e[j] > 0 or j == 0}
        add = add_clearing_interbank if system.has_interbank else add_clearing_permanent
        X = float(sum(xe.values()))
        V = add(m, system, xe, X, X, e)
        m.obj = pyo.Objective(expr=target(m, V), sense=sense)
        o = solve_scip(m, abs_gap=1e-10)
        assert o.status in ("optimal", "convergenceCriteriaSatisfied"), o.status
        out.append(o.primal)
    return out


@pytest.mark.parametrize("kind,alpha", [("linear", 0.0), ("exponential", 0.5), ("power", 1.0)])
def test_encoding_pins_the_unique_equilibrium(kind, alpha):
    """At fixed x, min and max over the encoding of the price p and of V_0 coincide with the
    exact clearing: a loose encoding (e.g. y_j <= min(.)) would open a gap here."""
    for seed in range(3):
        sysm = distressed(seed, 4, kind, alpha)
        e = ell(sysm)
        x = np.random.default_rng(seed).random(4) * e
        cl = clear(sysm, x)
        lo, hi = _pinned_range(sysm, x, e, lambda m, V: m.p)
        assert lo == pytest.approx(cl.price_t2, abs=1e-7) and hi == pytest.approx(cl.price_t2, abs=1e-7)
        lo, hi = _pinned_range(sysm, x, e, lambda m, V: V(0))
        assert lo == pytest.approx(cl.values[0], abs=1e-7) and hi == pytest.approx(cl.values[0], abs=1e-7)


def test_interbank_encoding_pins_equilibrium():
    for seed in range(3):
        sysm = distressed_interbank(seed, 3)
        e = ell(sysm)
        x = np.random.default_rng(seed).random(3) * e
        cl = clear(sysm, x)
        lo, hi = _pinned_range(sysm, x, e, lambda m, V: m.q)
        assert lo == pytest.approx(cl.price_t2, abs=1e-7) and hi == pytest.approx(cl.price_t2, abs=1e-7)
        lo, hi = _pinned_range(sysm, x, e, lambda m, V: V(0))
        assert lo == pytest.approx(cl.values[0], abs=1e-7) and hi == pytest.approx(cl.values[0], abs=1e-7)


@pytest.mark.parametrize("kind", ["linear", "exponential", "power"])
@pytest.mark.parametrize("interbank", [False, True])
def test_batch_clearing_matches_clear(kind, interbank):
    for seed in range(3):
        sysm = distressed_interbank(seed, 4, kind) if interbank else distressed(seed, 4, kind, alpha=0.5)
        e = ell(sysm)
        X = np.random.default_rng(seed).random((40, 4)) * e
        V = batch_values(sysm, X)
        V2 = np.array([clear(sysm, x).values for x in X])
        assert np.max(np.abs(V - V2)) < 1e-10


@pytest.mark.parametrize("kind,alpha", [("linear", 0.0), ("linear", 1.0), ("exponential", 0.5), ("power", 1.0)])
def test_scip_inner_recleared_and_below_samples(kind, alpha):
    """The SCIP optimum re-clears to its own objective, is certified, the lower bound is below
    V_i at thousands of exactly cleared random points, and Lemma 4.2 cuts change nothing."""
    for seed in range(2):
        sysm = distressed(seed, 4, kind, alpha)
        e = ell(sysm)
        for frac in (0.3, 0.8):
            r = inner_original(sysm, 0, frac * e[0], "global")
            assert r.certified and r.status == "optimal"
            assert r.value == pytest.approx(float(clear(sysm, r.x).values[0]), abs=1e-12)
            assert r.gap <= 1e-7
            X = np.random.default_rng(seed).random((4000, 4)) * e
            X[:, 0] = frac * e[0]
            assert batch_values(sysm, X)[:, 0].min() >= r.lower_bound - 1e-7
            r2 = inner_original(sysm, 0, frac * e[0], "global", lemma_cuts=True)
            assert r2.value == pytest.approx(r.value, abs=1e-6)


@pytest.mark.parametrize("kind", ["linear", "exponential", "power"])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_lipschitz_constant_empirical(kind, alpha):
    """|V_i(x_i + h, x_-i) - V_i(x_i, x_-i)| <= L_V h on random points (and strong impact)."""
    for seed in range(3):
        sysm = distressed(seed, 4, kind, alpha, strength=0.99)
        e = ell(sysm)
        rng = np.random.default_rng(seed)
        X = rng.random((3000, 4)) * e
        h = 1e-6 * e[0]
        X2 = X.copy()
        X[:, 0] = np.minimum(X[:, 0], e[0] - h)
        X2[:, 0] = X[:, 0] + h
        slope = np.abs(batch_values(sysm, X2)[:, 0] - batch_values(sysm, X)[:, 0]) / h
        L = lipschitz_constant(sysm, 0)
        assert math.isfinite(L) and slope.max() <= L * (1 + 1e-6)


@pytest.mark.parametrize("kind", ["linear", "exponential"])
def test_lemma_42_on_random_points(kind):
    for seed in range(3):
        sysm = distressed(seed, 5, kind, alpha=0.5)
        e = ell(sysm)
        X = np.random.default_rng(seed).random((200, 5)) * e
        for x in X:
            cl = clear(sysm, x)
            assert np.all(x + cl.sales_t2 <= e * (1 + 1e-9) + 1e-12)
        V = batch_values(sysm, X)
        Vt = np.array([relaxed_value(sysm, x, e) for x in X])
        assert np.all(V >= np.minimum(Vt, sysm.L) - 1e-9)  # Proposition 4.3


def test_loose_encoding_is_detected():
    """Negative control: dropping the lower half of y_j = min(d_j / p, s_j - x_j)
    (y_j p >= d_j - D_j b_j) lets the model pick a higher price at the same x."""
    opened = 0
    for seed in range(3):
        sysm = distressed(seed, 4, "linear", 0.5)
        e = ell(sysm)
        x = np.random.default_rng(seed).random(4) * e
        m = pyo.ConcreteModel()
        xe = {j: float(x[j]) for j in range(4)}
        X = float(x.sum())
        add_clearing_permanent(m, sysm, xe, X, X, e)
        m.y_lo2.deactivate()
        m.obj = pyo.Objective(expr=m.p, sense=pyo.maximize)
        o = solve_scip(m, abs_gap=1e-10)
        opened += o.primal > clear(sysm, x).price_t2 + 1e-4
    assert opened >= 1


def test_banks_that_never_sell_and_surplus_banks():
    """Banks with c_j >= L_j (ell_j = 0, never short) and banks that can end in surplus
    (x_j f(X) > L_j - c_j): the big-M constants must keep the true equilibrium feasible."""
    from liqstress.models.inverse_demand import Linear
    from liqstress.models.system import System

    sysm = System.from_arrays([2.0, 0.5, 0.1, 0.3], [1.0, 3.0, 2.0, 4.0], [1.0, 1.0, 2.5, 3.5], Linear(0.04), alpha=0.5)
    e = ell(sysm)
    assert e[0] == 0.0
    for i in range(4):
        r = inner_original(sysm, i, 0.5 * e[i], "global")
        assert r.certified and r.status == "optimal"
        X = np.random.default_rng(i).random((3000, 4)) * e
        X[:, i] = 0.5 * e[i]
        assert batch_values(sysm, X)[:, i].min() >= r.lower_bound - 1e-7
    x = np.array([0.0, e[1], 0.3 * e[2], 0.9 * e[3]])
    cl = clear(sysm, x)
    assert cl.values[1] > sysm.L[1]  # bank 1 ends in surplus
    lo, hi = _pinned_range(sysm, x, e, lambda m, V: m.p)
    assert lo == pytest.approx(cl.price_t2, abs=1e-7) and hi == pytest.approx(cl.price_t2, abs=1e-7)
