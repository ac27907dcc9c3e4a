"""Sparse exact clearing (EN (19), joint fire-sale clearing (15)) and the comparison measures.

Independent checks: hand-computed clearing vectors, a dense fictitious-default solver
written here with numpy.linalg, the Eisenberg–Noe LP solved by HiGHS through Pyomo, and
plain monotone iteration of the joint map (15) from (q, P) = (1, pbar).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.models.inverse_demand import Exponential, Linear
from liqstress.models.system import System
from liqstress.networks.measures import debtrank, eisenberg_noe, rogers_veraart
from liqstress.solvers.clearing import clear, worst_case_payments
from liqstress.solvers.eisenberg_noe import en_clearing, en_solve, greatest_price_affine


def _pi(Lm: np.ndarray, b: np.ndarray):
    pbar = b + Lm.sum(axis=1)
    Pi = np.divide(Lm, pbar[:, None], out=np.zeros_like(Lm), where=pbar[:, None] > 0)
    return pbar, sp.csr_matrix(Pi)


# ----------------------------------------------------------------------------- hand-checked
def test_chain_hand_checked():
    # A owes B 2, B owes C 2, C owes 1 outside; endowments 1, 0.5, 0
    Lm = np.array([[0, 2, 0], [0, 0, 2], [0, 0, 0.0]])
    b = np.array([0, 0, 1.0])
    pbar, Pi = _pi(Lm, b)
    P = en_clearing(pbar, Pi, np.array([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(P, [1.0, 1.5, 1.0], rtol=0, atol=1e-14)


def test_cycle_with_external_debt_hand_checked():
    # each bank owes 1 to the next and 1 outside; only A has cash 1: all default,
    # P_B = P_A/2, P_C = P_B/2, P_A = 1 + P_C/2  =>  P = (8/7, 4/7, 2/7)
    Lm = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0.0]])
    pbar, Pi = _pi(Lm, np.ones(3))
    res = en_solve(pbar, Pi, np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(res.P, [8 / 7, 4 / 7, 2 / 7], rtol=0, atol=1e-14)
    assert res.default.all() and res.status == "converged"


def test_closed_cycle_without_cash_greatest_is_pbar():
    # singular ring (no external creditor, no cash): every constant vector clears; greatest = pbar
    Lm = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0.0]])
    pbar, Pi = _pi(Lm, np.zeros(3))
    np.testing.assert_allclose(en_clearing(pbar, Pi, np.zeros(3)), [1, 1, 1], atol=1e-15)


def test_tree_hand_checked():
    # hub H owes 1 to each of L1, L2 (pays pro rata from cash 1); L1, L2 owe 1 outside
    Lm = np.zeros((3, 3))
    Lm[0, 1] = Lm[0, 2] = 1.0
    b = np.array([0.0, 1.0, 1.0])
    pbar, Pi = _pi(Lm, b)
    P = en_clearing(pbar, Pi, np.array([1.0, 0.3, 0.6]))
    np.testing.assert_allclose(P, [1.0, 0.8, 1.0], atol=1e-15)


def test_rogers_veraart_hand_checked_and_reduces_to_en():
    Lm = np.array([[0, 2, 0], [0, 0, 2], [0, 0, 0.0]])
    sysm = System.from_arrays([1.0, 0.5, 0.0], [1.0, 1.0, 1.0], [0, 0, 1.0], Linear(0.1), Lmat=Lm)
    # price 0: external assets = cash; alpha = beta = 1/2:
    # A: 0.5*1 = 0.5; B: 0.5*0.5 + 0.5*0.5 = 0.5; C: 0.5*0.5 = 0.25
    rv = rogers_veraart(sysm, alpha=0.5, beta=0.5, price=0.0)
    np.testing.assert_allclose(rv.payments, [0.5, 0.5, 0.25], atol=1e-14)
    assert rv.n_default == 3
    en = eisenberg_noe(sysm, price=0.0)
    rv1 = rogers_veraart(sysm, alpha=1.0, beta=1.0, price=0.0)
    np.testing.assert_allclose(rv1.payments, en.payments, atol=1e-14)
    np.testing.assert_allclose(en.payments, [1.0, 1.5, 1.0], atol=1e-14)


def test_debtrank_hand_checked():
    # chain A -> B -> C (debtor -> creditor), amounts 1; equities chosen: E_B = 0.5, E_C = 2
    Lm = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0.0]])
    # E_j = c + s + IA - pbar: B: c=0.5,s=1,IA=1,pbar=1+b_B -> b_B = 1.0 gives E_B = 0.5
    #                          C: c=1, s=1, IA=1, pbar=b_C=1 -> E_C = 2
    sysm = System.from_arrays([1.0, 0.5, 1.0], [1.0, 1.0, 1.0], [0.5, 1.0, 1.0], Linear(0.1), Lmat=Lm)
    res = debtrank(sysm, [0], psi=1.0)
    # h_B = min(1, 1/0.5) * 1 = 1; h_C = min(1, 1/2) * h_B = 0.5
    np.testing.assert_allclose(res.h, [1.0, 1.0, 0.5], atol=1e-15)
    assets = np.array([2.0, 2.5, 3.0])  # c + s + IA
    v = assets / assets.sum()
    assert res.debtrank == pytest.approx(v[1] * 1.0 + v[2] * 0.5, abs=1e-15)


# ----------------------------------------------------------------------------- random networks
def _random_network(rng: np.random.Generator, n: int, density: float, b_zero_share: float = 0.3):
    M = (rng.random((n, n)) < density) * rng.uniform(0.1, 3.0, (n, n))
    np.fill_diagonal(M, 0.0)
    b = rng.uniform(0.0, 3.0, n) * (rng.random(n) > b_zero_share)
    return M, b


def _dense_fictitious_default(pbar, Pi_dense, e):
    """Reference: EN's fictitious default algorithm with dense numpy solves."""
    n = pbar.size
    A = Pi_dense.T
    D = np.zeros(n, bool)
    P = pbar.copy()
    for _ in range(n + 1):
        Dn = D | (e + A @ P < pbar * (1 - 1e-12))
        if Dn.sum() == D.sum() and _ > 0:
            break
        D = Dn
        N = ~D
        if D.any():
            M = np.eye(D.sum()) - A[np.ix_(D, D)]
            rhs = e[D] + A[np.ix_(D, N)] @ pbar[N]
            P = pbar.copy()
            P[D] = np.linalg.lstsq(M, rhs, rcond=None)[0] if np.linalg.matrix_rank(M) < D.sum() else np.linalg.solve(M, rhs)
    return P


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 40), st.floats(0.05, 0.6))
def test_sparse_matches_dense_fictitious_default(seed, n, density):
    rng = np.random.default_rng(seed)
    M, b = _random_network(rng, n, density, b_zero_share=0.0)
    pbar, Pi = _pi(M, b)
    e = rng.uniform(0, 2, n) * (rng.random(n) < 0.7)
    P = en_clearing(pbar, Pi, e)
    Pd = _dense_fictitious_default(pbar, Pi.toarray(), e)
    np.testing.assert_allclose(P, Pd, rtol=1e-10, atol=1e-10)
    # P is a clearing vector
    np.testing.assert_allclose(P, np.minimum(pbar, e + Pi.T @ P), atol=1e-11)


