"""``liqstress sweep gap``: columns, values against brute force, resumability, failures,
CSV/Parquet, and the Dask executor giving the same rows as local processes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqstress.research.gap_sweep import COLUMNS, is_ok, make_tasks, read_rows, run_sweep
from liqstress.research.random_systems import random_systems
from liqstress.solvers.clearing import ell, relaxed_value, value
from liqstress.solvers.robust import robust_strategies

SEED = 4
METHOD = "global"  # the certified method is also the fastest on tiny systems


def tiny_systems():
    """Two tiny systems, n = 2 and n = 3."""
    return random_systems(SEED, 2, [2, 3])


def frame(rows) -> pd.DataFrame:
    """Rows as a frame without the timing column, in task order (NaN-aware comparisons)."""
    df = pd.DataFrame(rows, columns=COLUMNS).drop(columns=["seconds"])
    return df.sort_values(["system_id", "bank"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One in-process run of the two tiny systems (shared by several tests)."""
    out = tmp_path_factory.mktemp("ref") / "gap.csv"
    summ = run_sweep(make_tasks(tiny_systems(), METHOD), out, workers=1, progress=False)
    return out, summ


def test_columns_and_values_against_brute_force(reference):
    out, summ = reference
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS
    assert len(df) == 5 and summ.computed == 5 and summ.skipped == 0
    assert set(df["n"]) == {2, 3}
    assert (df["status"] == "optimal").all() and df["certified"].all(), df[["status", "message"]]
    np.testing.assert_allclose(df["regret"], df["v_opt"] - df["v_rob"], atol=1e-12)
    np.testing.assert_allclose(df["conservatism"], df["v_rob"] - df["vt"], atol=1e-12)
    assert (df["regret"] >= -1e-6).all()  # the true optimum is at least the robust worst case
    systems = dict(tiny_systems())
    for p in out.parent.glob("*.png"):
        assert p.stat().st_size > 1000
    assert {p.name for p in out.parent.glob("*.png")} == {"gap_csv_regret_hist.png", "gap_csv_gap_vs_alpha.png", "gap_csv_gap_vs_n.png"}
    # independent brute force for the n = 2 system: min over a fine grid of the other bank
    sid2 = next(s for s, sy in systems.items() if sy.n == 2)
    sysm = systems[sid2]
    e = ell(sysm)
    rob = robust_strategies(sysm)
    for i, name in enumerate(sysm.names):
        row = df[(df.system_id == sid2) & (df.bank == name)].iloc[0]
        j = 1 - i
        xs = np.linspace(0.0, e[j], 4001)
        X = np.zeros((xs.size, 2))
        X[:, i] = rob.strategy[i]
        X[:, j] = xs
        v_true = min(value(sysm, x)[i] for x in X[::10])
        v_relaxed = min(relaxed_value(sysm, x, e)[i] for x in X)
        assert row["v_rob"] <= v_true + 1e-7
        assert row["v_rob"] >= v_true - 2e-3 * max(1.0, abs(v_true))
        assert row["vt"] == pytest.approx(v_relaxed, abs=1e-6)  # closed form (12) vs brute force
        assert row["x_rob"] == pytest.approx(rob.strategy[i], abs=1e-9)
        assert row["certified"] and row["status"] == "optimal"
        # Proposition 4.3: V_i >= min(Vt_i, L_i), so the capped conservatism is >= 0
        assert row["conservatism_capped"] >= -1e-7
        assert row["liabilities"] == pytest.approx(sysm.L[i])


def test_resume_skips_existing_rows_and_completes_a_torn_file(reference, tmp_path):
    ref_out, ref = reference
    out = tmp_path / "gap.csv"
    lines = ref_out.read_text().splitlines(keepends=True)
    # header + 2 complete rows + half of the third (a crash in the middle of a write)
    out.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    tasks = make_tasks(tiny_systems(), METHOD)
    summ = run_sweep(tasks, out, workers=1, progress=False, plots=False)
    assert (summ.skipped, summ.computed) == (2, 3)
    pd.testing.assert_frame_equal(frame(read_rows(out)), frame(ref.rows))
    before = out.read_text()
    again = run_sweep(tasks, out, workers=1, progress=False, plots=False)
    assert (again.skipped, again.computed) == (5, 0)
    assert out.read_text() == before  # nothing added, nothing changed
    assert not again.warnings
    other = run_sweep(make_tasks(tiny_systems(), "local"), out, workers=1, progress=False, plots=False)
    assert other.computed == 0 and "another --method or --alpha" in other.warnings[0]


