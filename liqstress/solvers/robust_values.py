"""Relaxed worst-case values for interbank systems (docs/model.md §3.2 and §9.3 ``liqstress robust``).

With interbank exposures the robust strategy is x_i* = ell_i / 2 (Theorem 5.3) but the
relaxed worst-case value ``min_{x_-i} Vt_i(ell_i / 2, x_-i)`` of (20) has no closed form: Vt_i
depends on every x_j through the worst-case payments Pt (19), so the inner minimisation is a
genuine (n-1)-dimensional nonconvex problem.  :func:`interbank_worst_case_values` solves it
for every bank with the certified SCIP route of :mod:`liqstress.solvers.relaxed` when the
network is small, and otherwise leaves the values empty with an explanatory note (the
closed-form strategies stay available instantly for networks of any size).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from liqstress.models.system import System
from liqstress.solvers.robust import RobustResult


def interbank_worst_case_values(
    system: System,
    res: RobustResult,
    max_banks: int = 10,
    tol: float = 1e-7,
    time_limit: float = 60.0,
) -> RobustResult:
    """Fill ``worst_case_value`` (min over x_-i of Vt_i(x_i*, x_-i), (20)) and
    ``worst_case_others`` (the minimiser's aggregate sum_{j != i} x_j) of a Theorem 5.3 result.

    Solved by SCIP (global, certified to ``tol``; Pt of (19) encoded exactly with binaries)
    when ``system.n <= max_banks``; larger networks are skipped at once (values stay None and
    ``value_note`` says why).  Systems without interbank block are returned unchanged.
    """
    if not system.has_interbank or res.worst_case_value is not None:
        return res
    n = system.n
    if n > max_banks:
        note = (
            f"Theorem 5.3: x* = ell/2; worst_case_value not computed: the inner minimisation of (20) is a "
            f"{n - 1}-dimensional nonconvex problem and is solved (SCIP, certified) only for n <= {max_banks} banks"
        )
        return replace(res, value_note=note)
    from liqstress.solvers.relaxed import inner_relaxed

    ell_vec = np.asarray(res.ell, dtype=float)
    vals = np.empty(n)
    others = np.empty(n)
    n_cert = 0
    worst_gap = 0.0
    for i in range(n):
        r = inner_relaxed(system, i, float(res.strategy[i]), method="global", tol=tol, ell_vec=ell_vec, time_limit=time_limit)
        vals[i] = r.value
        others[i] = float(r.x.sum() - r.x[i])
        n_cert += bool(r.certified)
        worst_gap = max(worst_gap, float(r.gap or 0.0))
    if n_cert == n:
        note = f"Theorem 5.3: x* = ell/2; worst_case_value = min over x_-i of (20) by SCIP, certified (gap <= {tol:g})"
    else:
        note = (
            f"Theorem 5.3: x* = ell/2; worst_case_value by SCIP, certified for {n_cert} of {n} banks "
            f"(largest gap {worst_gap:.3g}); uncertified values are upper bounds of the inner minimum"
        )
    return replace(res, worst_case_value=vals, worst_case_others=others, value_note=note)
