"""``liqstress pipeline -o DIR --quick`` end to end, and per-step degradation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from liqstress.cli.pipeline import run_pipeline, step_robust, write_index
from liqstress.models.system import load_system
from liqstress.solvers.robust import robust_strategies

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pipeline_quick_end_to_end(tmp_path):
    out = tmp_path / "run"
    # a relative --out, as in the README's command 1
    res = subprocess.run(
        [sys.executable, "-c", "from liqstress.cli import main; main()", "pipeline", "--out", "run", "--quick"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    assert (out / "README.md").exists() and (out / "pipeline.json").exists()
    # the robust table is on stdout, and equals the closed form of Theorem 4.4
    assert "Robust early liquidation" in res.stdout and "Alder" in res.stdout
    doc = json.loads((out / "robust" / "robust.json").read_text())
    rob = robust_strategies(load_system(ROOT / "examples" / "systems" / "eight_banks.yaml"))
    assert [b["strategy"] for b in doc["banks"]] == pytest.approx(list(rob.strategy), rel=1e-12)
    assert len(pd.read_csv(out / "robust" / "robust.csv")) == 8
    gap = pd.read_csv(out / "gap" / "gap.csv")
    assert len(gap) >= 4 and (gap["method"].isin(["global", "local"])).all()
    assert not gap.loc[gap["method"] == "local", "certified"].any()  # a fallback is never certified
    assert list((out / "figures").glob("*.png"))
    cbc = json.loads((out / "cbc" / "plan.json").read_text())
    assert cbc["survival_days"] >= cbc["waterfall_survival_days"]
    for f in ("actions.csv", "deployment.csv", "chart.png"):
        assert (out / "cbc" / f).stat().st_size > 0
    assert (out / "stress" / "report.md").stat().st_size > 0
    assert "<html" in (out / "stress" / "report.html").read_text().lower()
    assert list((out / "stress").rglob("*.png"))
    index = (out / "README.md").read_text()
    summary = json.loads((out / "pipeline.json").read_text())
    assert all(s["ok"] for s in summary["steps"])
    for s in summary["steps"]:  # every listed output exists and is linked from the index
        for rel in s["outputs"]:
            assert (out / rel).exists(), rel
            assert f"({rel})" in index
    assert "all steps succeeded" in index


def test_failing_step_is_reported_and_others_run(tmp_path):
    def boom(out, quick, examples):
        raise RuntimeError("disk on fire")

    def missing(out, quick, examples):
        from liqstress.no_such_module import thing  # noqa: F401

    lines = []
    results = run_pipeline(tmp_path, True, steps=[("boom", boom), ("robust", step_robust), ("missing", missing)], echo=lines.append)
    assert [r.ok for r in results] == [False, True, False]
    assert "RuntimeError: disk on fire" in results[0].message
    assert "not available in this build" in results[2].message
    assert any("boom: FAILED" in ln for ln in lines) and any("robust: ok" in ln for ln in lines)
    assert (tmp_path / "logs" / "boom.traceback.txt").exists()
    index = write_index(tmp_path, results, 1.0, True).read_text()
    assert "2 step(s) FAILED: boom, missing" in index
    assert "(robust/robust.csv)" in index


CLI = [sys.executable, "-c", "from liqstress.cli import main; main()", "pipeline"]


def test_cli_exits_nonzero_when_a_step_fails(tmp_path):
    """Missing example files: each selected step fails with a one-line reason, exit 1."""
    out = tmp_path / "run"
    res = subprocess.run(CLI + ["--out", str(out), "--only", "robust,cbc", "--examples", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "robust: FAILED" in res.stdout and "cbc: FAILED" in res.stdout and "not found" in res.stdout
    assert "pipeline steps failed: robust, cbc" in res.stderr and "Traceback" not in res.stderr + res.stdout
    assert "2 step(s) FAILED" in (out / "README.md").read_text()


def test_cli_user_errors(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    res = subprocess.run(CLI + ["--out", str(f)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "--out" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run(CLI + ["--out", str(tmp_path / "o"), "--only", "robust,magic"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "magic" in res.stderr


def test_gap_step_falls_back_honestly(tmp_path):
    """When every global solve fails, the step recomputes with the local method, keeps the
    reason, and never marks the fallback rows as certified."""
    from liqstress.cli.pipeline import step_gap

    res = step_gap(tmp_path, False, systems=1, banks=2, report="liqstress.research.random_systems:no_such_function")
    assert res.ok and any("2 of 2 global solves failed" in w for w in res.warnings)
    gap = pd.read_csv(tmp_path / "gap" / "gap.csv")
    assert list(gap["method"]) == ["local", "local"] and list(gap["bank"]) == ["B1", "B2"]
    assert not gap["certified"].any() and (gap["status"] == "local_optimum").all()
    assert gap["message"].str.contains("global failed \\(error: AttributeError").all()
    assert res.key["certified"] == 0 and res.key["solved"] == 2
