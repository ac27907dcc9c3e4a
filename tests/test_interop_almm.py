"""EBA ALMM C 66.01 maturity ladder: time bands, and reconciliation with the daily series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqstress.models.stress_file import load_stress
from liqstress.stress import almm
from liqstress.stress.engine import analyse

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "examples/stress/midsize_bank.yaml"
TWO = ROOT / "examples/stress/two_currency_bank.yaml"


def test_bands_are_the_template_columns_and_partition_the_days():
    codes = [c for c, *_ in almm.BANDS]
    assert codes == ["0020"] + [f"{k:04d}" for k in range(30, 230, 10)]  # overnight, then 0030..0220
    assert almm.BANDS[0][1] == "Overnight" and almm.BANDS[-1][1] == "Greater than 5 years"
    assert almm.BANDS[0][2] == 1
    for (_, _, a0, b0), (_, _, a1, b1) in zip(almm.BANDS, almm.BANDS[1:]):
        assert a1 == b0 + 1 and b1 >= a1
    # 30 days, 1 year, 2 years and 5 years end bands
    ends = {lab: b for _, lab, _, b in almm.BANDS}
    assert ends["Greater than 3 weeks up to 30 days"] == 30
    assert ends["Greater than 9 months up to 12 months"] == 365
    assert ends["Greater than 2 years up to 5 years"] == 1825


@pytest.fixture(scope="module")
def combined():
    s = load_stress(MID)
    a = analyse(s, "combined")
    return s, a, almm.ladder(s, a.proj, a.plan, a.lp, "USD")


def _row(df, basis, item):
    r = df[(df["basis"] == basis) & (df["item"] == item)]
    assert len(r) == 1, item
    return r.iloc[0]


def test_stressed_ladder_reconciles_with_the_daily_series(combined):
    s, a, df = combined
    daily = a.proj.daily
    H = len(daily)
    # independent bucketing: loop over days
    exp_out = np.zeros(len(almm.BANDS))
    exp_in = np.zeros(len(almm.BANDS))
    for d in range(1, H + 1):
        k = next(i for i, (_, _, lo, hi) in enumerate(almm.BANDS) if lo <= d <= hi)
        exp_out[k] += daily["outflows"].iloc[d - 1]
        exp_in[k] += daily["inflows"].iloc[d - 1]
    got_out = _row(df, "stressed", "Total outflows")[almm.BAND_COLUMNS].to_numpy(float)
    got_in = _row(df, "stressed", "Total inflows")[almm.BAND_COLUMNS].to_numpy(float)
    np.testing.assert_allclose(got_out, exp_out, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got_in, exp_in, rtol=1e-12, atol=1e-9)
    # cumulated gap at each band end = cumulative net position of the daily series
    cum = _row(df, "stressed", "Cumulated net contractual gap")[almm.BAND_COLUMNS].to_numpy(float)
    ends = [min(b, H) for _, _, _, b in almm.BANDS]
    np.testing.assert_allclose(cum, daily["cumulative_net"].to_numpy()[np.array(ends) - 1], atol=1e-6)
    # cash balance = opening + cumulated gap + cash raised - repaid, and = the LP balance
    raised = np.cumsum(_row(df, "stressed", "Cash raised from counterbalancing capacity")[almm.BAND_COLUMNS].to_numpy(float))
    repaid = np.cumsum(_row(df, "stressed", "Repaid at repo maturity")[almm.BAND_COLUMNS].to_numpy(float))
    bal = _row(df, "stressed", "Cash balance at band end")[almm.BAND_COLUMNS].to_numpy(float)
    inside = np.array([lo <= H for _, _, lo, _ in almm.BANDS])
    np.testing.assert_allclose(bal[inside], (s.opening_cash + cum + raised - repaid)[inside], atol=1e-6)
    np.testing.assert_allclose(bal[inside], a.lp.balances[np.array(ends)[inside] - 1], atol=1e-6)
    assert np.isnan(bal[~inside]).all()
    # CBC used over all bands = value deployed by the LP plan
    cbc_rows = df[(df["basis"] == "stressed") & df["row"].isin(["0750", "0820", "0860", "0920", "1000"])]
    used = -cbc_rows[almm.BAND_COLUMNS].to_numpy(float).sum()
    assert used == pytest.approx(float(a.lp.deployment["deployed"].sum()), rel=1e-9, abs=1e-6)


def test_contractual_ladder_totals(combined):
    s, a, df = combined
    tot = _row(df, "contractual", "Total outflows")[almm.BAND_COLUMNS].to_numpy(float)
    open_ = sum(l.amount for l in s.liabilities if l.maturities is None)
    mats = sum(m.amount for l in s.liabilities if l.maturities for m in l.maturities)
    flows = sum(f.amount * len(range(f.day, s.horizon_days + 1, f.repeat_days or 10 ** 6))
                for f in s.flows if f.direction == "outflow")
    assert tot.sum() == pytest.approx(open_ + mats + flows)
    assert tot[0] >= open_  # open-maturity balances are overnight
    dep = _row(df, "contractual", "Liabilities resulting from deposits")
    assert dep["0020 Overnight"] == pytest.approx(sum(l.amount for l in s.liabilities if l.category in (
        "retail_stable", "retail_less_stable", "retail_digital", "operational", "corporate_nonoperational",
        "uninsured_deposits", "financial_institution") and l.maturities is None))
    sec = _row(df, "contractual", "Liabilities resulting from secured lending and capital market driven transactions")
    assert sec["0030 Greater than overnight up to 2 days"] == pytest.approx(500.0)  # repo_ust matures day 2
    assert sec["0090 Greater than 7 days up to 2 weeks"] == pytest.approx(300.0)  # and day 9
    cbc = _row(df, "contractual", "Cumulated counterbalancing capacity")
    assert cbc[almm.INITIAL] == pytest.approx(cbc["0220 Greater than 5 years"])


def test_scenario_ladders_per_significant_currency():
    s = load_stress(TWO)
    a = analyse(s, "market_wide")
    df = almm.scenario_ladders(s, a, "market_wide")
    assert list(dict.fromkeys(df["currency"])) == ["ALL", "USD", "EUR"]
    eur = df[(df["currency"] == "EUR") & (df["basis"] == "contractual")]
    ecp = eur[eur["row"] == "1.1"].iloc[0]
    assert ecp["0080 Greater than 6 days up to 7 days"] == pytest.approx(200.0)  # EUR 200M ECP due on day 7
    assert ecp["0100 Greater than 2 weeks up to 3 weeks"] == pytest.approx(200.0)  # day 21
    assert ecp["0130 Greater than 5 weeks up to 2 months"] == pytest.approx(200.0)  # day 45
