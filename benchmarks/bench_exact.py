"""Benchmark: certified global solution of the original problem (7) against n, separable vs SCIP.

For each n and each of two system families — ``random`` (:func:`liqstress.research.random_systems.random_system`,
the documented balance-sheet ratios; the bank with the largest ell) and ``distressed`` (bank 0
cannot cover its liabilities and sells everything, the others' shortfalls are 20-90% of their
holdings, impact strength 0.95: many banks sell everything, the hard case) — nine systems (the
linear, exponential and power families at alpha = 0, 0.5, 1), ``maximin_original(..., "global",
tol=1e-4)`` is run with both engines of the middle level on the same systems in one run:

* ``separable`` — the exact separable method of docs/model.md, section "Exact middle level of (7)";
* ``scip`` — the MINLP encoding solved by SCIP (the previous method), attempted up to
  ``--scip-max-n`` with a time limit per max-min; a run that does not certify within it counts
  with its time limit, so the ratio is then a lower bound (the note says so).

Printed per n: mean and max seconds of the separable engine, the number certified, SCIP's mean
seconds and the ratio of the means.

    python benchmarks/bench_exact.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from liqstress.models.inverse_demand import Exponential, Linear, Power
from liqstress.models.system import System
from liqstress.research.random_systems import random_system
from liqstress.solvers.clearing import ell
from liqstress.solvers.original import maximin_original

TOL = 1e-4
KINDS = ("linear", "exponential", "power")
ALPHAS = (0.0, 0.5, 1.0)


def distressed(seed: int, n: int, kind: str, alpha: float) -> System:
    """Bank 0 sells everything (L_0 > c_0 + s_0); the others' shortfalls are 20-90% of holdings."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(1.0, 5.0, n)
    c = rng.uniform(0.0, 1.0, n)
    L = c + s * rng.uniform(0.2, 0.9, n)
    L[0] = c[0] + 1.1 * s[0]
    S = float(s.sum())
    f = {"linear": Linear(0.95 / (2 * S)), "exponential": Exponential(0.95 / S), "power": Power(3 * 0.95 / S, 0.7)}[kind]
    return System.from_arrays(c, s, L, f, alpha=alpha)


def systems(n: int, family: str, seed: int = 2026):
    out = []
    for k, (kind, alpha) in enumerate((kd, a) for kd in KINDS for a in ALPHAS):
        if family == "random":
            sysm = random_system(seed, 1000 * n + k, n, kind=kind, alpha=alpha)
            bank = int(np.argmax(ell(sysm)))
        else:
            sysm, bank = distressed(1000 * n + k, n, kind, alpha), 0
        out.append((f"{kind}/a={alpha:g}", sysm, bank))
    return out


def solve(sysm, bank, engine, time_limit):
    t0 = time.perf_counter()
    r = maximin_original(sysm, bank, "global", tol=TOL, time_limit=time_limit, inner_time_limit=min(60.0, time_limit),
                         engine=engine)
    return time.perf_counter() - t0, r


def run(quick: bool = False, scip_max_n: int = 24, scip_time_limit: float = 120.0) -> list[dict]:
    sizes = [2, 4, 8, 48] if quick else [2, 3, 4, 6, 8, 12, 24, 48, 100, 200]
    if quick:
        scip_max_n, scip_time_limit = min(scip_max_n, 4), min(scip_time_limit, 60.0)
    maximin_original(systems(2, "random")[0][1], 0, "global", engine="scip")  # import Pyomo/SCIP once
    rows: list[dict] = []
    for family in ("random", "distressed"):
        for n in sizes:
            cases = systems(n, family)
            sep = [solve(s, b, "separable", 600.0) for _, s, b in cases]
            t_sep = [t for t, _ in sep]
            n_cert = sum(r.certified for _, r in sep)
            row = dict(benchmark=f"max-min (7) certified, separable ({family})", n=n, seconds=float(np.mean(t_sep)),
                       baseline="-", baseline_seconds=None, ratio=None,
                       note=f"max {max(t_sep):.2f}s; certified {n_cert}/{len(sep)}")
            if n <= scip_max_n:
                sc = [solve(s, b, "scip", scip_time_limit) for _, s, b in cases]
                t_sc = [t for t, _ in sc]
                sc_cert = sum(r.certified for _, r in sc)
                both = [(a, b) for (_, a), (_, b) in zip(sep, sc) if a.certified and b.certified]
                agree = max(abs(a.value - b.value) for a, b in both) if both else float("nan")
                lower = "" if sc_cert == len(sc) else \
                    f"; SCIP certified {sc_cert}/{len(sc)} within {scip_time_limit:g}s: ratio is a lower bound"
                row.update(baseline="SCIP MINLP engine (same systems)", baseline_seconds=float(np.mean(t_sc)),
                           ratio=float(np.mean(t_sc)) / float(np.mean(t_sep)))
                row["note"] += f"; SCIP max {max(t_sc):.2f}s; max |v_sep - v_scip| {agree:.1e}{lower}"
            rows.append(row)
            print(f"{family} n={n}: separable mean {row['seconds']:.2f}s ({row['note']})", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scip-max-n", type=int, default=24, help="largest n tried with the SCIP engine (default 24)")
    ap.add_argument("--scip-time-limit", type=float, default=120.0, help="seconds per SCIP max-min (default 120)")
    args = ap.parse_args()
    rows = run(args.quick, args.scip_max_n, args.scip_time_limit)
    print(f"{'benchmark':48s} {'n':>4s} {'seconds':>9s}  {'baseline':34s} {'base s':>9s} {'ratio':>8s}  note")
    for r in rows:
        bs = "-" if r["baseline_seconds"] is None else f"{r['baseline_seconds']:.3f}"
        ra = "-" if r["ratio"] is None else f"{r['ratio']:.1f}"
        print(f"{r['benchmark']:48s} {r['n']:>4d} {r['seconds']:>9.3f}  {r['baseline']:34s} {bs:>9s} {ra:>8s}  {r['note']}")


if __name__ == "__main__":
    main()
