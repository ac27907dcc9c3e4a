"""Robust strategies of the unified model that have no closed form (numeric solve).

In the unified model (interbank exposures and permanent impact alpha > 0) the relaxed problem
of bank i is

    max_{x_i} min_{x_-i}  Vt_i(x) = c_i + h_i(x) + (Pi^T Pt(x))_i,
    h_j(x) = x_j f(X) + (ell_j - x_j) f(Lambda - (1 - alpha) X),                    (18)-(20)

Theorem 4.4 applies verbatim to a bank whose debtors never default
(:func:`liqstress.solvers.robust.claims_safe`); for the others the worst case of the
interbank term is reached at other x_-i than the worst case of h_i, the two pull apart,
and the strategy is neither ell_i / 2 (Theorem 5.3) nor the Theorem 4.4 formula in general
(docs/unified.md gives the counterexamples and the figures).  :func:`fill_numeric` solves
those banks with the certified SCIP cutting-plane scheme of
:func:`liqstress.solvers.relaxed.maximin_relaxed` and labels each strategy with how it was
obtained.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np

from liqstress.models.system import System


def numeric_method(certified: bool, status: str) -> str:
    """The ``method`` label of a numeric relaxed solve."""
    return "numeric (SCIP certified)" if certified else f"numeric (SCIP, not certified: {status})"


def fill_numeric(system: System, res, banks: np.ndarray, enabled: bool = True, max_banks: int = 8, tol: float = 1e-5,
                 time_limit: float = 120.0, progress: bool = False):
    """Solve the relaxed max-min problem numerically for the banks flagged in ``banks`` and
    return a copy of the :class:`~liqstress.solvers.robust.RobustResult` ``res`` with their
    strategy, worst-case aggregate of the others, relaxed max-min value and ``method``.

    Only when ``enabled`` and ``system.n <= max_banks`` (the inner problem of (20) is an
    (n-1)-dimensional MINLP); otherwise the strategies stay NaN and ``method`` says why.
    """
    from liqstress.solvers.relaxed import inner_relaxed, maximin_relaxed

    idx = np.flatnonzero(np.asarray(banks, dtype=bool))
    strategy = np.array(res.strategy, dtype=float)
    others = np.array(res.worst_case_others, dtype=float)
    value = np.array(res.worst_case_value, dtype=float)
    methods = list(res.method)
    if not enabled or system.n > max_banks:
        why = "disabled" if not enabled else f"n = {system.n} > {max_banks} banks"
        for i in idx:
            strategy[i] = others[i] = value[i] = math.nan
            methods[i] = f"not computed (no closed form; numeric solve {why}: use liqstress maximin --problem relaxed)"
        note = res.value_note + f"; {idx.size} strategies without closed form not computed ({why})"
        return replace(res, strategy=strategy, worst_case_others=others, worst_case_value=value, method=methods, value_note=note)
    bar = _bar(idx.size, progress)
    n_cert = 0
    try:
        for i in idx:
            e = np.asarray(res.ell, dtype=float)
            if e[i] <= 0:  # nothing to sell early: x_i* = 0; only the relaxed worst case is numeric
                r = inner_relaxed(system, int(i), 0.0, "global", tol=0.1 * tol, ell_vec=e, time_limit=time_limit)
                strategy[i], others[i], value[i] = 0.0, float(r.x.sum() - r.x[i]), r.value
                methods[i] = "ell_i = 0 (x_i* = 0); value " + numeric_method(r.certified, r.status)
            else:
                r = maximin_relaxed(system, int(i), "global", tol=tol, ell_vec=e, time_limit=time_limit)
                strategy[i] = r.strategy
                others[i] = float(np.sum(r.worst_case_others))
                value[i] = r.value
                methods[i] = numeric_method(r.certified, r.status)
            n_cert += bool(r.certified)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    note = res.value_note + f"; {idx.size} numeric solves, {n_cert} certified (tolerance {tol:g})"
    return replace(res, strategy=strategy, worst_case_others=others, worst_case_value=value, method=methods, value_note=note)


def _bar(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="robust (numeric, relaxed max-min)", unit="bank", file=sys.stderr, leave=False,
                dynamic_ncols=True, disable=False)


def robust_bank(system: System, i: int, ell_vec=None, tol: float = 1e-5, time_limit: float = 120.0) -> dict:
    """Bank i's robust strategy with its relaxed worst-case value and how both were obtained.

    Closed forms (Theorem 4.4, Theorem 5.3) where they apply; otherwise the numeric solve of
    the relaxed max-min problem (:func:`fill_numeric`) for this bank only, whatever n.  Returns
    ``{"strategy", "vt", "method", "vt_method", "certified"}``: ``vt`` = min_{x_-i} Vt_i(x_i*, x_-i)
    (None when only the strategy has a closed form, Theorem 5.3), ``certified`` whether ``vt``
    is proven.
    """
    from liqstress.solvers.robust import robust_strategies

    rob = robust_strategies(system, ell_vec=ell_vec, numeric=False)
    if rob.method[i].startswith("not computed"):
        mask = np.zeros(system.n, dtype=bool)
        mask[i] = True
        rob = fill_numeric(system, rob, mask, max_banks=system.n, tol=tol, time_limit=time_limit)
        m = rob.method[i]
        return {"strategy": float(rob.strategy[i]), "vt": float(rob.worst_case_value[i]), "method": m,
                "vt_method": m, "certified": "not certified" not in m}
    m = rob.method[i]
    vt = None if rob.worst_case_value is None else float(rob.worst_case_value[i])
    return {"strategy": float(rob.strategy[i]), "vt": vt, "method": m,
            "vt_method": "closed form (12)" if vt is not None else None, "certified": vt is not None}
