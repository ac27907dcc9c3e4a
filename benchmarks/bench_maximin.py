"""Benchmark: certified global solution of the original problem (7) for n = 2..8 banks.

Per n and alpha in {0, 0.5} (quick: alpha = 0; exponential f, bank 0 distressed, the others a mix of partial and full
sellers), measured in one run on the same system:

* middle level — ``inner_original(..., "global")`` (SCIP on the exact encoding, certified):
  mean and max wall time per solve over 5 values of x_i; baseline: the tensor grid over x_-i
  with exact vectorised clearing (41 points per bank, capped at 2e6 points), with its error
  against the certified value in the note;
* whole max-min — ``maximin_original(..., "global", tol=1e-4)``; baseline: the dense grid over
  (x_i, x_-i) of the *same accuracy*: grids k_others = 11, 21, 41, ... (k_own = 4 k + 1) are run
  until the grid value is within tol of the certified value, and the time of that grid is
  the baseline (if the budget runs out first, the last grid's time is a lower bound of the
  baseline and the note says so; for n >= 5 the grid is not attempted);
* interbank (15), alpha = 0, n = 3, 4, 5 (quick: 3): certified max-min with the SCIP master
  bound; baseline for n = 3 a 41 x 21^2 grid (with its error).

    python benchmarks/bench_maximin.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from liqstress.models.inverse_demand import Exponential
from liqstress.models.system import System
from liqstress.solvers.clearing import ell
from liqstress.solvers.original import inner_original, maximin_original
from liqstress.solvers.original_batch import grid_inner, grid_maximin

TOL = 1e-4


def make_system(n: int, seed: int = 1, alpha: float = 0.5) -> System:
    rng = np.random.default_rng(seed)
    s = rng.uniform(1.0, 5.0, n)
    c = rng.uniform(0.0, 1.0, n)
    L = c + s * rng.uniform(0.2, 0.9, n)
    L[0] = c[0] + 1.1 * s[0]  # bank 0 cannot cover its liabilities: it sells everything
    return System.from_arrays(c, s, L, Exponential(0.95 / s.sum()), alpha=alpha)


def _warm() -> None:
    """Import Pyomo/SCIP once so that the timings exclude the one-off import cost."""
    inner_original(make_system(2), 0, 0.1, "global")


def grid_same_accuracy(system: System, e: np.ndarray, v_cert: float, budget: float) -> tuple[float, float, str, bool]:
    """(seconds, error, description, reached) of the first dense grid within TOL of v_cert."""
    n = system.n
    spent = 0.0
    last = (np.nan, np.nan, "none", False)
    for k in (11, 21, 41, 81, 161, 321, 641, 1281, 2561):
        k_own = 4 * k + 1
        pts = k ** (n - 1) * k_own
        if pts > 4e7:
            break
        g = grid_maximin(system, 0, e, k_others=k, k_own=k_own, max_points=int(4e7))
        spent += g["seconds"]
        err = abs(g["value"] - v_cert)
        last = (g["seconds"], err, f"{k_own}x{k}^{n - 1}={pts:.2g} pts", err <= TOL)
        if err <= TOL or spent > budget:
            break
    return last


def run(quick: bool = False) -> list[dict]:
    _warm()
    sizes = [2, 3, 4, 8] if quick else [2, 3, 4, 5, 6, 7, 8]
    alphas = (0.0,) if quick else (0.0, 0.5)
    budget = 12.0 if quick else 120.0
    rows: list[dict] = []
    for alpha in alphas:
        for n in sizes:
            system = make_system(n, alpha=alpha)
            e = ell(system)
            tag = f"alpha={alpha:g}"
            # middle level
            times, vals = [], []
            for frac in (0.1, 0.3, 0.5, 0.7, 0.9):
                r = inner_original(system, 0, frac * e[0], "global", engine="scip")
                times.append(r.seconds)
                vals.append((frac, r))
                assert r.certified, r.status
            t0 = time.perf_counter()
            k = max(2, min(41, int(2e6 ** (1.0 / max(1, n - 1)))))
            vg, _ = grid_inner(system, 0, 0.5 * e[0], e, k)
            t_gi = time.perf_counter() - t0
            err_gi = vg - vals[2][1].value
            rows.append(dict(benchmark="middle level (7), SCIP certified (mean per solve)", n=n, seconds=float(np.mean(times)),
                             baseline=f"grid inner {k}^{n - 1} pts", baseline_seconds=t_gi, ratio=t_gi / float(np.mean(times)),
                             note=f"{tag}; max {max(times):.3f}s; grid - certified min = {err_gi:.1e}"))
            # whole max-min
            res = maximin_original(system, 0, "global", tol=TOL, engine="scip")
            gap = res.details["upper"] - res.details["lower"]
            note = (f"{tag}; certified={res.certified} gap={gap:.1e} inner solves={res.details['inner_solves']} "
                    f"x*={res.strategy:.5f} v={res.value:.6f}")
            if n <= 4:
                gs, gerr, gdesc, reached = grid_same_accuracy(system, e, res.value, budget)
                bl = (f"dense grid within tol ({gdesc})" if reached
                      else f"dense grid ({gdesc}) error {gerr:.1e} > tol: lower bound")
                rows.append(dict(benchmark="max-min (7) certified, tol 1e-4", n=n, seconds=res.seconds, baseline=bl,
                                 baseline_seconds=gs, ratio=gs / res.seconds, note=note))
            else:
                rows.append(dict(benchmark="max-min (7) certified, tol 1e-4", n=n, seconds=res.seconds,
                                 baseline="dense grid not attempted (k^(n-1) points)", baseline_seconds=None, ratio=None, note=note))
    # interbank exposures (15), alpha = 0: certified with the SCIP master upper bound
    for n in ((3,) if quick else (3, 4, 5)):
        system = make_interbank(n)
        e = ell(system)
        res = maximin_original(system, 0, "global", tol=TOL)
        gap = res.details["upper"] - res.details["lower"]
        note = (f"alpha=0 (interbank); certified={res.certified} gap={gap:.1e} inner solves={res.details['inner_solves']} "
                f"x*={res.strategy:.5f} v={res.value:.6f}")
        if n == 3:
            g = grid_maximin(system, 0, e, k_others=21, k_own=41)
            rows.append(dict(benchmark="interbank max-min (15) certified, tol 1e-4", n=n, seconds=res.seconds,
                             baseline=f"dense grid 41x21^2 (error {abs(g['value'] - res.value):.1e})",
                             baseline_seconds=g["seconds"], ratio=g["seconds"] / res.seconds, note=note))
        else:
            rows.append(dict(benchmark="interbank max-min (15) certified, tol 1e-4", n=n, seconds=res.seconds,
                             baseline="dense grid not attempted", baseline_seconds=None, ratio=None, note=note))
    return rows


def make_interbank(n: int, seed: int = 0) -> System:
    """Distressed interbank system (alpha = 0): heavy external liabilities, dense network."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    s = rng.uniform(1.0, 5.0, n)
    c = rng.uniform(0.0, 0.5, n)
    M = rng.uniform(0.2, 1.0, (n, n)) * (rng.random((n, n)) < 0.7)
    np.fill_diagonal(M, 0.0)
    b = c + s * rng.uniform(0.5, 1.1, n)
    return System.from_arrays(c, s, b, Exponential(0.9 / s.sum()), alpha=0.0, Lmat=sp.csr_matrix(M))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = run(args.quick)
    print(f"{'benchmark':52s} {'n':>3s} {'seconds':>9s}  {'baseline':58s} {'base s':>9s} {'ratio':>8s}  note")
    for r in rows:
        bs = "-" if r["baseline_seconds"] is None else f"{r['baseline_seconds']:.3f}"
        ra = "-" if r["ratio"] is None else f"{r['ratio']:.1f}"
        print(f"{r['benchmark']:52s} {r['n']:>3d} {r['seconds']:>9.3f}  {r['baseline']:58s} {bs:>9s} {ra:>8s}  {r['note']}")


if __name__ == "__main__":
    main()