def _lp_greatest(pbar, Pi, e):
    import pyomo.environ as pyo

    n = pbar.size
    A = Pi.T.tocsr()
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, n - 1)
    m.P = pyo.Var(m.I, bounds=lambda _m, i: (0.0, float(pbar[i])))
    m.obj = pyo.Objective(expr=sum(m.P[i] for i in m.I), sense=pyo.maximize)

    def rule(_m, i):
        row = A.getrow(i)
        return m.P[i] <= float(e[i]) + sum(float(v) * m.P[int(j)] for j, v in zip(row.indices, row.data))

    m.c = pyo.Constraint(m.I, rule=rule)
    res = pyo.SolverFactory("highs").solve(m)
    assert str(res.solver.termination_condition) == "optimal"
    return np.array([pyo.value(m.P[i]) for i in range(n)])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 25), st.floats(0.1, 0.7))
def test_en_matches_lp_highs(seed, n, density):
    rng = np.random.default_rng(seed)
    M, b = _random_network(rng, n, density)
    pbar, Pi = _pi(M, b)
    e = rng.uniform(0, 2, n) * (rng.random(n) < 0.6)
    P = en_clearing(pbar, Pi, e)
    P_lp = _lp_greatest(pbar, Pi, e)
    np.testing.assert_allclose(P, P_lp, rtol=1e-7, atol=1e-7)


