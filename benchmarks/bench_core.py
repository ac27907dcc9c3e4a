"""Benchmark: closed-form robust strategies and the clearing (4) for n = 1e4, 1e5, 1e6 banks.

Prints, per n: wall time (best of 3), the ratio to ONE vectorised evaluation of f over n
points (the floor: nothing vectorised over banks can be cheaper than touching every bank
once), and the ratio of a per-bank numerical saddle solve of (12) (scipy bounded scalar
max over z of a bounded scalar min over w) to the closed form, measured on a sample of
banks and scaled to n (the sample size is printed).

    python benchmarks/bench_core.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from liqstress.models.inverse_demand import Exponential
from liqstress.models.system import System
from liqstress.solvers.clearing import clear, ell
from liqstress.solvers.robust import g_relaxed, phi, robust_permanent

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, print_rows  # noqa: E402


def make_system(n: int, seed: int = 0, alpha: float = 0.6) -> System:
    rng = np.random.default_rng(seed)
    s = rng.lognormal(0.0, 1.0, n)
    c = rng.uniform(0.0, 0.2, n) * s
    L = c + rng.uniform(0.05, 0.9, n) * s
    f = Exponential(0.8 / s.sum())
    return System.from_arrays(c, s, L, f, alpha=alpha, names=[str(i) for i in range(n)], check_f=True)


def saddle_numeric(i: int, e: np.ndarray, Lam: float, alpha: float, f) -> float:
    """Per-bank numerical max-min of g(z, w) on [0, ell_i] x [0, W_i] (the baseline)."""
    W = Lam - e[i]

    def inner(z: float) -> float:
        r = minimize_scalar(lambda w: g_relaxed(z, w, e[i], Lam, alpha, f), bounds=(0, W), method="bounded", options={"xatol": 1e-10})
        return r.fun

    r = minimize_scalar(lambda z: -inner(z), bounds=(0, e[i]), method="bounded", options={"xatol": 1e-10})
    return float(r.x)


def run(quick: bool = False) -> list[dict]:
    sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]
    rows: list[dict] = []
    for n in sizes:
        system = make_system(n)
        f, alpha = system.f, system.alpha
        e = ell(system)
        Lam = float(e.sum())
        u = np.linspace(0, system.S, n)
        t_floor = best_of(lambda: f(u))
        rng = np.random.default_rng(1)
        # alpha = 0.6 puts every bank in regime (10); alpha = 1 - median(ell/Lambda) puts half
        # of the banks in regime (11), where the vectorised Newton root of phi runs
        for a in (alpha, 1.0 - float(np.median(e[e > 0] / Lam))):
            t_cf = best_of(lambda: robust_permanent(system.c, e, a, f))
            ab, x, w, val, regime = robust_permanent(system.c, e, a, f)
            # baseline: per-bank numerical saddle solve on a sample of banks, scaled to n
            pool = np.flatnonzero((e > 0) & (regime if regime.any() else True))
            sample = rng.choice(pool, size=min(30, pool.size), replace=False)
            t0 = time.perf_counter()
            xs = np.array([saddle_numeric(int(i), e, Lam, a, f) for i in sample])
            t_saddle = (time.perf_counter() - t0) / sample.size * n
            err = float(np.max(np.abs(xs - x[sample]) / np.maximum(e[sample], 1e-12)))
            # our accuracy: the residual of (11) at x*, relative to the size of its terms
            res11 = 0.0
            if regime.any():
                W = Lam - e[regime]
                res11 = float(np.max(np.abs(phi(x[regime], W, e[regime], Lam, a, f)) / f(x[regime] + W)))
            label = f"closed-form strategies, {int(regime.sum())} in (11)"
            rows.append(dict(benchmark=label, n=n, seconds=t_cf, baseline="one f(u) over n", baseline_seconds=t_floor, ratio=t_cf / t_floor, note=f"alpha={a:.6g}"))
            rows.append(dict(benchmark=label, n=n, seconds=t_cf, baseline=f"per-bank scipy saddle (sample {sample.size}, scaled)", baseline_seconds=t_saddle, ratio=t_saddle / t_cf, note=f"|x - scipy|/ell <= {err:.1e}; |phi(x*)|/f <= {res11:.1e}"))
        # clearing (4) at random early sales
        xr = rng.uniform(0, 1, n) * e
        t_clear = best_of(lambda: clear(system, xr))
        rows.append(dict(benchmark="clearing (4) greatest fixed point", n=n, seconds=t_clear, baseline="one f(u) over n", baseline_seconds=t_floor, ratio=t_clear / t_floor, note=""))
        t_ell = best_of(lambda: ell(system))
        rows.append(dict(benchmark="robust end to end (ell + closed forms)", n=n, seconds=t_ell + t_cf, baseline="one f(u) over n", baseline_seconds=t_floor, ratio=(t_ell + t_cf) / t_floor, note=""))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    print_rows(run(ap.parse_args().quick))
