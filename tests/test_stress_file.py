"""Stress file validation: pydantic, extra=forbid, one-line InputError naming the dotted field."""

from __future__ import annotations

import copy

import pytest

from liqstress.errors import InputError
from liqstress.models.stress_file import load_stress

from test_stress_lcr import MINI


@pytest.mark.parametrize("mutate, field, rule", [
    (lambda d: d["scenarios"][0]["run_off"]["retail_stable"].__setitem__("rate", 1.5),
     "scenarios[0].run_off.retail_stable.rate", "[0, 1]"),
    (lambda d: d["cbc"][1].__setitem__("repo_haircut", 1.2), "cbc[1].repo_haircut", "[0, 1)"),
    (lambda d: d["liabilities"][0].__setitem__("colour", "red"), "liabilities[0].colour", "unknown field"),
    (lambda d: d.__setitem__("extra_key", 1), "extra_key", "unknown field"),
    (lambda d: d["scenarios"][0]["run_off"].pop("retail_stable"), "scenarios[0].run_off", "missing category 'retail_stable'"),
    (lambda d: d["scenarios"][0]["rollover"].pop("unsecured_wholesale"), "scenarios[0].rollover", "missing category"),
    (lambda d: d["scenarios"][0]["inflow_haircut"].pop("corporate_loan"), "scenarios[0].inflow_haircut", "missing flow kind"),
    (lambda d: d["scenarios"][0]["sale_discount_add"].__setitem__("gold", 0.1), "scenarios[0].sale_discount_add.gold", "not a level"),
    (lambda d: d["liabilities"][0].__setitem__("category", "retail_magic"), "liabilities[0].category", "retail_stable"),
    (lambda d: d.pop("cfp"), "cfp", "is required"),
    (lambda d: d["lcr"]["l2b_haircuts"].__setitem__("rmbs", 0.1), "lcr.l2b_haircuts", "[0.25, 0.50]"),
    (lambda d: d["liabilities"][2]["maturities"][0].__setitem__("amount", 1000.0), "liabilities[2]", "maturities sum"),
    (lambda d: d["flows"][0].__setitem__("date", "2026-01-01"), "flows[0]", "exactly one of day or date"),
])
def test_bad_input_names_field(mutate, field, rule):
    doc = copy.deepcopy(MINI)
    mutate(doc)
    with pytest.raises(InputError) as ei:
        load_stress(doc)
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(field), msg
    assert rule in msg, msg


def test_examples_load():
    for p in ("examples/stress/midsize_bank.yaml", "examples/stress/svb_2023.yaml"):
        s = load_stress(p)
        assert {x.type for x in s.scenarios} == {"idiosyncratic", "market_wide", "combined"}


def test_cbc_entries_are_cbc_plan_assets():
    from liqstress.models.cbc_plan import AssetLine
    from liqstress.models.stress_file import CBCAsset

    assert CBCAsset is AssetLine
    s = load_stress(MINI)
    assert isinstance(s.cbc[0], AssetLine)
