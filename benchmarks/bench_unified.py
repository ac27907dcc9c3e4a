"""Benchmark: clearing of the unified model (permanent impact alpha with interbank exposures).

For Erdős–Rényi systems from ``liqstress.networks.generate`` (mean degree 10) at n = 1e3, 1e4,
1e5 banks — the default balance-sheet calibration and an interbank-heavy stressed one — the
joint clearing (15) with q = f(alpha X + sum_j y_j) at early sales x = ell / 2 (so that the
permanent impact alpha X matters), for alpha in {0, 0.5, 1}:

* against the sparse plain monotone iteration of the joint map from (1, pbar) (the definition
  of the greatest solution; ``joint_picard``),
* against the same clearing at alpha = 0 (the paper's (15)): generalising the price equation
  must not cost anything.

    python benchmarks/bench_unified.py [--quick]

``ratio`` = baseline_seconds / seconds (how many times faster ours is).  The target is
< 1 s at n = 1e5.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from liqstress.networks.generators import BalanceSheetRatios, generate
from liqstress.solvers.clearing import clear, ell
from liqstress.solvers.eisenberg_noe import joint_picard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, print_rows  # noqa: E402


def run(quick: bool = False) -> list[dict]:
    rows: list[dict] = []
    sizes = [1000, 10_000] if quick else [1000, 10_000, 100_000]
    stressed = BalanceSheetRatios(interbank_assets=(0.6, 0.75), interbank_liabilities=(0.85, 0.95), equity=(0.02, 0.06))
    for label, ratios, impact in (("", BalanceSheetRatios(), 0.05), ("stressed: ", stressed, 0.2)):
        for n in sizes:
            base = generate("erdos-renyi", n, 10, seed=1, ratios=ratios, impact=impact)
            e = ell(base)
            x = 0.5 * e
            X = float(x.sum())
            reps = 5 if n <= 10_000 else 3
            t0 = best_of(lambda: clear(base, x), reps)
            for alpha in (0.0, 0.5, 1.0):
                sysm = base.with_alpha(alpha)
                cl = clear(sysm, x)
                t = best_of(lambda: clear(sysm, x), reps)
                cash = sysm.c + x * float(sysm.f(X))
                t_pl = best_of(lambda: joint_picard(sysm.pbar, sysm.Pi, cash, sysm.s - x, sysm.f, offset=alpha * X), 1)
                q_pl, P_pl, _, k = joint_picard(sysm.pbar, sysm.Pi, cash, sysm.s - x, sysm.f, offset=alpha * X)
                ndef = int((cl.payments < sysm.pbar * (1 - 1e-12)).sum())
                rows.append(dict(benchmark=f"{label}unified clearing, alpha={alpha:g}", n=n, seconds=t,
                                 baseline="sparse plain monotone iteration", baseline_seconds=t_pl, ratio=t_pl / t,
                                 note=f"{k} plain iterations; q={cl.price_t2:.6f}, {ndef} defaults, {cl.iterations} EN solves; "
                                      f"|q - q_plain| {abs(q_pl - cl.price_t2):.1e}, max |P - P_plain| {float(np.abs(P_pl - cl.payments).max()):.1e}"))
                if alpha > 0:
                    rows.append(dict(benchmark=f"{label}unified clearing, alpha={alpha:g}", n=n, seconds=t,
                                     baseline="same clearing at alpha = 0", baseline_seconds=t0, ratio=t0 / t,
                                     note="cost of the alpha X term"))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    print_rows(run(ap.parse_args().quick))
