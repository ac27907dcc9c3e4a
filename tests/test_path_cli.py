"""``liqstress path``: alpha grid parsing, the JSON contract, exit codes 2 and 4, the figure,
and the numbers against independent computations (closed forms, certified (7), docs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.errors import InputError
from liqstress.models.system import load_system
from liqstress.research.unified_study import unified_random_system
from liqstress.solvers.alpha_path import alpha_path, parse_alphas
from liqstress.solvers.clearing import clear
from liqstress.solvers.robust import robust_strategies

EX = Path(__file__).resolve().parents[1] / "examples" / "systems"
ROW_KEYS = {"alpha", "robust_strategy", "v_rob", "opt_strategy", "v_opt", "regret", "certified"}
runner = CliRunner()


def test_parse_alphas_grids_and_lists():
    np.testing.assert_allclose(parse_alphas("0:1:21"), np.linspace(0, 1, 21))
    np.testing.assert_allclose(parse_alphas("0.2:0.4:3"), [0.2, 0.3, 0.4])
    np.testing.assert_allclose(parse_alphas("0, 0.5,1"), [0, 0.5, 1])
    np.testing.assert_allclose(parse_alphas("0.3:0.3:1"), [0.3])


@pytest.mark.parametrize("text,needle", [
    ("0:1", "start:stop:count"), ("a:1:3", "numbers"), ("0:1:x", "integer"), ("0:1:0", "between"),
    ("0:2:3", "[0, 1]"), ("-0.1,0.5", "[0, 1]"), ("", "empty"), ("0,nan", "finite"), ("0:1:2:3", "start:stop:count"),
    ("0,zero", "comma"), ("0.2:0.4:1", "start == stop"),
])
def test_parse_alphas_rejects_malformed_grids(text, needle):
    with pytest.raises(InputError) as err:
        parse_alphas(text)
    assert err.value.field == "--alphas" and needle in str(err.value)


def _invoke(args):
    return runner.invoke(app, [str(a) for a in args])


def test_path_json_contract_and_numbers():
    """four_banks_exp.yaml, Dominant: at alpha = 0 the robust strategy is ell/2 = 4 and the
    certified optimum of (7) sells 3.4215 with regret 0.0292 (docs/maximin.md); at alpha = 1
    the two coincide.  Every row's robust strategy is the closed form of Theorem 4.4."""
    r = _invoke(["path", EX / "four_banks_exp.yaml", "--bank", "Dominant", "--alphas", "0,1", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["bank"] == "Dominant" and len(doc["rows"]) == 2
    assert doc["alpha_bar"] == pytest.approx(1 - doc["ell"] / doc["Lambda"])
    sysm = load_system(EX / "four_banks_exp.yaml")
    for row in doc["rows"]:
        assert ROW_KEYS <= set(row)
        assert row["certified"] is True and row["status"] == "optimal"
        assert row["regret"] == pytest.approx(row["v_opt"] - row["v_rob"], abs=1e-15)
        assert row["regret"] >= -1e-4
        rob = robust_strategies(sysm, row["alpha"])
        assert row["robust_strategy"] == rob.strategy[0] == row["formula_4_4"]
        assert row["vt"] == pytest.approx(rob.worst_case_value[0], abs=1e-12)
        # the reported values are exact V_0 at some point, and v_rob >= min(vt, L) (Prop 4.3)
        assert row["v_rob"] >= min(row["vt"], 6.5) - 1e-7
    r0, r1 = doc["rows"]
    assert r0["robust_strategy"] == pytest.approx(4.0) and r0["robust_method"] == "closed form (10)"
    assert r0["opt_strategy"] == pytest.approx(3.4215, abs=2e-3)
    assert r0["regret"] == pytest.approx(0.0292, abs=2e-4)
    assert r1["regret"] == pytest.approx(0.0, abs=1e-4)
    assert r1["robust_method"] == "closed form (11)"


def test_path_unified_numeric_row_and_plot(tmp_path):
    f = tmp_path / "u3.yaml"
    unified_random_system(0, 3, "linear", 0.0).save(f)
    png = tmp_path / "path.png"
    r = _invoke(["path", f, "--bank", "B1", "--alphas", "0.5:0.5:1", "--plot", png, "--json"])
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)["rows"][0]
    assert row["robust_method"] == "numeric (SCIP certified)" and row["certified"]
    assert row["robust_strategy"] != pytest.approx(row["formula_4_4"], abs=1e-3)
    assert row["regret"] >= -1e-4
    pbar = float(load_system(f).pbar[0])
    assert row["v_rob"] >= min(row["vt"], pbar) - 1e-7  # validity of the unified relaxation
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    r = _invoke(["path", f, "--bank", "B1", "--alphas", "0.5:0.5:1"])
    assert r.exit_code == 0 and "numeric (SCIP certified)" in r.stdout and "certified" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["--bank", "Nope"], "unknown bank name"),
    (["--bank", "Dominant", "--alphas", "0:1"], "--alphas"),
    (["--bank", "Dominant", "--alphas", "0,1.5"], "[0, 1]"),
    (["--bank", "Dominant", "--plot", "out.txt"], "--plot"),
    (["--bank", "Dominant", "--plot", "/no/such/dir/p.png"], "directory"),
    (["--bank", "Dominant", "--tol", "0"], "--tol"),
])
def test_path_bad_input_exit_2(args, needle):
    r = _invoke(["path", EX / "four_banks_exp.yaml", *args])
    assert r.exit_code == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_path_uncertified_rows_exit_4_unless_allowed():
    base = ["path", EX / "four_banks_fig43.yaml", "--bank", "Small1", "--alphas", "0.5", "--time-limit", "0.001"]
    r = _invoke(base + ["--json"])
    assert r.exit_code == 4
    assert "not certified" in r.stderr and "--allow-uncertified" in r.stderr
    doc = json.loads(r.stdout)  # the results are still written
    assert doc["rows"][0]["certified"] is False and doc["rows"][0]["status"]
    r = _invoke(base + ["--json", "--allow-uncertified"])
    assert r.exit_code == 0 and json.loads(r.stdout)["rows"][0]["certified"] is False


def test_alpha_path_api_reclears_its_values():
    sysm = load_system(EX / "four_banks_fig43.yaml")
    doc = alpha_path(sysm, "Small1", [0.0, 1.0])
    for row in doc["rows"]:
        assert row["certified"]
        # Small1 sells everything (ell = s): the relaxation is exact, robust = optimal (regret 0)
        assert doc["ell"] == pytest.approx(float(sysm.s[1]))
        assert row["regret"] == pytest.approx(0.0, abs=1e-4)
        assert row["conservatism"] == pytest.approx(0.0, abs=1e-7)
        x = np.zeros(4)
        x[1] = row["robust_strategy"]
        assert row["v_rob"] <= float(clear(sysm.with_alpha(row["alpha"]), x).values[1]) + 1e-12  # a min over x_-i
