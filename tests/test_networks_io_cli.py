"""Conversions (networkx, neva CSV, system files) and the ``liqstress network`` CLI round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.errors import InputError
from liqstress.models.system import load_system
from liqstress.networks.generators import generate
from liqstress.networks.io import from_networkx, load_any, read_neva_csv, save_system, to_networkx, write_neva_csv
from liqstress.solvers.clearing import clear

runner = CliRunner()


def _same(a, b, tol=0.0):
    assert a.names == b.names
    for u, v in ((a.c, b.c), (a.s, b.s), (a.L, b.L)):
        np.testing.assert_allclose(u, v, rtol=tol, atol=0)
    assert abs(a.Lmat - b.Lmat).max() <= tol * abs(a.Lmat).max()
    assert a.f.to_dict() == b.f.to_dict()


def test_networkx_round_trip():
    s = generate("core-periphery", 80, 4, seed=2)
    G = to_networkx(s)
    assert G.number_of_nodes() == 80 and G.number_of_edges() == s.Lmat.nnz
    u, v, d = next(iter(G.edges(data=True)))
    assert d["amount"] == pytest.approx(s.Lmat[s.index(u), s.index(v)])
    _same(from_networkx(G), s)


@pytest.mark.parametrize("matrix", [False, True])
def test_neva_csv_round_trip(tmp_path, matrix):
    s = generate("erdos-renyi", 40, 3, seed=9)
    bs, ex = tmp_path / "bs.csv", tmp_path / "ex.csv"
    write_neva_csv(s, bs, ex, matrix=matrix)
    t = read_neva_csv(bs, ex, inverse_demand=s.f.to_dict())
    _same(t, s)
    # the neva convention: lender (creditor) first
    if not matrix:
        line = ex.read_text().splitlines()[1].split(",")
        assert s.Lmat[s.index(line[1]), s.index(line[0])] == pytest.approx(float(line[2]))


def test_neva_csv_without_split_columns_and_errors(tmp_path):
    bs = tmp_path / "bs.csv"
    ex = tmp_path / "ex.csv"
    bs.write_text("bank_name,external_asset,external_liabilities\nA,10,6\nB,5,4\n")
    ex.write_text("lender,borrower,amount\nA,B,2\nB,A,1\n")
    s = read_neva_csv(bs, ex, liquid_share=0.2)
    np.testing.assert_allclose(s.c, [2, 1])
    np.testing.assert_allclose(s.s, [8, 4])
    assert s.Lmat[1, 0] == 2 and s.Lmat[0, 1] == 1  # B owes A 2
    np.testing.assert_allclose(s.pbar, [7, 6])
    ex.write_text("lender,borrower,amount\nA,C,2\n")
    with pytest.raises(InputError, match="ex.csv:2.borrower: unknown bank name 'C'"):
        read_neva_csv(bs, ex)
    ex.write_text("lender,borrower,amount\nA,B,-2\n")
    with pytest.raises(InputError, match="amount: must be >= 0"):
        read_neva_csv(bs, ex)
    ex.write_text("0,1\n1\n")
    with pytest.raises(InputError, match="expected 2 columns"):
        read_neva_csv(bs, ex)


def test_fast_json_writer_matches_loader(tmp_path):
    s = generate("scale-free", 2100, 1.5, seed=1)
    p = tmp_path / "big.json"
    save_system(s, p, fast_json=True)
    json.loads(p.read_text())  # valid JSON
    _same(load_system(p), s)
    small = generate("erdos-renyi", 60, 3, seed=1)
    p2 = tmp_path / "small.yaml"
    save_system(small, p2)
    _same(load_any(p2), small)


def test_example_files_load():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "examples" / "networks"
    s = load_any(f"{root / 'balance_sheets.csv'}:{root / 'exposures.csv'}")
    assert s.n == 6 and s.has_interbank
    g = load_system(root / "er_200.json")
    assert g.n == 200 and g.Lmat.nnz == 2000


def test_cli_generate_stats_round_trip(tmp_path):
    out = tmp_path / "sf.yaml"
    r = runner.invoke(app, ["network", "generate", "scale-free", "--banks", "150", "--mean-degree", "6", "--seed", "3", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    gen = json.loads(r.stdout)
    assert gen["banks"] == 150 and gen["exposures"] > 0.97 * 900
    r = runner.invoke(app, ["network", "stats", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    topo, cas = doc["topology"], doc["cascade"]
    assert topo["banks"] == 150 and topo["exposures"] == gen["exposures"]
    assert topo["mean_degree"] == pytest.approx(gen["exposures"] / 150)
    assert 0 < topo["exposure_hhi"] <= 1 and 0 <= topo["exposure_gini"] < 1
    s = load_system(out)
    cl = clear(s)
    assert cas["fire_sale"]["price"] == pytest.approx(cl.price_t2, abs=1e-12)
    assert cas["fire_sale"]["defaults"] == int((cl.payments < s.pbar * (1 - 1e-12)).sum())
    assert cas["fire_sale"]["fire_selling_banks"] == int((cl.sales_t2 > 0).sum())
    assert cas["eisenberg_noe"]["defaults"] == 0  # positive book equity at par: nobody defaults


def test_cli_generate_robust_json(tmp_path):
    out = tmp_path / "er.json"
    r = runner.invoke(app, ["network", "generate", "erdos-renyi", "--banks", "120", "--mean-degree", "5", "--seed", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["robust", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    s = load_system(out)
    ell = clear(s).sales_t2
    got = np.array([b["ell"] for b in doc["banks"]])
    np.testing.assert_allclose(got, ell, rtol=1e-12)
    np.testing.assert_allclose([b["strategy"] for b in doc["banks"]], ell / 2, rtol=1e-12)  # Theorem 5.3
    assert doc["Lambda"] == pytest.approx(ell.sum())


def test_cli_convert_and_neva_stats(tmp_path):
    src = tmp_path / "cp.yaml"
    assert runner.invoke(app, ["network", "generate", "core-periphery", "-n", "60", "-d", "4", "-o", str(src)]).exit_code == 0
    pair = f"{tmp_path / 'bs.csv'}:{tmp_path / 'ex.csv'}"
    r = runner.invoke(app, ["network", "convert", str(src), "-o", pair])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["network", "stats", pair, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["topology"]["banks"] == 60


@pytest.mark.parametrize(
    "args,needle",
    [
        (["network", "generate", "ring", "-n", "10", "-o", "{d}/x.yaml"], "KIND"),
        (["network", "generate", "erdos-renyi", "-n", "10", "-d", "20", "-o", "{d}/x.yaml"], "mean_degree"),
        (["network", "generate", "erdos-renyi", "-n", "10", "-d", "2", "-o", "{d}/x.txt"], "--out"),
        (["network", "generate", "erdos-renyi", "-n", "10", "-d", "2", "--impact", "0.7", "-o", "{d}/x.yaml"], "impact"),
        (["network", "stats", "{d}/missing.yaml"], "not found"),
    ],
)
def test_cli_errors_one_line_exit_2(tmp_path, args, needle):
    r = runner.invoke(app, [a.format(d=tmp_path) for a in args])
    assert r.exit_code == 2
    err = r.stderr if hasattr(r, "stderr") else r.output
    assert needle in err and len(err.strip().splitlines()) == 1


def test_fast_path_same_system_and_same_errors_as_pydantic_path(tmp_path):
    """system_from_dict's vectorised path and its pydantic path agree on systems and errors."""
    from liqstress.models.system import _validated_from_dict, system_from_dict

    s = generate("erdos-renyi", 300, 4, seed=8)
    p = tmp_path / "s.json"
    save_system(s, p)
    doc = json.loads(p.read_text())
    _same(system_from_dict(doc), _validated_from_dict(doc))
    _same(load_system(p), _validated_from_dict(doc))
    bad_docs = []
    d1 = json.loads(json.dumps(doc)); d1["banks"][3]["illiquid"] = 0.0; bad_docs.append(d1)
    d2 = json.loads(json.dumps(doc)); d2["interbank"][5]["creditor"] = "nobody"; bad_docs.append(d2)
    d3 = json.loads(json.dumps(doc)); d3["banks"][2]["extra"] = 1; bad_docs.append(d3)
    d4 = json.loads(json.dumps(doc)); d4["interbank"][0]["creditor"] = d4["interbank"][0]["debtor"]; bad_docs.append(d4)
    d5 = json.loads(json.dumps(doc)); d5["banks"][1]["liquid"] = "1.5"; bad_docs.append(d5)  # pydantic coerces
    for d in bad_docs:
        try:
            ref = _validated_from_dict(d)
        except InputError as err:
            with pytest.raises(InputError) as got:
                system_from_dict(d)
            assert str(got.value) == str(err)
        else:
            _same(system_from_dict(d), ref)
