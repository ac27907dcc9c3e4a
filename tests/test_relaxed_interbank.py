"""Problem (20) with interbank exposures: Theorem 5.3 (x* = ell/2) vs the certified numeric
max-min, the exact Pt encoding vs the Eisenberg-Noe solver, Proposition 5.2, robust values."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from core_systems import random_system
from liqstress.cli import app
from liqstress.models.inverse_demand import Linear
from liqstress.models.system import System
from liqstress.solvers.clearing import clear, ell, relaxed_value_interbank, worst_case_income, worst_case_payments
from liqstress.solvers.eisenberg_noe import en_clearing
from liqstress.solvers.relaxed import _scip_inner, en_batch, inner_relaxed, maximin_relaxed, prepare
from liqstress.solvers.robust import robust_strategies
from liqstress.solvers.robust_values import interbank_worst_case_values

IB_CASES = [(21, "linear", 3), (22, "exponential", 3), (23, "power", 4), (24, "exponential", 4)]


@pytest.mark.parametrize("seed,kind,n", IB_CASES)
def test_theorem_5_3_vs_certified_maximin(seed, kind, n):
    sysm = random_system(seed, n, kind, interbank=True, strength=0.9)
    e = ell(sysm)
    tried = 0
    for i in [k for k in np.argsort(-e)[:2]]:  # the two largest sellers (CI time budget)
        if e[i] <= 1e-9:
            continue
        r = maximin_relaxed(sysm, i, "global", tol=1e-6)
        assert r.certified, r.details
        assert r.details["upper_bound"] - r.details["lower_bound"] <= 1e-6
        # value of Theorem 5.3's strategy (certified inner min at ell/2) lies in the bracket
        at_half = inner_relaxed(sysm, i, e[i] / 2, "global", tol=1e-8)
        assert at_half.certified
        assert abs(r.value - at_half.value) <= 1e-6
        assert r.details["lower_bound"] - 1e-8 <= at_half.value <= r.details["upper_bound"] + 1e-8
        assert abs(r.strategy - e[i] / 2) <= 2e-3 * e[i]
        tried += 1
    assert tried >= 1


def test_cutting_plane_finds_ell_half_from_far_starts():
    """Independent of the closed form: the scheme starts far from ell/2 and the certified
    master moves there; the grid route agrees."""
    sysm = random_system(23, 4, "power", interbank=True, strength=0.9)
    e = ell(sysm)
    i = int(np.argmax(e))
    r = maximin_relaxed(sysm, i, "global", starts=(0.05, 0.95))
    assert r.certified and r.details["iterations"] >= 1
    assert abs(r.strategy - e[i] / 2) <= 2e-3 * e[i]
    gr = maximin_relaxed(sysm, i, "grid")
    assert abs(gr.strategy - e[i] / 2) <= 1e-2 * e[i]
    assert abs(gr.value - r.value) <= 1e-6


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 5), kind=st.sampled_from(["linear", "exponential", "power"]), frac=st.floats(0, 1))
def test_scip_inner_encodes_pt_exactly(seed, n, kind, frac):
    """The binary encoding of Pt (19): SCIP's certified inner value, recomputed with the
    Eisenberg-Noe solver at SCIP's minimiser, is not above a grid + local search, and its
    lower bound is not above any evaluated point."""
    sysm = random_system(seed, n, kind, interbank=True)
    prob = prepare(sysm, 0)
    z = frac * prob.ell_i
    g = _scip_inner(prob, z, 1e-7, 60.0)
    assert g.certified
    assert abs(relaxed_value_interbank(sysm, g.x, prob.ell)[0] - g.value) <= 1e-12
    gr = inner_relaxed(sysm, 0, z, "grid")
    assert g.value <= gr.value + 1e-7
    assert g.lower_bound <= gr.value + 1e-9
    # random points of the box never beat the certified lower bound
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (500, n)) * prob.ell
    X[:, 0] = z
    assert prob.values_batch(X).min() >= g.lower_bound - 1e-9


def test_en_batch_matches_en_clearing():
    sysm = random_system(5, 6, "exponential", interbank=True)
    prob = prepare(sysm, 0)
    E = np.random.default_rng(0).uniform(0, 2, (200, 6))
    P = en_batch(prob.pbar, prob.PiT, E)
    for k in range(200):
        assert np.allclose(P[k], en_clearing(prob.pbar, sysm.Pi, E[k]), atol=1e-12)


@pytest.mark.parametrize("seed,kind,n", IB_CASES)
def test_proposition_5_2_and_lemma_5_1_at_numeric_optima(seed, kind, n):
    sysm = random_system(seed, n, kind, interbank=True, strength=0.9)
    e = ell(sysm)
    pbar = sysm.pbar
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(n):
        if e[i] <= 0:
            continue
        r = inner_relaxed(sysm, i, e[i] / 2, "global")
        pts.append((i, r.x))
        pts += [(i, rng.uniform(0, 1, n) * e) for _ in range(10)]
    for i, x in pts:
        cl = clear(sysm, x)
        Vt = relaxed_value_interbank(sysm, x, e)
        assert cl.values[i] >= min(Vt[i], pbar[i]) - 1e-8  # Proposition 5.2
        assert np.all(x + cl.sales_t2 <= e + 1e-8)  # Lemma 5.1
        # Pt is a fixed point of (19)
        Pt = worst_case_payments(sysm, x, e)
        rhs = np.minimum(pbar, sysm.c + worst_case_income(sysm, x, e) + sysm.Pi.T @ Pt)
        assert np.allclose(Pt, rhs, atol=1e-10)


def test_local_route_interbank_inner():
    sysm = random_system(22, 3, "exponential", interbank=True, strength=0.9)
    e = ell(sysm)
    i = int(np.argmax(e))
    g = inner_relaxed(sysm, i, 0.3 * e[i], "global")
    lo = inner_relaxed(sysm, i, 0.3 * e[i], "local")
    assert lo.solver == "ipopt" and abs(lo.value - g.value) <= 1e-6


def test_robust_values_fill_and_skip():
    sysm = random_system(24, 4, "exponential", interbank=True)
    res = robust_strategies(sysm)
    assert res.worst_case_value is None
    out = interbank_worst_case_values(sysm, res)
    for i in range(sysm.n):
        r = inner_relaxed(sysm, i, res.strategy[i], "grid")
        assert out.worst_case_value[i] <= r.value + 1e-7
        assert abs(out.worst_case_value[i] - r.value) <= 1e-6
    assert "certified" in out.value_note
    skipped = interbank_worst_case_values(sysm, res, max_banks=3)
    assert skipped.worst_case_value is None and "n <= 3" in skipped.value_note


def test_robust_values_large_network_skips_the_solver(monkeypatch):
    """Above max_banks no inner solve is attempted (values stay None, with a note)."""
    import liqstress.solvers.relaxed as relaxed

    def boom(*a, **k):
        raise AssertionError("inner_relaxed must not run for a large network")

    monkeypatch.setattr(relaxed, "inner_relaxed", boom)
    n = 100_000
    rows = np.arange(n)
    Lmat = sp.csr_matrix((np.full(n, 0.1), (rows, (rows + 1) % n)), shape=(n, n))
    sysm = System.from_arrays(np.full(n, 0.5), np.full(n, 1.0), np.full(n, 1.0), Linear(0.1 / (2 * n)), Lmat=Lmat)
    res = robust_strategies(sysm, ell_vec=np.full(n, 0.5))
    out = interbank_worst_case_values(sysm, res)
    assert out.worst_case_value is None and "not computed" in out.value_note


def test_cli_robust_interbank_json():
    res = CliRunner().invoke(app, ["robust", "examples/systems/interbank_five.yaml", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    sysm_vals = [b["worst_case_value"] for b in doc["banks"]]
    assert all(v is not None for v in sysm_vals)
    for b in doc["banks"]:
        assert abs(b["strategy"] - b["ell"] / 2) <= 1e-12
