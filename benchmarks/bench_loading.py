"""Benchmark: loading a system from the columnar inputs vs the JSON / YAML system file.

An Erdős–Rényi system (mean degree 10, ``liqstress.networks.generate``) is written as a
liqstress system file (JSON; YAML at the smaller size only), a neva JSON file, a neva-style CSV
pair and a Parquet pair; each is read back with :func:`liqstress.models.system.load_system`
(the one loader every command uses).  ``ratio`` = JSON-file seconds / seconds (how many
times faster than the JSON path; the YAML row is against YAML).  Full run: 1e5 banks, 1e6
exposures (target: the columnar paths in <= 1.5 s); ``--quick``: 1e4 banks, 1e5 exposures.

    python benchmarks/bench_loading.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from liqstress.models.system import load_system
from liqstress.networks.columnar import write_parquet
from liqstress.networks.generators import generate
from liqstress.networks.io import save_system, write_neva_csv, write_neva_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, print_rows  # noqa: E402


def _mb(*paths: Path) -> float:
    return sum(p.stat().st_size for p in paths) / 2**20


def run(quick: bool = False) -> list[dict]:
    n = 10_000 if quick else 100_000
    system = generate("erdos-renyi", n, 10, seed=1)
    m = system.Lmat.nnz
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        js = d / "s.json"
        save_system(system, js)
        bcsv, ecsv = d / "b.csv", d / "e.csv"
        write_neva_csv(system, bcsv, ecsv)
        bpq, epq = d / "b.parquet", d / "e.parquet"
        write_parquet(system, bpq, epq)
        nj = d / "n.json"
        write_neva_json(system, nj)
        reps_json = 3 if quick else 1
        t_json = best_of(lambda: load_system(js), reps_json)
        for label, spec, files in (
            ("CSV pair (pyarrow)", f"{bcsv}:{ecsv}", (bcsv, ecsv)),
            ("Parquet pair", f"{bpq}:{epq}", (bpq, epq)),
            ("neva JSON", str(nj), (nj,)),
        ):
            t = best_of(lambda: load_system(spec), 3)
            loaded = load_system(spec)
            assert loaded.n == n and loaded.Lmat.nnz == m
            rows.append(dict(benchmark=f"load_system: {label}", n=f"{n}/{m}", seconds=t, baseline="load_system: JSON system file",
                             baseline_seconds=t_json, ratio=t_json / t, note=f"{_mb(*files):.0f} MB vs JSON {_mb(js):.0f} MB"))
        if quick:
            ym = d / "s.yaml"
            system.save(ym)
            t_yaml = best_of(lambda: load_system(ym), 1)
            t_pq = best_of(lambda: load_system(f"{bpq}:{epq}"), 3)
            rows.append(dict(benchmark="load_system: Parquet pair", n=f"{n}/{m}", seconds=t_pq, baseline="load_system: YAML system file",
                             baseline_seconds=t_yaml, ratio=t_yaml / t_pq, note=f"YAML {_mb(ym):.0f} MB"))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    print_rows(run(ap.parse_args().quick))
