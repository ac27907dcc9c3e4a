"""A thin Pyomo -> cyipopt bridge (local NLP solves with IPOPT).

Pyomo's ``SolverFactory('ipopt')`` needs an ``ipopt`` executable and ``'cyipopt'`` needs the
AMPL solver library; neither is available here, so this module feeds a Pyomo model to
``cyipopt.Problem`` directly:

* variables: every unfixed variable appearing in the active objective and constraints
  (bounds from the Pyomo variables, start from their current values);
* objective, constraint bodies, gradient and (sparse) Jacobian: Pyomo expressions and their
  symbolic reverse-mode derivatives (``differentiate(..., mode=reverse_symbolic)``), each
  list compiled once into a plain Python function (``expression_to_string`` with variables
  renamed ``v[k]``, mutable parameters frozen at their values when the solve starts);
* Hessian of the Lagrangian: exact (second symbolic derivatives, lower triangle), or IPOPT's
  L-BFGS approximation with ``hessian="lbfgs"``.

:func:`solve_pyomo` returns an :class:`NLPResult` carrying IPOPT's status; the solution is
loaded into the model.  A non-successful status raises
:class:`~liqstress.errors.SolverFailure` unless ``raise_on_failure=False``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from liqstress.errors import InputError, SolverFailure

#: IPOPT's ApplicationReturnStatus codes.
IPOPT_STATUS = {
    0: "solve_succeeded",
    1: "solved_to_acceptable_level",
    2: "infeasible_problem_detected",
    3: "search_direction_becomes_too_small",
    4: "diverging_iterates",
    5: "user_requested_stop",
    6: "feasible_point_found",
    -1: "maximum_iterations_exceeded",
    -2: "restoration_failed",
    -3: "error_in_step_computation",
    -4: "maximum_cputime_exceeded",
    -5: "maximum_walltime_exceeded",
    -10: "not_enough_degrees_of_freedom",
    -11: "invalid_problem_definition",
    -12: "invalid_option",
    -13: "invalid_number_detected",
    -100: "unrecoverable_exception",
    -101: "nonipopt_exception_thrown",
    -102: "insufficient_memory",
    -199: "internal_error",
}
SUCCESS = (0, 1)


@dataclass
class NLPResult:
    """Solution of one IPOPT run: point, objective (in the model's sense), status."""

    x: np.ndarray
    values: dict
    objective: float
    status: str
    status_code: int
    success: bool
    seconds: float
    multipliers: Optional[np.ndarray] = None
    message: str = ""
    info: dict = field(default_factory=dict)


def _val(e) -> float:
    from pyomo.environ import value

    return float(value(e)) if not isinstance(e, (int, float)) else float(e)


_MATH = {k: getattr(math, k) for k in ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "ceil", "floor")}


def _compile(exprs: list, smap) -> Callable[[np.ndarray], np.ndarray]:
    """Compile Pyomo expressions (variables named v[k] in ``smap``, parameters at their
    current values) into one Python function v -> array; errors give NaN (IPOPT backtracks)."""
    from pyomo.core.expr.visitor import expression_to_string

    parts = []
    for e in exprs:
        if isinstance(e, (int, float)):
            parts.append(repr(float(e)))
        else:
            parts.append("(" + expression_to_string(e, smap=smap, compute_values=True) + ")")
    src = "def _f(v):\n    return [" + ", ".join(parts) + "]\n"
    ns = dict(_MATH)
    exec(compile(src, "<ipopt_bridge>", "exec"), ns)
    fn = ns["_f"]

    def call(v):
        try:
            return np.asarray(fn(v), dtype=float)
        except (OverflowError, ValueError, ZeroDivisionError, TypeError):
            return np.full(len(exprs), np.nan)

    return call


