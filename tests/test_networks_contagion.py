"""Furfine's cascade, the fixed-recovery cascade and the ex-ante (NEVA) valuation.

Independent checks: the example of the R package systemicrisk (``default_cascade``,
cran/systemicrisk R/lib_Network_Evaluations.R) by hand and its loop transcribed to Python
on random networks; neva's equity valuation map (marcobardoscia/neva, neva/bank.py
``eval_equity``, neva/ibeval.py ``furfine``, ``roukny_battiston``, ``blackcox_pd``,
``exante_en_blackcox``, ``lognormal_pd``, ``lognormal_cav_aext``, ``exante_en_merton``,
neva/gbm.py ``sigma_asset_simple``, neva/utils.py ``shock_and_solve``) written here as
scalar per-bank loops with ``math.erf``, run on neva's own README example (its
balance_sheets.csv and exposures_table.csv, 50% equity shock, recovery 0.6).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Linear
from liqstress.models.system import System
from liqstress.networks.cascades import furfine, recovery_cascade
from liqstress.networks.debtrank import debtrank
from liqstress.networks.valuation import exante_valuation


def _system(Lm, ext_assets, ext_liab, names=None, liquid_share=0.1):
    Lm = np.asarray(Lm, float)
    A = np.asarray(ext_assets, float)
    S = max(float(A.sum()), 1.0)
    return System.from_arrays(liquid_share * A, (1 - liquid_share) * A, ext_liab, Linear(0.1 / S), names=names,
                              Lmat=Lm if Lm.any() else None)


# ----------------------------------------------------------------------------- cascades
def test_systemicrisk_default_cascade_example():
    # systemicrisk ?default_cascade: ea = (1/2, 5/8, 3/4), el = (3/2, 1/2, 1/2), x = 0.5,
    # L = matrix(c(0,x,1-x,1-x,0,x,x,1-x,0), nrow=3) (column-major; L[i, j] owed by i to j).
    # Net worth = (-1, 1/8, 1/4): bank 1 is insolvent; its creditors lose 1/2 each > net worth.
    x = 0.5
    L = np.array([[0, 1 - x, x], [x, 0, 1 - x], [1 - x, x, 0]])
    sysm = _system(L, [0.5, 0.625, 0.75], [1.5, 0.5, 0.5])
    res = recovery_cascade(sysm, None)
    assert res.defaulted.tolist() == [True, True, True]
    assert res.default_round.tolist() == [0, 1, 1] and res.rounds == 1
    # with recovery 0.8 the creditors lose 0.1 < 1/8, 1/4: only bank 1 defaults
    assert recovery_cascade(sysm, None, recovery=0.8).defaulted.tolist() == [True, False, False]


def systemicrisk_cascade(L, ea, el, recovery):
    """systemicrisk::default_cascade transcribed (defaults iff net worth < loss)."""
    n = len(ea)
    networth = [sum(L[i][j] for i in range(n)) + ea[j] - sum(L[j]) - el[j] for j in range(n)]
    dind = [1 if w < 0 else 0 for w in networth]
    if any(dind):
        ndef = sum(dind)
        for _ in range(n - 1):
            loss = [sum((1 - recovery[i]) * dind[i] * L[i][j] for i in range(n)) for j in range(n)]
            dind = [1 if networth[j] < loss[j] else 0 for j in range(n)]
            if sum(dind) == ndef:
                break
            ndef = sum(dind)
    return dind


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 12), density=st.floats(0.1, 0.7), rho=st.floats(0.0, 0.9),
       psi=st.floats(0.05, 0.95))
def test_recovery_cascade_matches_systemicrisk_loop(seed, n, density, rho, psi):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, n)) < density, rng.uniform(0.1, 1.0, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    ea = rng.uniform(0.5, 3.0, n)
    el = ea + L.sum(axis=0) - L.sum(axis=1) - rng.uniform(-0.05, 0.6, n)  # some banks start insolvent
    el = np.maximum(el, 0.0)
    sysm = _system(L, ea, el)
    E = ea + L.sum(axis=0) - L.sum(axis=1) - el
    k = int(rng.integers(0, n))
    res = recovery_cascade(sysm, [k], recovery=rho, psi=psi)
    ea_shocked = ea.copy()
    ea_shocked[k] -= psi * max(E[k], 0.0)  # the equity shock comes out of the external assets
    ref = systemicrisk_cascade(L.tolist(), ea_shocked.tolist(), el.tolist(), [rho] * n)
    assert res.defaulted.astype(int).tolist() == ref


def neva_threshold_equities(L, ea, el, delta, rho):
    """neva's map E_i = extasset_i - extliab_i + sum_j A_ij V(E_j) - ibliabtot_i with
    V = 1 if E > 0 else rho (ibeval.furfine for rho = 0, ibeval.roukny_battiston), iterated
    synchronously from the shocked book equity as in fixedpoint_equity."""
    n = len(ea)
    A = [[L[j][i] for j in range(n)] for i in range(n)]  # A[i][j]: what j owes i
    ext = [ea[i] - delta[i] for i in range(n)]
    ib = [sum(L[i]) for i in range(n)]
    E = [ext[i] - el[i] + sum(A[i]) - ib[i] for i in range(n)]
    for _ in range(10 * n + 10):
        V = [1.0 if e > 0 else rho for e in E]
        E = [ext[i] - el[i] + sum(A[i][j] * V[j] for j in range(n)) - ib[i] for i in range(n)]
    return E


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 12), rho=st.floats(0.0, 0.9))
def test_cascades_match_neva_threshold_valuation(seed, n, rho):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, n)) < 0.4, rng.uniform(0.1, 1.0, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    ea = rng.uniform(0.5, 3.0, n)
    el = np.maximum(ea + L.sum(axis=0) - L.sum(axis=1) - rng.uniform(0.05, 0.8, n), 0.0)
    sysm = _system(L, ea, el)
    k = int(rng.integers(0, n))
    psi = float(rng.uniform(0.3, 0.99))
    E0 = ea + L.sum(axis=0) - L.sum(axis=1) - el
    delta = np.zeros(n)
    delta[k] = psi * max(E0[k], 0.0)
    E_neva = neva_threshold_equities(L.tolist(), ea.tolist(), el.tolist(), delta.tolist(), rho)
    res = recovery_cascade(sysm, [k], recovery=rho, psi=psi)
    assert res.defaulted.tolist() == [e <= 0 for e in E_neva]
    np.testing.assert_allclose(res.equity, E_neva, atol=1e-12)


def test_furfine_rounds_hand_checked_and_lgd():
    # chain A -> B -> C -> D (debtor -> creditor), exposures 1, capital 0.5 each:
    # A fails (round 0), B loses 1 (round 1), C (round 2), D (round 3)
    L = np.zeros((4, 4))
    L[0, 1] = L[1, 2] = L[2, 3] = 1.0
    sysm = _system(L, [2.0] * 4, [0.5, 1.5, 1.5, 2.5], names=list("ABCD"))  # book equity 0.5 each
    E = sysm.c + sysm.s + np.asarray(sysm.Lmat.sum(axis=0)).ravel() - sysm.pbar
    np.testing.assert_allclose(E, 0.5)
    res = furfine(sysm, ["A"], equity=[0.5] * 4)
    assert res.default_round.tolist() == [0, 1, 2, 3] and res.rounds == 3
    half = furfine(sysm, ["A"], lgd=0.4, equity=[0.5] * 4)  # loss 0.4 < 0.5: stops at B
    assert half.default_round.tolist() == [0, -1, -1, -1] and half.rounds == 0
    # Furfine = recovery cascade with psi = 1 on the triggers and recovery = 1 - lgd
    for lgd in (1.0, 0.6):
        a = furfine(sysm, ["A"], lgd=lgd)
        b = recovery_cascade(sysm, ["A"], recovery=1 - lgd)
        assert a.defaulted.tolist() == b.defaulted.tolist()


# ----------------------------------------------------------------------------- ex-ante (NEVA)
def _bc_pd(e, a, s):  # neva ibeval.blackcox_pd
    if e <= 0.0:
        return 1.0
    if e >= a:
        return 0.0
    x = math.log(1 - e / a)
    return (0.5 * (1 + math.erf((x + s ** 2 / 2) / (math.sqrt(2) * s)))
            + (a / (a - e)) / 2 * (1 + math.erf((x - s ** 2 / 2) / (math.sqrt(2) * s))))


def _ln_pd(e, a, s):  # neva ibeval.lognormal_pd
    if e >= a:
        return 0.0
    return 0.5 * (1 + math.erf((s ** 2 / 2 + math.log(1 - e / a)) / (math.sqrt(2) * s)))


def _ln_cav(e, a, l, s):  # neva ibeval.lognormal_cav_aext
    out = 0.0
    if a > e:
        out += 0.5 * (1 + math.erf((math.log(1 - e / a) - s ** 2 / 2) / (math.sqrt(2) * s)))
        if a > e + l:
            out -= 0.5 * (1 + math.erf((math.log(1 - (e + l) / a) - s ** 2 / 2) / (math.sqrt(2) * s)))
    return a * out


def _merton_v(e, a, l, rho, s):  # neva ibeval.exante_en_merton_gbm (with its clipping)
    p, ps = _ln_pd(e, a, s), _ln_pd(e + l, a, s)
    v = (1 - p) + rho * ((1 + (e - a) / l) * (p - ps) + _ln_cav(e, a, l, s) / l)
    return min(max(v, 0.0), 1.0)


def neva_exante(banks, lent, delta, sigma_equity, rho, model, tol=1e-15, maxiter=100_000):
    """neva's shock_and_solve(..., solve_assets=False) with BankingSystemGBMse: per-bank
    loops.  banks: list of (extasset, extliab); lent[i] = {j: amount i lent j}."""
    n = len(banks)
    ibliab = [sum(lent[j].get(i, 0.0) for j in range(n)) for i in range(n)]
    eq = [banks[i][0] - banks[i][1] + sum(lent[i].values()) - ibliab[i] for i in range(n)]
    # sigma_asset_simple, pre-shock (a negative book equity would give neva a negative volatility: 0 here)
    sig = [max(eq[i], 0.0) / banks[i][0] * sigma_equity[i] for i in range(n)]
    ext = [banks[i][0] - delta[i] for i in range(n)]
    E = [eq[i] - delta[i] for i in range(n)]
    history = [E]
    for _ in range(maxiter):
        if model == "black-cox":
            V = [1.0 + (rho[j] - 1.0) * _bc_pd(E[j], ext[j], sig[j]) for j in range(n)]
        else:
            V = [_merton_v(E[j], ext[j], ibliab[j], rho[j], sig[j]) if ibliab[j] > 0 else 1.0 for j in range(n)]
        new = [ext[i] - banks[i][1] + sum(a * V[j] for j, a in lent[i].items()) - ibliab[i] for i in range(n)]
        history.append(new)
        done = max(abs(x - y) for x, y in zip(new, E)) <= tol
        E = new
        if done:
            break
    return history[1], E


def _positive_equity(rng, L, n):
    """External assets and liabilities with book equity in [0.2, 1.5] for every bank."""
    ea = rng.uniform(2.0, 6.0, n)
    el = ea + L.sum(axis=0) - L.sum(axis=1) - rng.uniform(0.2, 1.5, n)
    ea = ea - np.minimum(el, 0.0)  # raise the external assets where the liabilities would be < 0
    return ea, np.maximum(el, 0.0)


README_BS = [("A", 10.0, 9.0), ("B", 5.0, 4.0), ("C", 3.0, 2.0)]  # neva data/balance_sheets.csv
README_TABLE = [[0, 0.5, 0], [0, 0, 0.5], [0.5, 0, 0]]  # data/exposures_table.csv: row lends to column


@pytest.mark.parametrize("model", ["black-cox", "merton"])
def test_neva_readme_example(model):
    # README "A more complex example": sigma_equity 0.2, shock 50% of every equity, recovery 0.6
    n = 3
    lent = [{j: README_TABLE[i][j] for j in range(n) if README_TABLE[i][j] > 0} for i in range(n)]
    L = np.array(README_TABLE, float).T  # debtor x creditor
    sysm = _system(L, [b[1] for b in README_BS], [b[2] for b in README_BS], names=[b[0] for b in README_BS])
    E0 = np.array([10 - 9 + 0.5 - 0.5, 5 - 4 + 0.5 - 0.5, 3 - 2 + 0.5 - 0.5])
    res = exante_valuation(sysm, np.full(n, 0.5), model=model, sigma_equity=0.2, recovery=0.6)
    direct, final = neva_exante([(b[1], b[2]) for b in README_BS], lent, (0.5 * E0).tolist(), [0.2] * n, [0.6] * n, model)
    np.testing.assert_allclose(res.equity_direct, direct, rtol=0, atol=1e-13)
    np.testing.assert_allclose(res.equity, final, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.equity_book, E0, atol=1e-15)
    assert (res.equity < 0.5 * E0 + 1e-15).all()  # contagion adds losses to the 50% shock


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 9), rho=st.floats(0.0, 1.0), model=st.sampled_from(["black-cox", "merton"]))
def test_exante_matches_neva_loops_random(seed, n, rho, model):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, n)) < 0.5, rng.uniform(0.1, 1.0, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    ea, el = _positive_equity(rng, L, n)
    sysm = _system(L, ea, el)
    psi = rng.uniform(0.0, 0.9, n)
    sig_eq = rng.uniform(0.05, 0.6, n)
    res = exante_valuation(sysm, psi, model=model, sigma_equity=sig_eq, recovery=rho)
    E0 = ea + L.sum(axis=0) - L.sum(axis=1) - el
    lent = [{j: L[j, i] for j in range(n) if L[j, i] > 0} for i in range(n)]
    direct, final = neva_exante(list(zip(ea, el)), lent, (psi * np.maximum(E0, 0.0)).tolist(), sig_eq.tolist(), [rho] * n, model)
    np.testing.assert_allclose(res.equity_direct, direct, atol=1e-12)
    np.testing.assert_allclose(res.equity, final, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 12), psi=st.floats(0.05, 1.0))
def test_exante_linear_is_linear_debtrank(seed, n, psi):
    rng = np.random.default_rng(seed)
    L = np.where(rng.random((n, n)) < 0.4, rng.uniform(0.1, 1.0, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    ea, el = _positive_equity(rng, L, n)
    sysm = _system(L, ea, el)
    res = exante_valuation(sysm, [0], model="linear", psi=psi, tol=1e-15)
    dr = debtrank(sysm, [0], psi=psi, variant="linear")
    h = np.minimum(1.0, 1.0 - res.equity / res.equity_book)
    np.testing.assert_allclose(h, dr.h, atol=1e-9)


def test_exante_zero_external_assets_and_errors():
    L = np.array([[0, 1.0, 0], [0, 0, 1.0], [0.5, 0, 0]])
    sysm = _system(L, [0.0, 3.0, 4.0], [0.0, 2.0, 2.0])  # bank 0 holds no external assets
    res = exante_valuation(sysm, {"B1": 0.5}, model="black-cox", sigma_equity=0.3, recovery=0.4)
    assert np.all(np.isfinite(res.equity))
    res_m = exante_valuation(sysm, {"B1": 0.5}, model="merton", sigma=0.2, recovery=0.4)
    assert np.all(np.isfinite(res_m.equity))
    with pytest.raises(InputError, match="sigma"):
        exante_valuation(sysm, [1], model="black-cox")
    with pytest.raises(InputError, match="exceeds the external assets"):
        exante_valuation(sysm, equity_loss=[0.1, 0, 0], model="black-cox", sigma=0.2)
    with pytest.raises(InputError, match="recovery"):
        exante_valuation(sysm, [1], model="merton", sigma=0.2, recovery=1.5)
