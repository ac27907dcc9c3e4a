"""Shared helpers of the benchmark scripts: best-of timing and a plain-text table."""

from __future__ import annotations

import time


def best_of(fn, reps: int = 3) -> float:
    """Best wall time of ``reps`` calls of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def print_rows(rows: list[dict]) -> None:
    """Rows with keys benchmark, n, seconds, baseline, baseline_seconds, ratio, note."""
    print(f"{'benchmark':46s} {'n':>9s} {'seconds':>10s}  {'baseline':46s} {'base s':>10s} {'ratio':>9s}  note")
    for r in rows:
        print(f"{r['benchmark']:46s} {str(r['n']):>9s} {r['seconds']:>10.4f}  {str(r['baseline']):46s} "
              f"{r['baseline_seconds']:>10.4f} {r['ratio']:>9.3g}  {r['note']}")
