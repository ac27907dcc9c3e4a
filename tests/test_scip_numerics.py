"""SCIP's tolerances for the exact encoding of (7) with interbank exposures (15).

Regression: ``liqstress network generate erdos-renyi --banks 12 --mean-degree 2 --seed 3``
then ``liqstress gap F.yaml --bank B00`` exited 3 with SCIP "infeasible inner problem at
x_i=0.265734".  The encoding is feasible there (the true equilibrium satisfies every
constraint to 1e-15, checked below); SCIP's presolve (probing) declared it infeasible
because only ``numerics/feastol`` had been lowered to 1e-9, leaving ``numerics/epsilon`` equal
to it and ``numerics/sumepsilon`` above it.
"""

from __future__ import annotations

import json

import numpy as np
import pyomo.environ as pyo
import pytest
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.models.original_pyomo import build_inner, scip_numerics
from liqstress.networks.generators import generate
from liqstress.solvers.clearing import clear
from liqstress.solvers.clearing import ell as ell_of
from liqstress.solvers.original import _inner_scip_once

runner = CliRunner()


@pytest.fixture(scope="module")
def er12():
    return generate("erdos-renyi", 12, 2, seed=3)


def test_numerics_keep_scip_proportions():
    for ft in (1e-6, 1e-7, 1e-9):
        p = scip_numerics(ft)
        assert p["numerics/epsilon"] <= p["numerics/sumepsilon"] <= p["numerics/feastol"] == ft
        assert p["numerics/epsilon"] < ft
    assert scip_numerics(1e-6) == {"numerics/feastol": 1e-6, "numerics/epsilon": 1e-9, "numerics/sumepsilon": 1e-6}


def _max_violation(m) -> float:
    worst = 0.0
    for con in m.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        if con.has_lb():
            worst = max(worst, pyo.value(con.lower) - body)
        if con.has_ub():
            worst = max(worst, body - pyo.value(con.upper))
    for v in m.component_data_objects(pyo.Var):
        if v.lb is not None:
            worst = max(worst, v.lb - v.value)
        if v.ub is not None:
            worst = max(worst, v.value - v.ub)
    return worst


def test_issue_instance_encoding_is_feasible_and_scip_certifies_it(er12):
    s, i = er12, 0
    e = ell_of(s)
    x_i = 0.5 * e[i]  # Theorem 5.3: the robust strategy with interbank exposures, 0.265734
    assert x_i == pytest.approx(0.265734, abs=1e-6)
    rng = np.random.default_rng(1)
    samples = []
    for k in range(12):  # the true (greatest) equilibrium of (15) is a feasible point of the model
        x = rng.uniform(0, 1, s.n) * e if k else np.zeros(s.n)
        x[i] = x_i
        cl = clear(s, x)
        samples.append(float(cl.values[i]))
        m = build_inner(s, i, x_i, e)
        for j in m.O:
            m.x[j].set_value(x[j])
        m.q1.set_value(cl.price_t1)
        m.q.set_value(cl.price_t2)
        inflow = s.Pi.T @ cl.payments
        for j in m.N:
            m.P[j].set_value(cl.payments[j])
            m.y[j].set_value(cl.sales_t2[j])
            short = s.pbar[j] - s.c[j] - x[j] * cl.price_t1 - inflow[j]
            m.d[j].set_value(max(short, 0.0))
            if not m.a[j].fixed:
                m.a[j].set_value(1 if short > 0 else 0)
            m.b[j].set_value(1 if cl.sales_t2[j] >= s.s[j] - x[j] - 1e-15 else 0)
            if not m.g[j].fixed:
                m.g[j].set_value(1 if cl.payments[j] >= s.pbar[j] else 0)
        assert _max_violation(m) < 1e-12
        assert pyo.value(m.obj) == pytest.approx(cl.values[i], abs=1e-12)
    r = _inner_scip_once(s, i, x_i, e, 1e-7, 60.0, False, 1e-9)
    assert r.status == "optimal" and r.certified, r.status
    assert r.value == pytest.approx(float(clear(s, r.x).values[i]), abs=1e-12)  # attained (re-cleared)
    assert r.lower_bound <= min(samples) + 1e-9  # the proven bound is below every sampled equilibrium
    assert r.value - r.lower_bound <= 1e-7


def test_gap_cli_on_the_issue_instance(tmp_path):
    f = tmp_path / "F.yaml"
    res = runner.invoke(app, ["network", "generate", "erdos-renyi", "--banks", "12", "--mean-degree", "2", "--seed", "3",
                              "-o", str(f)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["gap", str(f), "--bank", "B00", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["certified"] and doc["v_opt_status"] == doc["v_rob_status"] == "optimal"
    assert doc["v_opt"] >= doc["v_rob"] - doc["tolerance"]
    lo, hi = doc["v_opt_bounds"]
    assert lo <= doc["v_opt"] <= hi + 1e-12 and hi - lo <= doc["tolerance"]