def _plain_joint_iteration(sysm: System, x: np.ndarray, max_iter: int = 2_000_000):
    """(15) by its definition: monotone iteration of the joint map from (q, P) = (1, pbar)."""
    f = sysm.f
    pbar = sysm.pbar
    A = sysm.Pi.T.tocsr()
    cash = sysm.c + x * f(x.sum())
    r = sysm.s - x
    q, P = 1.0, pbar.copy()
    for _ in range(max_iter):
        AP = A @ P
        y = np.minimum(np.maximum(pbar - cash - AP, 0.0) / q, r)
        qn = float(f(y.sum()))
        Pn = np.minimum(pbar, cash + AP + r * q)
        if abs(qn - q) <= 1e-16 and np.abs(Pn - P).max() <= 1e-16:
            break
        q, P = qn, Pn
    return q, P


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 25), st.floats(0.1, 0.7), st.booleans(), st.booleans())
def test_joint_clearing_matches_plain_monotone_iteration(seed, n, density, early, expo):
    rng = np.random.default_rng(seed)
    M, b = _random_network(rng, n, density)
    if not M.any():
        M[0, 1] = 1.0
    c = rng.uniform(0, 1.5, n)
    s = rng.uniform(0.2, 4, n)
    S = s.sum()
    f = Exponential(rng.uniform(0.05, 0.95) / S) if expo else Linear(rng.uniform(0.05, 0.49) / S)
    sysm = System.from_arrays(c, s, b, f, Lmat=M)
    x = rng.uniform(0, 1, n) * s * 0.5 if early else np.zeros(n)
    cl = clear(sysm, x)
    q, P = _plain_joint_iteration(sysm, x)
    assert cl.price_t2 == pytest.approx(q, abs=1e-10)
    np.testing.assert_allclose(cl.payments, P, atol=1e-9 * max(1.0, sysm.pbar.max()))
    # (15) holds at the answer, and Lemma 5.1 (x + y <= ell when x = 0 trivially) sanity
    assert np.all(cl.sales_t2 <= sysm.s - x + 1e-12)


def test_worst_case_payments_19_is_en_clearing():
    rng = np.random.default_rng(3)
    M, b = _random_network(rng, 12, 0.4)
    s = rng.uniform(0.5, 3, 12)
    sysm = System.from_arrays(rng.uniform(0, 1, 12), s, b, Linear(0.3 / s.sum()), Lmat=M)
    ell_vec = clear(sysm).sales_t2
    x = ell_vec / 2
    Pt = worst_case_payments(sysm, x, ell_vec)
    Pd = _dense_fictitious_default(sysm.pbar, sysm.Pi.toarray(), sysm.c + x * sysm.f(x.sum()) + (ell_vec - x) * sysm.f((ell_vec - x).sum()))
    np.testing.assert_allclose(Pt, Pd, atol=1e-10)


