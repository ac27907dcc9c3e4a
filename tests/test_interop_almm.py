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
    H = s.horizon_days
    tot = _row(df, "contractual", "Total outflows")[almm.BAND_COLUMNS].to_numpy(float)
    open_ = sum(l.amount for l in s.liabilities if l.maturities is None)
    mats = sum(m.amount for l in s.liabilities if l.maturities for m in l.maturities)
    # dated outflows: every `repeat_days` from `day` up to `until_day` (the horizon if not given)
    flows = sum(f.amount * len(range(f.day, min(H, f.until_day or H) + 1, f.repeat_days or 10 ** 6))
                for f in s.flows if f.direction == "outflow")
    assert tot.sum() == pytest.approx(open_ + mats + flows)
    assert tot[0] >= open_  # open-maturity balances are overnight
    dep = _row(df, "contractual", "Liabilities resulting from deposits")
    assert dep["0020 Overnight"] == pytest.approx(sum(l.amount for l in s.liabilities if l.category in (
        "retail_stable", "retail_less_stable", "retail_digital", "operational", "corporate_nonoperational",
        "uninsured_deposits", "financial_institution") and l.maturities is None))
    sec = _row(df, "contractual", "Liabilities resulting from secured lending and capital market driven transactions")
    assert sec["0030 Greater than overnight up to 2 days"] == pytest.approx(500.0)  # repo_ust matures day 2
    # days 8-14: repo_ust 300 and repo_gse 300 on day 9, repo_rmbs 200 on day 14
    assert sec["0090 Greater than 7 days up to 2 weeks"] == pytest.approx(300.0 + 300.0 + 200.0)
    assert sec["0100 Greater than 2 weeks up to 3 weeks"] == pytest.approx(150.0)  # repo_corporates, day 21
    assert sec["0110 Greater than 3 weeks up to 30 days"] == pytest.approx(200.0)  # central-bank operation, day 25


def test_contractual_cbc_holds_unencumbered_units_and_gets_pledged_collateral_back(combined):
    """Hand computation from examples/stress/midsize_bank.yaml: free units = amount - units pledged
    to linked secured funding, valued at the best of (1 - sale_discount) and (1 - repo_haircut);
    each linked line returns its pledged units pro rata to the amount repaid, in the band of the
    maturity day."""
    s, a, df = combined
    c = df[df["basis"] == "contractual"].set_index("row")
    l1 = c.loc["0750"]
    assert l1[almm.INITIAL] == pytest.approx((6316 - 816) * 0.995)  # ust, 816 pledged to repo_ust
    assert l1["0030 Greater than overnight up to 2 days"] == pytest.approx(816 * 500 / 800 * 0.995)  # day 2
    assert l1["0090 Greater than 7 days up to 2 weeks"] == pytest.approx(816 * 300 / 800 * 0.995)  # day 9
    l2a = c.loc["0820"]
    assert l2a[almm.INITIAL] == pytest.approx((2820 - 320) * 0.97 + (1220 - 220) * 0.96)
    assert l2a["0090 Greater than 7 days up to 2 weeks"] == pytest.approx(320 * 0.97)  # repo_gse, day 9
    assert l2a["0110 Greater than 3 weeks up to 30 days"] == pytest.approx(220 * 0.96)  # central bank, day 25
    l2b = c.loc["0860"]
    assert l2b[almm.INITIAL] == pytest.approx((1450 - 250) * 0.92 + (1000 - 200) * 0.90 + 300 * 0.88)  # equities: sale only
    assert l2b["0090 Greater than 7 days up to 2 weeks"] == pytest.approx(250 * 0.92)  # repo_rmbs, day 14
    assert l2b["0100 Greater than 2 weeks up to 3 weeks"] == pytest.approx(200 * 0.90)  # repo_corporates, day 21
    assert c.loc["0920"][almm.INITIAL] == pytest.approx(700 * 0.85)
    assert c.loc["0740"][almm.INITIAL] == pytest.approx(4000.0) and c.loc["1000"][almm.INITIAL] == pytest.approx(500.0)
    cum = c.loc["1080"]
    total0 = sum(c.loc[k][almm.INITIAL] for k in ("0740", "0750", "0820", "0860", "0920", "1000"))
    assert cum[almm.INITIAL] == pytest.approx(total0)
    # every linked line is repaid in full by day 25: from band 0110 on, the CBC holds every unit
    everything = (4000 + 6316 * 0.995 + 2820 * 0.97 + 1220 * 0.96 + 1450 * 0.92 + 1000 * 0.90 + 300 * 0.88
                  + 700 * 0.85 + 500)
    assert cum["0100 Greater than 2 weeks up to 3 weeks"] < everything - 200
    for col in almm.BAND_COLUMNS[almm.BAND_COLUMNS.index("0110 Greater than 3 weeks up to 30 days"):]:
        assert cum[col] == pytest.approx(everything)
    # the survival floor: a memorandum row in both ladders, and the stressed cash balance stays at
    # or above it at every band end inside the survival horizon
    floor = _row(df, "contractual", "Survival floor kept in cash (minimum operational cash + intraday liquidity requirement)")
    assert floor[almm.INITIAL] == pytest.approx(150 + 250)
    bal = _row(df, "stressed", "Cash balance at band end")[almm.BAND_COLUMNS].to_numpy(float)
    ends = np.array([b for *_, b in almm.BANDS])
    inside = ends <= a.lp.survival_days
    assert inside.sum() >= 5 and (bal[inside] >= 400 - 1e-6).all()


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
