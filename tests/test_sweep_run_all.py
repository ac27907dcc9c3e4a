"""benchmarks/run_all.py: aggregation of benchmark rows into one table (no benchmark run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all_under_test", ROOT / "benchmarks" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(name, n, sec, base_sec, ratio="auto", note=""):
    r = {"benchmark": name, "n": n, "seconds": sec, "baseline": "naive", "baseline_seconds": base_sec, "note": note}
    r["ratio"] = base_sec / sec if ratio == "auto" else ratio
    return r


def test_aggregate_rows_failures_and_ratios(run_all):
    results = {
        "bench_b": [_row("clear", 100, 0.5, 2.0), _row("clear", 1000, 1.0, 8.0, ratio=None)],
        "bench_a": [_row("lp", 10, 0.2, 0.1, note="slower | on purpose")],
        "bench_boom": RuntimeError("solver exploded"),
        "bench_empty": [],
        "bench_bad": [{"benchmark": "x", "n": 1}],
        "bench_none": None,
    }
    table = run_all.aggregate(results)
    mods = [r["module"] for r in table]
    assert mods == sorted(mods)  # modules in name order, rows in their order
    ok = [r for r in table if r["status"] == "ok"]
    failed = {r["module"]: r for r in table if r["status"] == "FAILED"}
    assert [(r["module"], r["n"]) for r in ok] == [("bench_a", 10), ("bench_b", 100), ("bench_b", 1000)]
    assert ok[0]["ratio"] == pytest.approx(0.5)
    assert ok[1]["ratio"] == pytest.approx(4.0)
    assert ok[2]["ratio"] == pytest.approx(8.0)  # filled in: baseline_seconds / seconds
    assert [r["speedup"] for r in ok] == pytest.approx([0.5, 4.0, 8.0])
    assert all(r["speedup"] is None for r in table if r["status"] == "FAILED")
    assert set(failed) == {"bench_boom", "bench_empty", "bench_bad", "bench_none"}
    assert "RuntimeError: solver exploded" in failed["bench_boom"]["note"]
    assert "misses keys" in failed["bench_bad"]["note"] and "seconds" in failed["bench_bad"]["note"]

    machine = {"cpu": "Test CPU", "cores": 2, "ram_gb": 4.0, "python": "3.x", "numpy": "9.9", "platform": "test"}
    md = run_all.render_markdown(table, machine, quick=True, seconds=1.5, when="now")
    lines = md.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("| module |"))
    body = [ln for ln in lines[header + 2 :] if ln.startswith("|")]
    assert len(body) == len(table)
    assert all(ln.count("|") == len(run_all.TABLE_COLUMNS) + 1 for ln in body)  # '|' in notes escaped
    assert "Test CPU" in md and "--quick" in md and "4 failed" in md
    text = run_all.render_text(table, machine)
    assert "Test CPU" in text and text.count("FAILED") == 4


def test_machine_info_reads_this_machine(run_all):
    m = run_all.machine_info()
    assert m["cores"] and m["cores"] >= 1
    assert m["python"].count(".") == 2
    import numpy

    assert m["numpy"] == numpy.__version__
    if Path("/proc/cpuinfo").exists():
        assert m["cpu"] and m["ram_gb"] and m["ram_gb"] > 0


def test_timeout_turns_a_slow_module_into_a_failed_row(run_all):
    import time

    t0 = time.perf_counter()
    with pytest.raises(run_all.ModuleTimeout) as err:
        with run_all._alarm(0.3):
            while True:
                sum(range(1000))
    assert 0.25 < time.perf_counter() - t0 < 5
    table = run_all.aggregate({"bench_slow": err.value, "bench_ok": [_row("x", 1, 1.0, 2.0)]})
    assert [(r["module"], r["status"]) for r in table] == [("bench_ok", "ok"), ("bench_slow", "FAILED")]
    assert "exceeded --timeout 0.3 s" in table[1]["note"]
