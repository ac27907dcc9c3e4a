"""Banks with zero external (illiquid) assets: accepted wherever the maths allows.

A bank with s_i = 0 sells nothing at clearing (ell_i = 0); (4), (15), EN, RV, DebtRank and
the cascades are defined for it.  Checks: system files and neva files load, (15) equals the
plain monotone iteration of the joint map with such banks, (4) equals its scalar solver, and
the CLI commands run on such files.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.models.inverse_demand import Linear
from liqstress.models.system import System, load_system
from liqstress.networks.debtrank import debtrank
from liqstress.networks.io import read_neva_csv
from liqstress.networks.measures import eisenberg_noe, rogers_veraart
from liqstress.solvers.clearing import clear, ell, greatest_price

runner = CliRunner()


def _plain_joint_iteration(sysm: System, max_iter: int = 2_000_000):
    """(15) by its definition: monotone iteration of the joint map from (q, P) = (1, pbar)."""
    f, pbar, A = sysm.f, sysm.pbar, sysm.Pi.T.tocsr()
    cash, r = sysm.c, sysm.s
    q, P = 1.0, pbar.copy()
    for _ in range(max_iter):
        AP = A @ P
        y = np.minimum(np.maximum(pbar - cash - AP, 0.0) / q, r)
        qn = float(f(y.sum()))
        Pn = np.minimum(pbar, cash + AP + r * q)
        if abs(qn - q) <= 1e-16 and np.abs(Pn - P).max() <= 1e-16:
            break
        q, P = qn, Pn
    return q, P, y


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 20), st.floats(0.1, 0.7), st.floats(0.1, 0.9))
def test_joint_clearing_15_with_zero_illiquid_banks(seed, n, density, zero_share):
    rng = np.random.default_rng(seed)
    M = (rng.random((n, n)) < density) * rng.uniform(0.1, 3.0, (n, n))
    np.fill_diagonal(M, 0.0)
    if not M.any():
        M[0, 1] = 1.0
    b = rng.uniform(0.0, 3.0, n)
    c = rng.uniform(0, 1.5, n)
    s = rng.uniform(0.2, 4, n) * (rng.random(n) > zero_share)
    f = Linear(0.3 / max(s.sum(), 1.0))
    sysm = System.from_arrays(c, s, b, f, Lmat=M)
    cl = clear(sysm)
    q, P, y = _plain_joint_iteration(sysm)
    assert cl.price_t2 == pytest.approx(q, abs=1e-10)
    np.testing.assert_allclose(cl.payments, P, atol=1e-9 * max(1.0, sysm.pbar.max()))
    assert np.all(cl.sales_t2[s == 0] == 0.0)


def test_price_fixed_point_4_with_zero_illiquid_banks():
    c = np.array([0.2, 0.5, 0.1, 1.0])
    s = np.array([2.0, 0.0, 3.0, 0.0])
    L = np.array([1.5, 2.0, 1.0, 0.5])
    sysm = System.from_arrays(c, s, L, Linear(0.08))
    cl = clear(sysm)
    d = np.maximum(L - c, 0.0)
    p = greatest_price(d, s, 0.0, sysm.f)
    assert cl.price_t2 == p
    np.testing.assert_allclose(ell(sysm), np.minimum(d / p, s), atol=0)
    assert ell(sysm)[1] == 0.0 and ell(sysm)[3] == 0.0
    # everyone at zero: S = 0, no sale, price 1
    z = System.from_arrays(c, np.zeros(4), L, Linear(0.08))
    assert clear(z).price_t2 == 1.0 and not clear(z).sales_t2.any()


def _neva_pair(tmp_path, split: bool):
    bs = tmp_path / "bs.csv"
    ex = tmp_path / "ex.csv"
    if split:
        bs.write_text("bank_name,external_asset,external_liabilities,liquid,illiquid\n"
                      "A,10,9,1,9\nB,0,0.2,0,0\nC,3,2,3,0\n")
    else:
        bs.write_text("bank_name,external_asset,external_liabilities\nA,10,9\nB,0,0.2\nC,3,2\n")
    ex.write_text("lender,borrower,amount\nA,B,0.5\nB,C,0.5\nC,A,0.5\n")
    return bs, ex


@pytest.mark.parametrize("split", [False, True])
def test_neva_csv_with_zero_external_assets_loads_and_runs(tmp_path, split):
    bs, ex = _neva_pair(tmp_path, split)
    sysm = read_neva_csv(bs, ex)
    assert sysm.s[1] == 0.0 and sysm.c[1] == 0.0
    assert eisenberg_noe(sysm).payments.shape == (3,)
    assert rogers_veraart(sysm, 0.5, 0.5).payments.shape == (3,)
    assert debtrank(sysm, [0], variant="linear").h.shape == (3,)
    spec = f"{bs}:{ex}"
    for cmd in (["network", "stats", spec, "--json"], ["robust", spec, "--json"], ["clear", spec, "--json"]):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 0, (cmd, res.output)
        json.loads(res.stdout)


def test_all_zero_external_neva_pair(tmp_path):
    bs = tmp_path / "bs.csv"
    ex = tmp_path / "ex.csv"
    bs.write_text("bank_name,external_asset,external_liabilities\nA,0,0\nB,0,0\n")
    ex.write_text("lender,borrower,amount\nA,B,0.5\n")
    sysm = read_neva_csv(bs, ex)
    assert sysm.S == 0.0
    cl = clear(sysm)
    assert cl.price_t2 == 1.0
    np.testing.assert_allclose(cl.payments, [0.0, 0.0])  # B owes A 0.5 and has nothing to pay with
    assert sysm.pbar[1] == 0.5


def test_system_file_with_zero_illiquid(tmp_path):
    doc = {"inverse_demand": {"kind": "linear", "beta": 0.05}, "banks": [
        {"name": "A", "liquid": 1.0, "illiquid": 4.0, "liabilities": 3.2},
        {"name": "B", "liquid": 0.5, "illiquid": 0, "liabilities": 3.0}]}
    p = tmp_path / "s.json"
    p.write_text(json.dumps(doc))
    sysm = load_system(p)
    assert sysm.s[1] == 0.0
    doc["banks"][1]["illiquid"] = -1.0
    p.write_text(json.dumps(doc))
    res = runner.invoke(app, ["robust", str(p), "--json"])
    assert res.exit_code == 2 and "banks[1].illiquid" in res.output and "must be >= 0" in res.output
