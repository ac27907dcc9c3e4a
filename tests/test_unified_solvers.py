"""The unified model's solvers: SCIP encodings with the alpha X term, the relaxed problem with
the worst-case price f(Lambda - (1 - alpha) X), robust strategies with their ``method``, and the
documented counterexamples to Theorems 4.4 and 5.3 — each against an independent computation
(exact clearing at random points, dense grids, the closed forms where they provably apply)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
from original_systems import distressed_interbank
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.models.original_pyomo import add_clearing_interbank, solve_scip
from liqstress.models.system import load_system
from liqstress.research.unified_study import unified_random_system
from liqstress.solvers.clearing import clear, ell, worst_case_payments
from liqstress.solvers.original import inner_original, maximin_original
from liqstress.solvers.original_batch import batch_values, grid_inner, grid_maximin
from liqstress.solvers.relaxed import inner_relaxed, maximin_relaxed, prepare
from liqstress.solvers.robust import claims_safe, robust_permanent, robust_strategies

EX = Path(__file__).resolve().parents[1] / "examples" / "systems"
runner = CliRunner()


# ----------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_interbank_encoding_with_alpha_pins_the_equilibrium(alpha):
    """At fixed x, min and max of q and V_0 over the encoding of (15) with q = f(alpha X + sum y)
    coincide with the exact clearing (an encoding without the alpha X term would not)."""
    for seed in range(2):
        sysm = unified_random_system(seed, 3, "exponential", alpha)
        e = ell(sysm)
        x = np.random.default_rng(seed).random(3) * e
        cl = clear(sysm, x)
        for target, ref in ((lambda m, V: m.q, cl.price_t2), (lambda m, V: V(0), cl.values[0])):
            vals = []
            for sense in (pyo.minimize, pyo.maximize):
                m = pyo.ConcreteModel()
                xe = {j: float(x[j]) for j in range(3)}
                V = add_clearing_interbank(m, sysm, xe, float(x.sum()), float(x.sum()), e)
                m.obj = pyo.Objective(expr=target(m, V), sense=sense)
                o = solve_scip(m, abs_gap=1e-10)
                assert o.status in ("optimal", "convergenceCriteriaSatisfied"), o.status
                vals.append(o.primal)
            assert vals[0] == pytest.approx(ref, abs=1e-7) and vals[1] == pytest.approx(ref, abs=1e-7)


def test_original_inner_unified_certified_and_below_exact_samples():
    sysm = unified_random_system(2, 3, "linear", 0.6, distress=1.0)
    e = ell(sysm)
    i = int(np.argmax(e))
    r = inner_original(sysm, i, 0.5 * e[i], "global")
    assert r.certified and r.status == "optimal"
    assert r.value == pytest.approx(float(clear(sysm, r.x).values[i]), abs=1e-12)
    X = np.random.default_rng(0).random((3000, 3)) * e
    X[:, i] = 0.5 * e[i]
    assert batch_values(sysm, X)[:, i].min() >= r.lower_bound - 1e-7
    v_grid, _ = grid_inner(sysm, i, 0.5 * e[i], e, 61)
    assert r.lower_bound - 1e-7 <= v_grid <= r.value + 2e-3


def test_original_maximin_unified_vs_grid():
    sysm = load_system(EX / "unified_four.yaml")  # alpha = 0.5
    e = ell(sysm)
    i = sysm.index("B2")
    r = maximin_original(sysm, i, "global", tol=1e-4)
    assert r.certified
    x = np.insert(r.worst_case_others, i, r.strategy)
    assert r.value == pytest.approx(float(clear(sysm, x).values[i]), abs=1e-10)
    assert r.value < float(sysm.pbar[i]) - 0.1  # a distressed bank: the problem is not trivial
    g = grid_maximin(sysm, i, e, k_others=9, k_own=41)
    assert abs(g["value"] - r.value) < 5e-3 and g["value"] >= r.value - 5e-3


def test_relaxed_inner_unified_scip_vs_exact_samples():
    sysm = unified_random_system(5, 4, "power", 0.75)
    prob = prepare(sysm, 1)
    for frac in (0.2, 0.5):
        r = inner_relaxed(sysm, 1, frac * prob.ell_i, "global")
        assert r.certified
        assert r.value == pytest.approx(prob.value(r.x), abs=1e-12)
        X = np.random.default_rng(1).random((4000, 4)) * prob.ell
        X[:, 1] = frac * prob.ell_i
        assert prob.values_batch(X).min() >= r.lower_bound - 1e-8
        # the batched relaxed value is (20) with h of (18) at f(Lambda - (1 - alpha) X)
        x = X[7]
        h = x * sysm.f(x.sum()) + (prob.ell - x) * sysm.f(prob.Lam - 0.25 * x.sum())
        Pt = worst_case_payments(sysm, x, prob.ell)
        assert prob.values_batch(x[None, :])[0] == pytest.approx(sysm.c[1] + h[1] + (sysm.Pi.T @ Pt)[1], abs=1e-12)


# ----------------------------------------------------------------------------- closed forms
def test_claims_safe_means_constant_interbank_income():
    """For a bank with safe claims, (Pi^T Pt(x))_i = sum_j L_ji at every x of the box (the
    premise of Theorem 4.4 holding in the unified model); at-risk banks do vary."""
    varied = 0
    for seed in range(12):
        sysm = unified_random_system(seed, 4, "linear", 0.7)
        e = ell(sysm)
        safe = claims_safe(sysm)
        inflow = np.asarray(sysm.Lmat.sum(axis=0)).ravel()
        rng = np.random.default_rng(seed)
        incomes = []
        for _ in range(6):
            x = rng.random(4) * e
            incomes.append(sysm.Pi.T @ worst_case_payments(sysm, x, e))
        incomes = np.array(incomes)
        assert np.allclose(incomes[:, safe], inflow[safe], rtol=0, atol=1e-12)
        varied += int((incomes[:, ~safe].max(axis=0) - incomes[:, ~safe].min(axis=0) > 1e-9).sum())
    assert varied > 0


@pytest.mark.parametrize("bank", ["A", "E"])
def test_safe_banks_follow_theorem_4_4_numerically(bank):
    sysm = load_system(EX / "interbank_five.yaml").with_alpha(0.5)
    rob = robust_strategies(sysm)
    i = sysm.index(bank)
    assert "Theorem 4.4: claims safe" in rob.method[i]
    r = maximin_relaxed(sysm, i, "global", tol=1e-7)
    assert r.certified
    assert r.strategy == pytest.approx(rob.strategy[i], abs=1e-4 * rob.ell[i])
    assert r.value == pytest.approx(rob.worst_case_value[i], abs=1e-6)


def test_counterexample_theorems_4_4_and_5_3_fail_in_the_unified_model():
    """Regression for the documented counterexample (docs/unified.md): bank B3 of a 3-bank
    linear system at alpha = 1.  Theorem 4.4 (here = ell/2 = Theorem 5.3) gives 0.58195; the
    certified relaxed max-min is at 0.1568 and is strictly better than the formula's worst case,
    which a dense grid confirms independently of SCIP."""
    sysm = distressed_interbank(0, 3, "linear").with_alpha(1.0)
    e = ell(sysm)
    x44 = float(robust_permanent(sysm.c, e, 1.0, sysm.f)[1][2])
    assert x44 == pytest.approx(0.5 * e[2], rel=1e-12) and x44 == pytest.approx(0.58195, abs=1e-5)
    r = maximin_relaxed(sysm, 2, "global", tol=1e-6)
    assert r.certified and r.strategy == pytest.approx(0.1568, abs=1e-3)
    at44 = inner_relaxed(sysm, 2, x44, "global")
    assert at44.certified and at44.value < r.details["lower_bound"] - 0.01
    # grid: every x_i on a grid near the formula does worse than the numeric strategy
    prob = prepare(sysm, 2)
    g = np.stack(np.meshgrid(np.linspace(0, e[0], 41), np.linspace(0, e[1], 41), indexing="ij"), -1).reshape(-1, 2)
    X = np.zeros((g.shape[0], 3))
    X[:, :2] = g
    X[:, 2] = r.strategy
    assert prob.values_batch(X).min() >= r.value - 1e-9 - 1e-6  # grid points cannot undercut the certified minimum
    X[:, 2] = x44
    assert prob.values_batch(X).min() < r.value - 0.01
    # ... and the other direction at alpha = 0.3 for bank B1 (numeric above the formula)
    s3 = sysm.with_alpha(0.3)
    r1 = maximin_relaxed(s3, 0, "global", tol=1e-6)
    x44_1 = float(robust_permanent(s3.c, e, 0.3, s3.f)[1][0])
    assert r1.certified and r1.strategy > x44_1 + 0.1


def test_robust_numeric_strategies_are_at_most_half_ell():
    """The empirical finding of docs/unified.md (x_i* <= ell_i / 2) on small systems, certified;
    the numeric strategies differ from the Theorem 4.4 formula."""
    numeric = 0
    for seed, alpha in ((0, 0.75), (1, 0.5)):
        sysm = unified_random_system(seed, 3, "linear", alpha)
        rob = robust_strategies(sysm)
        x44 = robust_permanent(sysm.c, rob.ell, alpha, sysm.f)[1]
        for i, m in enumerate(rob.method):
            if m.startswith("numeric"):
                assert m == "numeric (SCIP certified)"
                assert 0 <= rob.strategy[i] <= 0.5 * rob.ell[i] + 1e-6
                if rob.ell[i] > 0:
                    numeric += 1
                    assert abs(rob.strategy[i] - x44[i]) > 1e-3 * rob.ell[i]
            else:
                assert rob.strategy[i] == x44[i]
    assert numeric >= 3


def test_large_unified_network_without_numeric_solve_says_so():
    sysm = unified_random_system(3, 12, "linear", 0.5, density=0.4)
    rob = robust_strategies(sysm)
    safe = claims_safe(sysm)
    assert (~safe).any() and safe.any()
    for i in range(sysm.n):
        if safe[i]:
            assert rob.method[i].startswith("closed form") and np.isfinite(rob.strategy[i])
        else:
            assert rob.method[i].startswith("not computed") and np.isnan(rob.strategy[i])
    doc = json.loads(json.dumps(rob.to_json(), default=float).replace("NaN", "null"))
    assert doc["banks"][int(np.flatnonzero(~safe)[0])]["strategy"] is None


# ----------------------------------------------------------------------------- CLI
def test_cli_robust_maximin_gap_on_unified_systems(tmp_path):
    small = tmp_path / "unified3.yaml"
    unified_random_system(0, 3, "linear", 0.75).save(small)
    r = runner.invoke(app, ["robust", str(small), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["alpha"] == 0.75
    assert [b["method"] for b in doc["banks"]] == ["numeric (SCIP certified)", "closed form (14) (Theorem 4.4: claims safe)",
                                                   "ell_i = 0 (x_i* = 0); value numeric (SCIP certified)"]
    assert doc["banks"][2]["ell"] == 0 and doc["banks"][2]["strategy"] == 0
    r = runner.invoke(app, ["robust", str(small)])
    assert r.exit_code == 0 and "method numeric (SCIP certified): B1" in r.stdout
    r = runner.invoke(app, ["maximin", str(small), "--bank", "B1", "--problem", "original", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["certified"] is True
    f = str(EX / "unified_four.yaml")
    r = runner.invoke(app, ["robust", f, "--alpha", "0", "--json"])
    assert {b["method"] for b in json.loads(r.stdout)["banks"]} == {"Theorem 5.3"}
    # the documented number of docs/unified.md: regret of B2 at alpha = 0.5
    r = runner.invoke(app, ["gap", f, "--bank", "B2", "--json"])
    assert r.exit_code == 0, r.output
    g = json.loads(r.stdout)
    assert g["certified"] and g["robust_method"] == "numeric (SCIP certified)"
    assert g["robust_strategy"] == pytest.approx(0.5620, abs=1e-3)
    assert g["regret"] == pytest.approx(0.00646, abs=2e-4)
