"""The Pyomo -> cyipopt bridge on small NLPs with known optima."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from liqstress.errors import SolverFailure
from liqstress.solvers.ipopt_bridge import solve_pyomo


@pytest.mark.parametrize("hessian", ["exact", "lbfgs"])
def test_rosenbrock(hessian):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=-1.2)
    m.y = pyo.Var(initialize=1.0)
    m.o = pyo.Objective(expr=(1 - m.x) ** 2 + 100 * (m.y - m.x**2) ** 2)
    r = solve_pyomo(m, hessian=hessian)
    assert r.success and r.status == "solve_succeeded"
    assert np.allclose(r.x, [1.0, 1.0], atol=1e-6)
    assert abs(r.objective) < 1e-10
    assert abs(pyo.value(m.x) - 1.0) < 1e-6  # solution loaded into the model


def test_constrained_qp_with_multiplier():
    # min x^2 + y^2 s.t. x + y >= 1: optimum (1/2, 1/2), value 1/2, multiplier 1
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=3.0)
    m.y = pyo.Var(initialize=-2.0)
    m.c = pyo.Constraint(expr=m.x + m.y >= 1)
    m.o = pyo.Objective(expr=m.x**2 + m.y**2)
    r = solve_pyomo(m)
    assert np.allclose(r.x, [0.5, 0.5], atol=1e-7)
    assert abs(r.objective - 0.5) < 1e-7
    assert abs(abs(r.multipliers[0]) - 1.0) < 1e-6


def test_hs071_known_optimum():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(4), bounds=(1, 5), initialize={0: 1, 1: 5, 2: 5, 3: 1})
    m.o = pyo.Objective(expr=m.x[0] * m.x[3] * (m.x[0] + m.x[1] + m.x[2]) + m.x[2])
    m.c1 = pyo.Constraint(expr=m.x[0] * m.x[1] * m.x[2] * m.x[3] >= 25)
    m.c2 = pyo.Constraint(expr=sum(m.x[i] ** 2 for i in range(4)) == 40)
    r = solve_pyomo(m)
    assert abs(r.objective - 17.0140172891) < 1e-6
    sol = [pyo.value(m.x[i]) for i in range(4)]
    assert np.allclose(sol, [1.0, 4.74299963, 3.82114998, 1.37940829], atol=1e-5)
    assert r.values["x[3]"] == pytest.approx(1.37940829, abs=1e-5)


def test_maximise_with_exp_and_power_matches_calculus():
    # max z exp(-z) + (2 - z) (1 + z)^(-1/2) on [0, 2]: compare with a dense grid
    m = pyo.ConcreteModel()
    m.z = pyo.Var(bounds=(0, 2), initialize=1.0)
    m.o = pyo.Objective(expr=m.z * pyo.exp(-m.z) + (2 - m.z) * (1 + m.z) ** (-0.5), sense=pyo.maximize)
    r = solve_pyomo(m)
    zs = np.linspace(0, 2, 200001)
    vals = zs * np.exp(-zs) + (2 - zs) / np.sqrt(1 + zs)
    assert abs(r.objective - vals.max()) < 1e-9
    assert abs(r.x[0] - zs[vals.argmax()]) < 1e-4


def test_infeasible_status_carried_and_raised():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x**2 >= 4)
    m.o = pyo.Objective(expr=m.x)
    r = solve_pyomo(m, raise_on_failure=False)
    assert not r.success and r.status == "infeasible_problem_detected"
    with pytest.raises(SolverFailure, match="infeasible"):
        solve_pyomo(m)


def test_iteration_limit_is_a_failure():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=-1.2)
    m.y = pyo.Var(initialize=1.0)
    m.o = pyo.Objective(expr=(1 - m.x) ** 2 + 100 * (m.y - m.x**2) ** 2)
    r = solve_pyomo(m, raise_on_failure=False, max_iter=2)
    assert r.status == "maximum_iterations_exceeded" and not r.success
