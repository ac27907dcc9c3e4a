"""CBC monetisation planner (docs/model.md §6.3).

Public API::

    from liqstress.models.cbc_plan import CBCPlan
    from liqstress.solvers.cbc import solve_plan, waterfall

    plan = CBCPlan.from_file("examples/plans/treasury_plan.yaml")
    res = solve_plan(plan, method="bisection")      # or "milp"
    base = waterfall(plan)
    res.survival_days, base.survival_days, res.actions[:3], res.deployment.head()

``solve_plan`` maximises the survival horizon exactly (docs/model.md §6.3: the largest T <=
horizon_days such that some plan keeps ``B_t >= 0`` for all t <= T), by bisection over LP
feasibility (default) or by the MILP with monotone day indicators; then, at that horizon,
a second LP maximises the remaining unencumbered CBC after haircuts (lexicographic).  Both
stages are sparse LPs solved by HiGHS through highspy (see ``cbc_lp`` for the formulation;
``cbc_pyomo`` builds the same model algebraically in Pyomo for cross-checks).

Remaining CBC (the second objective and ``deployment.remaining``) values each unused,
unencumbered unit of an asset line at its best cash per unit after haircut: ``max(1 -
repo_haircut, 1 - sale_discount)`` over the allowed actions, for a price-impacted line
``(1 - sale_discount) F(avail) / avail`` (its average fire-sale price when sold in full);
counted facility lines at ``1 - haircut``; management actions have no CBC value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from liqstress.errors import InputError
from liqstress.models.cbc_plan import CBCPlan
from liqstress.solvers.cbc_compile import Compiled, compile_plan
from liqstress.solvers.cbc_waterfall import waterfall_plan

METHODS = ("bisection", "milp")


@dataclass
class CBCResult:
    """Result of :func:`solve_plan` or :func:`waterfall`.

    ``actions``: ``[{"day", "asset", "action": "sell"|"repo", "amount", "cash"}]`` (day = action
    day, cash = cash it pays, on day + settlement_days); central-bank facility draws appear as
    ``"repo"`` of the facility id.  ``balances[t-1] = B_t`` (cumulative cash, docs/model.md §6.3)
    for t = 1..horizon_days under the plan.  ``deployment``: DataFrame indexed by day with
    ``available`` (CBC value at the start of the day), ``deployed`` (CBC value used by the
    day's actions), ``returned`` (collateral back from maturing repos), ``remaining``,
    ``cash_in``, ``repaid``, ``net_outflow``, ``balance``.  ``remaining_cbc``: CBC value left
    at the end of day ``survival_days``.
    """

    status: str
    survival_days: int
    actions: list[dict]
    balances: np.ndarray
    deployment: pd.DataFrame
    remaining_cbc: float
    solver: str
    seconds: float
    method: str = ""
    horizon_days: int = 0
    management: list[dict] = field(default_factory=list)
    rolls: list[dict] = field(default_factory=list)
    memo_facilities: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def censored(self) -> bool:
        """The horizon reaches the end of the projection: the bank survives at least that long."""
        return self.survival_days >= self.horizon_days

    def to_json(self, waterfall_survival_days: int | None = None) -> dict[str, Any]:
        """The ``liqstress cbc --json`` document (docs/model.md §9.3) plus extra keys."""
        doc: dict[str, Any] = {
            "survival_days": int(self.survival_days),
            "waterfall_survival_days": None if waterfall_survival_days is None else int(waterfall_survival_days),
            "plan": [dict(a) for a in self.actions],
            "censored": bool(self.censored),
            "survival_text": survival_text(self.survival_days, self.horizon_days),
            "status": self.status,
            "horizon_days": int(self.horizon_days),
            "remaining_cbc": float(self.remaining_cbc),
            "management_actions": [dict(a) for a in self.management],
            "rolls": [dict(a) for a in self.rolls],
            "facilities_not_counted": [dict(a) for a in self.memo_facilities],
            "method": self.method,
            "solver": self.solver,
            "seconds": float(self.seconds),
        }
        return doc


def survival_text(days: int, horizon: int) -> str:
    """How a survival horizon is printed everywhere (CLI, index, report, CSV): a horizon that
    reaches the end of the projection is censored, ``">= 365 (whole projection)"``."""
    return f">= {int(horizon)} (whole projection)" if int(days) >= int(horizon) else str(int(days))


# ---------------------------------------------------------------------- flows
def flows(c: Compiled, x: np.ndarray, roll: np.ndarray) -> dict[str, np.ndarray]:
    """Cash and holdings implied by the actions ``x`` (S, H) and rolls ``roll`` (G, H)."""
    H, G = c.H, c.G
    t = np.arange(H)
    cash_in = np.zeros(H)
    repaid = np.zeros(H)
    used = np.zeros((G, H))
    returned = np.zeros((G, H))
    for j in range(c.S):
        a = t + c.s_lag[j]
        ok = a < H
        np.add.at(cash_in, a[ok], c.s_cash[j] * x[j, ok])
        used[c.s_group[j]] += x[j]
    for g in np.flatnonzero(c.g_term > 0):
        jr = c.repo_source_of(int(g))
        L, m, cash = int(c.s_lag[jr]), int(c.g_term[g]), float(c.s_cash[jr])
        M = np.zeros(H)
        if L + m < H:
            M[L + m :] += x[jr, : H - L - m]
        if m < H:
            M[m:] += roll[g, : H - m]
        ret = M - roll[g]
        returned[g] = ret
        repaid += cash * ret
    hold = np.cumsum(used - returned, axis=1)
    balance = c.opening + c.floor + np.cumsum(cash_in - repaid - c.out)
    return {"cash_in": cash_in, "repaid": repaid, "used": used, "returned": returned, "hold": hold, "balance": balance}


def _clean(c: Compiled, x: np.ndarray, roll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop solver noise (< 1e-9 of the line's size)."""
    x = np.where(x > 1e-9 * np.maximum(1.0, c.g_avail[c.s_group])[:, None], x, 0.0)
    roll = np.where(roll > 1e-9 * np.maximum(1.0, c.g_avail)[:, None], roll, 0.0)
    return x, roll


def _result(c: Compiled, T: int, x: np.ndarray, roll: np.ndarray, *, status: str, solver: str,
            seconds: float, method: str, info: dict) -> CBCResult:
    x, roll = _clean(c, x, roll)
    fl = flows(c, x, roll)
    H = c.H
    v = c.g_value
    available_end = (v[:, None] * (c.g_avail[:, None] - fl["hold"])).sum(axis=0)
    available_start = np.concatenate([[float(v @ c.g_avail)], available_end[:-1]])
    dep = pd.DataFrame(
        {
            "available": available_start,
            "deployed": (v[:, None] * fl["used"]).sum(axis=0),
            "returned": (v[:, None] * fl["returned"]).sum(axis=0),
            "remaining": available_end,
            "cash_in": fl["cash_in"],
            "repaid": fl["repaid"],
            "net_outflow": c.out,
            "balance": fl["balance"],
        },
        index=pd.RangeIndex(1, H + 1, name="day"),
    )
    actions, mgmt = [], []
    # aggregate tranches: one action per (day, group, kind)
    for g in range(c.G):
        srcs = np.flatnonzero(c.s_group == g)
        for kind in ("repo", "sell", "facility", "mgmt"):
            js = [j for j in srcs if c.s_kind[j] == kind]
            if not js:
                continue
            amt = x[js].sum(axis=0)
            cash = (c.s_cash[js][:, None] * x[js]).sum(axis=0)
            for t in np.flatnonzero(amt > 0):
                row = {"day": int(t + 1), "asset": c.g_id[g], "action": "repo" if kind in ("repo", "facility") else "sell",
                       "amount": float(amt[t]), "cash": float(cash[t])}
                if kind == "mgmt":
                    mgmt.append({"day": int(t + 1), "id": c.g_id[g], "amount": float(amt[t]), "cash": float(cash[t])})
                else:
                    actions.append(row)
    order = {gid: i for i, gid in enumerate(c.g_id)}
    actions.sort(key=lambda a: (a["day"], order[a["asset"]], a["action"]))
    mgmt.sort(key=lambda a: (a["day"], order[a["id"]]))
    rolls = [{"day": int(t + 1), "asset": c.g_id[g], "amount": float(roll[g, t])}
             for g in range(c.G) for t in np.flatnonzero(roll[g] > 0)]
    rolls.sort(key=lambda a: (a["day"], order[a["asset"]]))
    remaining = float(available_end[T - 1]) if T >= 1 else float(v @ c.g_avail)
    return CBCResult(
        status=status, survival_days=int(T), actions=actions, balances=fl["balance"], deployment=dep,
        remaining_cbc=remaining, solver=solver, seconds=float(seconds), method=method, horizon_days=H,
        management=mgmt, rolls=rolls, memo_facilities=list(c.memo_facilities), info=info,
    )


def _highs_name() -> str:
    try:
        from liqstress.solvers.cbc_lp import new_highs

        h = new_highs()
        return f"highs {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()} (highspy)"
    except Exception:  # pragma: no cover - highspy is a dependency
        return "highs"


# ---------------------------------------------------------------------- public API
FORMULATIONS = ("reduced", "full")


def solve_plan(plan: CBCPlan, method: str = "bisection", *, backend: str = "highspy",
               time_limit: float | None = None, warm_start: bool = True,
               lp_algorithm: str = "auto", formulation: str = "reduced") -> CBCResult:
    """Exact maximal survival horizon, then maximal remaining CBC at that horizon.

    ``method``: ``"bisection"`` (b: bisection over LP feasibility, default — faster, see
    ``docs/cbc.md``) or ``"milp"`` (a: MILP with monotone day indicators).  ``backend``:
    ``"highspy"`` (sparse matrices passed to HiGHS, default) or ``"pyomo"`` (the same model
    written algebraically in Pyomo, solved with ``SolverFactory('highs')``; slower, used as an
    independent cross-check).  ``warm_start``: start the bisection bracket at the waterfall's
    horizon (its plan obeys every LP constraint, so that horizon is certified feasible; the
    answer is the same, only fewer LPs are solved).  ``lp_algorithm``: ``"auto"`` (primal
    simplex; interior point for large plans with term repos), ``"simplex"`` or ``"ipm"``
    (see ``cbc_lp.choose_algorithm``).  ``formulation`` (bisection with highspy only):
    ``"reduced"`` (default: closed-form horizon bracket and the reduced LPs of
    ``cbc_reduced``; same optimal values) or ``"full"`` (every LP on the full daily model, the
    method before the reduction; kept for benchmarks and cross-checks).  Raises
    :class:`~liqstress.errors.SolverFailure` on any non-optimal solver status.
    """
    if method not in METHODS:
        raise InputError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    if formulation not in FORMULATIONS:
        raise InputError("formulation", f"must be one of {', '.join(FORMULATIONS)}, got {formulation!r}")
    t0 = time.perf_counter()
    c = compile_plan(plan)
    if backend == "highspy":
        from liqstress.solvers.cbc_lp import solve_lexicographic

        lower = 0
        if method == "bisection" and formulation == "reduced":
            from liqstress.solvers.cbc_reduced import solve_reduced

            bracket: dict = {}

            def wf_horizon() -> int:  # only when the closed forms leave a gap
                bracket["T"] = waterfall_plan(c)[0]
                return bracket["T"]

            out = solve_reduced(c, time_limit=time_limit, algorithm=lp_algorithm,
                                lower_bound=wf_horizon if warm_start else None)
            lower = bracket.get("T")
        else:
            if method == "bisection" and warm_start:
                lower = waterfall_plan(c)[0]  # a feasible plan certifies its horizon
            out = solve_lexicographic(c, method=method, time_limit=time_limit, known_feasible=lower,
                                      algorithm=lp_algorithm)
            out["info"]["formulation"] = "full"
        out["info"]["waterfall_bracket"] = lower
        solver = _highs_name()
    elif backend == "pyomo":
        from liqstress.solvers.cbc_pyomo import solve_lexicographic_pyomo

        out = solve_lexicographic_pyomo(c, method=method, time_limit=time_limit)
        solver = "highs (pyomo appsi)"
    else:
        raise InputError("backend", f"must be highspy or pyomo, got {backend!r}")
    return _result(c, out["T"], out["x"], out["roll"], status="optimal", solver=solver,
                   seconds=time.perf_counter() - t0, method=method, info=out["info"])


def waterfall(plan: CBCPlan) -> CBCResult:
    """Greedy liquidity-order waterfall baseline (see ``cbc_waterfall`` for the exact rule)."""
    t0 = time.perf_counter()
    c = compile_plan(plan)
    T, x, roll = waterfall_plan(c)
    return _result(c, T, x, roll, status="optimal", solver="waterfall", seconds=time.perf_counter() - t0,
                   method="waterfall", info={})


__all__ = ["CBCResult", "FORMULATIONS", "METHODS", "flows", "solve_plan", "survival_text", "waterfall"]