def test_failed_solve_is_a_row_not_a_crash(tmp_path):
    """A gap function that raises gives status rows; --retry-failed recomputes them."""
    systems = tiny_systems()[:1]
    out = tmp_path / "fail.csv"
    bad = make_tasks(systems, METHOD, report="liqstress.research.random_systems:no_such_function")
    summ = run_sweep(bad, out, workers=1, progress=False, plots=False)
    assert summ.failed == summ.computed == 2
    rows = read_rows(out)
    assert all(r["status"] == "error" and "no_such_function" in r["message"] for r in rows)
    assert all(math.isnan(r["v_opt"]) and r["certified"] is False for r in rows)
    good = make_tasks(systems, METHOD)
    assert run_sweep(good, out, workers=1, progress=False, plots=False).computed == 0  # keyed rows are kept
    fixed = run_sweep(good, out, workers=1, progress=False, plots=False, retry_failed=True)
    assert fixed.computed == 2 and fixed.failed == 0
    assert all(is_ok(r) for r in read_rows(out))


def test_parquet_output_and_resume(reference, tmp_path):
    _, ref = reference
    out = tmp_path / "gap.parquet"
    tasks = make_tasks(tiny_systems(), METHOD)
    run_sweep(tasks[:2], out, workers=1, progress=False, plots=False)
    summ = run_sweep(tasks, out, workers=1, progress=False, plots=False)
    assert (summ.skipped, summ.computed) == (2, 3)
    df = pd.read_parquet(out)
    assert list(df.columns) == COLUMNS
    pd.testing.assert_frame_equal(frame(df.to_dict("records")), frame(ref.rows), check_dtype=False)
    assert not (tmp_path / ".gap.parquet.journal.csv").exists()


def test_dask_local_cluster_equals_local_processes(reference, tmp_path):
    from dask.distributed import LocalCluster

    _, ref = reference
    tasks = make_tasks(tiny_systems(), METHOD)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        summ = run_sweep(tasks, tmp_path / "dask.csv", scheduler=cluster.scheduler_address, progress=False, plots=False)
    assert summ.computed == 5
    pd.testing.assert_frame_equal(frame(read_rows(tmp_path / "dask.csv")), frame(ref.rows))
    pool = run_sweep(tasks, tmp_path / "pool.csv", workers=2, progress=False, plots=False)
    pd.testing.assert_frame_equal(frame(pool.rows), frame(ref.rows))


def test_cli_sweep_gap_json_and_errors(tmp_path):
    out = tmp_path / "cli.csv"
    cmd = [sys.executable, "-m", "liqstress.cli", "sweep", "gap", "--systems", "1", "--banks", "2", "--seed", str(SEED),
           "--method", METHOD, "--workers", "1", "--no-progress", "-o", str(out), "--json"]
    # liqstress.cli has no __main__; use the console entry point's function
    cmd[1:3] = ["-c", "from liqstress.cli import main; main()"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["computed"] == 2 and doc["tasks"] == 2 and len(doc["plots"]) == 3
    assert len(pd.read_csv(out)) == 2
    bad = subprocess.run(cmd[:3] + ["sweep", "gap", "--systems", "1", "-o", str(tmp_path / "x.txt")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "-o" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run(cmd[:3] + ["sweep", "gap", "--systems", "1", "--method", "magic", "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--method" in bad.stderr


def test_systems_dir_uses_user_files(tmp_path):
    """--systems-dir: the system id is the file name, alpha can be overridden; a bad file
    is a one-line error naming it."""
    from liqstress.errors import InputError
    from liqstress.models.system import load_system
    from liqstress.research.gap_sweep import load_system_dir

    d = tmp_path / "systems"
    d.mkdir()
    src = Path(__file__).resolve().parents[1] / "examples" / "systems" / "two_banks.yaml"
    (d / "two.yaml").write_text(src.read_text())
    (d / "notes.txt").write_text("ignored")
    systems = load_system_dir(d)
    assert [sid for sid, _ in systems] == ["two.yaml"]
    summ = run_sweep(make_tasks(systems, METHOD, alpha=0.25), tmp_path / "u.csv", workers=1, progress=False, plots=False)
    rows = summ.rows
    assert [r["system_id"] for r in rows] == ["two.yaml", "two.yaml"]
    assert [r["bank"] for r in rows] == list(load_system(src).names)
    assert all(r["alpha"] == 0.25 and is_ok(r) for r in rows)
    (d / "broken.yaml").write_text("inverse_demand: {kind: linear, beta: 0.01}\nbanks: []\n")
    with pytest.raises(InputError) as err:
        load_system_dir(d)
    assert "broken.yaml" in str(err.value) and "banks" in str(err.value)
