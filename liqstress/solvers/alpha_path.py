"""The alpha-path of the true problem: robust strategy against the certified optimum of (7).

For bank i and each alpha of a grid:

* the robust strategy x_i* — the closed form of Theorem 4.4 ((10), (11), (14)), Theorem 5.3
  (interbank exposures, alpha = 0), or in the unified model the numeric solution of the
  relaxed max-min problem where no closed form applies (``robust_method`` says which);
* its true worst case ``v_rob = min_{x_-i} V_i(x_i*, x_-i)``, certified by SCIP
  (:func:`liqstress.solvers.original.inner_original`);
* the certified optimum of (7), strategy and value
  (:func:`liqstress.solvers.original.maximin_original`);
* ``regret = v_opt - v_rob`` (>= 0 up to the tolerance) and ``conservatism = v_rob - vt``,
  ``vt = min_{x_-i} Vt_i(x_i*, x_-i)`` the relaxed worst case;
* ``formula_4_4`` — what the Theorem 4.4 formula would give with this ell (equal to the
  robust strategy wherever Theorem 4.4 applies; a reference curve in the unified model).

ell = y(0) does not depend on alpha, nor does the tipping point alphabar_i = 1 - ell_i / Lambda
of Theorem 4.4, so both are computed once.  A row is ``certified`` when v_rob, v_opt and vt are
all proven to their tolerances.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional, Sequence, Union

import numpy as np

from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import System
from liqstress.solvers.clearing import clear


def parse_alphas(text: str, field: str = "--alphas", max_points: int = 1001) -> np.ndarray:
    """An alpha grid: ``start:stop:count`` (count points from start to stop inclusive) or a
    comma-separated list; every alpha in [0, 1]."""
    text = str(text).strip()
    if not text:
        raise InputError(field, "empty alpha grid (use start:stop:count, e.g. 0:1:21, or a comma list)")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise InputError(field, f"expected start:stop:count (e.g. 0:1:21), got {text!r}")
        try:
            start, stop = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(field, f"start and stop must be numbers in start:stop:count, got {text!r}") from None
        try:
            count = int(parts[2])
        except ValueError:
            raise InputError(field, f"count must be an integer in start:stop:count, got {parts[2]!r}") from None
        if count < 1 or count > max_points:
            raise InputError(field, f"count must be between 1 and {max_points}, got {count}")
        if count == 1 and start != stop:
            raise InputError(field, f"count 1 needs start == stop, got {text!r}")
        vals = np.linspace(start, stop, count)
    else:
        try:
            vals = np.array([float(t) for t in text.split(",") if t.strip() != ""], dtype=float)
        except ValueError:
            raise InputError(field, f"expected comma-separated numbers or start:stop:count, got {text!r}") from None
        if vals.size == 0:
            raise InputError(field, f"no alpha in {text!r}")
        if vals.size > max_points:
            raise InputError(field, f"at most {max_points} alphas, got {vals.size}")
    if not np.all(np.isfinite(vals)):
        raise InputError(field, "alphas must be finite numbers (no NaN or inf)")
    bad = (vals < 0) | (vals > 1)
    if bad.any():
        raise InputError(field, f"every alpha must be in [0, 1], got {vals[bad][0]:g}")
    return vals


def alpha_path(system: System, bank: Union[int, str], alphas: Sequence[float], tol: float = 1e-4,
               time_limit: float = 300.0, inner_time_limit: float = 60.0,
               on_row: Optional[Callable[[dict], None]] = None) -> dict:
    """The path of bank ``bank`` over ``alphas`` (module docstring).  Returns
    ``{"bank", "ell", "Lambda", "alpha_bar", "liabilities", "tolerance", "rows": [...]}`` with rows
    ``{"alpha", "robust_strategy", "robust_method", "v_rob", "opt_strategy", "v_opt", "regret",
    "vt", "conservatism", "certified", "status", "seconds"}``.  A solver failure in a row is
    recorded in its ``status`` (values None, ``certified`` False) and the path goes on.
    ``on_row`` is called after each row (progress)."""
    from liqstress.solvers.original import _bank

    if not (math.isfinite(tol) and tol > 0):
        raise InputError("tol", f"must be a finite number > 0, got {tol}")
    i = _bank(system, bank)
    alphas = [float(a) for a in alphas]
    for a in alphas:
        if not (math.isfinite(a) and 0.0 <= a <= 1.0):
            raise InputError("alphas", f"every alpha must be in [0, 1], got {a}")
    cl0 = clear(system, np.zeros(system.n))
    e = cl0.sales_t2
    Lam = float(e.sum())
    from liqstress.solvers.robust import robust_permanent

    rows = []
    for a in alphas:
        row = _row(system.with_alpha(a), i, e, tol, time_limit, inner_time_limit)
        row["formula_4_4"] = float(robust_permanent(system.c, e, a, system.f)[1][i])
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return {
        "bank": system.names[i],
        "ell": float(e[i]),
        "Lambda": Lam,
        "alpha_bar": (1.0 - float(e[i]) / Lam) if Lam > 0 else None,
        "liabilities": float(system.pbar[i]),
        "tolerance": tol,
        "rows": rows,
    }


def _row(sysm: System, i: int, e: np.ndarray, tol: float, time_limit: float, inner_time_limit: float) -> dict:
    from liqstress.solvers.original import inner_original, maximin_original
    from liqstress.solvers.robust_unified import robust_bank

    t0 = time.perf_counter()
    row = {"alpha": sysm.alpha, "robust_strategy": None, "robust_method": None, "v_rob": None, "opt_strategy": None,
           "v_opt": None, "regret": None, "vt": None, "conservatism": None, "certified": False, "status": "", "seconds": 0.0}
    try:
        rob = robust_bank(sysm, i, ell_vec=e, tol=min(1e-5, 0.1 * tol), time_limit=inner_time_limit)
        xs = rob["strategy"]
        row["robust_strategy"], row["robust_method"] = xs, rob["method"]
        vt, vt_cert = rob["vt"], rob["certified"]
        if vt is None:  # Theorem 5.3: the relaxed worst case of (20) needs the inner minimisation
            from liqstress.solvers.relaxed import inner_relaxed

            rr = inner_relaxed(sysm, i, xs, method="global", ell_vec=e, time_limit=inner_time_limit)
            vt, vt_cert = float(rr.value), bool(rr.certified)
        rin = inner_original(sysm, i, xs, "global", tol=min(1e-7, 0.05 * tol), ell_vec=e, time_limit=inner_time_limit)
        row.update(v_rob=float(rin.value), vt=vt, conservatism=float(rin.value) - vt)
        opt = maximin_original(sysm, i, "global", tol=tol, ell_vec=e, time_limit=time_limit, inner_time_limit=inner_time_limit)
        row.update(
            opt_strategy=float(opt.strategy), v_opt=float(opt.value), regret=float(opt.value) - float(rin.value),
            certified=bool(rin.certified and opt.certified and vt_cert),
        )
        parts = []
        if not rin.certified:
            parts.append(f"v_rob not certified ({rin.status})")
        if not opt.certified:
            parts.append(f"v_opt not certified ({opt.status})")
        if not vt_cert:
            parts.append("vt not certified")
        row["status"] = "; ".join(parts) if parts else "optimal"
    except SolverFailure as err:
        row["status"] = f"solver failure: {err}"
        row["certified"] = False
    row["seconds"] = time.perf_counter() - t0
    return row


def plot_path(doc: dict, path, title: Optional[str] = None) -> None:
    """Two panels against alpha: (top) robust and optimal strategies with ell_i / 2 and the
    tipping point alphabar_i of Theorem 4.4; (bottom) v_opt, v_rob, vt and the regret."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc["rows"]
    a = np.array([r["alpha"] for r in rows], dtype=float)

    def col(k):
        return np.array([np.nan if r[k] is None else r[k] for r in rows], dtype=float)

    cert = np.array([bool(r["certified"]) for r in rows])
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.0, 7.2), sharex=True)
    ax1.plot(a, col("robust_strategy"), "o-", color="tab:blue", ms=4, label="robust strategy $x_i^*$")
    ax1.plot(a, col("opt_strategy"), "s--", color="tab:red", ms=4, mfc="none", label="optimal strategy of (7)")
    if (~cert).any():
        ax1.plot(a[~cert], col("opt_strategy")[~cert], "x", color="k", ms=8, label="not certified")
    f44 = col("formula_4_4") if all("formula_4_4" in r for r in rows) else None
    if f44 is not None and np.nanmax(np.abs(f44 - col("robust_strategy"))) > 1e-6 * max(doc["ell"], 1e-12):
        ax1.plot(a, f44, "-", color="0.6", lw=1.0, label="Theorem 4.4 formula (reference)")
    ax1.axhline(0.5 * doc["ell"], color="0.5", lw=0.8, ls=":", label=r"$\ell_i/2$")
    if doc.get("alpha_bar") is not None and 0 <= doc["alpha_bar"] <= 1:
        for ax in (ax1, ax2):
            ax.axvline(doc["alpha_bar"], color="tab:green", lw=0.9, ls="-.")
        ax1.text(doc["alpha_bar"], ax1.get_ylim()[1], r" $\bar\alpha_i$", color="tab:green", va="top")
    ax1.set_ylabel("early sale $x_i$")
    ax1.legend(fontsize=8, loc="best")
    ax1.grid(alpha=0.3)
    ax1.set_title(title or f"bank {doc['bank']}: robust vs optimal early sale along alpha")
    ax2.plot(a, col("v_opt"), "s--", color="tab:red", ms=4, mfc="none", label="$v_{opt}$ (7)")
    ax2.plot(a, col("v_rob"), "o-", color="tab:blue", ms=4, label="$v_{rob}$ (true worst case of $x_i^*$)")
    ax2.plot(a, col("vt"), "^:", color="tab:purple", ms=4, label=r"$\tilde v$ (relaxed worst case)")
    ax2.set_xlabel(r"permanent price impact $\alpha$")
    ax2.set_ylabel("worst-case value")
    ax2.grid(alpha=0.3)
    ax3 = ax2.twinx()
    ua = np.unique(a)
    width = 0.6 * float(np.min(np.diff(ua))) if ua.size > 1 else 0.05
    ax3.bar(a, col("regret"), width=width, color="tab:orange", alpha=0.35,
            label="regret $v_{opt} - v_{rob}$")
    ax3.set_ylabel("regret", color="tab:orange")
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
