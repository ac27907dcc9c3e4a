"""Certified max-min of the original problem (7) vs brute force (dense grids, exact clearing)."""

import numpy as np
import pytest
from original_systems import distressed, distressed_interbank

from liqstress.solvers.clearing import clear, ell, relaxed_value
from liqstress.solvers.original import gap_report, inner_original, maximin_original
from liqstress.solvers.original_batch import grid_inner, grid_maximin
from liqstress.solvers.robust import robust_strategies

CASES = [(n, kind, alpha) for n in (2, 3) for kind in ("linear", "exponential") for alpha in (0.0, 0.5, 1.0)]


@pytest.mark.parametrize("n,kind,alpha", CASES)
def test_global_vs_brute_force(n, kind, alpha):
    sysm = distressed(n + 7, n, kind, alpha)
    e = ell(sysm)
    tol = 1e-4
    r = maximin_original(sysm, 0, "global", tol=tol)
    assert r.certified and r.status == "optimal"
    lo, up = r.details["lower"], r.details["upper"]
    assert lo <= r.value + 1e-9 and up - lo <= tol
    # the reported point is an exact equilibrium
    x = np.concatenate(([r.strategy], r.worst_case_others))
    assert r.value == pytest.approx(float(clear(sysm, x).values[0]), abs=1e-12)
    # brute force: dense grid over x_-i (inner) and x_i (outer)
    k_oth = 2001 if n == 2 else 81
    g = grid_maximin(sysm, 0, e, k_others=k_oth, k_own=121)
    assert abs(g["value"] - r.value) < 2e-3
    # sound one-sided checks: (a) no grid point of the box at the strategy lies below the
    # certified inner lower bound; (b) the certified inner value at the grid's best x_i and at
    # other grid x_i never exceeds the certified upper bound of the max-min
    v_at, _ = grid_inner(sysm, 0, r.strategy, e, k_oth)
    assert v_at >= lo - 1e-7
    for z in (0.0, 0.5 * e[0], e[0], g["strategy"]):
        rz = inner_original(sysm, 0, z, "global")
        assert rz.certified
        assert rz.lower_bound <= up + 1e-7
    # robust strategy: its certified worst case cannot beat the certified optimum
    xs = robust_strategies(sysm).strategy[0]
    assert inner_original(sysm, 0, xs, "global").lower_bound <= up + 1e-7


@pytest.mark.parametrize("kind,alpha", [("linear", 0.0), ("exponential", 0.5), ("linear", 1.0)])
def test_prop_43_validity_at_numeric_optima(kind, alpha):
    """V_i >= min(Vt_i, L_i) (Proposition 4.3) at the certified optimum and at every inner
    minimiser evaluated on the way."""
    sysm = distressed(3, 3, kind, alpha)
    e = ell(sysm)
    r = maximin_original(sysm, 0, "global")
    pts = [np.concatenate(([r.strategy], r.worst_case_others))]
    for z in np.linspace(0, e[0], 5):
        pts.append(inner_original(sysm, 0, z, "global").x)
    for x in pts:
        V = clear(sysm, x).values
        Vt = relaxed_value(sysm, x, e)
        assert np.all(V >= np.minimum(Vt, sysm.L) - 1e-9)
    # and for the max-min values: v_opt >= min(relaxed max-min, L_i)
    vt = robust_strategies(sysm).worst_case_value[0]
    assert r.value >= min(vt, sysm.L[0]) - 1e-6


def test_local_and_grid_methods_bracket_global():
    sysm = distressed(11, 3, "exponential", 0.5)
    g = maximin_original(sysm, 0, "global")
    loc = maximin_original(sysm, 0, "local")
    grd = maximin_original(sysm, 0, "grid", grid_points=300_000)
    assert not loc.certified and not grd.certified
    # a local inner value is a true V_i at a point, hence >= the certified inner minimum there
    assert loc.value >= inner_original(sysm, 0, loc.strategy, "global").lower_bound - 1e-7
    assert abs(loc.value - g.value) < 5e-3 and abs(grd.value - g.value) < 5e-3


def test_interbank_original_vs_grid():
    for seed, kind in ((0, "linear"), (1, "exponential")):
        sysm = distressed_interbank(seed, 3, kind)
        e = ell(sysm)
        r = maximin_original(sysm, 0, "global")
        assert r.certified
        x = np.concatenate(([r.strategy], r.worst_case_others))
        assert r.value == pytest.approx(float(clear(sysm, x).values[0]), abs=1e-10)
        g = grid_maximin(sysm, 0, e, k_others=21, k_own=41)
        assert abs(g["value"] - r.value) < 5e-3
        v_at, _ = grid_inner(sysm, 0, r.strategy, e, 31)
        assert v_at >= r.details["lower"] - 1e-7


def test_trivial_bank_value_is_liabilities():
    """A bank with ell_i < s_i always covers its liabilities (Lemma 4.2): the value is L_i."""
    sysm = distressed(5, 3, "linear", 0.5)
    e = ell(sysm)
    k = int(np.argmax(e < sysm.s * (1 - 1e-9)))
    assert e[k] < sysm.s[k]
    r = maximin_original(sysm, k, "global")
    assert r.certified and r.value == pytest.approx(sysm.L[k], abs=1e-6)


def test_gap_report_signs():
    sysm = distressed(7, 3, "linear", 0.0)
    d = gap_report(sysm, 0)
    assert d["certified"]
    assert d["regret"] >= -1e-6 and d["conservatism"] >= -1e-6 and d["conservatism_capped"] >= -1e-6
    assert d["v_opt"] >= d["v_rob"] - 1e-6 >= d["vt"] - 2e-6
    # v_rob is the certified inner minimum at the closed-form robust strategy
    assert d["v_rob"] == pytest.approx(inner_original(sysm, 0, d["robust_strategy"], "global").value, abs=1e-7)


def test_gap_report_interbank_capped():
    """With an interbank block vt comes from the relaxed module (20); only the capped
    conservatism is guaranteed non-negative (validity V_i >= min(Vt_i, pbar_i))."""
    sysm = distressed_interbank(2, 3)
    d = gap_report(sysm, 0)
    assert d["regret"] >= -1e-6 and d["conservatism_capped"] >= -1e-6


@pytest.mark.parametrize("kind,alpha", [("exponential", 0.0), ("linear", 1.0)])
def test_two_certificates_agree(kind, alpha):
    """The Lipschitz-envelope certificate and the SCIP-master certificate are independent
    upper bounds; their certified intervals must overlap."""
    sysm = distressed(1, 3, kind, alpha)
    a = maximin_original(sysm, 0, "global", upper="lipschitz")
    b = maximin_original(sysm, 0, "global", upper="master")
    assert a.certified and b.certified
    assert a.details["lower"] <= b.details["upper"] + 1e-7
    assert b.details["lower"] <= a.details["upper"] + 1e-7


def test_ipopt_smoothed_route_is_sound():
    """The IPOPT route (smoothed NLP) is local: its re-cleared value is a true V_i, so it can
    never be below the certified inner lower bound; here it also finds the minimum."""
    sysm = distressed(1, 4, "exponential", 0.5)
    e = ell(sysm)
    g = inner_original(sysm, 0, 0.5 * e[0], "global")
    r = inner_original(sysm, 0, 0.5 * e[0], "local", local_solver="ipopt")
    assert not r.certified
    assert r.value == pytest.approx(float(clear(sysm, r.x).values[0]), abs=1e-12)
    assert r.value >= g.lower_bound - 1e-7
    assert r.value <= g.value + 1e-5
