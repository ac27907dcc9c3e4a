"""Monte Carlo survival distribution: exact per-path horizons (vs the LP), statistics,
reproducibility, the report's JSON contract."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan
from liqstress.stress import montecarlo as mc
from liqstress.stress.engine import build_plan
from liqstress.stress.projection import project
from liqstress.stress.scenarios import resolve
from tests.test_cbc_reduced import floored_plan

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "examples/stress/midsize_bank.yaml"
SVB = ROOT / "examples/stress/svb_2023.yaml"


@lru_cache(maxsize=None)
def _setup(path: str, scenario: str):
    stress = load_stress(path)
    res = resolve(stress, scenario)
    proj = project(stress, res)
    return stress, res, proj, build_plan(stress, res, proj)


def _lp(plan: CBCPlan, out: np.ndarray) -> int:
    return solve_plan(CBCPlan.from_dict({**plan.model_dump(), "net_outflows": out.tolist()}), formulation="full").survival_days


@pytest.mark.parametrize("path,scenario", [(MID, "idiosyncratic"), (MID, "market_wide"), (MID, "combined"),
                                           (SVB, "observed_march_2023"), (SVB, "design_idiosyncratic"), (SVB, "combined")])
def test_deterministic_path_equals_lp(path, scenario):
    stress, res, proj, plan = _setup(str(path), scenario)
    if path == MID:  # the midsize bank has a cash floor and collateral pledged to secured funding
        assert plan.minimum_balance == pytest.approx(400.0)
        assert any(a.encumbered > 0 for a in plan.assets)
    T, method, k = mc.survival_days(plan, proj.net_outflows[None, :])
    assert method.startswith("closed form") and k == 0
    assert T[0] == solve_plan(plan).survival_days == solve_plan(plan, formulation="full").survival_days
    if plan.minimum_balance > 0:  # the floor counts: without it the horizon can only be longer
        free = CBCPlan.from_dict({**plan.model_dump(), "minimum_balance": 0.0})
        assert mc.survival_days(free, proj.net_outflows[None, :])[0][0] == solve_plan(free, formulation="full").survival_days >= T[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_random_plans_with_floor_and_encumbrance_equal_lp_per_path(seed):
    """Random plans with a cash floor, encumbered units, term repos (rolled or repaid),
    price-impact tranches, facilities and closures; random outflow paths: the Monte Carlo's
    per-path horizon (closed form, or bounds + LP) equals the full LP of that path."""
    p = floored_plan(seed)
    plan = CBCPlan.from_dict(p)
    rng = np.random.default_rng([seed, 2])
    H = plan.horizon_days
    outs = np.asarray(p["net_outflows"])[None, :] * rng.uniform(0.3, 2.0, size=(6, 1)) + rng.uniform(-2, 4, size=(6, H))
    T, method, _ = mc.survival_days(plan, outs.round(3))
    for k in range(len(outs)):
        assert T[k] == _lp(plan, outs[k].round(3)), (method, k)


def test_paths_equal_lp_on_a_sample():
    """Exact per-path survival (Proposition 2) against the full LP on paths spread over the
    distribution of the midsize bank's combined scenario."""
    stress, res, proj, plan = _setup(str(MID), "combined")
    outs = mc.path_outflows(stress, res, proj, 400, np.random.default_rng(7))
    T, _, _ = mc.survival_days(plan, outs)
    order = np.argsort(T, kind="stable")
    pick = order[np.linspace(0, len(T) - 1, 12).astype(int)]
    assert len(set(T[pick])) >= 5
    for k in pick:
        assert T[k] == _lp(plan, outs[k])


def test_term_repos_without_rollover_use_bounds_and_lp():
    """A repo that must be repaid: closed-form bounds per path, the LP where they differ;
    every path checked against the full LP."""
    doc = yaml.safe_load(SVB.read_text())
    for a in doc["cbc"]:
        if a["id"] == "loans_fhlb_pledge":
            a["repo_term_days"] = 14
    stress = load_stress(doc)
    res = resolve(stress, "design_idiosyncratic")
    proj = project(stress, res)
    plan = build_plan(stress, res, proj)
    outs = mc.path_outflows(stress, res, proj, 40, np.random.default_rng(3))
    outs[:20] *= np.linspace(1.0, 3.0, 20)[:, None]  # heavier runs: some paths fail inside the horizon
    T, method, k = mc.survival_days(plan, outs)
    assert method.startswith("closed-form bounds") and k > 0
    for i in range(len(outs)):
        assert T[i] == _lp(plan, outs[i])


def test_statistics_definitions():
    stress, res, proj, plan = _setup(str(MID), "idiosyncratic")
    r = mc.run(stress, res, proj, plan, paths=3000, seed=1)
    T = r.survival
    for key, q in mc.QUANTILES.items():
        v = r.percentiles[key]
        assert np.mean(T <= v) >= q and np.mean(T < v) < q
    assert r.breach_probability == pytest.approx(np.mean(T < r.internal_minimum))
    assert r.breach_se == pytest.approx(np.sqrt(r.breach_probability * (1 - r.breach_probability) / 3000))
    assert r.censored_share == pytest.approx(np.mean(T == r.horizon_days))
    assert T.min() >= 0 and T.max() <= r.horizon_days
    assert r.deterministic_days == solve_plan(plan).survival_days


def test_seed_reproducible_and_batch_independent():
    stress, res, proj, plan = _setup(str(MID), "combined")
    a = mc.run(stress, res, proj, plan, paths=2500, seed=4)
    b = mc.run(stress, res, proj, plan, paths=2500, seed=4)
    c = mc.run(stress, res, proj, plan, paths=2500, seed=5)
    np.testing.assert_array_equal(a.survival, b.survival)
    assert not np.array_equal(a.survival, c.survival)
    # the first 1000 paths do not depend on how many paths are drawn
    d = mc.run(stress, res, proj, plan, paths=1000, seed=4)
    np.testing.assert_array_equal(a.survival[:1000], d.survival)


