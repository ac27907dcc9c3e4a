"""DebtRank: Battiston et al. (2012), linear and differential DebtRank (Bardoscia et al. 2015).

Independent checks: the issue's four-bank example (hand-computed), a plain-python loop
written here from Battiston et al. (2012) on random networks with cycles and single-bank
shocks, dense fixed-point iterations for the linear variant, hand-computed cycles, and the
peer NetworkRiskMeasures (R): its documented vulnerability-matrix answer and its example.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Linear
from liqstress.models.system import System
from liqstress.networks.debtrank import debtrank, debtrank_arrays, debtrank_scenarios, impact_matrices, shock_vector
from liqstress.networks.measures import debtrank as debtrank_from_measures


def _system(Lm: np.ndarray, equity: np.ndarray, liquid: float = 0.2, illiquid: float = 1.8, names=None) -> System:
    """Banks with the given liability matrix (debtor x creditor) and book equities."""
    Lm = np.asarray(Lm, float)
    n = Lm.shape[0]
    IA, IL = Lm.sum(axis=0), Lm.sum(axis=1)
    b = liquid + illiquid + IA - IL - np.asarray(equity, float)
    assert (b >= 0).all()
    return System.from_arrays([liquid] * n, [illiquid] * n, b, Linear(0.1 / (n * illiquid)), names=names, Lmat=Lm)


def _issue_example() -> System:
    # A owes B 0.5 and C 0.2, B owes D 0.4, D owes C 0.5; liquid 0.2, illiquid 1.8, equity 1 each
    Lm = np.zeros((4, 4))
    Lm[0, 1], Lm[0, 2], Lm[1, 3], Lm[3, 2] = 0.5, 0.2, 0.4, 0.5
    return _system(Lm, np.ones(4), names=list("ABCD"))


# ----------------------------------------------------------------------------- the issue's case
def test_issue_example_battiston_rule():
    sysm = _issue_example()
    res = debtrank(sysm, {"A": 1.0})
    # t=1 B: 0.5, C: 0.2; t=2 D: 0.4*0.5 = 0.2; t=3 C: 0.2 + 0.5*0.2 = 0.3 although C is inactive
    np.testing.assert_allclose(res.h, [1.0, 0.5, 0.3, 0.2], rtol=0, atol=1e-15)
    assets = np.array([2.0, 2.5, 2.7, 2.4])  # relative economic value = share of total assets
    assert res.debtrank == pytest.approx((0.5 * 2.5 + 0.3 * 2.7 + 0.2 * 2.4) / assets.sum(), abs=1e-15)
    assert res.debtrank == pytest.approx(0.264583, abs=5e-7)
    assert abs(res.debtrank - 0.236458) > 0.02  # the frozen-h value of the bug
    assert res.rounds == 3
    assert debtrank_from_measures is debtrank  # the old import path is the same function


# ----------------------------------------------------------------------------- reference loop
def battiston_reference(n, edges, E, h1, v):
    """Battiston et al. (2012), written as in the paper with plain Python lists.

    edges: (debtor i, creditor j, L_ij); W_ij = min(1, L_ij / E_j).  States U, D, I.
    h_j(t) = min(1, h_j(t-1) + sum over i with s_i(t-1) = D of W_ij h_i(t-1)), for all j.
    """
    W = [(i, j, min(1.0, a / E[j])) for i, j, a in edges]
    h = list(h1)
    s = ["D" if x > 0 else "U" for x in h]
    while "D" in s:
        new = list(h)
        for i, j, w in W:
            if s[i] == "D":
                new[j] += w * h[i]
        new = [min(1.0, x) for x in new]
        s = ["I" if s[k] == "D" else ("D" if s[k] == "U" and new[k] > 0 else s[k]) for k in range(n)]
        h = new
    return h, sum(v[k] * (h[k] - h1[k]) for k in range(n))


def _random_network(seed: int, n: int, density: float):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    Lm = np.where(mask, rng.uniform(0.05, 1.0, (n, n)), 0.0)
    E = rng.uniform(0.1, 1.5, n)
    return Lm, E


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 12), density=st.floats(0.1, 0.6),
       psi=st.floats(0.05, 1.0), k=st.integers(0, 11))
def test_battiston_matches_reference_loop_single_bank_shocks(seed, n, density, psi, k):
    Lm, E = _random_network(seed, n, density)
    sysm = _system(Lm, E, liquid=1.0, illiquid=10.0)
    k = k % n
    res = debtrank(sysm, [k], psi=psi)
    edges = [(i, j, Lm[i, j]) for i in range(n) for j in range(n) if Lm[i, j] > 0]
    assets = 11.0 + Lm.sum(axis=0)
    h1 = [psi if j == k else 0.0 for j in range(n)]
    h_ref, R_ref = battiston_reference(n, edges, E, h1, list(assets / assets.sum()))
    np.testing.assert_allclose(res.h, h_ref, rtol=0, atol=1e-13)
    assert res.debtrank == pytest.approx(R_ref, abs=1e-13)


def test_frozen_h_differs_on_random_networks():
    """The bug's rule (inactive banks frozen) differs from Battiston's on networks with cycles."""
    differ = 0
    for seed in range(30):
        Lm, E = _random_network(seed, 8, 0.4)
        sysm = _system(Lm, E, liquid=1.0, illiquid=10.0)
        res = debtrank(sysm, [0])
        WT, _ = impact_matrices(sysm.Lmat, E)
        h = np.zeros(8)
        h[0] = 1.0
        state = np.zeros(8, int)
        state[0] = 1
        while (state == 1).any():  # the old code path
            act = state == 1
            delta = WT @ np.where(act, h, 0.0)
            h = np.minimum(1.0, h + np.where(state != 2, delta, 0.0))
            new = state.copy()
            new[act] = 2
            new[(state == 0) & (h > 0)] = 1
            state = new
        differ += not np.allclose(h, res.h)
    assert differ > 0


# ----------------------------------------------------------------------------- peer answers
def test_vulnerability_matrix_networkriskmeasures_answer():
    # NetworkRiskMeasures (carloscinelli/NetworkRiskMeasures, tests/testthat/tests.R,
    # "vulnerability and communicability"): liabilities among A, B, C, E, F, D, buffers
    # A=10, B=2, C=2, E=1, F=10, D=4; expected vulnerability res[debtor, creditor] =
    # min(1, liability / creditor buffer).  Their F owes F 5 (a self-loop, L_ii = 0 here) is left out.
    names = ["A", "B", "C", "E", "F", "D"]
    L = {("A", "B"): 5, ("D", "B"): 2, ("B", "C"): 3, ("F", "C"): 2, ("D", "C"): 2, ("C", "E"): 4, ("F", "E"): 5,
         ("A", "F"): 10, ("B", "F"): 2, ("A", "D"): 2}
    ix = {nm: k for k, nm in enumerate(names)}
    Lm = np.zeros((6, 6))
    for (d, c), a in L.items():
        Lm[ix[d], ix[c]] = a
    buffer = np.array([10, 2, 2, 1, 10, 4.0])
    WT, _ = impact_matrices(sp.csr_matrix(Lm), buffer)
    expected = np.zeros((6, 6))
    for (d, c), val in {("A", "B"): 1, ("D", "B"): 1, ("B", "C"): 1, ("F", "C"): 1, ("D", "C"): 1, ("C", "E"): 1,
                        ("F", "E"): 1, ("A", "F"): 1, ("B", "F"): 0.2, ("A", "D"): 0.5}.items():
        expected[ix[d], ix[c]] = val
    np.testing.assert_allclose(WT.T.toarray(), expected, atol=1e-15)


def test_networkriskmeasures_debt_rank_example():
    # NetworkRiskMeasures, R/DebtRank.R, example of debt_rank / debt_rank_shock: assets matrix
    # (row lends to column) a->b 1, b->a 10, b->c 3, c->a 3, c->b 2; buffers a=2, b=5, c=2;
    # weights a=10, b=100, c=30; 10% stress shock on every vertex.  Their loop updates every
    # vertex's stress (stressLevel[, time] <- stressLevel[, time - 1] + v1 %*% ...), the rule
    # fixed here.  Hand computation: W_ab = W_ac = W_bc = 1, W_ba = 0.5, W_cb = 0.6; one round:
    # h = (0.1 + 0.05, 0.1 + 0.1 + 0.06, 0.1 + 0.1 + 0.1); R = (10*.05 + 100*.16 + 30*.2) / 140.
    assets = {("a", "b"): 1, ("b", "a"): 10, ("b", "c"): 3, ("c", "a"): 3, ("c", "b"): 2}
    ix = {"a": 0, "b": 1, "c": 2}
    Lm = np.zeros((3, 3))
    for (lender, borrower), a in assets.items():
        Lm[ix[borrower], ix[lender]] = a  # the borrower owes the lender
    sysm = _system(Lm, np.ones(3), liquid=5.0, illiquid=10.0, names=["a", "b", "c"])
    res = debtrank(sysm, np.full(3, 0.1), equity=[2, 5, 2], weights=[10, 100, 30])
    np.testing.assert_allclose(res.h, [0.15, 0.26, 0.3], atol=1e-15)
    assert res.debtrank == pytest.approx(22.5 / 140, abs=1e-15)
    assert res.rounds == 1


# ----------------------------------------------------------------------------- linear / differential
def test_two_bank_cycle_hand_checked():
    # A and B owe each other 0.5, equity 1 each (Lambda = 0.5 both ways); shock A by 0.2
    Lm = np.array([[0, 0.5], [0.5, 0.0]])
    sysm = _system(Lm, np.ones(2), names=["A", "B"])
    bat = debtrank(sysm, {"A": 0.2})
    np.testing.assert_allclose(bat.h, [0.25, 0.1], atol=1e-15)  # one propagation each
    lin = debtrank(sysm, {"A": 0.2}, variant="linear")
    np.testing.assert_allclose(lin.h, [0.2 / 0.75, 0.1 / 0.75], atol=1e-15)  # h = h1 + Lambda h
    assert lin.debtrank > bat.debtrank  # Bardoscia et al.: the original underestimates on cycles
    dif = debtrank(sysm, {"A": 0.2}, variant="differential")
    np.testing.assert_allclose(dif.h, lin.h, atol=1e-14)
    two = debtrank(sysm, {"A": 0.2}, variant="differential", max_rounds=2)
    # h(2) = (0.2, 0.1), h(3) = (0.2 + 0.5 * 0.1, 0.1) after 2 rounds of increments
    np.testing.assert_allclose(two.h, [0.25, 0.1], atol=1e-15)
    assert two.rounds == 2 and two.status == "max_rounds"


def _dense_differential(Lam, h0, h1, T):
    prev, h = h0.copy(), h1.copy()
    for _ in range(T):
        prev, h = h, np.minimum(1.0, h + Lam @ (h - prev))
    return h


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 14), density=st.floats(0.1, 0.7), psi=st.floats(0.01, 1.0))
def test_linear_is_limit_of_differential_and_least_fixed_point(seed, n, density, psi):
    Lm, E = _random_network(seed, n, density)
    sysm = _system(Lm, E, liquid=1.0, illiquid=10.0)
    lin = debtrank(sysm, [0], psi=psi, variant="linear")
    dif = debtrank(sysm, [0], psi=psi, variant="differential")
    Lam = (Lm / E[None, :]).T  # Lambda[j, i] = L_ij / E_j
    h1 = np.zeros(n)
    h1[0] = psi
    ref = _dense_differential(Lam, np.zeros(n), h1, 20_000)
    np.testing.assert_allclose(lin.h, ref, atol=1e-9)
    np.testing.assert_allclose(dif.h, ref, atol=1e-9)
    # fixed point of h = min(1, h1 + Lambda h), and least: below it the map is not closed
    np.testing.assert_allclose(lin.h, np.minimum(1.0, h1 + Lam @ lin.h), atol=1e-11)
    T = 3
    part = debtrank(sysm, [0], psi=psi, variant="differential", max_rounds=T)
    if part.status == "max_rounds":
        np.testing.assert_allclose(part.h, _dense_differential(Lam, np.zeros(n), h1, T), atol=1e-14)
    bat = debtrank(sysm, [0], psi=psi)
    assert lin.debtrank >= bat.debtrank - 1e-12  # one propagation per bank is a lower bound


def test_linear_with_saturation_certified():
    # chain A -> B -> C with big leverage: B saturates, C gets 0.3 of B's full default
    Lm = np.array([[0, 2.0, 0], [0, 0, 0.3], [0, 0, 0]])
    sysm = _system(Lm, np.ones(3), liquid=1.0, illiquid=5.0)
    res = debtrank(sysm, [0], psi=0.6, variant="linear")
    np.testing.assert_allclose(res.h, [0.6, 1.0, 0.3], atol=1e-15)
    assert res.status == "converged"


def test_defaulted_banks_start_at_one_and_do_not_propagate():
    # B has negative book equity: in default before the shock
    Lm = np.array([[0, 0.5, 0], [0, 0, 0.8], [0, 0, 0.0]])
    E = np.array([1.0, -0.1, 1.0])
    for variant in ("battiston", "linear", "differential"):
        res = debtrank_arrays(Lm, E, np.array([1.0, 0, 0]), np.ones(3) / 3, variant=variant)
        np.testing.assert_allclose(res.h, [1.0, 1.0, 0.0], atol=1e-15)
        assert res.debtrank == 0.0


# ----------------------------------------------------------------------------- API
def test_scenarios_shock_forms_and_separate_buffers():
    sysm = _issue_example()
    out = debtrank_scenarios(sysm, {"A": ["A"], "AB": {"A": 0.5, "B": 0.5}, "vec": np.array([0, 0, 0, 1.0])})
    assert list(out) == ["A", "AB", "vec"]
    assert out["A"].debtrank == pytest.approx(debtrank(sysm, [0]).debtrank, abs=1e-15)
    lst = debtrank_scenarios(sysm, [[0], [1]], variant="linear")
    assert list(lst) == ["scenario1", "scenario2"]
    # buffers and weights separately: equal weights, equity 0.5 each doubles W
    r = debtrank(sysm, ["A"], equity=np.full(4, 0.5), weights=np.ones(4))
    np.testing.assert_allclose(r.h, [1.0, 1.0, 1.0, 0.8], atol=1e-15)  # C: 0.4 + 0.8 capped
    assert r.debtrank == pytest.approx((1.0 + 1.0 + 0.8) / 4, abs=1e-15)
    np.testing.assert_allclose(shock_vector(sysm, np.array([True, False, False, True]), psi=0.3), [0.3, 0, 0, 0.3])


@pytest.mark.parametrize("kw, needle", [
    (dict(shocked=[7]), "bank indices"),
    (dict(shocked=[0], psi=0.0), "psi"),
    (dict(shocked={"Z": 1.0}), "unknown bank"),
    (dict(shocked={"A": 2.0}), "shock[A]"),
    (dict(shocked=np.array([0.1, 0.2])), "one per bank"),
    (dict(shocked=[0], variant="nonlinear"), "variant"),
    (dict(shocked=[0], weights=[1, 1, 1]), "weights"),
    (dict(shocked=[0], equity=[1, np.nan, 1, 1]), "equity"),
])
def test_debtrank_input_errors(kw, needle):
    with pytest.raises(InputError, match=None) as err:
        debtrank(_issue_example(), **kw)
    assert needle in str(err.value)


def test_bundled_four_bank_example_files():
    from pathlib import Path

    from liqstress.models.system import load_system

    root = Path(__file__).resolve().parents[1] / "examples" / "networks"
    sysm = load_system(f"{root / 'four_banks_balance.csv'}:{root / 'four_banks_exposures.csv'}")
    assert debtrank(sysm, {"A": 1.0}).debtrank == pytest.approx(debtrank(_issue_example(), [0]).debtrank, abs=1e-15)
