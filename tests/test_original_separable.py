"""The exact separable middle level of (7) (liqstress.solvers.adversary) against independent
computations: the allocation problem against an LP per tail set (scipy) and SCIP's MILP; the
volume bracket against a dense grid of allocations; the certified inner minimum against the
SCIP MINLP encoding (every permanent-impact example system, n <= 8) and against brute force
(n = 2, 3); soundness of the lower bound on random systems (hypothesis)."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from original_systems import distressed
from scipy.optimize import linprog

from liqstress.models.system import load_system
from liqstress.research.random_systems import random_system
from liqstress.solvers.adversary import (Adversary, Segments, inner_separable, loss_segments, max_volume, min_loss,
                                         min_loss_milp, volume_of)
from liqstress.solvers.clearing import clear, ell
from liqstress.solvers.original import _inner_scip, inner_original, maximin_original
from liqstress.solvers.original_batch import batch_values, grid_inner

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "systems"


# ----------------------------------------------------------------------------- allocation problem
def _segment_data(draw_or_rng, k):
    rng = draw_or_rng
    D = rng.uniform(0.2, 3.0, k)
    s = D / rng.uniform(0.3, 1.2, k)  # some banks can cover at price 1 (D < s), some cannot
    p0 = rng.uniform(0.4, 0.9)
    ell_ = np.minimum(D / p0, s)
    P, q = rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0)
    return D, s, ell_, P, q


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), k=st.integers(1, 6))
def test_loss_pieces_reproduce_g(seed, k):
    """g_j(0) - loss_j(x) = min(max(D_j - x P, 0), (s_j - x) q) on a grid of [0, ell_j]."""
    rng = np.random.default_rng(seed)
    D, s, ell_, P, q = _segment_data(rng, k)
    seg = loss_segments(D, s, ell_, P, q)
    assert np.all(seg.a >= -1e-15) and np.all(seg.b >= -1e-15) and np.all(seg.e >= -1e-15)
    assert np.allclose(seg.a + seg.b + seg.e, ell_)
    for t in np.linspace(0.0, 1.0, 41):
        x = t * ell_
        g = np.minimum(np.maximum(D - x * P, 0.0), (s - x) * q)
        assert np.allclose(seg.g0 - seg.loss(x), g, atol=1e-12)


def _lp_min_loss(seg: Segments, ell_: np.ndarray, w: float) -> float:
    """Independent exact minimum: for every set T of tail banks an LP (scipy/HiGHS) over the
    segment variables (alpha at slope m, beta at slope M, eps free; T's banks must fill alpha
    and beta to use eps)."""
    k = ell_.size
    tails = [j for j in range(k) if seg.e[j] > 1e-15]
    best = np.inf
    for r in range(len(tails) + 1):
        for T in itertools.combinations(tails, r):
            Ts = set(T)
            c = np.concatenate((np.full(k, seg.m), np.full(k, seg.M), np.zeros(k)))
            lo = np.zeros(3 * k)
            hi = np.concatenate((seg.a, seg.b, np.where([j in Ts for j in range(k)], seg.e, 0.0)))
            for j in Ts:
                lo[j], lo[k + j] = seg.a[j], seg.b[j]
            # scaled by w (x = w u): HiGHS' feasibility tolerance (1e-7) is absolute, so for a tiny w
            # (w = 3.7e-9 at seed 0, k = 1, frac = 1e-9) the unscaled LP accepts x = 0 and returns 0
            sc = max(w, 1e-12)
            res = linprog(c, A_eq=np.ones((1, 3 * k)), b_eq=[w / sc], bounds=list(zip(lo / sc, hi / sc)), method="highs")
            if res.status == 0:
                best = min(best, res.fun * sc)
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), k=st.integers(1, 5), frac=st.floats(0.0, 1.0))
def test_allocation_problem_exact(seed, k, frac):
    rng = np.random.default_rng(seed)
    D, s, ell_, P, q = _segment_data(rng, k)
    seg = loss_segments(D, s, ell_, P, q)
    w = frac * float(ell_.sum())
    ref = _lp_min_loss(seg, ell_, w)
    bb = min_loss(seg, ell_, w)
    assert bb.status == "optimal" and abs(bb.loss - ref) <= 1e-9 * max(1.0, ref)
    assert abs(float(bb.x.sum()) - w) <= 1e-9 * max(1.0, w) and np.all(bb.x <= ell_ + 1e-12) and np.all(bb.x >= -1e-12)
    assert abs(float(seg.loss(bb.x).sum()) - bb.loss) <= 1e-12 * max(1.0, ref)
    milp = min_loss_milp(seg, ell_, w)
    assert abs(milp.loss - ref) <= 1e-7 * max(1.0, ref)
    # the decision form: a threshold above the minimum finds an allocation, below it a proof
    for th, want in ((ref + 1e-6, "below"), (ref - 1e-6, "above")):
        d = min_loss(seg, ell_, w, threshold=th)
        assert (d.loss <= th) if want == "below" else (d.bound > th)


def test_allocation_many_tails_branch_and_bound_matches_milp():
    """A knapsack-like instance (many small tails): best-first branch and bound vs SCIP's MILP."""
    rng = np.random.default_rng(7)
    k = 24
    D = rng.uniform(1.0, 3.0, k)
    s = D / rng.uniform(0.9, 0.99, k)  # sell-all banks at p0, covered early at P
    ell_ = s.copy()
    seg = loss_segments(D, s, ell_, 0.995, 0.6)
    assert (seg.e > 0).sum() == k
    w = 0.43 * float(ell_.sum())
    bb = min_loss(seg, ell_, w, node_limit=200_000)
    milp = min_loss_milp(seg, ell_, w)
    assert abs(bb.loss - milp.loss) <= 1e-8 * max(1.0, milp.loss)


