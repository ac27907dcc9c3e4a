"""Input formats: neva JSON, neva CSV pairs (pyarrow), Parquet pairs; one loader for every command.

neva's own example files (marcobardoscia/neva, data/shock_chain.json, shock_cycle.json,
shock_tree.json, balance_sheets.csv, exposures_list.csv, exposures_table.csv) are written
here verbatim as test data; the expected book equities are neva's ``get_naiveequity``
(extasset - extliab + sum ibasset - ibliabtot, neva/bank.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.errors import InputError
from liqstress.models.system import load_system
from liqstress.networks.columnar import write_parquet
from liqstress.networks.generators import generate
from liqstress.networks.io import neva_json_doc, read_neva_csv, save_system, system_from_neva_json, write_neva_csv, write_neva_json

runner = CliRunner()

SHOCK_CHAIN = [
    {"name": "A", "extasset": 10.0, "extliab": 9.0, "ibasset": {"B": 0.5}, "ibliabtot": 0.0},
    {"name": "B", "extasset": 5.0, "extliab": 4.0, "ibasset": {"C": 0.5}, "ibliabtot": 0.5},
    {"name": "C", "extasset": 3.0, "extliab": 2.0, "ibliabtot": 0.5},
]
SHOCK_CYCLE = [
    {"name": "A", "extasset": 10.0, "extliab": 9.0, "ibasset": {"B": 0.5}, "ibliabtot": 0.5},
    {"name": "B", "extasset": 5.0, "extliab": 4.0, "ibasset": {"C": 0.5}, "ibliabtot": 0.5},
    {"name": "C", "extasset": 3.0, "extliab": 2.0, "ibasset": {"A": 0.5}, "ibliabtot": 0.5},
]
SHOCK_TREE = [
    {"name": "A", "extasset": 10.0, "extliab": 9.0, "ibasset": {"B": 0.5, "C": 0.5}, "ibliabtot": 0.0},
    {"name": "B", "extasset": 5.0, "extliab": 4.0, "ibliabtot": 0.5},
    {"name": "C", "extasset": 3.0, "extliab": 2.0, "ibliabtot": 0.5},
]
BALANCE_SHEETS_CSV = "bank_name,external_asset,external_liabilities,sigma_equity,maturity\nA,10,9,0.2,1.25\nB,5,4,0.2,1.25\nC,3,2,0.2,1.25\n"
EXPOSURES_LIST_CSV = "lender,borrower,amount\nA,B,0.5\nB,C,0.5\nC,A,0.5\n"
EXPOSURES_TABLE_CSV = "0,0.5,0\n0,0,0.5\n0.5,0,0"


def _naive_equity(doc):
    return [b["extasset"] - b["extliab"] + sum(b.get("ibasset", {}).values()) - b["ibliabtot"] for b in doc]


def _equity(s):
    return s.c + s.s + np.asarray(s.Lmat.sum(axis=0)).ravel() - s.pbar


def _same(a, b):
    assert a.names == b.names
    for u, v in ((a.c, b.c), (a.s, b.s), (a.L, b.L)):
        np.testing.assert_array_equal(u, v)
    if a.Lmat is None or b.Lmat is None:
        assert a.Lmat is None and b.Lmat is None
    else:
        assert abs(a.Lmat - b.Lmat).max() == 0
    assert a.f.to_dict() == b.f.to_dict() and a.alpha == b.alpha


@pytest.mark.parametrize("doc", [SHOCK_CHAIN, SHOCK_CYCLE, SHOCK_TREE], ids=["chain", "cycle", "tree"])
def test_neva_example_json_files(tmp_path, doc):
    p = tmp_path / "neva.json"
    p.write_text(json.dumps(doc, indent=4))
    s = load_system(p)  # the one loader dispatches on the list root
    np.testing.assert_allclose(_equity(s), _naive_equity(doc), atol=1e-15)
    for bank in doc:
        for borrower, amount in bank.get("ibasset", {}).items():
            assert s.Lmat[s.index(borrower), s.index(bank["name"])] == amount
    # round trip through liqstress' neva writer: neva's keys, and the same system
    q = tmp_path / "back.json"
    write_neva_json(s, q)
    back = json.loads(q.read_text())
    assert [b["name"] for b in back] == [b["name"] for b in doc]
    assert all({"name", "extasset", "extliab", "ibasset", "ibliabtot"} <= set(b) for b in back)
    _same(load_system(q), s)


def test_neva_example_csv_files_list_and_table_agree(tmp_path):
    bs = tmp_path / "balance_sheets.csv"
    bs.write_text(BALANCE_SHEETS_CSV)  # sigma_equity, maturity: extra parameters, ignored
    (tmp_path / "exposures_list.csv").write_text(EXPOSURES_LIST_CSV)
    (tmp_path / "exposures_table.csv").write_text(EXPOSURES_TABLE_CSV)
    a = load_system(f"{bs}:{tmp_path / 'exposures_list.csv'}")
    b = load_system(f"{bs}:{tmp_path / 'exposures_table.csv'}")
    _same(a, b)
    np.testing.assert_allclose(_equity(a), _naive_equity(SHOCK_CYCLE), atol=1e-15)  # the same system as shock_cycle
    _same(a, system_from_neva_json(SHOCK_CYCLE))


def test_round_trips_csv_parquet_neva_json_exact(tmp_path):
    s = generate("scale-free", 300, 3, seed=4)
    write_neva_csv(s, tmp_path / "b.csv", tmp_path / "e.csv")
    _same(read_neva_csv(tmp_path / "b.csv", tmp_path / "e.csv", inverse_demand=s.f.to_dict()), s)
    write_parquet(s, tmp_path / "b.parquet", tmp_path / "e.parquet")
    _same(load_system(f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"), s)  # f and alpha in the metadata
    write_neva_json(s, tmp_path / "n.json")
    _same(system_from_neva_json(json.loads((tmp_path / "n.json").read_text()), inverse_demand=s.f.to_dict()), s)
    assert neva_json_doc(s)[0]["name"] == s.names[0]


def test_parquet_alpha_without_interbank(tmp_path):
    from liqstress.models.inverse_demand import Exponential
    from liqstress.models.system import System

    s = System.from_arrays([1, 2], [3, 0], [2, 2.5], Exponential(0.1), alpha=0.4, names=["x", "y"])
    write_parquet(s, tmp_path / "b.parquet", tmp_path / "e.parquet")
    _same(load_system(f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"), s)


def test_every_command_takes_every_format(tmp_path):
    s = generate("erdos-renyi", 12, 2, seed=3)
    save_system(s, tmp_path / "s.json")
    write_neva_csv(s, tmp_path / "b.csv", tmp_path / "e.csv")
    write_parquet(s, tmp_path / "b.parquet", tmp_path / "e.parquet")
    write_neva_json(s, tmp_path / "n.json")
    specs = [str(tmp_path / "s.json"), f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"]
    bank = s.names[0]
    for cmd in (["robust"], ["clear"], ["maximin", "--bank", bank, "--method", "local", "--allow-uncertified"], ["network", "stats"]):
        outs = []
        for spec in specs:
            res = runner.invoke(app, cmd[:1] + ([cmd[1]] if cmd[0] == "network" else []) + [spec] + (cmd[1:] if cmd[0] != "network" else []) + ["--json"])
            assert res.exit_code == 0, (cmd, spec, res.output)
            doc = json.loads(res.stdout)
            doc.pop("seconds", None)
            if "cascade" in doc:
                doc["cascade"]["fire_sale"].pop("seconds")
            outs.append(doc)
        assert outs[0] == outs[1], cmd
    # CSV and neva JSON carry no inverse demand: the default f; same network, so same ell under it
    for spec in (f"{tmp_path / 'b.csv'}:{tmp_path / 'e.csv'}", str(tmp_path / "n.json")):
        res = runner.invoke(app, ["clear", spec, "--json"])
        assert res.exit_code == 0, res.output
    # gap on a pair without exposures (the permanent-impact case (7))
    (tmp_path / "b3.csv").write_text("bank_name,external_asset,external_liabilities,liquid,illiquid\nA,5,3.2,1,4\nB,5.5,3,0.5,5\n")
    (tmp_path / "e3.csv").write_text("lender,borrower,amount\n")
    res = runner.invoke(app, ["gap", f"{tmp_path / 'b3.csv'}:{tmp_path / 'e3.csv'}", "--bank", "A", "--tol", "0.01", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["bank"] == "A"


@pytest.mark.parametrize("balance, exposures, needle", [
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,x,0\n", "lender,borrower,amount\nA,B,1\n", "b.csv:3.external_asset: expected a number, got 'x'"),
    ("bank_name,external_asset\nA,1\n", "lender,borrower,amount\n", "b.csv.header: missing column 'external_liabilities'"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nA,2,0\n", "lender,borrower,amount\n", "b.csv:3.bank_name: duplicate bank name 'A'"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,-1\n", "lender,borrower,amount\n", "b.csv:3.external_liabilities: must be >= 0"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,nan\n", "lender,borrower,amount\n", "must be a finite number"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,0\n", "lender,borrower,amount\nA,B,1\nB,Z,1\n", "e.csv:3.borrower: unknown bank name 'Z'"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,0\n", "lender,borrower,amount\nA,A,1\n", "e.csv:2: self-loop"),
    ("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,0\n", "from,to,amount\nA,B,1\n", "edge list header"),
    ("bank_name,external_asset,external_liabilities,liquid,illiquid\nA,1,0,0.5,0.6\n", "lender,borrower,amount\n", "must equal external_asset"),
])
def test_csv_errors_one_line_exit_2(tmp_path, balance, exposures, needle):
    (tmp_path / "b.csv").write_text(balance)
    (tmp_path / "e.csv").write_text(exposures)
    res = runner.invoke(app, ["robust", f"{tmp_path / 'b.csv'}:{tmp_path / 'e.csv'}"])
    assert res.exit_code == 2, res.output
    assert needle in res.output and len(res.output.strip().splitlines()) == 1


def test_neva_csv_last_line_wins(tmp_path):
    (tmp_path / "b.csv").write_text("bank_name,external_asset,external_liabilities\nA,1,0\nB,1,0\n")
    (tmp_path / "e.csv").write_text("lender,borrower,amount\nA,B,1\nA,B,3\n")
    assert load_system(f"{tmp_path / 'b.csv'}:{tmp_path / 'e.csv'}").Lmat[1, 0] == 3.0
    (tmp_path / "e.csv").write_text("debtor,creditor,amount\nB,A,1\nB,A,3\n")  # liqstress orientation: summed
    assert load_system(f"{tmp_path / 'b.csv'}:{tmp_path / 'e.csv'}").Lmat[1, 0] == 4.0


@pytest.mark.parametrize("doc, needle", [
    ([{"name": "A", "extasset": 1, "extliab": 0, "ibasset": {"B": 1}, "ibliabtot": 0},
      {"name": "B", "extasset": 1, "extliab": 0, "ibliabtot": 2}], "[1].ibliabtot: is 2 but the other banks lent 'B' 1"),
    ([{"name": "A", "extasset": 1, "extliab": 0, "ibasset": {"Q": 1}}], "[0].ibasset.Q: unknown bank name 'Q'"),
    ([{"name": "A", "extasset": -1, "extliab": 0}], "[0].extasset: must be >= 0"),
    ([{"name": "A", "extliab": 0}], "[0].extasset: is required"),
    ([{"name": "A", "extasset": 1, "extliab": 0, "colour": 1}], "[0].colour: unknown field"),
    ([], "no banks"),
])
def test_neva_json_errors(tmp_path, doc, needle):
    p = tmp_path / "n.json"
    p.write_text(json.dumps(doc))
    res = runner.invoke(app, ["clear", str(p)])
    assert res.exit_code == 2 and needle in res.output and len(res.output.strip().splitlines()) == 1, res.output


def test_convert_to_neva_json_and_parquet(tmp_path):
    s = generate("erdos-renyi", 30, 2, seed=1)
    save_system(s, tmp_path / "s.yaml")
    r = runner.invoke(app, ["network", "convert", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "out.neva.json")])
    assert r.exit_code == 0, r.output
    assert isinstance(json.loads((tmp_path / "out.neva.json").read_text()), list)
    r = runner.invoke(app, ["network", "convert", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "x.json"), "--format", "neva"])
    assert r.exit_code == 0 and isinstance(json.loads((tmp_path / "x.json").read_text()), list)
    r = runner.invoke(app, ["network", "convert", str(tmp_path / "s.yaml"), "-o", f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"])
    assert r.exit_code == 0, r.output
    _same(load_system(f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"), s)
    with pytest.raises(InputError, match="pair"):
        load_system(tmp_path / "b.parquet")


def test_neva_json_fast_path_equals_validating_path(monkeypatch):
    import liqstress.networks.io as nio

    s = generate("core-periphery", 150, 4, seed=2)
    doc = neva_json_doc(s)
    assert nio._neva_fast(doc, 0.1) is not None
    fast = system_from_neva_json(doc, inverse_demand=s.f.to_dict())
    _same(fast, s)
    monkeypatch.setattr(nio, "_neva_fast", lambda *a: None)
    _same(system_from_neva_json(doc, inverse_demand=s.f.to_dict()), fast)
    for bank in doc:  # without the split keys both paths use liquid_share
        del bank["liquid"], bank["illiquid"]
    slow = system_from_neva_json(doc, liquid_share=0.3)
    monkeypatch.undo()
    _same(system_from_neva_json(doc, liquid_share=0.3), slow)
