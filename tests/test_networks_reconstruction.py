"""Network reconstruction: minimum density (Anand, Craig and von Peter 2015) besides RAS and
maximum entropy.

Known answers: the seven-bank example of Anand et al. (2015, p. 628) as printed in the
README of the R package NetworkRiskMeasures (carloscinelli/NetworkRiskMeasures, README.md,
"Filling in the blanks"): its maximum-entropy matrix (2 decimals) and its minimum-density
matrix (9 links, a stochastic search); the exact minimum is checked here with a MILP.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.networks.calibration import max_entropy, min_density

# NetworkRiskMeasures' orientation: rows lend (assets A), columns borrow (liabilities L)
NRM_L = np.array([4, 5, 5, 0, 0, 2, 4.0])  # what each bank owes (our row totals)
NRM_A = np.array([7, 5, 3, 1, 3, 0, 1.0])  # what each bank is owed (our column totals)
NRM_ME = np.array([  # README: round(ME, 2), lender x borrower
    [0.00, 2.53, 2.18, 0, 0, 0.74, 1.55],
    [1.72, 0.00, 1.60, 0, 0, 0.54, 1.14],
    [0.98, 1.06, 0.00, 0, 0, 0.31, 0.65],
    [0.25, 0.27, 0.23, 0, 0, 0.08, 0.17],
    [0.75, 0.81, 0.70, 0, 0, 0.24, 0.50],
    [0.00, 0.00, 0.00, 0, 0, 0.00, 0.00],
    [0.30, 0.32, 0.28, 0, 0, 0.09, 0.00],
])


def test_max_entropy_matches_networkriskmeasures_readme():
    res = max_entropy(NRM_L, NRM_A)
    # NetworkRiskMeasures stops RAS at an absolute margin error of 3e-4, then rounds to 0.01
    np.testing.assert_allclose(res.L.toarray().T, NRM_ME, atol=0.005 + 5e-4)


def _feasible_support_of_size(r, c, k):
    """Is there a support of k admissible pairs carrying the margins?  (Enumeration of
    supports, a transportation LP on each.)"""
    from scipy.optimize import linprog

    n = r.size
    if k == 0:
        return not r.any()
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and r[i] > 0 and c[j] > 0]
    for sub in itertools.combinations(pairs, k):
        A_eq = np.zeros((2 * n, k))
        for col, (i, j) in enumerate(sub):
            A_eq[i, col] = 1
            A_eq[n + j, col] = 1
        if linprog(np.zeros(k), A_eq=A_eq, b_eq=np.r_[r, c], bounds=(0, None), method="highs").status == 0:
            return True
    return False


def test_anand_example_min_density():
    exact = min_density(NRM_L, NRM_A, method="milp")
    assert exact.optimal and exact.links == 7
    assert exact.max_rel_error < 1e-12
    greedy = min_density(NRM_L, NRM_A)
    assert greedy.max_rel_error == 0.0
    assert exact.links <= greedy.links <= 9  # NetworkRiskMeasures' printed MD matrix has 9 links
    me = max_entropy(NRM_L, NRM_A)
    assert me.L.nnz == 26 and greedy.links < me.L.nnz  # every admissible pair
    for L in (exact.L, greedy.L):
        np.testing.assert_allclose(np.asarray(L.sum(axis=1)).ravel(), NRM_L, atol=1e-12)
        np.testing.assert_allclose(np.asarray(L.sum(axis=0)).ravel(), NRM_A, atol=1e-12)
        assert not L.diagonal().any()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 4))
def test_milp_is_exact_minimum_on_tiny_instances(seed, n):
    rng = np.random.default_rng(seed)
    M = np.where(rng.random((n, n)) < 0.6, rng.integers(1, 5, (n, n)).astype(float), 0.0)
    np.fill_diagonal(M, 0.0)
    if not M.any():
        M[0, 1] = 1.0
    r, c = M.sum(axis=1), M.sum(axis=0)
    exact = min_density(r, c, method="milp")
    greedy = min_density(r, c)
    assert exact.optimal and exact.max_rel_error <= 1e-12
    assert not _feasible_support_of_size(r, c, exact.links - 1)  # no support with one link fewer
    assert greedy.links >= exact.links
    assert greedy.max_rel_error <= 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 60), density=st.floats(0.02, 0.5))
def test_greedy_margins_zero_diagonal_and_sparsity(seed, n, density):
    rng = np.random.default_rng(seed)
    M = np.where(rng.random((n, n)) < density, rng.lognormal(0, 1, (n, n)), 0.0)
    np.fill_diagonal(M, 0.0)
    if not M.any():
        M[0, 1] = 1.0
    r, c = M.sum(axis=1), M.sum(axis=0)
    res = min_density(r, c)
    assert res.max_rel_error <= 1e-12
    assert not res.L.diagonal().any()
    assert res.links <= (r > 0).sum() + (c > 0).sum() - 1 + 2 * n
    assert res.links <= max(np.count_nonzero(M), (r > 0).sum() + (c > 0).sum())


def test_min_density_errors():
    with pytest.raises(InputError, match="sum of row totals"):
        min_density([1, 2], [1, 1])
    with pytest.raises(InputError, match="method"):
        min_density([1, 1], [1, 1], method="random")
    with pytest.raises(InputError, match="only be owed to itself"):
        min_density([1, 0], [1, 0])