def test_greatest_price_affine_against_grid():
    rng = np.random.default_rng(7)
    f = Linear(0.4 / 30.0)
    for _ in range(50):
        n = 20
        a = rng.uniform(-0.5, 2, n)
        b = rng.uniform(0, 1, n) * (rng.random(n) < 0.5)
        r = rng.uniform(0.1, 1.5, n)
        q = greatest_price_affine(a, b, r, f, 1.0)
        ts = np.linspace(1e-6, 1.0, 40001)
        Y = np.clip(a[None, :] / ts[:, None] - b[None, :], 0, r[None, :]).sum(axis=1)
        h = ts - f(Y)
        roots_above = ts[(h <= 0) & (ts > q + 1e-5)]
        assert roots_above.size == 0  # nothing above q is a (sub-)fixed point
        Yq = np.clip(a / q - b, 0, r).sum()
        assert q == pytest.approx(float(f(Yq)), abs=1e-12)


def test_large_sparse_network_fast_and_consistent():
    """n = 20000, mean degree 10: (15) in well under a second, residual tiny."""
    import time

    from liqstress.networks.generators import generate

    sysm = generate("erdos-renyi", 20000, 10, seed=5)
    t0 = time.perf_counter()
    cl = clear(sysm)
    dt = time.perf_counter() - t0
    assert dt < 3.0  # generous for a loaded CI box; the benchmark reports the real figure
    A = sysm.Pi.T.tocsr()
    pbar = sysm.pbar
    P = cl.payments
    cash = sysm.c
    np.testing.assert_allclose(P, np.minimum(pbar, cash + A @ P + sysm.s * cl.price_t2), rtol=1e-12, atol=1e-12)
    y = np.minimum(np.maximum(pbar - cash - A @ P, 0) / cl.price_t2, sysm.s)
    assert cl.price_t2 == pytest.approx(float(sysm.f(y.sum())), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 25), st.floats(0.1, 0.7), st.floats(0.0, 1.0), st.floats(0.0, 0.95))
def test_rogers_veraart_matches_monotone_iteration(seed, n, density, alpha, beta):
    """RV greatest clearing vector vs iterating their (monotone) map from pbar."""
    rng = np.random.default_rng(seed)
    M, b = _random_network(rng, n, density, b_zero_share=0.0)
    if not M.any():
        M[0, 1] = 1.0
    c = rng.uniform(0, 1, n)
    s = rng.uniform(0.1, 2, n)
    sysm = System.from_arrays(c, s, b, Linear(0.4 / s.sum()), Lmat=M)
    price = float(rng.uniform(0.3, 1.0))
    rv = rogers_veraart(sysm, alpha=alpha, beta=beta, price=price)
    pbar = sysm.pbar
    A = sysm.Pi.T.toarray()
    e = c + price * s
    P = pbar.copy()
    for _ in range(100_000):
        AP = A @ P
        Pn = np.where(e + AP >= pbar, pbar, alpha * e + beta * AP)
        if np.abs(Pn - P).max() <= 1e-15:
            break
        P = Pn
    np.testing.assert_allclose(rv.payments, P, atol=1e-10)


def test_large_slowly_contracting_block_krylov_path():
    """Default block > DIRECT_MAX with interbank share ~99.5% (Neumann too slow): the
    BiCGSTAB path must agree with plain monotone iteration and beat it by far."""
    import liqstress.solvers.eisenberg_noe as en

    rng = np.random.default_rng(0)
    n, m = 4000, 40000
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    k = i != j
    Lm = sp.csr_matrix((rng.uniform(0.5, 1.5, k.sum()), (i[k], j[k])), shape=(n, n))
    pbar = 0.05 + np.asarray(Lm.sum(axis=1)).ravel()
    Pi = sp.csr_matrix(sp.diags(1 / pbar) @ Lm)
    e = rng.uniform(0, 1, n) * 0.05
    res = en_solve(pbar, Pi, e)
    assert res.status == "converged" and res.n_default > en.DIRECT_MAX and res.residual < 1e-14
    P, iters = en.en_picard(pbar, Pi, e, tol=1e-16)
    assert iters > 300  # the plain iteration really is slow here
    np.testing.assert_allclose(res.P, P, rtol=0, atol=1e-11 * pbar.max())