class _PyomoNLP:
    """cyipopt problem object built from a Pyomo model (see the module docstring)."""

    def __init__(self, model, hessian: str = "exact"):
        import pyomo.environ as pyo
        from pyomo.core.expr.calculus.derivatives import differentiate
        from pyomo.core.expr.symbol_map import SymbolMap
        from pyomo.core.expr.visitor import identify_variables

        objs = list(model.component_data_objects(pyo.Objective, active=True))
        if len(objs) != 1:
            raise InputError("model", f"needs exactly one active objective, found {len(objs)}")
        self.obj = objs[0]
        self.sign = 1.0 if self.obj.sense == pyo.minimize else -1.0
        self.cons = list(model.component_data_objects(pyo.Constraint, active=True))
        seen: dict[int, Any] = {}
        for e in [self.obj.expr] + [c.body for c in self.cons]:
            for v in identify_variables(e, include_fixed=False):
                seen.setdefault(id(v), v)
        self.vars = list(seen.values())
        self.index = {id(v): k for k, v in enumerate(self.vars)}
        smap = SymbolMap()
        for k, v in enumerate(self.vars):
            smap.addSymbol(v, f"v[{k}]")
        mode = differentiate.Modes.reverse_symbolic

        def cvars(e):
            return list({id(v): v for v in identify_variables(e, include_fixed=False)}.values())

        grad = differentiate(self.obj.expr, wrt_list=self.vars, mode=mode) if self.vars else []
        self.f_obj = _compile([self.obj.expr], smap)
        self.f_grad = _compile(list(grad), smap)
        self.f_cons = _compile([c.body for c in self.cons], smap)
        jrows, jcols, jexpr = [], [], []
        con_first = []
        for r, c in enumerate(self.cons):
            cv = cvars(c.body)
            d = differentiate(c.body, wrt_list=cv, mode=mode) if cv else []
            con_first.append((d, cv))
            for v, de in zip(cv, d):
                jrows.append(r)
                jcols.append(self.index[id(v)])
                jexpr.append(de)
        self.jrows = np.array(jrows, dtype=int)
        self.jcols = np.array(jcols, dtype=int)
        self.f_jac = _compile(jexpr, smap)
        self.exact = hessian == "exact"
        self.hrows = np.zeros(0, dtype=int)
        self.hcols = np.zeros(0, dtype=int)
        if self.exact:
            entries: dict[tuple[int, int], list] = {}

            def add_second(first, vlist, src: int):
                for va, ga in zip(vlist, first):
                    if isinstance(ga, (int, float)):
                        continue
                    gv = cvars(ga)
                    if not gv:
                        continue
                    ia = self.index[id(va)]
                    for vb, h in zip(gv, differentiate(ga, wrt_list=gv, mode=mode)):
                        ib = self.index[id(vb)]
                        if ib <= ia and not (isinstance(h, (int, float)) and h == 0):
                            entries.setdefault((ia, ib), []).append((src, h))

            add_second(grad, self.vars, -1)
            for r, (d, cv) in enumerate(con_first):
                add_second(d, cv, r)
            keys = sorted(entries)
            self.hrows = np.array([k[0] for k in keys], dtype=int)
            self.hcols = np.array([k[1] for k in keys], dtype=int)
            t_entry, t_src, t_expr = [], [], []
            for k, key in enumerate(keys):
                for src, h in entries[key]:
                    t_entry.append(k)
                    t_src.append(src)
                    t_expr.append(h)
            self.t_entry = np.array(t_entry, dtype=int)
            self.t_src = np.array(t_src, dtype=int)
            self.f_hess = _compile(t_expr, smap)

    # -- data for cyipopt.Problem
    def bounds(self):
        lb = np.array([-np.inf if v.lb is None else float(v.lb) for v in self.vars])
        ub = np.array([np.inf if v.ub is None else float(v.ub) for v in self.vars])
        cl = np.array([-np.inf if c.lb is None else float(c.lb) for c in self.cons])
        cu = np.array([np.inf if c.ub is None else float(c.ub) for c in self.cons])
        return lb, ub, cl, cu

    def start(self, lb, ub):
        x0 = np.array([0.0 if v.value is None else float(v.value) for v in self.vars])
        return np.clip(x0, lb, ub)

    def set_values(self, x):
        for v, xv in zip(self.vars, x):
            v.set_value(float(xv), skip_validation=True)

    # -- callbacks (cyipopt protocol)
    def objective(self, x):
        return self.sign * float(self.f_obj(x)[0])

    def gradient(self, x):
        return self.sign * self.f_grad(x)

    def constraints(self, x):
        return self.f_cons(x)

    def jacobianstructure(self):
        return self.jrows, self.jcols

    def jacobian(self, x):
        return self.f_jac(x)

    def hessianstructure(self):
        return self.hrows, self.hcols

    def hessian(self, x, lagrange, obj_factor):
        lam = np.append(np.asarray(lagrange, dtype=float), obj_factor * self.sign)  # index -1: objective
        w = lam[self.t_src]
        return np.bincount(self.t_entry, weights=w * self.f_hess(x), minlength=self.hrows.size)


def solve_pyomo(
    model,
    options: Optional[dict] = None,
    hessian: str = "exact",
    raise_on_failure: bool = True,
    tol: float = 1e-10,
    max_iter: int = 3000,
) -> NLPResult:
    """Solve the active objective/constraints of a Pyomo model with IPOPT (cyipopt).

    ``hessian``: ``"exact"`` (symbolic second derivatives) or ``"lbfgs"``.  The solution is
    loaded into the model's variables.  ``status`` is IPOPT's return status; statuses other
    than solve_succeeded / solved_to_acceptable_level raise SolverFailure unless
    ``raise_on_failure`` is False (then ``success`` is False and the status is carried).
    """
    import cyipopt

    if hessian not in ("exact", "lbfgs"):
        raise InputError("hessian", f"must be 'exact' or 'lbfgs', got {hessian!r}")
    t0 = time.perf_counter()
    nlp = _PyomoNLP(model, hessian)
    lb, ub, cl, cu = nlp.bounds()
    x0 = nlp.start(lb, ub)
    if not nlp.vars:
        obj = _val(nlp.obj.expr)
        return NLPResult(x0, {}, obj, "no_variables", 0, True, time.perf_counter() - t0)
    prob = cyipopt.Problem(n=len(nlp.vars), m=len(nlp.cons), problem_obj=nlp, lb=lb, ub=ub, cl=cl, cu=cu)
    prob.add_option("print_level", 0)
    prob.add_option("sb", "yes")
    prob.add_option("tol", float(tol))
    prob.add_option("max_iter", int(max_iter))
    if hessian == "lbfgs":
        prob.add_option("hessian_approximation", "limited-memory")
    for k, v in (options or {}).items():
        prob.add_option(k, v)
    x, info = prob.solve(x0)
    code = int(info["status"])
    name = IPOPT_STATUS.get(code, f"status_{code}")
    x = np.clip(np.asarray(x, dtype=float), lb, ub)
    nlp.set_values(x)
    ok = code in SUCCESS
    res = NLPResult(
        x=x,
        values={v.name: float(xv) for v, xv in zip(nlp.vars, x)},
        objective=_val(nlp.obj.expr),
        status=name,
        status_code=code,
        success=ok,
        seconds=time.perf_counter() - t0,
        multipliers=np.asarray(info.get("mult_g", []), dtype=float),
        message=str(info.get("status_msg", b""), "utf-8", "replace") if isinstance(info.get("status_msg"), bytes) else str(info.get("status_msg", "")),
        info={"obj_val": info.get("obj_val")},
    )
    if not ok and raise_on_failure:
        raise SolverFailure("ipopt", name, res.message)
    return res
