"""``liqstress network debtrank | cascade | exante``: JSON contracts and one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from liqstress.cli import app

runner = CliRunner()


@pytest.fixture
def issue_pair(tmp_path):
    # the issue's four banks: liquid 0.2, illiquid 1.8, equity 1; A owes B 0.5 and C 0.2,
    # B owes D 0.4, D owes C 0.5 (external liabilities make every equity 1)
    (tmp_path / "bs.csv").write_text("bank_name,external_asset,external_liabilities,liquid,illiquid\n"
                                     "A,2,0.3,0.2,1.8\nB,2,1.1,0.2,1.8\nC,2,1.7,0.2,1.8\nD,2,0.9,0.2,1.8\n")
    (tmp_path / "ex.csv").write_text("lender,borrower,amount\nB,A,0.5\nC,A,0.2\nD,B,0.4\nC,D,0.5\n")
    return f"{tmp_path / 'bs.csv'}:{tmp_path / 'ex.csv'}"


def test_debtrank_json_contract(issue_pair):
    r = runner.invoke(app, ["network", "debtrank", issue_pair, "--shock", "A=1", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["debtrank"] == pytest.approx(0.264583, abs=5e-7)
    assert doc["h"] == pytest.approx([1.0, 0.5, 0.3, 0.2], abs=1e-15)
    assert doc["rounds"] == 3
    for variant in ("linear", "differential"):
        r = runner.invoke(app, ["network", "debtrank", issue_pair, "--shock", "A", "--variant", variant, "--json"])
        assert r.exit_code == 0 and json.loads(r.stdout)["debtrank"] == pytest.approx(0.264583, abs=5e-7)


def test_debtrank_scenarios_weights_equity(issue_pair, tmp_path):
    (tmp_path / "sc.yaml").write_text("onlyA: {A: 1}\nAB: {A: 0.5, B: 0.5}\n")
    (tmp_path / "eq.yaml").write_text("{A: 0.5, B: 0.5, C: 0.5, D: 0.5}\n")
    r = runner.invoke(app, ["network", "debtrank", issue_pair, "--scenarios", str(tmp_path / "sc.yaml"),
                            "--equity", str(tmp_path / "eq.yaml"), "--weights", "equal", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)["scenarios"]
    assert set(doc) == {"onlyA", "AB"}
    assert doc["onlyA"]["debtrank"] == pytest.approx((1.0 + 1.0 + 0.8) / 4, abs=1e-15)


def test_cascade_and_exante(issue_pair):
    r = runner.invoke(app, ["network", "cascade", issue_pair, "--shock", "A", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["defaulted"] == ["A"] and doc["default_round"] == [0, -1, -1, -1]
    r = runner.invoke(app, ["network", "cascade", issue_pair, "--shock", "A=1", "--model", "recovery", "--recovery", "0.5", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["model"] == "recovery"
    r = runner.invoke(app, ["network", "exante", issue_pair, "--all", "0.5", "--sigma-equity", "0.2", "--recovery", "0.6", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [b["name"] for b in doc["banks"]] == list("ABCD")
    assert all(b["equity"] <= b["equity_direct"] + 1e-15 for b in doc["banks"])


@pytest.mark.parametrize("args, needle", [
    (["network", "debtrank", "{p}", "--shock", "A=2"], "shock[A]"),
    (["network", "debtrank", "{p}", "--shock", "Z=1"], "unknown bank name 'Z'"),
    (["network", "debtrank", "{p}", "--shock", "A=x"], "--shock"),
    (["network", "debtrank", "{p}"], "--shock"),
    (["network", "debtrank", "{p}", "--shock", "A", "--variant", "quadratic"], "variant"),
    (["network", "cascade", "{p}", "--shock", "A", "--model", "domino"], "--model"),
    (["network", "cascade", "{p}", "--shock", "A", "--lgd", "1.5"], "lgd"),
    (["network", "exante", "{p}", "--all", "0.5"], "sigma"),
    (["network", "exante", "{p}", "--all", "0.5", "--sigma", "0.2", "--model", "kmv"], "model"),
])
def test_measure_errors_one_line_exit_2(issue_pair, args, needle):
    r = runner.invoke(app, [a.format(p=issue_pair) for a in args])
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1
