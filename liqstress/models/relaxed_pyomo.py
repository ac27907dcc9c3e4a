"""Algebraic (Pyomo) formulations of the relaxed problems (9) and (20), over the individual
early sales x_j (docs/model.md §2.5, §3.2).

* :func:`f_expression` — the inverse demand f(u) as an algebraic expression for any modelling
  library that overloads arithmetic and provides ``exp`` (Pyomo, PySCIPOpt).
* :func:`inner_model_9` — ``min_{x_-i} Vt_i(x_i, x_-i)`` of (9) at a fixed x_i, with one
  variable per other bank (convex in x_-i: Vt_i depends on x_-i through w = sum_{j!=i} x_j,
  and ``g(z, .)`` is convex, (12)).  Used by the IPOPT bridge (local route).
* :func:`pyros_model_9` — the robust counterpart of (9) for PyROS: first-stage x_i and an
  epigraph variable t, ``max t  s.t.  t <= Vt_i(x_i, x_-i)  for all x_-i in the box
  prod_{j!=i} [0, ell_j]`` (box uncertainty set on the uncertain parameters x_-i).
* :func:`inner_model_20` — ``min_{x_-i} Vt_i(x_i, x_-i)`` of (20) with the worst-case
  payments Pt of (19) written as complementarity-free smooth constraints for a local solver
  (see its docstring); the certified route encodes Pt with binaries in
  :mod:`liqstress.solvers.relaxed`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, InverseDemand, Linear, Power


def f_expression(f: InverseDemand, u, exp: Callable):
    """f(u) as an algebraic expression (linear, exponential, power families of docs/model.md §2.2)."""
    if isinstance(f, Linear):
        return 1.0 - f.beta * u
    if isinstance(f, Exponential):
        return exp(-f.beta * u)
    if isinstance(f, Power):
        return (1.0 + f.beta * u) ** (-f.gamma)
    raise InputError("inverse_demand.kind", f"{getattr(f, 'kind', type(f).__name__)!r} has no algebraic form; use method='grid'")


def _others(n: int, i: int) -> list[int]:
    return [j for j in range(n) if j != i]


def inner_model_9(c_i: float, ell_vec: np.ndarray, i: int, x_i: float, alpha: float, f: InverseDemand):
    """Pyomo model of the inner problem of (9) at fixed x_i: min over x_j in [0, ell_j], j != i, of
    Vt_i = c_i + x_i f(X) + (ell_i - x_i) f(Lambda - (1 - alpha) X), X = x_i + sum_j x_j."""
    import pyomo.environ as pyo

    ell_vec = np.asarray(ell_vec, dtype=float)
    others = _others(ell_vec.size, i)
    Lam = float(ell_vec.sum())
    m = pyo.ConcreteModel(name="relaxed_inner_9")
    m.J = pyo.Set(initialize=others, ordered=True)
    m.x = pyo.Var(m.J, bounds=lambda m, j: (0.0, float(ell_vec[j])), initialize=lambda m, j: 0.5 * float(ell_vec[j]))
    X = float(x_i) + sum(m.x[j] for j in m.J)
    ell_i = float(ell_vec[i])
    m.obj = pyo.Objective(
        expr=c_i + x_i * f_expression(f, X, pyo.exp) + (ell_i - x_i) * f_expression(f, Lam - (1.0 - alpha) * X, pyo.exp),
        sense=pyo.minimize,
    )
    return m


def pyros_model_9(c_i: float, ell_vec: np.ndarray, i: int, alpha: float, f: InverseDemand):
    """Robust counterpart of (9) for PyROS.

    First-stage variables: x_i in [0, ell_i] and the epigraph variable t.  Uncertain
    parameters: x_j, j != i (mutable Params, nominal ell_j / 2), in the box prod [0, ell_j].
    Objective ``max t`` subject to ``t <= Vt_i(x_i, x_-i)`` for every x_-i in the box.
    Returns ``(model, uncertain_params, bounds)``.
    """
    import pyomo.environ as pyo

    ell_vec = np.asarray(ell_vec, dtype=float)
    others = _others(ell_vec.size, i)
    Lam = float(ell_vec.sum())
    ell_i = float(ell_vec[i])
    m = pyo.ConcreteModel(name="relaxed_robust_9")
    m.J = pyo.Set(initialize=others, ordered=True)
    m.xo = pyo.Param(m.J, mutable=True, initialize=lambda m, j: 0.5 * float(ell_vec[j]))
    m.z = pyo.Var(bounds=(0.0, ell_i), initialize=0.5 * ell_i)
    m.t = pyo.Var(bounds=(float(c_i) - 1.0, float(c_i) + ell_i + 1.0), initialize=float(c_i))
    X = m.z + sum(m.xo[j] for j in m.J)
    vt = c_i + m.z * f_expression(f, X, pyo.exp) + (ell_i - m.z) * f_expression(f, Lam - (1.0 - alpha) * X, pyo.exp)
    m.epi = pyo.Constraint(expr=m.t <= vt)
    m.obj = pyo.Objective(expr=m.t, sense=pyo.maximize)
    bounds = [(0.0, float(ell_vec[j])) for j in others]
    return m, [m.xo], bounds


def inner_model_20(
    c: np.ndarray,
    ell_vec: np.ndarray,
    pbar: np.ndarray,
    PiT: np.ndarray,
    i: int,
    x_i: float,
    f: InverseDemand,
    x0: np.ndarray | None = None,
    P0: np.ndarray | None = None,
    alpha: float = 0.0,
):
    """Pyomo model of the inner problem of (20) at fixed x_i for a LOCAL solver.

    Pt = min(pbar, e + Pi^T Pt) (19), e = c + h(x) (18), is written in the smooth form
    ``Pt_j = pbar_j - u_j``, ``u_j >= 0``, ``Pt_j <= e_j + (Pi^T Pt)_j`` and
    ``u_j * (e_j + (Pi^T Pt)_j - Pt_j) <= 0`` (complementarity, relaxed by IPOPT's
    interior point); a local solution is verified by recomputing Pt exactly.
    ``PiT[j, k] = Pi_kj``.  ``alpha > 0`` is the unified model: h of (18) uses the worst-case
    second-period price f(Lambda - (1 - alpha) X).
    """
    import pyomo.environ as pyo

    n = ell_vec.size
    others = _others(n, i)
    Lam = float(ell_vec.sum())
    m = pyo.ConcreteModel(name="relaxed_inner_20")
    m.J = pyo.Set(initialize=others, ordered=True)
    m.N = pyo.RangeSet(0, n - 1)
    x0 = 0.5 * ell_vec if x0 is None else x0
    m.x = pyo.Var(m.J, bounds=lambda m, j: (0.0, float(ell_vec[j])), initialize=lambda m, j: float(x0[j]))
    P0 = pbar if P0 is None else P0
    m.P = pyo.Var(m.N, bounds=lambda m, j: (0.0, float(pbar[j])), initialize=lambda m, j: float(P0[j]))
    xs = {j: (m.x[j] if j != i else float(x_i)) for j in range(n)}
    X = sum(xs[j] for j in range(n))
    F1 = f_expression(f, X, pyo.exp)
    F2 = f_expression(f, Lam - (1.0 - float(alpha)) * X, pyo.exp)
    e = {j: float(c[j]) + xs[j] * F1 + (float(ell_vec[j]) - xs[j]) * F2 for j in range(n)}
    a = {j: e[j] + sum(float(PiT[j, k]) * m.P[k] for k in range(n) if PiT[j, k] != 0.0) for j in range(n)}
    m.upper = pyo.Constraint(m.N, rule=lambda m, j: m.P[j] <= a[j])
    m.compl = pyo.Constraint(m.N, rule=lambda m, j: (float(pbar[j]) - m.P[j]) * (a[j] - m.P[j]) <= 0.0)
    m.obj = pyo.Objective(expr=e[i] + sum(float(PiT[i, k]) * m.P[k] for k in range(n) if PiT[i, k] != 0.0), sense=pyo.minimize)
    return m
