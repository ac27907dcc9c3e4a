"""Combined scenario = overlay: the more severe value of each parameter, never an average."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqstress.errors import InputError
from liqstress.models.stress_file import load_stress
from liqstress.stress.projection import project, runoff_daily
from liqstress.stress.scenarios import RunOffParams, resolve, scaled

from test_stress_lcr import MINI


def _doc(idio: dict, market: dict) -> dict:
    doc = copy.deepcopy(MINI)
    doc["scenarios"] = [
        {"name": "idio", "type": "idiosyncratic", **idio},
        {"name": "mkt", "type": "market_wide", **market},
        {"name": "comb", "type": "combined", "overlay_of": ["idio", "mkt"]},
    ]
    return doc


runoff = st.fixed_dictionaries({"rate": st.floats(0, 1, allow_subnormal=False), "days": st.integers(1, 60), "front_share": st.floats(0, 1, allow_subnormal=False)})
rate = st.floats(0, 0.9, allow_subnormal=False)


@st.composite
def scenario_params(draw):
    return {
        "run_off": {"retail_stable": draw(runoff), "corporate_nonoperational": draw(runoff)},
        "rollover": {"unsecured_wholesale": draw(st.floats(0, 1, allow_subnormal=False))},
        "inflow_haircut": {"corporate_loan": draw(st.floats(0, 1, allow_subnormal=False))},
        "sale_discount_add": draw(st.dictionaries(st.sampled_from(["L1", "L2A", "L2B", "rmbs"]), rate, max_size=3)),
        "repo_haircut_add": draw(st.dictionaries(st.sampled_from(["L2A", "L2B", "ust"]), rate, max_size=3)),
        "capacity_factor": draw(st.dictionaries(st.sampled_from(["L2A", "L2B", "gse"]), st.floats(0.05, 1, allow_subnormal=False), max_size=3)),
        "closed_sale": draw(st.lists(st.sampled_from(["L2B", "corpb"]), max_size=2, unique=True)),
        "rating_downgrade_notches": draw(st.integers(0, 4)),
    }


@settings(max_examples=60, deadline=None)
@given(scenario_params(), scenario_params())
def test_combined_is_parameterwise_most_severe(pi, pm):
    s = load_stress(_doc(pi, pm))
    a, b, c = (resolve(s, n) for n in ("idio", "mkt", "comb"))
    for k in c.run_off:
        x, y, z = a.run_off[k], b.run_off[k], c.run_off[k]
        assert z.rate == max(x.rate, y.rate)
        assert z.days == min(x.days, y.days)
        assert z.front_share == max(x.front_share, y.front_share)
        # never an average (when the two differ)
        if x.rate != y.rate:
            assert z.rate > (x.rate + y.rate) / 2
    assert c.rollover["unsecured_wholesale"] == min(a.rollover["unsecured_wholesale"], b.rollover["unsecured_wholesale"])
    assert c.inflow_haircut["corporate_loan"] == max(a.inflow_haircut["corporate_loan"], b.inflow_haircut["corporate_loan"])
    for i in c.sale_discount_add:
        assert c.sale_discount_add[i] == max(a.sale_discount_add[i], b.sale_discount_add[i])
        assert c.repo_haircut_add[i] == max(a.repo_haircut_add[i], b.repo_haircut_add[i])
        assert c.capacity_factor[i] == min(a.capacity_factor[i], b.capacity_factor[i])
    assert c.closed_sale == a.closed_sale | b.closed_sale
    assert c.rating_notches == max(a.rating_notches, b.rating_notches)
    # the combined cumulative net outflow dominates both components on every day
    cum = {r.name: np.cumsum(project(s, r).net_outflows) for r in (a, b, c)}
    assert np.all(cum["comb"] >= cum["idio"] - 1e-9)
    assert np.all(cum["comb"] >= cum["mkt"] - 1e-9)


def test_level_and_asset_keys_take_the_more_severe():
    doc = _doc({"run_off": {"retail_stable": {"rate": 0.1, "days": 5}, "corporate_nonoperational": {"rate": 0.1, "days": 5}},
                "rollover": {"unsecured_wholesale": 0.5}, "inflow_haircut": {"corporate_loan": 0.1},
                "sale_discount_add": {"L2B": 0.05, "rmbs": 0.02}, "capacity_factor": {"L2B": 0.5, "rmbs": 0.8}},
               {"run_off": {"retail_stable": {"rate": 0.1, "days": 5}, "corporate_nonoperational": {"rate": 0.1, "days": 5}},
                "rollover": {"unsecured_wholesale": 0.5}, "inflow_haircut": {"corporate_loan": 0.1}})
    r = resolve(load_stress(doc), "idio")
    assert r.sale_discount_add["rmbs"] == 0.05 and r.sale_discount_add["corpb"] == 0.05
    assert r.capacity_factor["rmbs"] == 0.5


@settings(max_examples=100, deadline=None)
@given(st.floats(0, 1, allow_subnormal=False), st.integers(1, 40), st.floats(0, 1, allow_subnormal=False), st.floats(0, 1, allow_subnormal=False), st.integers(1, 40), st.floats(0, 1, allow_subnormal=False))
def test_runoff_cumulative_monotone_in_severity(r1, d1, f1, r2, d2, f2):
    a, b = RunOffParams(r1, d1, f1), RunOffParams(r2, d2, f2)
    c = RunOffParams(max(r1, r2), min(d1, d2), max(f1, f2))
    ca, cb, cc = (np.cumsum(runoff_daily(100.0, p, 60)) for p in (a, b, c))
    assert np.all(cc >= np.maximum(ca, cb) - 1e-9)
    for t in (1, 5, 30, 60):
        assert cc[t - 1] == pytest.approx(100.0 * c.cumulative(t))


def test_examples_combined_no_longer_than_components():
    from liqstress.stress.engine import survival_only

    s = load_stress("examples/stress/midsize_bank.yaml")
    h = {n: survival_only(s, n, 1.0) for n in ("idiosyncratic", "market_wide", "combined")}
    assert h["combined"] <= min(h["idiosyncratic"], h["market_wide"])


def test_combined_with_own_parameters_is_rejected():
    doc = _doc({"run_off": {"retail_stable": {"rate": 0.1, "days": 5}, "corporate_nonoperational": {"rate": 0.1, "days": 5}},
                "rollover": {"unsecured_wholesale": 0.5}, "inflow_haircut": {"corporate_loan": 0.1}},
               {"run_off": {"retail_stable": {"rate": 0.1, "days": 5}, "corporate_nonoperational": {"rate": 0.1, "days": 5}},
                "rollover": {"unsecured_wholesale": 0.5}, "inflow_haircut": {"corporate_loan": 0.1}})
    doc["scenarios"][2]["run_off"] = {"retail_stable": {"rate": 0.05, "days": 5}}
    with pytest.raises(InputError, match="overlay"):
        load_stress(doc)
    doc["scenarios"][2].pop("run_off")
    doc["scenarios"][2]["overlay_of"] = ["idio", "idio"]
    with pytest.raises(InputError, match="one idiosyncratic and one market_wide"):
        load_stress(doc)


def test_scaled_is_monotone():
    s = load_stress("examples/stress/midsize_bank.yaml")
    r = resolve(s, "combined")
    prev = None
    for m in (0.0, 0.5, 1.0, 1.5, 3.0):
        cum = np.cumsum(project(s, scaled(r, m)).net_outflows)
        if prev is not None:
            assert np.all(cum >= prev - 1e-9)
        prev = cum
