"""``liqstress cbc``: JSON contract (docs/model.md §9.3), outputs, and bad input -> exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from liqstress.models.cbc_plan import CBCPlan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plans" / "treasury_plan.yaml"


def run(*args, cwd=None):
    cmd = [sys.executable, "-c", "from liqstress.cli import main; main()", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)


SMALL = {
    "horizon_days": 4,
    "opening_cash": 0.0,
    "net_outflows": [0, 5, 5, 8],
    "assets": [{"id": "ust", "level": "L1", "amount": 100, "sale_discount": 0.0, "repo_haircut": 0.02,
                "daily_capacity": 6, "settlement_days": 1, "sale": True, "repo": True}],
}


def write(tmp_path, doc, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return p


def test_json_contract(tmp_path):
    p = write(tmp_path, SMALL)
    r = run("cbc", p, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert doc["survival_days"] == 4 and doc["waterfall_survival_days"] == 4
    assert isinstance(doc["plan"], list) and doc["plan"]
    for a in doc["plan"]:
        assert set(a) == {"day", "asset", "action", "amount", "cash"}
        assert a["action"] in ("sell", "repo") and isinstance(a["day"], int)
    # the plan's cash covers the outflows: replay docs/model.md §6.3 from the JSON alone
    cash = [0.0] * 10
    for a in doc["plan"]:
        cash[a["day"] + 1] += a["cash"]
        assert a["cash"] == pytest.approx(a["amount"] * (1.0 if a["action"] == "sell" else 0.98))
    B = 0.0
    for t in range(1, 5):
        B += cash[t] - SMALL["net_outflows"][t - 1]
        assert B >= -1e-7
    assert doc["status"] == "optimal" and "solver" in doc and "seconds" in doc


def test_json_file_and_milp(tmp_path):
    p = write(tmp_path, dict(SMALL, net_outflows=[0, 5, 5, 8.01]), "plan.json")
    for method in ("bisection", "milp"):
        r = run("cbc", p, "--json", "--method", method)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["survival_days"] == 3


def test_example_outputs(tmp_path):
    csv, dep, png = tmp_path / "plan.csv", tmp_path / "dep.csv", tmp_path / "chart.png"
    r = run("cbc", EXAMPLE, "--csv", csv, "--deployment-csv", dep, "--chart", png)
    assert r.returncode == 0, r.stderr
    assert "survival_days" in r.stdout and "waterfall" in r.stdout
    assert csv.read_text().splitlines()[0] == "day,asset,action,amount,cash"
    assert dep.read_text().splitlines()[0].startswith("day,available,deployed,returned,remaining")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r2 = run("cbc", EXAMPLE, "--json", "--scenario", "combined")
    doc = json.loads(r2.stdout)
    assert doc["scenario"] == "combined" and doc["survival_days"] >= doc["waterfall_survival_days"]


BAD = [
    (lambda d: d["assets"][0].update(amount=-1), "assets[0].amount"),
    (lambda d: d["assets"][0].update(repo_haircut=1.0), "assets[0].repo_haircut"),
    (lambda d: d["assets"][0].update(sale_discount=-0.1), "assets[0].sale_discount"),
    (lambda d: d.update(net_outflows=[1, 2, 3]), "net_outflows"),
    (lambda d: d["assets"][0].update(level="L3"), "assets[0].level"),
    (lambda d: d["assets"].append(dict(d["assets"][0])), "assets[1].id"),
    (lambda d: d["assets"][0].update(daily_capacity=float("nan")), "assets[0].daily_capacity"),
    (lambda d: d.update(net_outflows=[0, float("nan"), 5, 8]), "net_outflows[1]"),
    (lambda d: d["assets"][0].update(colour="red"), "assets[0].colour"),
    (lambda d: d.pop("opening_cash"), "opening_cash"),
    (lambda d: d.update(horizon_days=0), "horizon_days"),
    (lambda d: d["assets"][0].update(closed_days=[9]), "assets[0].closed_days"),
    (lambda d: d.update(facilities=[{"id": "f", "amount": 1, "haircut": 1.5}]), "facilities[0].haircut"),
    (lambda d: d.update(management_actions=[{"id": "ust", "amount": 1}]), "management_actions[0].id"),
    (lambda d: d["assets"][0].update(price_impact={"kind": "linear", "beta": 1.0}), "assets[0].price_impact"),
]


@pytest.mark.parametrize("mutate,field", BAD, ids=[b[1] for b in BAD])
def test_bad_input_exit_2(tmp_path, mutate, field):
    import copy

    doc = copy.deepcopy(SMALL)
    mutate(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))  # json.dumps writes NaN, which json.loads reads back
    r = run("cbc", p, "--json")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert field in lines[0], lines[0]
    assert r.stdout == ""


def test_bad_cli_options(tmp_path):
    p = write(tmp_path, SMALL)
    r = run("cbc", p, "--method", "simplex")
    assert r.returncode == 2 and "--method" in r.stderr
    r = run("cbc", tmp_path / "missing.yaml")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "broken.yaml").write_text("horizon_days: [1,\n")
    r = run("cbc", tmp_path / "broken.yaml")
    assert r.returncode == 2 and r.stderr.startswith("liqstress: file:")
    r = run("cbc", p, "--scenario", "nope")
    assert r.returncode == 2 and "--scenario" in r.stderr


def test_stress_file_needs_scenario(tmp_path):
    p = write(tmp_path, {"scenarios": [{"name": "idiosyncratic"}]}, "stress.yaml")
    r = run("cbc", p, "--json")
    assert r.returncode == 2 and "--scenario" in r.stderr and "idiosyncratic" in r.stderr


def test_plan_model_roundtrip():
    cp = CBCPlan.from_file(EXAMPLE)
    again = CBCPlan.model_validate(cp.model_dump())
    assert again == cp
    assert cp.with_scenario("combined").effective_sale_discount(cp.assets[4]) == pytest.approx(0.2 + 0.15)
