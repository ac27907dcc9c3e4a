"""Multi-asset fire sales: the clearing (4) with a vector of prices, GLT and Cont–Schaanning rounds.

Independent checks: the single-asset case against the scalar solver of (4)
(``greatest_price``) and ``clear``; the greatest fixed point for two assets by nested scalar
solves (bisection on each price); the deleveraging rounds against plain-python loops
written here from the papers' rules; the first round of GLT against their closed-form
aggregate vulnerability (Greenwood, Landier and Thesmar 2015, eq. for AV) for small shocks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, Linear, Power
from liqstress.models.multi_asset import MultiAssetSystem, multi_asset_from_dict
from liqstress.models.system import System
from liqstress.solvers.clearing import clear, greatest_price
from liqstress.solvers.multi_asset import clear_multi, deleverage, glt_aggregate_vulnerability

runner = CliRunner()


# ----------------------------------------------------------------------------- single asset = (4)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 30), kind=st.sampled_from(["linear", "exponential", "power"]),
       early=st.booleans(), alpha=st.floats(0.0, 1.0))
def test_single_asset_reproduces_4(seed, n, kind, early, alpha):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 2, n)
    s = rng.uniform(0, 5, n) * (rng.random(n) > 0.1)
    L = rng.uniform(0, 6, n)
    S = max(s.sum(), 1e-9)
    f = {"linear": Linear(rng.uniform(0.01, 0.499) / S), "exponential": Exponential(rng.uniform(0.01, 0.99) / S),
         "power": Power(rng.uniform(0.1, 3.0) / S, rng.uniform(0.2, 1.0))}[kind]
    sysm = System.from_arrays(c, s, L, f, alpha=alpha)
    x = rng.uniform(0, 1, n) * s if early else np.zeros(n)
    ref = clear(sysm, x)
    ms = MultiAssetSystem.from_system(sysm)
    got = clear_multi(ms, x[:, None])
    X = x.sum()
    d = np.maximum(L - (c + x * f(X)), 0.0)
    p = greatest_price(d, s - x, alpha * X, f)
    assert got.price_t2[0] == pytest.approx(p, rel=1e-13, abs=1e-15)
    assert got.price_t2[0] == pytest.approx(ref.price_t2, rel=1e-13, abs=1e-15)
    assert got.price_t1[0] == ref.price_t1
    np.testing.assert_allclose(got.sales_t2[:, 0], ref.sales_t2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.values, ref.values, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- K prices
def _greatest_2d(d, R, fs):
    """Greatest fixed point of the two-price map by nested scalar solves: for each p1,
    p2(p1) is the greatest root of p2 = Phi_2(p1, p2) (bisection on the monotone map), then the
    greatest p1 with p1 = Phi_1(p1, p2(p1)) by scanning down from 1 and bisecting."""
    def phi(p):
        val = R @ p
        th = np.where(val > 0, np.minimum(1.0, d / np.where(val > 0, val, 1.0)), 0.0)
        u = th @ R
        return np.array([fs[0](u[0]), fs[1](u[1])])

    def greatest_root(g):  # greatest t in [0, 1] with g(t) = t, g increasing, g(1) <= 1
        ts = np.linspace(1.0, 0.0, 201)
        for a, b in zip(ts[:-1], ts[1:]):
            if g(b) - b >= 0:  # crossing in [b, a]
                lo, hi = b, a
                for _ in range(60):
                    mid = 0.5 * (lo + hi)
                    if g(mid) - mid >= 0:
                        lo = mid
                    else:
                        hi = mid
                return lo
        return 0.0

    def p2_of(p1):
        return greatest_root(lambda t: phi(np.array([p1, t]))[1])

    p1 = greatest_root(lambda t: phi(np.array([t, p2_of(t)]))[0])
    return np.array([p1, p2_of(p1)])


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 6))
def test_two_asset_greatest_fixed_point_nested_scalar(seed, n):
    rng = np.random.default_rng(seed)
    H = rng.uniform(0, 4, (n, 2))
    S = H.sum(axis=0)
    fs = [Linear(rng.uniform(0.05, 0.45) / S[0]), Exponential(rng.uniform(0.05, 0.9) / S[1])]
    ms = MultiAssetSystem.from_arrays(rng.uniform(0, 1, n), rng.uniform(0, 6, n), H, fs)
    res = clear_multi(ms)
    d = np.maximum(ms.L - ms.c, 0.0)
    ref = _greatest_2d(d, H, fs)
    np.testing.assert_allclose(res.price_t2, ref, atol=1e-9)
    # pro rata: each bank sells the same fraction of every asset, and only what it needs
    val = H @ res.price_t2
    theta = np.minimum(1.0, np.divide(d, val, out=np.zeros(n), where=val > 0))
    np.testing.assert_allclose(res.sales_t2, theta[:, None] * H, atol=1e-12)
    np.testing.assert_allclose(res.values, ms.c + res.sales_t2 @ res.price_t2, atol=1e-12)


def test_clearing_requires_assumption_41():
    ms = MultiAssetSystem.from_arrays([0.0], [5.0], [[10.0, 1.0]], [Linear(0.08), Linear(0.01)], assets=["a", "b"])
    with pytest.raises(InputError, match=r"assets\[0\].*\(a\)"):
        clear_multi(ms)


# ----------------------------------------------------------------------------- rounds
def reference_rounds(c, L, H, o, fs, eps, model, T, lmin=0.03, lbuf=0.04, ltar=0.05):
    """The deleveraging rounds written bank by bank, asset by asset."""
    n, K = len(c), len(fs)
    H = [list(r) for r in H]
    debt = list(L)
    E0 = [c[i] + sum(H[i]) + o[i] - L[i] for i in range(n)]
    b = [L[i] / E0[i] if E0[i] > 0 else float("inf") for i in range(n)]
    Q = [0.0] * K
    p = [(1 - eps[k]) * float(fs[k](0.0)) for k in range(K)]
    dead = [False] * n
    for _ in range(T):
        sells = []
        for i in range(n):
            mv = sum(H[i][k] * p[k] for k in range(K))
            A = c[i] + mv + o[i]
            E = A - debt[i]
            if model == "glt":
                dead[i] = dead[i] or E <= 0
                want = mv if dead[i] else (max(A - (1 + b[i]) * E, 0.0) if b[i] != float("inf") else 0.0)
            else:
                lev = E / A if A > 0 else -float("inf")
                dead[i] = dead[i] or E <= 0 or lev < lmin
                want = mv if dead[i] else (max(A - E / ltar, 0.0) if lev < lbuf else 0.0)
            th = min(1.0, want / mv) if mv > 0 else 0.0
            sells.append([th * H[i][k] for k in range(K)])
        value = sum(sells[i][k] * p[k] for i in range(n) for k in range(K))
        total_mv = sum(H[i][k] * p[k] for i in range(n) for k in range(K))
        if not value > 1e-12 * max(1.0, total_mv):
            break
        for i in range(n):
            debt[i] = max(debt[i] - sum(sells[i][k] * p[k] for k in range(K)), 0.0)
            for k in range(K):
                H[i][k] -= sells[i][k]
                Q[k] += sells[i][k]
        p = [(1 - eps[k]) * float(fs[k](Q[k])) for k in range(K)]
    return p, [c[i] + sum(H[i][k] * p[k] for k in range(K)) + o[i] - debt[i] for i in range(n)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 10), K=st.integers(1, 4), model=st.sampled_from(["glt", "cont-schaanning"]))
def test_rounds_match_reference_loop(seed, n, K, model):
    rng = np.random.default_rng(seed)
    H = rng.uniform(0, 10, (n, K)) * (rng.random((n, K)) > 0.2)
    c = rng.uniform(0, 2, n)
    o = rng.uniform(0, 5, n)
    A = c + H.sum(axis=1) + o
    L = A * rng.uniform(0.9, 0.99, n)  # leverage ratios 1% - 10%
    S = np.maximum(H.sum(axis=0), 1e-9)
    fs = [Exponential(1.0 / (rng.uniform(1, 20) * S[k])) for k in range(K)]  # market depth D_k
    eps = rng.uniform(0, 0.1, K)
    ms = MultiAssetSystem.from_arrays(c, L, H, fs, other=o)
    res = deleverage(ms, eps, model=model, rounds=50)
    p_ref, E_ref = reference_rounds(c, L, H, o, fs, eps, model, 50)
    np.testing.assert_allclose(res.prices[-1], p_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(res.equity, E_ref, rtol=1e-9, atol=1e-10)


def test_glt_first_round_is_aggregate_vulnerability():
    rng = np.random.default_rng(5)
    n, K = 12, 3
    H = rng.uniform(0, 10, (n, K))
    L = H.sum(axis=1) * rng.uniform(0.85, 0.97, n)  # no cash, no other assets: A = marketable book
    beta = rng.uniform(1e-4, 5e-4, K)
    ms = MultiAssetSystem.from_arrays(np.zeros(n), L, H, [Linear(b) for b in beta])
    eps = np.full(K, 1e-6)
    res = deleverage(ms, eps, model="glt", rounds=1)
    E = ms.equity()
    AV = glt_aggregate_vulnerability(ms, eps, beta)
    ours = res.first_round_loss.sum() / E.sum()
    assert ours == pytest.approx(AV, rel=1e-4)
    assert res.rounds == 1 and res.sales_value[0] > 0


def test_cont_schaanning_thresholds():
    fs = [Exponential(1e-6)]  # deep market: the sales barely move the price
    # a: leverage ratio 10% (safe); b: 3.5% (below the buffer, above the minimum); c: 2% (defaults)
    ms = MultiAssetSystem.from_arrays([0, 0, 0], [9.0, 9.65, 9.8], [[10.0], [10.0], [10.0]], fs, names=list("abc"))
    res = deleverage(ms, None, model="cont-schaanning", rounds=1)
    assert res.defaulted.tolist() == [False, False, True]
    assert res.rounds == 1
    # b sells A - E / lambda_target = 10 - 0.35 / 0.05 = 3 units, c sells all 10 at price 1
    assert res.sold[0] == pytest.approx(13.0, abs=1e-12)
    assert res.equity[1] / (res.equity[1] + 6.65) == pytest.approx(0.05, abs=5e-5)  # back at the target ratio (up to the price move)
    calm = MultiAssetSystem.from_arrays([0], [9.0], [[10.0]], fs)
    assert deleverage(calm, None, model="cont-schaanning").rounds == 0


# ----------------------------------------------------------------------------- file and CLI
DOC = {
    "assets": [{"name": "bonds", "inverse_demand": {"kind": "linear", "beta": 0.02}}, {"name": "equities", "depth": 60.0}],
    "banks": [
        {"name": "A", "liquid": 1.0, "liabilities": 10.0, "holdings": {"bonds": 5.0, "equities": 3.0}, "other_assets": 2.0},
        {"name": "B", "liquid": 0.5, "liabilities": 6.0, "holdings": {"bonds": 2.0, "equities": 4.0}},
    ],
}


def test_file_and_cli(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(DOC))
    ms = multi_asset_from_dict(DOC)
    assert ms.H.tolist() == [[5.0, 3.0], [2.0, 4.0]] and ms.f[1].to_dict() == {"kind": "exponential", "beta": 1 / 60}
    r = runner.invoke(app, ["firesale", str(p), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    np.testing.assert_allclose([doc["price_t2"]["bonds"], doc["price_t2"]["equities"]], clear_multi(ms).price_t2)
    for model in ("glt", "cont-schaanning"):
        r = runner.invoke(app, ["firesale", str(p), "--model", model, "--shock", "bonds=0.05", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["model"] == model
    # the paper's single-asset file works too
    q = tmp_path / "s.yaml"
    q.write_text("inverse_demand: {kind: linear, beta: 0.05}\nbanks:\n  - {name: A, liquid: 1, illiquid: 4, liabilities: 3.2}\n"
                 "  - {name: B, liquid: 0.5, illiquid: 5, liabilities: 3}\n")
    r = runner.invoke(app, ["firesale", str(q), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["price_t2"]["illiquid"] == pytest.approx(
        clear(System.from_arrays([1, 0.5], [4, 5], [3.2, 3], Linear(0.05))).price_t2, rel=1e-13)


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["banks"][0]["holdings"].update(gold=1.0), "banks[0].holdings.gold: unknown asset"),
    (lambda d: d["assets"][1].update(inverse_demand={"kind": "linear", "beta": 0.01}), "exactly one of inverse_demand or depth"),
    (lambda d: d["banks"][1]["holdings"].update(bonds=-1.0), "banks[1].holdings"),
    (lambda d: d["assets"][1].update(depth=0), "assets[1].depth"),
    (lambda d: d["banks"][0].update(colour="red"), "banks[0].colour: unknown field"),
    (lambda d: d["assets"].append({"name": "bonds", "depth": 1.0}), "duplicate asset name"),
])
def test_file_errors_one_line_exit_2(tmp_path, mutate, needle):
    doc = json.loads(json.dumps(DOC))
    mutate(doc)
    p = tmp_path / "m.json"
    p.write_text(json.dumps(doc))
    r = runner.invoke(app, ["firesale", str(p), "--json"])
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_option_errors(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(DOC))
    for args, needle in ((["--model", "cs"], "--model"), (["--model", "glt", "--shock", "bonds=1.5"], "shock[bonds]"),
                         (["--model", "glt", "--shock", "gold=0.1"], "unknown asset"),
                         (["--model", "cont-schaanning", "--lambda-buffer", "0.01"], "lambda")):
        r = runner.invoke(app, ["firesale", str(p)] + args)
        assert r.exit_code == 2 and needle in r.output, (args, r.output)
