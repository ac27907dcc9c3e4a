"""`liqstress maximin` / `liqstress gap`: JSON contract of docs/model.md §9.3, exit codes 2 and 3."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from original_systems import distressed
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.solvers.clearing import clear

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "systems"
KEYS = {"strategy", "value", "worst_case_others", "certified", "solver", "seconds"}
runner = CliRunner()


@pytest.fixture(scope="module")
def sysfile(tmp_path_factory):
    p = tmp_path_factory.mktemp("sys") / "three.json"
    distressed(4, 3, "exponential", 0.5).save(p)
    return p


def _json(args):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_maximin_original_global_json(sysfile):
    doc = _json(["maximin", sysfile, "--bank", "B1", "--problem", "original", "--method", "global", "--json"])
    assert KEYS <= set(doc) <= KEYS | {"status", "tolerance"}
    assert doc["certified"] is True and len(doc["worst_case_others"]) == 2
    x = np.array([doc["strategy"], *doc["worst_case_others"]])
    from liqstress.models.system import load_system

    assert doc["value"] == pytest.approx(float(clear(load_system(sysfile), x).values[0]), abs=1e-10)


@pytest.mark.parametrize("method", ["local", "grid"])
def test_maximin_original_other_methods(sysfile, method):
    """local and grid never certify: exit 4 (JSON still printed, one line on stderr) unless
    --allow-uncertified (docs/model.md, "Exit statuses")."""
    args = ["maximin", str(sysfile), "--bank", "B1", "--method", method, "--alpha", "0", "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 4
    assert json.loads(r.stdout)["certified"] is False
    assert len(r.stderr.strip().splitlines()) == 1 and "--allow-uncertified" in r.stderr
    doc = _json([*args, "--allow-uncertified"])
    assert KEYS <= set(doc) and doc["certified"] is False


def test_maximin_readable_and_gap(sysfile):
    r = runner.invoke(app, ["maximin", str(sysfile), "--bank", "B1"])
    assert r.exit_code == 0 and "strategy" in r.stdout and "certified" in r.stdout
    doc = _json(["gap", sysfile, "--bank", "B1", "--json"])
    assert {"v_opt", "v_rob", "vt", "regret", "conservatism", "certified"} <= set(doc)
    assert doc["regret"] == pytest.approx(doc["v_opt"] - doc["v_rob"], abs=1e-9)
    assert doc["conservatism"] == pytest.approx(doc["v_rob"] - doc["vt"], abs=1e-9)  # round-off is printed as 0


def test_bad_input_exit_2(sysfile):
    for args in (["--bank", "Nope"], ["--bank", "B1", "--problem", "tight"], ["--bank", "B1", "--method", "magic"]):
        r = runner.invoke(app, ["maximin", str(sysfile), *args, "--json"])
        assert r.exit_code == 2
        assert r.stdout == ""


def test_exit_codes_subprocess(sysfile):
    env = dict(os.environ, MPLBACKEND="Agg")
    base = [sys.executable, "-m", "liqstress", "maximin", str(sysfile)]
    r = subprocess.run(base + ["--bank", "Nope", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Nope" in r.stderr
    # an impossible time limit: SCIP stops before any incumbent -> solver failure, exit 3
    r = subprocess.run(base + ["--bank", "B1", "--time-limit", "0.00001", "--engine", "scip", "--json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 3 and "status" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # the separable engine always has an attained point: an uncertified result, exit 4
    r = subprocess.run(base + ["--bank", "B1", "--time-limit", "0.00001", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 4 and "time limit" in r.stderr and len(r.stderr.strip().splitlines()) == 1
