"""`liqstress robust` / `liqstress clear`: JSON contract of docs/model.md §9.3 and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples" / "systems"


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "liqstress", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_robust_json_contract():
    r = run("robust", EX / "eight_banks.yaml", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= {"Lambda", "banks"}
    assert len(doc["banks"]) == 8
    for b in doc["banks"]:
        assert set(b) == {"name", "ell", "alpha_bar", "strategy", "worst_case_others", "worst_case_value", "method"}
        assert b["method"] in ("closed form (10)", "closed form (11)")
        assert 0 <= b["strategy"] <= b["ell"] / 2 + 1e-12
    assert doc["Lambda"] == pytest.approx(sum(b["ell"] for b in doc["banks"]))


def test_robust_alpha_override_and_table():
    r0 = json.loads(run("robust", EX / "two_banks.yaml", "--alpha", "0", "--json").stdout)
    for b in r0["banks"]:
        assert b["strategy"] == pytest.approx(b["ell"] / 2)
    t = run("robust", EX / "two_banks.yaml")
    assert t.returncode == 0 and "strategy" in t.stdout and "A" in t.stdout


def test_clear_json_contract_and_payments():
    r = run("clear", EX / "eight_banks.yaml", "--early", "1,1,1,1,1,1,1,1", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"price_t1", "price_t2", "sales_t2", "values", "payments"}
    L = [b["liabilities"] for b in yaml.safe_load((EX / "eight_banks.yaml").read_text())["banks"]]
    assert np.allclose(doc["payments"], np.minimum(L, doc["values"]))
    assert 0 < doc["price_t2"] <= doc["price_t1"] <= 1


def test_clear_interbank_payments_are_en_vector():
    r = run("clear", EX / "interbank_five.yaml", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["payments"]) == 5


BASE = {
    "inverse_demand": {"kind": "linear", "beta": 0.05},
    "banks": [
        {"name": "A", "liquid": 1.0, "illiquid": 4.0, "liabilities": 3.2},
        {"name": "B", "liquid": 0.5, "illiquid": 5.0, "liabilities": 3.0},
    ],
}


def _bad(tmp_path, mutate, suffix=".yaml"):
    doc = json.loads(json.dumps(BASE))
    mutate(doc)
    p = tmp_path / f"sys{suffix}"
    p.write_text(json.dumps(doc) if suffix == ".json" else yaml.safe_dump(doc))
    return p


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda d: d["banks"].append(dict(d["banks"][0])), "duplicate bank name"),
        (lambda d: d["banks"][0].update(liquid=-1), "banks[0].liquid"),
        (lambda d: d["banks"][1].update(illiquid=float("nan")), "banks[1].illiquid"),
        (lambda d: d["banks"][1].update(liabilities=float("inf")), "banks[1].liabilities"),
        (lambda d: d.update(alpha=1.5), "alpha"),
        (lambda d: d.update(interbank=[{"debtor": "A", "creditor": "Z", "amount": 1}]), "unknown bank name 'Z'"),
        (lambda d: d.update(interbank=[{"debtor": "A", "creditor": "A", "amount": 1}]), "self-loop"),
        (lambda d: d.update(interbank=[{"debtor": "A", "creditor": "B", "amount": -1}]), "interbank[0].amount"),
        (lambda d: d.update(inverse_demand={"kind": "linear", "beta": 0.2}), "Assumption 4.1(iii)"),
        (lambda d: d.update(inverse_demand={"kind": "exponential", "beta": 0.2}), "Assumption 4.1(iii)"),
        (lambda d: d.update(inverse_demand={"kind": "power", "beta": 0.2, "gamma": 1.5}), "gamma"),
        (lambda d: d.update(inverse_demand={"kind": "cubic", "beta": 0.2}), "inverse_demand.kind"),
        (lambda d: d["banks"][0].update(colour="red"), "banks[0].colour"),
        (lambda d: d["banks"][0].pop("liquid"), "banks[0].liquid"),
    ],
)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_bad_input_exits_2_with_one_line(tmp_path, mutate, needle, suffix):
    p = _bad(tmp_path, mutate, suffix)
    r = run("robust", p, "--json")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize(
    "early, needle",
    [("1,2,3", "needs 2 values"), ("1,nan", "--early"), ("-1,0", "--early[A]"), ("1,x", "--early"), ("100,0", "cannot exceed")],
)
def test_clear_bad_early(early, needle):
    r = run("clear", EX / "two_banks.yaml", "--early", early, "--json")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr


def test_missing_file_and_unparsable(tmp_path):
    r = run("robust", tmp_path / "nope.yaml")
    assert r.returncode == 2 and "not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    p = tmp_path / "x.yaml"
    p.write_text("banks: [unclosed")
    r = run("robust", p)
    assert r.returncode == 2 and "cannot parse" in r.stderr
    p.write_text("- just\n- a list\n")
    r = run("robust", p)
    assert r.returncode == 2 and "mapping" in r.stderr


def test_alpha_with_interbank_is_the_unified_model():
    # formerly rejected ("interbank exposures are modelled with alpha = 0"): now the unified model
    r = run("clear", EX / "interbank_five.yaml", "--alpha", "0.5", "--early", "0.5,0.5,0.5,0.5,0.5", "--json")
    assert r.returncode == 0, r.stderr
    r = run("clear", EX / "interbank_five.yaml", "--alpha", "1.5", "--json")
    assert r.returncode == 2 and "alpha" in r.stderr
