"""The unified model (permanent impact alpha > 0 with interbank exposures): the study behind
docs/unified.md and its figures.

    python -m liqstress.research.unified_study --out docs/figures [--quick]

1. **Relaxed problem.**  Random small unified systems (2-4 banks, the three inverse-demand
   families, distressed so that some banks default and some sell only part of their
   holdings).  For every bank whose claims are at risk (:func:`liqstress.solvers.robust.claims_safe`
   is False, so no closed form is known) and every alpha of a grid, the certified numeric
   robust strategy (SCIP cutting planes, :func:`liqstress.solvers.relaxed.maximin_relaxed`)
   is compared with ell_i / 2 (Theorem 5.3) and with the Theorem 4.4 formula.
2. **True problem.**  For the same banks: the certified optimum of (7) and the certified true
   worst case v_rob of the numeric robust strategy and of the Theorem 4.4 formula strategy.
3. **Paths.**  ``liqstress path`` on a permanent-impact example and on the unified example.

Writes ``unified_study.csv`` (one row per bank and alpha), ``unified_study.json`` (summary
counts quoted in the docs), ``unified_relaxed_vs_formula.png``, ``unified_true_problem.png``,
and ``path_<system>_<bank>.png`` / ``.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from liqstress.models.inverse_demand import Exponential, Linear, Power
from liqstress.models.system import System, load_system

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
KINDS = ("linear", "exponential", "power")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "systems"
PATHS = (("four_banks_exp", "Dominant"), ("unified_four", "B2"))


def unified_random_system(seed: int, n: int, kind: str, alpha: float = 0.0, strength: float = 0.9,
                          density: float = 0.6, distress: float = 1.0) -> System:
    """A random unified system: uniform balance sheets, a random liability matrix with the given
    density, external debt b_i = c_i + s_i U(0, distress) (so that some banks default and some
    sell only part of their holdings); one bank without external debt when n >= 3."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.5, 5.0, n)
    c = rng.uniform(0.0, 1.0, n)
    M = rng.uniform(0.05, 1.0, (n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(M, 0.0)
    if not M.any() and n > 1:
        M[0, 1] = 0.4
    b = c + s * rng.uniform(0.0, 1.0, n) * distress
    if n >= 3:
        b[rng.integers(n)] = 0.0
    S = float(s.sum())
    f = {"linear": lambda: Linear(strength / (2 * S)), "exponential": lambda: Exponential(strength / S),
         "power": lambda: Power(3 * strength / S, 0.7)}[kind]()
    return System.from_arrays(c, s, b, f, alpha=alpha, Lmat=sp.csr_matrix(M) if M.any() else None)


def study_systems(count: int, first_seed: int = 0) -> list[tuple[int, System]]:
    """The systems of the study (seeded: n in {2, 3, 4}, the three families in turn)."""
    out = []
    for seed in range(first_seed, first_seed + count):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(2, 5))
        out.append((seed, unified_random_system(seed, n, KINDS[seed % 3], 0.0, strength=float(rng.uniform(0.6, 0.95)),
                                                distress=float(rng.uniform(0.6, 1.2)))))
    return out


def bank_rows(seed: int, system: System, alphas=ALPHAS, tol: float = 1e-4, original: bool = True) -> list[dict]:
    """One row per (at-risk bank, alpha): relaxed numeric strategy vs the closed forms and, with
    ``original``, the certified (7) and the true worst cases of both strategies."""
    from liqstress.solvers.clearing import clear
    from liqstress.solvers.original import inner_original, maximin_original
    from liqstress.solvers.relaxed import maximin_relaxed
    from liqstress.solvers.robust import claims_safe, robust_permanent

    if not system.has_interbank:
        return []
    cl0 = clear(system, np.zeros(system.n))
    e = cl0.sales_t2
    Lam = float(e.sum())
    safe = claims_safe(system, cl0.payments)
    rows = []
    for i in range(system.n):
        if safe[i] or e[i] <= 0:
            continue
        for a in alphas:
            sysm = system.with_alpha(a)
            t0 = time.perf_counter()
            x44 = float(robust_permanent(sysm.c, e, a, sysm.f)[1][i])
            rr = maximin_relaxed(sysm, i, "global", tol=1e-5, ell_vec=e)
            row = {
                "seed": seed, "n": system.n, "kind": system.f.kind, "bank": system.names[i], "alpha": a,
                "ell": float(e[i]), "s": float(system.s[i]), "pbar": float(system.pbar[i]),
                "alpha_bar": 1.0 - float(e[i]) / Lam,
                "x_relaxed": float(rr.strategy), "x_formula": x44, "x_half": 0.5 * float(e[i]),
                "vt": float(rr.value), "relaxed_certified": bool(rr.certified),
            }
            if original:
                opt = maximin_original(sysm, i, "global", tol=tol, ell_vec=e, time_limit=300.0)
                r_rob = inner_original(sysm, i, rr.strategy, "global", ell_vec=e)
                r_44 = inner_original(sysm, i, x44, "global", ell_vec=e)
                row.update({
                    "x_opt": float(opt.strategy), "v_opt": float(opt.value), "v_rob": float(r_rob.value),
                    "v_formula": float(r_44.value), "regret": float(opt.value) - float(r_rob.value),
                    "regret_formula": float(opt.value) - float(r_44.value),
                    "original_certified": bool(opt.certified and r_rob.certified and r_44.certified),
                })
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    """The counts quoted in docs/unified.md."""
    pos = [r for r in rows if r["alpha"] > 0]
    zero = [r for r in rows if r["alpha"] == 0]
    rel = lambda r, k: r[k] / r["ell"]  # noqa: E731
    tol_x = 1e-3
    out = {
        "rows": len(rows),
        "systems": len({r["seed"] for r in rows}),
        "banks": len({(r["seed"], r["bank"]) for r in rows}),
        "relaxed_certified": sum(r["relaxed_certified"] for r in rows),
        "alpha0_rows": len(zero),
        "alpha0_max_abs_diff_from_half_ell_rel": max((abs(rel(r, "x_relaxed") - 0.5) for r in zero), default=None),
        "alpha_pos_rows": len(pos),
        "alpha_pos_differ_from_formula": sum(abs(rel(r, "x_relaxed") - rel(r, "x_formula")) > tol_x for r in pos),
        "alpha_pos_above_formula": sum(rel(r, "x_relaxed") - rel(r, "x_formula") > tol_x for r in pos),
        "alpha_pos_below_formula": sum(rel(r, "x_relaxed") - rel(r, "x_formula") < -tol_x for r in pos),
        "alpha_pos_differ_from_half": sum(abs(rel(r, "x_relaxed") - 0.5) > tol_x for r in pos),
        "max_x_relaxed_over_ell": max((rel(r, "x_relaxed") for r in rows), default=None),
        "max_abs_diff_formula_rel": max((abs(rel(r, "x_relaxed") - rel(r, "x_formula")) for r in pos), default=None),
    }
    orig = [r for r in rows if "v_opt" in r]
    if orig:
        out.update({
            "original_rows": len(orig),
            "original_certified": sum(r["original_certified"] for r in orig),
            "max_regret": max(r["regret"] for r in orig),
            "max_regret_formula": max(r["regret_formula"] for r in orig),
            "rows_regret_above_1e-4": sum(r["regret"] > 1e-4 for r in orig),
            "rows_formula_regret_above_1e-4": sum(r["regret_formula"] > 1e-4 for r in orig),
            "rows_numeric_beats_formula_by_1e-4": sum(r["v_rob"] - r["v_formula"] > 1e-4 for r in orig),
            "rows_formula_beats_numeric_by_1e-4": sum(r["v_formula"] - r["v_rob"] > 1e-4 for r in orig),
            "rows_v_opt_at_liabilities": sum(abs(r["v_opt"] - r["pbar"]) <= 1e-6 for r in orig),
        })
    return out


def plot_relaxed(rows: list[dict], path: Path) -> None:
    """Numeric robust strategy / ell against the Theorem 4.4 formula / ell, coloured by alpha."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    cmap = plt.get_cmap("viridis")
    for a in sorted({r["alpha"] for r in rows}):
        sel = [r for r in rows if r["alpha"] == a]
        ax.scatter([r["x_formula"] / r["ell"] for r in sel], [r["x_relaxed"] / r["ell"] for r in sel], s=22,
                   color=cmap(a), edgecolor="k", lw=0.3, label=f"alpha = {a:g}", zorder=3)
    ax.plot([0, 0.55], [0, 0.55], color="0.4", lw=0.8, ls="--", label="= Theorem 4.4 formula")
    ax.axhline(0.5, color="tab:red", lw=0.8, ls=":", label=r"$\ell_i/2$ (Theorem 5.3)")
    ax.set_xlabel(r"Theorem 4.4 formula $x_i^{4.4} / \ell_i$")
    ax.set_ylabel(r"certified robust strategy of the unified model $x_i^* / \ell_i$")
    ax.set_title("Unified model, banks with claims at risk:\nrelaxed max-min (SCIP) vs the closed forms")
    ax.set_xlim(0, 0.55)
    ax.set_ylim(0, 0.55)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_true(rows: list[dict], path: Path) -> None:
    """True problem (7): regret of the numeric robust strategy and of the formula strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    orig = [r for r in rows if "v_opt" in r]
    alphas = sorted({r["alpha"] for r in orig})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4))
    rng = np.random.default_rng(0)
    for k, (key, lab, col) in enumerate((("regret", "robust strategy (numeric)", "tab:blue"),
                                         ("regret_formula", "Theorem 4.4 formula", "tab:gray"))):
        for j, a in enumerate(alphas):
            v = np.array([max(r[key], 0.0) for r in orig if r["alpha"] == a])
            xs = j + (k - 0.5) * 0.3 + rng.uniform(-0.07, 0.07, v.size)
            ax1.scatter(xs, v, s=14, color=col, alpha=0.8, label=lab if j == 0 else None)
    ax1.set_xticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    ax1.set_xlabel(r"$\alpha$")
    ax1.set_ylabel(r"regret $v_{opt} - v_{rob}$ in the true problem (7)")
    ax1.set_yscale("symlog", linthresh=1e-4)
    top = max([max(r["regret"], r["regret_formula"]) for r in orig] + [1e-3])
    ax1.set_ylim(-2e-5, 3 * top)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    ax1.set_title("Regret of each strategy (certified)")
    d = [r["v_rob"] - r["v_formula"] for r in orig if r["alpha"] > 0]
    dx = [r["x_relaxed"] / r["ell"] - r["x_formula"] / r["ell"] for r in orig if r["alpha"] > 0]
    ax2.scatter(dx, d, s=16, color="tab:purple", edgecolor="k", lw=0.3)
    ax2.axhline(0, color="0.4", lw=0.8)
    ax2.axvline(0, color="0.4", lw=0.8)
    ax2.set_yscale("symlog", linthresh=1e-4)
    big = max([abs(v) for v in d] + [1e-3])
    ax2.set_ylim(-3 * big, 3 * big)
    ax2.set_xlabel(r"$(x_i^* - x_i^{4.4}) / \ell_i$")
    ax2.set_ylabel(r"$v_{rob}(x_i^*) - v_{rob}(x_i^{4.4})$ (true worst cases)")
    ax2.set_title(r"Numeric robust vs formula strategy, $\alpha > 0$")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def run(out: Path, quick: bool = False, systems: int = 30, path_points: int = 21) -> dict:
    from liqstress.solvers.alpha_path import alpha_path, plot_path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    count = 4 if quick else systems
    rows: list[dict] = []
    for seed, sysm in study_systems(count):
        rows.extend(bank_rows(seed, sysm))
        print(f"system {seed}: {len(rows)} rows, {time.perf_counter() - t0:.0f} s", flush=True)
    import pandas as pd

    pd.DataFrame(rows).to_csv(out / "unified_study.csv", index=False)
    summary = summarise(rows)
    plot_relaxed(rows, out / "unified_relaxed_vs_formula.png")
    plot_true(rows, out / "unified_true_problem.png")
    for name, bank in PATHS:
        sysm = load_system(EXAMPLES / f"{name}.yaml")
        grid = np.linspace(0.0, 1.0, 5 if quick else path_points)
        doc = alpha_path(sysm, bank, grid)
        (out / f"path_{name}_{bank}.json").write_text(json.dumps(_finite(doc), indent=1))
        plot_path(doc, out / f"path_{name}_{bank}.png", title=f"{name}.yaml, bank {bank}")
        summary[f"path_{name}_{bank}"] = {
            "certified_rows": sum(r["certified"] for r in doc["rows"]), "rows": len(doc["rows"]),
            "max_regret": max(r["regret"] for r in doc["rows"] if r["regret"] is not None),
        }
        print(f"path {name}/{bank}: {time.perf_counter() - t0:.0f} s", flush=True)
    summary["seconds"] = time.perf_counter() - t0
    (out / "unified_study.json").write_text(json.dumps(_finite(summary), indent=1))
    return summary


def _finite(obj):
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", "-o", default="docs/figures")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--systems", type=int, default=30)
    args = ap.parse_args(argv)
    print(json.dumps(run(Path(args.out), args.quick, args.systems), indent=1))


if __name__ == "__main__":
    main()
