"""Generators (size, degree, ratios, Assumption 4.1) and RAS / maximum-entropy calibration."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.networks.calibration import max_entropy, ras
from liqstress.networks.generators import BalanceSheetRatios, generate, inverse_demand_for


@pytest.mark.parametrize("kind", ["erdos-renyi", "core-periphery", "scale-free"])
@pytest.mark.parametrize("n,d", [(50, 3.0), (500, 10.0), (3000, 10.0)])
def test_generators_size_degree_and_validity(kind, n, d):
    s = generate(kind, n, d, seed=11)
    assert s.n == n
    Lm = s.Lmat.tocoo()
    assert (Lm.row != Lm.col).all()  # L_ii = 0
    m = Lm.nnz
    if kind == "scale-free":  # Chung–Lu: duplicates of hub pairs can make it slightly short
        assert 0.97 * d * n <= m <= round(d * n)
    else:
        assert m == round(d * n)
    # calibration keeps the topology: (almost) no exposure collapsed to the 1e-6 floor
    assert np.mean(s.Lmat.data <= 1.0001e-6 * s.Lmat.data.mean()) < (0.01 if n >= 500 else 0.1)
    # no duplicate edges (a CSR built from coo would sum them)
    keys = Lm.row.astype(np.int64) * n + Lm.col
    assert np.unique(keys).size == m
    # inverse demand valid for Assumption 4.1 on the generated S
    s.f.check_assumption(s.S)
    assert s.f(s.S) == pytest.approx(0.95, abs=1e-12)
    # every bank: illiquid > 0, liabilities > 0, positive book equity
    IA = np.asarray(s.Lmat.sum(axis=0)).ravel()
    assets = s.c + s.s + IA
    assert (s.s > 0).all() and (s.pbar > 0).all()
    assert (assets > s.pbar).all()


def test_generated_ratios_match_documentation():
    s = generate("erdos-renyi", 4000, 10, seed=2)
    r = BalanceSheetRatios()
    IA = np.asarray(s.Lmat.sum(axis=0)).ravel()
    IL = np.asarray(s.Lmat.sum(axis=1)).ravel()
    A = s.c + s.s + IA
    share_ia = IA / A
    lev = 1 - s.pbar / A
    liq = s.c / A
    lo, hi = r.interbank_assets
    assert lo - 0.02 <= np.median(share_ia) <= hi + 0.02
    assert np.mean((share_ia >= lo * 0.8) & (share_ia <= hi * 1.2)) > 0.9
    assert np.mean((lev >= r.equity[0] - 1e-9) & (lev <= r.equity[1] + 1e-9)) > 0.95
    assert np.mean((liq >= r.liquid[0] * 0.8) & (liq <= r.liquid[1] * 1.05)) > 0.95
    assert 0.10 <= np.median(IL / s.pbar) <= 0.25
    # lognormal sizes: heavy right tail
    assert A.max() / np.median(A) > 10


def test_generate_reproducible_and_seed_sensitive():
    a = generate("scale-free", 300, 5, seed=4)
    b = generate("scale-free", 300, 5, seed=4)
    c = generate("scale-free", 300, 5, seed=5)
    assert (a.Lmat != b.Lmat).nnz == 0 and np.array_equal(a.c, b.c)
    assert (a.Lmat != c.Lmat).nnz > 0


def test_core_periphery_structure():
    s = generate("core-periphery", 1000, 8, seed=1, core_frac=0.1)
    Lm = s.Lmat.tocoo()
    k = 100
    pp = (Lm.row >= k) & (Lm.col >= k)
    assert pp.sum() == 0  # periphery banks trade only with the core
    sizes = s.c + s.s + np.asarray(s.Lmat.sum(axis=0)).ravel()
    assert np.median(sizes[:k]) > 3 * np.median(sizes[k:])


def test_scale_free_has_hubs():
    s = generate("scale-free", 5000, 10, seed=3)
    B = s.Lmat.copy()
    B.data[:] = 1
    deg = np.asarray(B.sum(axis=0)).ravel() + np.asarray(B.sum(axis=1)).ravel()
    assert deg.max() > 20 * np.median(deg)


def test_generator_input_errors():
    with pytest.raises(InputError, match="mean_degree"):
        generate("erdos-renyi", 5, 10, seed=0)
    with pytest.raises(InputError, match="kind"):
        generate("small-world", 50, 3, seed=0)
    with pytest.raises(InputError, match="impact"):
        inverse_demand_for(10.0, 0.6, "linear")
    f = inverse_demand_for(10.0, 0.6, "exponential")
    f.check_assumption(10.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 60), st.floats(0.05, 0.8))
def test_ras_reproduces_feasible_margins(seed, n, density):
    rng = np.random.default_rng(seed)
    pattern = (rng.random((n, n)) < density).astype(float)
    np.fill_diagonal(pattern, 0)
    truth = pattern * rng.lognormal(0, 1, (n, n))
    r, c = truth.sum(axis=1), truth.sum(axis=0)
    prior = sp.csr_matrix(pattern * rng.uniform(0.5, 2.0, (n, n)))
    res = ras(prior, r, c, tol=1e-12, max_iter=20000)
    L = res.L.toarray()
    assert np.all(np.diag(L) == 0)
    assert np.all(L[pattern == 0] == 0)  # the pattern is kept
    # margins attainable with every pattern entry positive: RAS converges (linearly)
    assert res.converged, res.max_rel_error
    np.testing.assert_allclose(L.sum(axis=1), r, atol=1e-9 * r.sum())
    np.testing.assert_allclose(L.sum(axis=0), c, atol=1e-9 * r.sum())


def test_ras_converges_on_dense_feasible_case():
    rng = np.random.default_rng(0)
    n = 30
    truth = rng.lognormal(0, 1, (n, n))
    np.fill_diagonal(truth, 0)
    res = ras(sp.csr_matrix(np.ones((n, n))), truth.sum(1), truth.sum(0), tol=1e-12)
    assert res.converged and res.max_rel_error <= 1e-11


def test_max_entropy_zero_diagonal_and_product_form():
    rng = np.random.default_rng(1)
    n = 12
    r = rng.uniform(1, 3, n)
    c = rng.uniform(1, 3, n)
    c *= r.sum() / c.sum()
    res = max_entropy(r, c)
    L = res.L.toarray()
    assert res.converged
    np.testing.assert_allclose(np.diag(L), 0)
    np.testing.assert_allclose(L.sum(1), r, rtol=1e-10)
    np.testing.assert_allclose(L.sum(0), c, rtol=1e-10)
    # maximum entropy with zero diagonal: L_ij = u_i v_j off the diagonal (cross ratios equal)
    i, j, k, l = 0, 1, 2, 3
    assert L[i, j] * L[k, l] == pytest.approx(L[i, l] * L[k, j], rel=1e-9)


def test_ras_reports_unattainable_margins():
    # bank 0 must pay 3 but its only creditor (bank 1) is owed 1 in total: infeasible
    P = np.array([[0, 1, 0], [0, 0, 1], [1, 1, 0.0]])
    res = ras(sp.csr_matrix(P), [3, 1, 1], [1, 1, 3], tol=1e-12, max_iter=500)
    assert not res.converged and res.max_rel_error > 1e-3


def test_ras_rejects_inconsistent_margins():
    with pytest.raises(InputError, match="sum of row totals"):
        ras(sp.csr_matrix(np.ones((3, 3))), [1, 1, 1], [1, 1, 2])
    P = np.zeros((3, 3))
    P[0, 1] = 1
    with pytest.raises(InputError, match="no creditor"):
        ras(sp.csr_matrix(P), [1, 1, 0], [0, 1, 1])
