"""Consistent, honest command line (docs/model.md section 9): certification exit status 4,
the outer scheme no longer stalls on the bundled example, numbers printed as a user reads
them, provenance out of JSON strings, LF line endings, a self-contained HTML report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.cli._common import clean_number, fmt_days, fmt_number, fmt_percent, print_json, split_provenance
from liqstress.solvers.cbc import survival_text

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


# ----------------------------------------------------------------------------- certification
def test_bundled_example_certifies_alder():
    """``maximin examples/systems/eight_banks.yaml --bank Alder`` printed "NOT certified (status
    stalled)": Alder's worst case equals L_i on an interval, where the Lipschitz envelope alone
    needs cells of width tol / L_V.  With the cap max(L_i, c_i + x_i) it certifies (exit 0)."""
    r = runner.invoke(app, ["maximin", str(ROOT / "examples/systems/eight_banks.yaml"), "--bank", "Alder", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["certified"] is True and doc["status"] == "optimal"
    assert doc["value"] == pytest.approx(22.0, abs=1e-4)  # L_Alder: the bank always pays


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), alpha=st.floats(0, 1))
def test_value_cap_is_an_upper_bound_of_V(seed, alpha):
    """The cap of the outer envelope: V_i(x) <= max(L_i, c_i + x_i) for every x in the box
    (checked on exactly cleared random points of random systems, every bank)."""
    from original_systems import distressed

    from liqstress.solvers.clearing import ell
    from liqstress.solvers.original_batch import batch_values

    rng = np.random.default_rng(seed)
    sysm = distressed(int(rng.integers(0, 10**6)), int(rng.integers(2, 6)), ["linear", "exponential", "power"][seed % 3], alpha)
    e = ell(sysm)
    X = rng.random((64, sysm.n)) * e
    X[:4] = [np.zeros(sysm.n), e, e * 0.5, np.where(np.arange(sysm.n) % 2 == 0, e, 0.0)]
    V = batch_values(sysm, X)
    cap = np.maximum(sysm.L[None, :], sysm.c[None, :] + X)
    assert np.all(V <= cap + 1e-9 * np.maximum(1.0, cap))


def test_outer_refines_the_inner_gap_instead_of_stalling():
    """An inner solver that returns a valid but loose lower bound (5 tol below the value) makes
    the bounds stall at an evaluated point; the outer scheme then re-solves the inner problem
    there (``refine``) and certifies."""
    from original_systems import distressed

    from liqstress.solvers.clearing import ell
    from liqstress.solvers.original import _inner_global
    from liqstress.solvers.outer import certified_outer
    from liqstress.solvers.results import InnerResult

    sysm = distressed(7, 3, "exponential", 0.5)
    i, tol = 0, 1e-4
    e = ell(sysm)

    def loose(z):
        r = _inner_global(sysm, i, z, e, 1e-9, 60.0, False)
        return InnerResult(r.value, r.x, r.certified, r.solver, r.status, r.seconds, (r.gap or 0) + 5 * tol,
                           r.lower_bound - 5 * tol)

    def tight(z):
        return _inner_global(sysm, i, z, e, 1e-9, 60.0, False)

    seeds = np.array([e, np.zeros_like(e)])
    stalled = certified_outer(sysm, i, e, loose, tol, start=[0.3 * e[i]], seeds=seeds)
    fixed = certified_outer(sysm, i, e, loose, tol, start=[0.3 * e[i]], seeds=seeds, refine=tight)
    assert not stalled["certified"] and stalled["reason"] == "stalled"
    assert fixed["certified"] and fixed["upper"] - fixed["lower"] <= tol
    assert fixed["lower"] <= stalled["upper"] + 1e-9 and stalled["lower"] <= fixed["upper"] + 1e-9


def test_uncertified_exit_4_unless_allowed():
    sysf = str(ROOT / "examples/systems/two_banks.yaml")
    r = runner.invoke(app, ["maximin", sysf, "--bank", "B", "--method", "grid"])
    assert r.exit_code == 4 and "NOT certified" in r.stdout
    assert "--allow-uncertified" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(app, ["maximin", sysf, "--bank", "B", "--method", "grid", "--allow-uncertified"])
    assert r.exit_code == 0 and r.stderr == ""


# ----------------------------------------------------------------------------- numbers
def test_number_formatting():
    assert fmt_number(-4e-14) == "0" and fmt_number(-0.0) == "0" and fmt_number(1.23456789) == "1.23457"
    assert fmt_number(-1e-9) == "-1e-09" and fmt_number(None) == "-" and fmt_number(math.nan) == "n/a"
    assert clean_number(22.0 - 21.99999999999998, scale=22.0) == 0.0
    assert clean_number(3e-10, scale=1.0) == 3e-10
    assert fmt_percent(1.27776) == "127.8%" and fmt_percent(None) == "n/a" and fmt_percent(-1e-15) == "0.0%"
    assert fmt_days(365, 365) == ">= 365 (whole projection)" == survival_text(365, 365)
    assert fmt_days(87, 365) == "87" == survival_text(87, 365) and fmt_days(10, censored=True) == ">= 10 (whole projection)"


def test_print_json_cleans_round_off(capsys):
    print_json({"a": -0.0, "b": -4e-14, "c": [1e-13, 2.5], "d": float("nan"), "e": 1e-6})
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"a": 0.0, "b": 0.0, "c": [0.0, 2.5], "d": None, "e": 1e-6}
    assert not str(doc["a"]).startswith("-")


def test_split_provenance():
    text, tags = split_provenance("fails on day 88<sup>d</sup> (net outflow 1,234.5<sup>d</sup>, horizon 365<sup>i</sup>)")
    assert text == "fails on day 88 (net outflow 1,234.5, horizon 365)"
    assert tags == [{"value": "88", "tag": "d"}, {"value": "1,234.5", "tag": "d"}, {"value": "365", "tag": "i"}]


def test_report_json_html_and_table(tmp_path):
    out = tmp_path / "r.md"
    r = runner.invoke(app, ["report", str(ROOT / "examples/stress/midsize_bank.yaml"), "-o", str(out), "--no-reverse", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert "<sup>" not in r.stdout
    for sc in doc["scenarios"]:
        assert isinstance(sc["binding_constraint_provenance"], list)
        assert all(t["tag"] in ("i", "a", "d") for t in sc["binding_constraint_provenance"])
    assert doc["report"] == str(out) and all(Path(p).parent == tmp_path for p in doc["figures"])
    assert all(Path(p).exists() for p in doc["figures"])
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    # every figure of the Markdown is embedded: cash, CBC and tornado chart of each scenario
    n_img = out.read_text(encoding="utf-8").count("![")
    assert html.count("data:image/png;base64,") == n_img == 3 * len(doc["scenarios"])
    assert 'src="r_' not in html  # no image file referenced: one self-contained file
    assert not any(p.name.startswith(".liqstress-stage") for p in tmp_path.iterdir())


def test_network_convert_writes_lf_csv(tmp_path):
    bs, ex = tmp_path / "b.csv", tmp_path / "e.csv"
    r = runner.invoke(app, ["network", "convert", str(ROOT / "examples/systems/interbank_five.yaml"), "-o", f"{bs}:{ex}"])
    assert r.exit_code == 0, r.output
    for p in (bs, ex):
        data = p.read_bytes()
        assert b"\r\n" not in data and data.count(b"\n") >= 2
    back = tmp_path / "back.yaml"
    assert runner.invoke(app, ["network", "convert", f"{bs}:{ex}", "--out", str(back)]).exit_code == 0


def test_one_spelling_per_concept():
    """-o/--out for every output path, --inverse-demand for the inverse demand, no <bool>."""
    for cmd in (["figures"], ["pipeline"], ["report"], ["sweep", "gap"], ["network", "generate"], ["network", "convert"],
                ["firesale"]):
        h = runner.invoke(app, [*cmd, "--help"]).stdout
        assert "-o, --out" in h, cmd
        assert "--output" not in h and "<bool>" not in h, cmd
    for cmd in (["network", "debtrank"], ["network", "cascade"], ["network", "exante"]):
        h = runner.invoke(app, [*cmd, "--help"]).stdout
        assert "--json" in h and "<bool>" not in h and "BOOLEAN" not in h, cmd
    h = runner.invoke(app, ["sweep", "gap", "--help"]).stdout
    assert "--inverse-demand" in h and "--kind" not in h
    assert "--inverse-demand" in runner.invoke(app, ["network", "generate", "--help"]).stdout
