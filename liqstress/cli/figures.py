"""``liqstress figures --out DIR``: Figures 4.2 and 4.3 of Ahn and Jiang (2026) as PNG + CSV.

* Figure 4.2 (two banks, alpha in {0, 0.5, 1}; bank 2, in the given system and in a stressed
  copy whose L_2 lies between the relaxed values at alpha = 1 and 0.5): for x_i on a grid of
  [0, ell_i], the inner optimum of the original problem ``min_{x_-i} V_i(x)`` (7) (exact
  clearing (4)-(6) on a dense grid of the other bank's x_j, then bounded Brent refinement
  around the best grid point: n = 2 so x_-i is one-dimensional) and of the relaxed problem
  ``min_{x_-i} Vt_i(x)`` (9), against the liabilities line L_i.  Proposition 4.3 shows as
  ``V >= min(Vt, L)`` on every point (column ``prop43_ok`` of the CSV).
* Figure 4.3 (four banks, nonlinear f): the robust strategy x_i*(alpha) (Theorem 4.4) and the
  others' worst-case aggregate w*(alpha) for a small bank (V shape, tipping point alphabar_i)
  and the dominant bank (2 ell_i > Lambda: monotone decrease, Proposition 4.6), with markers
  from the certified numerical max-min (SCIP, :func:`liqstress.solvers.relaxed.maximin_relaxed`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from liqstress.cli._common import guarded, print_json
from liqstress.errors import InputError

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "systems"

_TWO_BANKS = {
    "inverse_demand": {"kind": "linear", "beta": 0.05},
    "alpha": 0.0,
    "banks": [
        {"name": "A", "liquid": 1.0, "illiquid": 4.0, "liabilities": 3.2},
        {"name": "B", "liquid": 0.5, "illiquid": 5.0, "liabilities": 3.0},
    ],
}
_FOUR_BANKS = {
    "inverse_demand": {"kind": "power", "beta": 0.28, "gamma": 1.0},
    "alpha": 0.0,
    "banks": [
        {"name": "Dominant", "liquid": 1.0, "illiquid": 8.0, "liabilities": 9.0},
        {"name": "Small1", "liquid": 0.2, "illiquid": 0.4, "liabilities": 0.56},
        {"name": "Small2", "liquid": 0.2, "illiquid": 0.5, "liabilities": 0.65},
        {"name": "Small3", "liquid": 0.2, "illiquid": 0.6, "liabilities": 0.74},
    ],
}


def _load(path: Optional[Path], default_file: str, fallback: dict):
    from liqstress.models.system import load_system, system_from_dict

    if path is not None:
        return load_system(path), str(path)
    p = _EXAMPLES / default_file
    if p.exists():
        return load_system(p), str(p)
    return system_from_dict(fallback), f"built-in copy of {default_file}"


# ----------------------------------------------------------------------------- Figure 4.2
def inner_original_2banks(system, i: int, x_i: float, alpha: float, ell_vec: np.ndarray, points: int = 201) -> tuple[float, float]:
    """min over x_j in [0, ell_j] (the other bank, n = 2) of V_i(x) by exact clearing:
    dense grid, then bounded Brent refinement in the two cells around the best point."""
    from scipy.optimize import minimize_scalar

    from liqstress.solvers.clearing import clear

    j = 1 - i
    sysa = system.with_alpha(alpha)

    def V(xj: float) -> float:
        x = np.zeros(2)
        x[i], x[j] = x_i, xj
        return float(clear(sysa, x).values[i])

    if ell_vec[j] <= 0:
        return V(0.0), 0.0
    grid = np.linspace(0.0, ell_vec[j], points)
    vals = np.array([V(g) for g in grid])
    k = int(vals.argmin())
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, points - 1)]
    r = minimize_scalar(V, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    if r.fun < vals[k]:
        return float(r.fun), float(r.x)
    return float(vals[k]), float(grid[k])


def _with_L(system, i: int, Li: float):
    from liqstress.models.system import System

    L = system.L.copy()
    L[i] = Li
    return System.from_arrays(system.c, system.s, L, system.f, alpha=0.0, names=system.names)


def stressed_copy(system, i: int):
    """Copy of a two-bank system with L_i raised between bank i's relaxed max-min values at
    alpha = 1 and alpha = 0.5 (Theorem 4.4), so that its robust strategy is solvent for small
    alpha and default is inevitable at alpha = 1 (the right panel of the paper's Figure 4.2)."""
    from liqstress.solvers.robust import robust_strategies

    sys_hi = _with_L(system, i, system.c[i] + system.s[i])
    v05 = robust_strategies(sys_hi, 0.5).worst_case_value[i]
    v1 = robust_strategies(sys_hi, 1.0).worst_case_value[i]
    return _with_L(system, i, 0.5 * (v05 + v1))


def solvent_copy(system, i: int, grid: int = 400):
    """Copy of a two-bank system with L_i chosen so that bank i's robust strategy is solvent
    for every alpha (relaxed max-min value at alpha = 1 above L_i: Proposition 4.3(i)) while
    the bank defaults when it sells nothing early (Vt_i(0) = c_i + ell_i f(Lambda) < L_i):
    the left panel of the paper's Figure 4.2, where the original-problem curves leave the L
    line near the ends of [0, ell_i].  L_i maximises the smaller of the two margins on a grid
    (the given system is returned when no L_i has both margins positive)."""
    from liqstress.solvers.robust import robust_strategies

    best, best_L = -np.inf, None
    for Li in np.linspace(system.c[i], system.c[i] + system.s[i], grid)[1:]:
        sysL = _with_L(system, i, float(Li))
        r = robust_strategies(sysL, 1.0)
        e = r.ell
        vt0 = float(sysL.c[i] + e[i] * sysL.f(float(e.sum())))
        margin = min(float(r.worst_case_value[i]) - Li, Li - vt0) / max(Li, 1e-12)
        if margin > best:
            best, best_L = margin, float(Li)
    if best_L is None or best <= 0:
        return system
    return _with_L(system, i, best_L)


def check_fig42_system(system) -> None:
    """InputError unless ``system`` can draw Figure 4.2 (two banks, no interbank block)."""
    if system.n != 2:
        raise InputError("--system", f"Figure 4.2 needs a two-bank system, got {system.n} banks")
    if system.has_interbank:
        raise InputError("--system", "Figure 4.2 is for permanent price impact (no interbank block)")


def figure_4_2(system, out: Path, alphas=(0.0, 0.5, 1.0), points: int = 41, inner_points: int = 201,
               tick=None) -> dict:
    """Compute and write fig4_2.csv / fig4_2.png; ``i`` is the last bank (bank 2 of the paper).
    Left panel: a copy of the system whose L_i makes the robust strategy solvent for every
    alpha while small and large early sales default (:func:`solvent_copy`); right panel: a
    copy where default is inevitable at alpha = 1 (:func:`stressed_copy`).  ``tick()`` is
    called after each curve (progress).  Returns a summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from liqstress.solvers.clearing import ell as ell_of
    from liqstress.solvers.relaxed import _grid_inner_9, prepare

    check_fig42_system(system)
    i = 1
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.4))
    styles = {0: "-", 1: "--", 2: ":"}
    worst_violation = -np.inf
    panels = (("solvent", solvent_copy(system, i)), ("stressed", stressed_copy(system, i)))
    bar = tick or (lambda: None)
    for p_k, (panel, sysp) in enumerate(panels):
        ax = axes[p_k]
        e = ell_of(sysp)
        Li = float(sysp.L[i])
        xs = np.linspace(0.0, e[i], points)
        ax.axhline(Li, color="0.45", lw=2.2, alpha=0.6, zorder=1)
        for a_k, alpha in enumerate(alphas):
            sysa = sysp.with_alpha(alpha)
            prob = prepare(sysa, i, e)
            orig = np.empty(points)
            relx = np.empty(points)
            for k, xi in enumerate(xs):
                orig[k], wj = inner_original_2banks(sysp, i, float(xi), alpha, e, inner_points)
                relx[k], _ = _grid_inner_9(prob, float(xi))
                viol = min(relx[k], Li) - orig[k]  # Proposition 4.3: V >= min(Vt, L)
                worst_violation = max(worst_violation, viol)
                rows.append([panel, sysp.names[i], alpha, xi, orig[k], relx[k], Li, wj, bool(viol <= 1e-9)])
            bar()
            st = styles.get(a_k, "-.")
            ax.plot(xs, orig, st, color="tab:blue", lw=1.8, zorder=3)
            ax.plot(xs, relx, st, color="tab:red", lw=1.2, marker="o", markersize=3,
                    markevery=max(1, points // 12), zorder=2)
        ax.set_xlabel(f"x_{sysp.names[i]}: early sale of bank {sysp.names[i]} (units of the illiquid asset)")
        ax.set_ylabel(f"worst-case liquid value of bank {sysp.names[i]}")
        what = "solvent for every alpha" if panel == "solvent" else "default inevitable at alpha = 1"
        ax.set_title(f"{what}: L_{sysp.names[i]} = {Li:.4g}", fontsize=10)
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="tab:blue", lw=1.8, label="min over x_-i of V_i (original (7), exact clearing)"),
               Line2D([], [], color="tab:red", lw=1.2, marker="o", ms=3, label="min over x_-i of Vt_i (relaxed (9))"),
               Line2D([], [], color="0.45", lw=2.2, alpha=0.6, label="liabilities L_i")]
    handles += [Line2D([], [], color="k", ls=styles.get(k, "-."), label=f"alpha = {a:g}") for k, a in enumerate(alphas)]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Figure 4.2: worst-case value of bank " + panels[0][1].names[i] + " against its early sale")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(out / "fig4_2.png", dpi=130)
    plt.close(fig)
    with open(out / "fig4_2.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["panel", "bank", "alpha", "x_i", "min_V_original", "min_Vt_relaxed", "L_i", "argmin_x_other", "prop43_ok"])
        w.writerows(rows)
    return {"png": str(out / "fig4_2.png"), "csv": str(out / "fig4_2.csv"), "rows": len(rows),
            "solvent_L": float(panels[0][1].L[i]), "stressed_L": float(panels[1][1].L[i]),
            "prop43_max_violation": float(max(worst_violation, 0.0))}


# ----------------------------------------------------------------------------- Figure 4.3
def check_fig43_system(system) -> tuple[int, int]:
    """(dominant, small) banks of a Figure 4.3 system; InputError if it cannot draw it."""
    from liqstress.solvers.clearing import ell as ell_of

    if system.has_interbank:
        raise InputError("--system43", "Figure 4.3 is for permanent price impact (no interbank block)")
    e = ell_of(system)
    if float(e.sum()) <= 0:
        raise InputError("--system43", "no bank needs to sell (Lambda = 0)")
    dom = int(np.argmax(e))
    small_cands = [k for k in np.argsort(e) if e[k] > 0 and k != dom]
    if not small_cands:
        raise InputError("--system43", "needs at least two banks with ell_i > 0")
    return dom, int(small_cands[0])


def figure_4_3(system, out: Path, alphas: int = 101, check_points: int = 5, tick=None) -> dict:
    """x_i*(alpha) and w*(alpha) (Theorem 4.4) for the dominant and a small bank;
    certified SCIP max-min markers at ``check_points`` values of alpha (``tick()`` after each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from liqstress.solvers.clearing import ell as ell_of
    from liqstress.solvers.relaxed import maximin_relaxed
    from liqstress.solvers.robust import robust_permanent

    dom, small = check_fig43_system(system)
    e = ell_of(system)
    Lam = float(e.sum())
    bar = tick or (lambda: None)
    al = np.linspace(0.0, 1.0, alphas)
    X = np.empty((al.size, system.n))
    Wst = np.empty((al.size, system.n))
    for k, a in enumerate(al):
        _, X[k], Wst[k], _, _ = robust_permanent(system.c, e, float(a), system.f)
    ab = 1.0 - e / Lam
    checks = []
    if check_points > 0:
        for a in np.linspace(0.0, 1.0, check_points):
            for b in (small, dom):
                r = maximin_relaxed(system.with_alpha(float(a)), b, method="global", ell_vec=e)
                checks.append((float(a), b, r.strategy, float(np.sum(r.worst_case_others)), r.value, r.certified))
            bar()
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.2))
    for b, col in ((small, "tab:green"), (dom, "tab:purple")):
        nm = system.names[b]
        axes[0].plot(al, X[:, b] / e[b], color=col, lw=1.8)
        axes[1].plot(al, Wst[:, b] / max(Lam - e[b], 1e-300), color=col, lw=1.8)
        for ax in axes:
            ax.axvline(ab[b], color=col, ls=":", lw=1.1)
        ca = [c for c in checks if c[1] == b]
        if ca:
            axes[0].plot([c[0] for c in ca], [c[2] / e[b] for c in ca], "x", color="k", ms=7, zorder=4)
            axes[1].plot([c[0] for c in ca], [c[3] / max(Lam - e[b], 1e-300) for c in ca], "x", color="k", ms=7, zorder=4)
    axes[0].axhline(0.5, color="k", lw=0.8, ls="--")
    axes[0].set_title("robust strategy relative to ell_i", fontsize=10)
    axes[0].set_ylabel("x_i*(alpha) / ell_i")
    axes[1].set_title("others' worst-case aggregate early sale relative to W_i", fontsize=10)
    axes[1].set_ylabel("w*(alpha) / W_i,  W_i = Lambda - ell_i")
    for ax in axes:
        ax.set_xlabel("alpha (share of the early sale still depressing the price at t = 2)")
        ax.grid(alpha=0.3)
    handles = []
    for b, col in ((small, "tab:green"), (dom, "tab:purple")):
        kind = "V shape (Theorems 4.4, 4.5)" if b == small else "2 ell_i > Lambda (Proposition 4.6)"
        handles.append(Line2D([], [], color=col, lw=1.8,
                              label=f"{system.names[b]}: closed form, ell = {e[b]:.3g}, {kind}"))
        handles.append(Line2D([], [], color=col, ls=":", lw=1.1,
                              label=f"{system.names[b]}: tipping point alphabar = 1 - ell_i/Lambda = {ab[b]:.3f}"))
    handles.append(Line2D([], [], color="k", ls="--", lw=0.8, label="upper bound x_i* <= ell_i / 2 (ratio 1/2)"))
    if checks:
        handles.append(Line2D([], [], color="k", marker="x", ls="", ms=7, label="certified numerical max-min of (9) (SCIP)"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"Figure 4.3: robust strategy and worst case against alpha (Lambda = {Lam:.4g})")
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.savefig(out / "fig4_3.png", dpi=130)
    plt.close(fig)
    with open(out / "fig4_3.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["alpha", "bank", "ell", "alpha_bar", "strategy", "worst_case_others", "source", "certified"])
        for k, a in enumerate(al):
            for b in range(system.n):
                w.writerow([a, system.names[b], e[b], ab[b], X[k, b], Wst[k, b], "closed_form", ""])
        for a, b, xs, ws, _, cert in checks:
            w.writerow([a, system.names[b], e[b], ab[b], xs, ws, "scip_maximin", cert])
    dx = np.diff(X[:, dom])
    return {
        "png": str(out / "fig4_3.png"),
        "csv": str(out / "fig4_3.csv"),
        "dominant": system.names[dom],
        "dominant_2ell_gt_Lambda": bool(2 * e[dom] > Lam),
        "dominant_monotone_decreasing": bool((dx <= 1e-12).all()),
        "small": system.names[small],
        "small_alpha_bar": float(ab[small]),
        "small_min_at_alpha": float(al[int(np.argmin(X[:, small]))]),
        "max_abs_closed_vs_scip": max(
            (abs(xs - float(np.interp(a, al, X[:, b]))) for a, b, xs, *_ in checks), default=None
        ),
    }


def figures(
    out: Path = typer.Option(..., "-o", "--out", help="Output directory (created if missing)."),
    system: Optional[Path] = typer.Option(None, "--system", help="Two-bank system for Figure 4.2 (default examples/systems/two_banks.yaml)."),
    system43: Optional[Path] = typer.Option(None, "--system43", help="System for Figure 4.3 (default examples/systems/four_banks_fig43.yaml)."),
    points: int = typer.Option(41, "--points", min=3, help="Grid points in x_i for Figure 4.2."),
    inner_points: int = typer.Option(201, "--inner-points", min=3, help="Grid points in x_-i for the original inner problem."),
    alphas: int = typer.Option(101, "--alphas", min=3, help="Values of alpha for Figure 4.3."),
    check_points: int = typer.Option(5, "--check-points", min=0, help="alphas with a certified SCIP check in Figure 4.3 (0: none)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Figures 4.2 and 4.3 of the paper (PNG and CSV in DIR; nothing is written unless both succeed)."""
    from liqstress.cli._common import check_output_path, progress, write_outputs_atomically

    check_output_path(out, "--out", directory=True)
    s2, src2 = _load(system, "two_banks.yaml", _TWO_BANKS)
    s4, src4 = _load(system43, "four_banks_fig43.yaml", _FOUR_BANKS)
    check_fig42_system(s2)  # every input is validated before anything is computed or written
    check_fig43_system(s4)
    with write_outputs_atomically(out) as stage, progress(6 + check_points, "figures", unit="curve") as bar:
        f42 = figure_4_2(s2, stage, points=points, inner_points=inner_points, tick=bar.advance)
        f43 = figure_4_3(s4, stage, alphas=alphas, check_points=check_points, tick=bar.advance)
    for f in (f42, f43):  # report the final paths, not the staging folder
        for k in ("png", "csv"):
            f[k] = str(out / Path(f[k]).name)
    doc = {"figure_4_2": {"system": src2, **f42}, "figure_4_3": {"system": src4, **f43}}
    if json_out:
        print_json(doc)
        return
    for k, v in doc.items():
        typer.echo(f"{k}: " + ", ".join(f"{a}={b}" for a, b in v.items()))


def register(app: typer.Typer) -> None:
    app.command("figures")(guarded(figures))