# ----------------------------------------------------------------------------- volume bracket
@pytest.mark.parametrize("kind,alpha", [("linear", 0.0), ("exponential", 0.5), ("power", 1.0)])
def test_max_volume_bracket_against_grid(kind, alpha):
    """u_lo is the clearing volume of the returned allocation; no allocation on a dense grid of
    the others' simplex slice reaches u_hi."""
    sysm = distressed(21, 4, kind, alpha)
    e = ell(sysm)
    i = 0
    others = np.array([1, 2, 3])
    x_i = 0.4 * e[i]
    adv = Adversary(sysm, i, x_i, e, others)
    W = float(e[others].sum())
    for w in (0.1 * W, 0.45 * W, 0.8 * W):
        X = x_i + w
        P = float(sysm.f(X))
        br = max_volume(adv, P, sysm.alpha * X, w, 1e-9)
        assert br.certified and br.u_lo < br.u_hi
        assert br.u_lo == pytest.approx(volume_of(adv, P, sysm.alpha * X, br.x_oth), abs=1e-12)
        assert abs(br.x_oth.sum() - w) <= 1e-9
        k = 121
        g1 = np.linspace(0, e[1], k)
        g2 = np.linspace(0, e[2], k)
        A, B = np.meshgrid(g1, g2, indexing="ij")
        x3 = w - A - B
        ok = (x3 >= 0) & (x3 <= e[3])
        best = -np.inf
        for a_, b_, c_ in zip(A[ok], B[ok], x3[ok]):
            best = max(best, volume_of(adv, P, sysm.alpha * X, np.array([a_, b_, c_])))
        assert best <= br.u_hi + 1e-12
        assert best <= br.u_lo + 1e-3 * (1 + br.u_lo)  # the grid gets close to the attained maximum


# ----------------------------------------------------------------------------- inner problem
def _permanent_examples():
    out = []
    for p in sorted(EXAMPLES.glob("*.yaml")):
        sysm = load_system(p)
        if not sysm.has_interbank and sysm.n <= 8:
            out.append((p.name, sysm))
    return out


