"""NSFR (BCBS 295): hand-computed cases from the standard's factor tables, validation errors."""

from __future__ import annotations

import copy

import pytest

from liqstress.errors import InputError
from liqstress.models.stress_file import load_stress
from liqstress.stress.nsfr import compute_nsfr

BASE = {
    "name": "t", "opening_cash": 100.0, "horizon_days": 10,
    "liabilities": [{"id": "dep", "category": "retail_stable", "amount": 1000.0}],
    "scenarios": [{"name": "s", "type": "idiosyncratic", "run_off": {"retail_stable": {"rate": 0.1, "days": 10}}}],
    "cfp": {"triggers": [{"id": "t1", "indicator": "lcr", "op": "below", "level": 1.0, "phase": "crisis"}]},
}


def _file(nsfr: dict, **extra) -> dict:
    d = copy.deepcopy(BASE)
    d["nsfr"] = nsfr
    d.update(extra)
    return d


def test_hand_computed_nsfr():
    nsfr = {
        "funding": [
            {"id": "cet1", "category": "capital", "amount": 100},                        # 100% -> 100
            {"id": "st", "category": "retail_stable", "amount": 1000},                    # 95%  -> 950
            {"id": "ls", "category": "retail_less_stable", "amount": 500},                # 90%  -> 450
            {"id": "corp", "category": "wholesale_nonfinancial", "amount": 400},          # 50%  -> 200
            {"id": "fi_s", "category": "wholesale_financial", "amount": 300},             # 0%   -> 0
            {"id": "fi_m", "category": "wholesale_financial", "amount": 200, "maturity": "6m_1y"},  # 50% -> 100
            {"id": "bond", "category": "other_liabilities", "amount": 300, "maturity": "ge_1y"},    # 100% -> 300
        ],
        "assets": [
            {"id": "res", "category": "central_bank_reserves", "amount": 200},            # 0%  -> 0
            {"id": "l1", "category": "hqla_l1", "amount": 600},                            # 5%  -> 30
            {"id": "l2a", "category": "hqla_l2a", "amount": 200},                          # 15% -> 30
            {"id": "l2b", "category": "hqla_l2b", "amount": 100},                          # 50% -> 50
            {"id": "fi", "category": "loans_fi", "amount": 300},                           # 15% -> 45
            {"id": "mort", "category": "residential_mortgages_rw35", "amount": 1000, "maturity": "ge_1y"},  # 65% -> 650
            {"id": "corp", "category": "loans_other", "amount": 800, "maturity": "ge_1y"},  # 85% -> 680
            {"id": "short", "category": "loans_other", "amount": 200},                     # 50% -> 100
            {"id": "fixed", "category": "other_assets", "amount": 50},                     # 100% -> 50
        ],
        "derivatives": {"assets": 30, "liabilities": 10, "gross_liabilities": 100},      # 20 + 20% of 100 = 40
        "off_balance_sheet": [{"id": "undrawn", "category": "undrawn_committed_facilities", "amount": 1000}],  # 5% -> 50
    }
    r = compute_nsfr(load_stress(_file(nsfr)).nsfr)
    assert r.asf == pytest.approx(2100.0)
    assert r.rsf == pytest.approx(1725.0)
    assert r.ratio == pytest.approx(2100.0 / 1725.0)
    j = r.to_json()
    assert set(j) >= {"ratio", "asf", "rsf", "shortfall", "surplus", "binding_items", "asf_items", "rsf_items"}
    assert j["surplus"] == pytest.approx(375.0) and j["shortfall"] == 0.0
    assert [b["id"] for b in j["binding_items"][:2]] == ["corp", "mort"]
    assert j["rsf_by_category"]["loans_other"] == pytest.approx(780.0)


def test_encumbrance_override_and_currency():
    nsfr = {
        "funding": [{"id": "cap", "category": "capital", "amount": 500},
                    {"id": "eur_dep", "category": "retail_less_stable", "amount": 100, "currency": "EUR"}],  # 90% * 110
        "assets": [
            {"id": "l1_enc", "category": "hqla_l1", "amount": 100, "encumbrance": "ge_1y"},        # 100% -> 100
            {"id": "l2a_enc", "category": "hqla_l2a", "amount": 100, "encumbrance": "6m_1y"},      # max(15%,50%) -> 50
            {"id": "loan_enc", "category": "loans_other", "amount": 100, "maturity": "ge_1y",
             "encumbrance": "6m_1y"},                                                               # max(85%,50%) -> 85
            {"id": "l2b_short", "category": "hqla_l2b", "amount": 100, "encumbrance": "lt_6m"},    # as unencumbered 50
            {"id": "own", "category": "other_assets", "amount": 100, "factor": 0.3},               # override -> 30
        ],
    }
    s = load_stress(_file(nsfr, fx={"rates": {"EUR": 1.1}}))
    r = compute_nsfr(s.nsfr, {"USD": 1.0, "EUR": 1.1})
    assert r.asf == pytest.approx(500 + 0.9 * 110)
    assert r.rsf == pytest.approx(100 + 50 + 85 + 50 + 30)
    assert r.ratio == pytest.approx((500 + 0.9 * 110) / 315.0)
    assert r.to_json()["shortfall"] == pytest.approx(max(r.rsf - r.asf, 0.0))


def test_nsfr_without_required_funding_is_infinite_or_zero():
    r = compute_nsfr(load_stress(_file({"funding": [{"id": "c", "category": "capital", "amount": 10}]})).nsfr)
    assert r.rsf == 0.0 and r.ratio == float("inf")


@pytest.mark.parametrize("bad, field", [
    ({"funding": [{"id": "x", "category": "capital", "amount": -1}]}, "nsfr.funding[0].amount"),
    ({"assets": [{"id": "x", "category": "gold_bars", "amount": 1}]}, "nsfr.assets[0].category"),
    ({"assets": [{"id": "x", "category": "hqla_l1", "amount": 1, "factor": 1.5}]}, "nsfr.assets[0].factor"),
    ({"off_balance_sheet": [{"id": "x", "category": "other_contingent", "amount": 1}]}, "nsfr.off_balance_sheet[0].factor"),
])
def test_nsfr_validation_names_the_field(bad, field):
    with pytest.raises(InputError) as e:
        load_stress(_file(bad))
    assert str(e.value).startswith(field)
