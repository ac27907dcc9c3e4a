"""Benchmark of the Monte Carlo survival distribution: ``python benchmarks/bench_montecarlo.py [--quick]``.

For each scenario of the example stress files with a behavioural section:

* ``seconds``: ``liqstress.stress.montecarlo.run`` with 10,000 paths over the file's horizon
  (365 days for the midsize bank): path generation plus the exact closed-form survival of every
  path (``cbc_asap``, Proposition 2), wall time;
* ``baseline``: the same paths solved one by one with the LP (``solve_plan``, full
  formulation) on a sample of paths measured in this run, extrapolated to 10,000 paths
  (``baseline_seconds`` = sample seconds x 10,000 / sample size); the sample's horizons are
  asserted equal to the closed form's;
* ``ratio`` = baseline_seconds / seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan
from liqstress.stress import montecarlo as mc
from liqstress.stress.engine import build_plan
from liqstress.stress.projection import project
from liqstress.stress.scenarios import resolve

ROOT = Path(__file__).resolve().parents[1]
FILES = ["examples/stress/midsize_bank.yaml", "examples/stress/svb_2023.yaml"]


def rows(paths: int, sample: int):
    for f in FILES:
        stress = load_stress(ROOT / f)
        for sc in stress.scenarios:
            res = resolve(stress, sc.name)
            proj = project(stress, res)
            plan = build_plan(stress, res, proj)
            t0 = time.perf_counter()
            r = mc.run(stress, res, proj, plan, paths=paths, seed=0)
            t_mc = time.perf_counter() - t0
            outs = mc.path_outflows(stress, res, proj, sample, np.random.default_rng(1))
            T, _, _ = mc.survival_days(plan, outs)
            doc = plan.model_dump()
            t0 = time.perf_counter()
            lp = [solve_plan(CBCPlan.from_dict({**doc, "net_outflows": o.tolist()}), formulation="full").survival_days
                  for o in outs]
            t_lp = (time.perf_counter() - t0) * paths / sample
            assert list(T) == lp, "closed form and LP disagree"
            p = r.percentiles
            yield {"benchmark": "MC survival distribution: closed form (ours) vs LP per path",
                   "n": f"{Path(f).stem} / {sc.name}: {paths} paths x {stress.horizon_days} d",
                   "seconds": t_mc, "baseline": f"full LP per path ({sample}-path sample, extrapolated)",
                   "baseline_seconds": t_lp, "ratio": t_lp / t_mc,
                   "note": f"p5/p50/p95 = {p['p5']}/{p['p50']}/{p['p95']} d, P(breach) = {r.breach_probability:.4f}; "
                           f"{sample} sampled paths equal to the LP"}


def run(quick: bool = False) -> list[dict]:
    """Rows for ``benchmarks/run_all.py``."""
    paths, sample = (2000, 10) if quick else (10_000, 50)
    return list(rows(paths, sample))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    paths, sample = (2000, 10) if args.quick else (10_000, 50)
    cols = ["benchmark", "n", "seconds", "baseline", "baseline_seconds", "ratio", "note"]
    print("| " + " | ".join(cols) + " |", flush=True)
    print("|" + "---|" * len(cols), flush=True)
    for r in rows(paths, sample):
        print("| " + " | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |", flush=True)


if __name__ == "__main__":
    main()