@pytest.mark.parametrize("name,sysm", _permanent_examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_separable_vs_scip_every_example(name, sysm):
    """Every permanent-impact example system (n <= 8), every bank, three own sales x_i and two
    alphas: the separable certificate and SCIP's MINLP certificate overlap."""
    for alpha in sorted({float(sysm.alpha), 0.0, 1.0})[:2]:
        s2 = sysm.with_alpha(alpha)
        e = ell(s2)
        for i in range(s2.n):
            if e[i] <= 0:
                continue
            for frac in (0.0, 0.37, 1.0):
                z = frac * e[i]
                a = inner_separable(s2, i, z, e, tol=1e-7)
                b = _inner_scip(s2, i, z, e, 1e-7, 60.0, False)
                assert a.certified and b.certified, (name, alpha, i, frac, a.status, b.status)
                # each value is attained (re-cleared), each lower bound is proven: they interleave
                assert a.lower_bound <= b.value + 1e-9 and b.lower_bound <= a.value + 1e-9
                assert a.value == pytest.approx(float(clear(s2, a.x).values[i]), abs=1e-12)


@pytest.mark.parametrize("n,kind,alpha", [(n, k, a) for n in (2, 3) for k in ("linear", "exponential", "power")
                                          for a in (0.0, 0.6, 1.0)])
def test_separable_inner_vs_brute_force(n, kind, alpha):
    sysm = distressed(n + 11, n, kind, alpha)
    e = ell(sysm)
    for frac in (0.0, 0.25, 0.6, 1.0):
        z = frac * e[0]
        r = inner_separable(sysm, 0, z, e, tol=1e-8)
        assert r.certified
        v_grid, _ = grid_inner(sysm, 0, z, e, 4001 if n == 2 else 201)
        assert r.lower_bound <= v_grid + 1e-9  # the certificate is below every grid point
        assert r.value <= v_grid + 1e-8 + 1e-12  # the attained value is within tol of the minimum
        assert v_grid - r.value <= (2e-5 if n == 2 else 2e-3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(2, 7), kind=st.sampled_from(["linear", "exponential", "power"]),
       alpha=st.floats(0.0, 1.0), frac=st.floats(0.0, 1.0))
def test_separable_lower_bound_is_sound(seed, n, kind, alpha, frac):
    """On random systems the certified lower bound is below V_i at random points of the box,
    at the corners, and the returned point re-clears to the value."""
    sysm = random_system(seed, 0, n, kind=kind, alpha=alpha)
    e = ell(sysm)
    i = int(np.argmax(e))
    z = frac * e[i]
    r = inner_separable(sysm, i, z, e, tol=1e-6)
    assert r.certified and r.gap <= 1e-6 + 1e-12
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (400, n)) * e
    corners = np.array(list(itertools.product((0.0, 1.0), repeat=n))) * e
    X = np.vstack([X, corners])
    X[:, i] = z
    assert batch_values(sysm, X)[:, i].min() >= r.lower_bound - 1e-9
    assert r.value == pytest.approx(float(clear(sysm, r.x).values[i]), abs=1e-12)


# ----------------------------------------------------------------------------- max-min (7)
@pytest.mark.parametrize("kind,alpha", [("linear", 0.0), ("exponential", 0.5), ("power", 1.0), ("power", 0.2)])
def test_maximin_separable_vs_scip_engine(kind, alpha):
    """The two engines give certified max-min values within their tolerances of each other."""
    sysm = distressed(5, 5, kind, alpha)
    tol = 1e-4
    a = maximin_original(sysm, 0, "global", tol=tol, engine="separable")
    b = maximin_original(sysm, 0, "global", tol=tol, engine="scip")
    assert a.certified and b.certified
    assert abs(a.value - b.value) <= 2 * tol
    for r in (a, b):
        x = np.insert(r.worst_case_others, 0, r.strategy)
        assert r.value == pytest.approx(float(clear(sysm, x).values[0]), abs=1e-12)
    # each engine's certified strategy is no better than the other's certified upper bound
    assert inner_original(sysm, 0, b.strategy, "global", engine="separable").lower_bound <= a.details["upper"] + 1e-7


def test_eight_banks_alder_certifies():
    """The bundled example that used to stall: every bank of eight_banks.yaml certifies."""
    sysm = load_system(EXAMPLES / "eight_banks.yaml")
    for bank in sysm.names:
        r = maximin_original(sysm, bank, "global", tol=1e-4)
        assert r.certified and r.status == "optimal", (bank, r.status)


@pytest.mark.parametrize("n", [24, 48])
def test_research_scale_certifies(n):
    """n = 24 and 48 (distressed systems: every family, alpha in {0, 0.5}): certified."""
    for kind, alpha in (("linear", 0.0), ("exponential", 0.5), ("power", 0.0)):
        sysm = distressed(n + 7, n, kind, alpha)
        r = maximin_original(sysm, 0, "global", tol=1e-4)
        assert r.certified, (n, kind, alpha, r.status)
        x = np.insert(r.worst_case_others, 0, r.strategy)
        assert r.value == pytest.approx(float(clear(sysm, x).values[0]), abs=1e-12)
