"""Behavioural deposit segments: the distribution, its calibration text, file validation."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from liqstress.errors import InputError
from liqstress.models.stress_file import load_stress
from liqstress.stress import behavioural as bh
from liqstress.stress.scenarios import RunOffParams

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "examples/stress/midsize_bank.yaml"
SVB = ROOT / "examples/stress/svb_2023.yaml"


def _brute(dist: bh.RunDistribution, by_day: int, n: int = 400_000, seed: int = 11):
    """Independent simulation of the documented model (numpy's Beta sampler, explicit profile)."""
    rng = np.random.default_rng(seed)
    a, b = dist.beta_ab()
    R = rng.beta(a, b, n)
    S = rng.integers(1, dist.start_max + 1, n)
    D = rng.integers(dist.days[0], dist.days[1] + 1, n)
    f = dist.front_share
    done = np.where(by_day < S, 0.0, np.where(D == 1, 1.0, f + (1 - f) * np.minimum(by_day - S, D - 1) / np.maximum(D - 1, 1)))
    return R * done


def test_profile_matches_deterministic_runoff():
    for rate, days, front in [(0.3, 1, 0.0), (0.45, 120, 0.08), (0.1, 2, 0.5)]:
        p = RunOffParams(rate, days, front)
        for t in range(0, 130):
            got = rate * float(bh.cumulative_share(t, 1, days, front)) if t >= 1 else 0.0
            assert got == pytest.approx(p.cumulative(t), abs=1e-12)


def test_beta_moments_and_copula():
    d1 = bh.RunDistribution(mean=0.3, sd=0.1, days=[1, 1])
    d2 = bh.RunDistribution(mean=0.6, sd=0.2, days=[1, 1])
    for rho in (0.0, 1.0):
        dr = bh.draw([d1, d2], rho, 200_000, np.random.default_rng(1))
        assert dr[0].rate.mean() == pytest.approx(0.3, abs=2e-3)
        assert dr[0].rate.std() == pytest.approx(0.1, abs=2e-3)
        assert dr[1].rate.mean() == pytest.approx(0.6, abs=2e-3)
        r0, r1 = np.argsort(np.argsort(dr[0].rate)), np.argsort(np.argsort(dr[1].rate))
        rank_corr = np.corrcoef(r0, r1)[0, 1]
        assert rank_corr == pytest.approx(rho, abs=0.01)


def test_common_start_day_and_lengths():
    d1 = bh.RunDistribution(mean=0.3, sd=0.1, days=[3, 7], start_max=10)
    d2 = bh.RunDistribution(mean=0.3, sd=0.1, days=[2, 2], start_max=5)
    dr = bh.draw([d1, d2], 0.5, 50_000, np.random.default_rng(2))
    assert set(np.unique(dr[0].start)) == set(range(1, 11))
    assert set(np.unique(dr[1].days)) == {2}
    # one uniform per path: the start days are comonotone
    assert np.all(np.diff(dr[1].start[np.argsort(dr[0].start, kind="stable")]) >= 0)


def test_outflows_sum_to_rate_times_amount():
    d = bh.RunDistribution(mean=0.4, sd=0.1, days=[5, 20], front_share=0.3, start_max=4)
    dr = bh.draw([d], 0.0, 1000, np.random.default_rng(3))[0]
    out = bh.outflows(250.0, d, dr, 40)
    np.testing.assert_allclose(out.sum(axis=1), 250.0 * dr.rate, rtol=1e-12)
    assert (out >= -1e-12).all()
    first = out[np.arange(1000), dr.start - 1]
    np.testing.assert_allclose(first, 250.0 * dr.rate * np.where(dr.days > 1, 0.3, 1.0), rtol=1e-12)


@pytest.mark.parametrize("path", [MID, SVB])
def test_exact_probability_and_mean_against_simulation(path):
    stress = load_stress(path)
    rows = bh.calibration_rows(stress)
    assert rows
    for r in rows:
        sim = _brute(r.dist, r.days)
        assert r.mean_by_day == pytest.approx(sim.mean(), abs=2e-3)
        assert r.percentile / 100 == pytest.approx(np.mean(sim <= r.outflow), abs=4e-3)


SENTENCE = re.compile(
    r"^(?P<event>.+?)(?: \((?P<date>\d{4}-\d{2}-\d{2})\))?: (?P<approx>about )?(?P<fig>[\d.]+)% of (?P<base>.+) in "
    r"(?P<days>\d+) days? \(source: (?P<source>.+)\)\. Under the (?P<scen>\S+) parameters of this segment the mean "
    r"run-off by day (?P<days2>\d+) is (?P<mean>[\d.]+)% and a run-off of at most (?P<fig2>[\d.]+)% by then has "
    r"probability (?P<prob>[\d.]+)%, so the event lies at the (?P<pct>[\d.]+)th percentile, (?P<where>.+)\.$")


@pytest.mark.parametrize("path", [MID, SVB])
def test_calibration_text_states_its_own_numbers(path):
    """Every number of every calibration sentence is re-derived (the file's figure, an
    independent simulation of the model) and every qualitative word agrees with it."""
    stress = load_stress(path)
    doc = yaml.safe_load(Path(path).read_text())
    figures = {(seg["name"], c["event"]): c for seg in doc["behavioural"]["segments"] for c in seg.get("calibration", [])}
    for r in bh.calibration_rows(stress):
        text = bh.calibration_sentence(r)
        m = SENTENCE.match(text)
        assert m, text
        src = figures[(r.segment, r.event)]
        assert float(m["fig"]) == pytest.approx(100 * src["outflow"], abs=0.05) and m["fig"] == m["fig2"]
        assert int(m["days"]) == int(m["days2"]) == src["days"]
        assert m["scen"] == src["scenario"]
        assert (m["approx"] is not None) == src.get("approximate", True)
        assert m["source"] == src["source"]
        sim = _brute(bh.dist_for_key(next(s for s in stress.behavioural.segments if s.label == r.segment), stress,
                                     src["scenario"]), src["days"])
        assert float(m["mean"]) == pytest.approx(100 * sim.mean(), abs=0.3)
        p = 100 * np.mean(sim <= src["outflow"])
        assert float(m["prob"]) == pytest.approx(p, abs=0.5) and m["prob"] == m["pct"]
        pct = float(m["pct"])
        if pct > 95:
            assert m["where"].startswith("above the model's 95th percentile") and "more severe than this scenario" in m["where"]
        elif pct < 5:
            assert m["where"].startswith("below the model's 5th percentile") and "scenario is more severe" in m["where"]
        else:
            assert m["where"] == "within the model's central 90% band"


@pytest.mark.parametrize("path", [MID, SVB])
def test_distribution_descriptions_state_their_parameters(path):
    stress = load_stress(path)
    pat = re.compile(r"Beta run-off with mean ([\d.]+)% and sd ([\d.]+)% \(5th-95th percentile ([\d.]+)%-([\d.]+)%\)")
    for seg in stress.behavioural.segments:
        for s in stress.scenarios:
            dist, _ = bh.params_for(seg, stress, s.name)
            m = pat.search(bh.describe(dist))
            a, b = dist.beta_ab()
            sample = np.random.default_rng(5).beta(a, b, 400_000)
            assert float(m[1]) == pytest.approx(100 * dist.mean, abs=0.05)
            assert float(m[2]) == pytest.approx(100 * dist.sd, abs=0.05)
            assert float(m[3]) == pytest.approx(100 * np.quantile(sample, 0.05), abs=0.2)
            assert float(m[4]) == pytest.approx(100 * np.quantile(sample, 0.95), abs=0.2)


def test_combined_takes_the_more_severe_parameters():
    stress = load_stress(MID)
    for seg in stress.behavioural.segments:
        c, src = bh.params_for(seg, stress, "combined")
        a, b = seg.run_off["idiosyncratic"], seg.run_off["market_wide"]
        assert src.startswith("more severe")
        assert c.mean == max(a.mean, b.mean) and c.front_share == max(a.front_share, b.front_share)
        assert c.days == [min(a.days[0], b.days[0]), min(a.days[1], b.days[1])]
        assert c.start_max == min(a.start_max, b.start_max)
        assert c.sd == pytest.approx(max(a.sd, b.sd))


def _bad(mutate) -> str:
    doc = yaml.safe_load(MID.read_text())
    doc = copy.deepcopy(doc)
    mutate(doc)
    with pytest.raises(InputError) as err:
        load_stress(doc)
    return str(err.value)


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d["behavioural"]["segments"][0].update(liabilities=["nope"]), "behavioural.segments[0].liabilities"),
    (lambda d: d["behavioural"]["segments"][0].update(liabilities=["commercial_paper"]), "behavioural.segments[0].liabilities"),
    (lambda d: d["behavioural"]["segments"][1].update(liabilities=["retail_insured"]), "behavioural.segments[1].liabilities"),
    (lambda d: d["behavioural"]["segments"][0]["run_off"]["idiosyncratic"].update(sd=0.4), "behavioural.segments[0].run_off.idiosyncratic.sd"),
    (lambda d: d["behavioural"]["segments"][0]["run_off"]["idiosyncratic"].update(days=[10, 5]), "behavioural.segments[0].run_off.idiosyncratic.days"),
    (lambda d: d["behavioural"]["segments"][0]["run_off"].pop("market_wide"), "behavioural.segments[0].run_off"),
    (lambda d: d["behavioural"]["segments"][0]["run_off"].update(bogus={"mean": 0.1, "sd": 0.01, "days": [1, 2]}),
     "behavioural.segments[0].run_off.bogus"),
    (lambda d: d["behavioural"].update(correlation=1.5), "behavioural.correlation"),
    (lambda d: d["behavioural"]["segments"][0]["calibration"][0].update(outflow=16.8), "behavioural.segments[0].calibration[0].outflow"),
    (lambda d: d["behavioural"]["segments"][0]["calibration"][0].pop("source"), "behavioural.segments[0].calibration[0].source"),
])
def test_bad_behavioural_sections_name_the_field(mutate, field):
    msg = _bad(mutate)
    assert msg.split(":")[0] == field, msg


def test_cli_bad_file_one_line_exit_2(tmp_path):
    doc = yaml.safe_load(MID.read_text())
    doc["behavioural"]["segments"][2]["run_off"]["idiosyncratic"]["mean"] = 1.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    p = subprocess.run([sys.executable, "-m", "liqstress", "report", str(bad), "-o", str(tmp_path / "r.md")],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "behavioural.segments[2].run_off.idiosyncratic.mean" in p.stderr