def test_segment_lines_replaced_others_kept():
    stress, res, proj, plan = _setup(str(MID), "idiosyncratic")
    outs = mc.path_outflows(stress, res, proj, 50, np.random.default_rng(0))
    seg_ids = {i for s in stress.behavioural.segments for i in s.liabilities}
    amount = sum(x.amount for x in stress.liabilities if x.id in seg_ids)
    base = proj.net_outflows - mc.deterministic_segment_outflows(stress, res)
    extra = (outs - base[None, :]).sum(axis=1)
    assert (extra >= 0).all() and (extra <= amount + 1e-6).all()


def test_report_json_contract_and_seed(tmp_path):
    def run(seed: int, name: str) -> dict:
        p = subprocess.run([sys.executable, "-m", "liqstress", "report", str(SVB), "-o", str(tmp_path / name),
                            "--json", "--no-reverse", "--no-sensitivities", "--paths", "1500", "--seed", str(seed)],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    a, b, c = run(9, "a.md"), run(9, "b.md"), run(10, "c.md")
    for s in a["scenarios"]:
        assert set(s["survival_percentiles"]) == {"p5", "p50", "p95"}
        v = s["survival_percentiles"]
        assert 0 <= v["p5"] <= v["p50"] <= v["p95"] <= s["horizon_days"]
        assert 0.0 <= s["breach_probability"] <= 1.0
        assert s["monte_carlo"]["paths"] == 1500 and s["monte_carlo"]["seed"] == 9
        assert s["monte_carlo"]["deterministic_survival_days"] == s["survival_days"]
    key = lambda d: [(s["survival_percentiles"], s["breach_probability"], s["monte_carlo"]["mean_survival_days"])  # noqa: E731
                     for s in d["scenarios"]]
    assert key(a) == key(b)
    assert key(a) != key(c)
    text = (tmp_path / "a.md").read_text()
    assert "### Survival distribution (Monte Carlo)" in text and "# Behavioural Deposit Model" in text
    assert "- Confidence for observed_march_2023: in 1,500" in text


def test_file_without_behavioural_section_gives_nulls(tmp_path):
    doc = yaml.safe_load(SVB.read_text())
    doc.pop("behavioural")
    f = tmp_path / "plain.yaml"
    f.write_text(yaml.safe_dump(copy.deepcopy(doc)))
    p = subprocess.run([sys.executable, "-m", "liqstress", "report", str(f), "-o", str(tmp_path / "p.md"), "--json", "--no-sensitivities",
                        "--no-reverse"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    for s in json.loads(p.stdout)["scenarios"]:
        assert s["survival_percentiles"] is None and s["breach_probability"] is None
    assert "no behavioural deposit model" in (tmp_path / "p.md").read_text()


def test_bad_paths_option(tmp_path):
    p = subprocess.run([sys.executable, "-m", "liqstress", "report", str(SVB), "-o", str(tmp_path / "x.md"),
                        "--paths", "-3"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("liqstress: --paths:")


def test_progress_ticks_once_per_batch_and_is_counted_in_the_report_work():
    """The Monte Carlo ticks the report's shared progress bar (``cli._common.progress``) once
    per batch, and ``work_units`` counts those ticks."""
    from liqstress.reports.data import mc_batches, work_units

    stress, res, proj, plan = _setup(str(MID), "market_wide")
    ticks = []
    mc.run(stress, res, proj, plan, paths=2500, seed=0, progress=lambda: ticks.append(1))
    assert len(ticks) == 3 == mc_batches(stress, 2500)
    n = len(stress.scenarios)
    assert work_units(stress, False, False, paths=2500) - work_units(stress, False, False, paths=0) == 3 * n


def test_multi_currency_file_runs_on_the_all_currency_view():
    """A segment of EUR deposits in a USD-reporting file: the Monte Carlo runs on the file the
    scenario ran on (all currencies at the scenario's stressed rates, cash floor included); its
    deterministic path gives the report's LP horizon and the segment balance is in USD."""
    from liqstress.stress import fx
    from liqstress.stress.engine import analyse

    doc = yaml.safe_load((ROOT / "examples/stress/two_currency_bank.yaml").read_text())
    doc.update(minimum_operational_cash=100.0, intraday_liquidity_requirement=50.0)
    doc["behavioural"] = {"correlation": 0.5, "segments": [
        {"id": "eur_corporate", "liabilities": ["corporate_eur"], "channel": "concentrated", "run_off": {
            "idiosyncratic": {"mean": 0.5, "sd": 0.15, "days": [5, 40], "front_share": 0.2},
            "market_wide": {"mean": 0.3, "sd": 0.1, "days": [20, 60], "start_max": 10}}}]}
    stress = load_stress(doc)
    for name in ("market_wide", "combined"):
        sa = analyse(stress, name)
        agg = fx.aggregate(stress, name)
        r = mc.run(agg, sa.res, sa.proj, sa.plan, paths=300, seed=1)
        assert sa.plan.minimum_balance == pytest.approx(150.0)
        assert r.deterministic_days == sa.lp.survival_days
        rate = fx.fx_scenario(stress, name).rates["EUR"]
        assert r.segments[0][1] == pytest.approx(1500.0 * rate)
        outs = mc.path_outflows(agg, sa.res, sa.proj, 8, np.random.default_rng(2))
        T, _, _ = mc.survival_days(sa.plan, outs)
        for k in range(len(outs)):
            assert T[k] == _lp(sa.plan, outs[k])
