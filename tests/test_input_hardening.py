"""Hostile and malformed input (docs/model.md section 8): one line on stderr, exit status 2,
no partial output, never a traceback, a hang or a memory blow-up.

The cases reproduce the ones a fuzzing run found (non-UTF-8 files, a YAML alias bomb, deeply
nested JSON, a FIFO, /dev/zero, 1e308, gamma for a linear f, ``alpha: true``, ``figures``
writing before failing, an output under a non-directory, a misspelt field), and a
hypothesis test keeps throwing malformed documents at the three readers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqstress.cli import app
from liqstress.errors import InputError
from liqstress.models.files import MAX_DEPTH, check_document, read_document

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
GOOD = "inverse_demand: {kind: linear, beta: 0.05}\nbanks:\n  - {name: A, liquid: 1.0, illiquid: 2.0, liabilities: 1.5}\n"
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + k)}: &{chr(98 + k)} [" + ",".join([f"*{chr(97 + k)}"] * 9) + "]\n" for k in range(8))


def _one_line_exit_2(args, needle=None):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 2, (r.exit_code, r.output)
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("liqstress"), err
    assert "Traceback" not in r.output and r.stdout == ""
    if needle is not None:
        assert needle in err, err
    return err


def _write(tmp_path, name, data):
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return p


@pytest.mark.parametrize("name,data,needle", [
    ("latin1.yaml", (GOOD + "# caf\xe9\n").encode("latin-1"), "not UTF-8"),
    ("utf16.yaml", GOOD.encode("utf-16"), "UTF-16"),
    ("binary.yaml", bytes(range(256)) * 4, "binary"),
    ("bomb.yaml", BOMB, "expands to more than"),
    ("recursive.yaml", "a: &a [*a]\n", f"nested deeper than {MAX_DEPTH}"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested deeper"),
    ("deep2.json", "[" * 200 + "]" * 200, "nested deeper"),
    ("huge.yaml", GOOD.replace("liquid: 1.0", "liquid: 1.0e308"), "banks[0].liquid: |value| must be <= 1e+15"),
    ("bigint.json", '{"alpha": 1' + "0" * 400 + "}", "alpha: |value| must be <="),
    ("inf.json", '{"inverse_demand": {"kind": "linear", "beta": Infinity}}', "finite"),
    ("gamma.yaml", GOOD.replace("beta: 0.05}", "beta: 0.05, gamma: 0.5}"), "inverse_demand.gamma: only the power"),
    ("alpha_true.yaml", GOOD + "alpha: true\n", "alpha: Input should be a valid number (got a boolean)"),
    ("string_number.yaml", GOOD.replace("liquid: 1.0", "liquid: '1.0'"), "banks[0].liquid"),
    ("typo.yaml", GOOD.replace("liabilities", "liabilitys"), "banks[0].liabilitys: unknown field (did you mean 'liabilities'?)"),
    ("not_a_mapping.yaml", "- 1\n- 2\n", "mapping"),
    ("bad_yaml.yaml", "banks: [1, 2\n", "cannot parse"),
])
def test_hostile_system_files(tmp_path, name, data, needle):
    p = _write(tmp_path, name, data)
    _one_line_exit_2(["robust", p, "--json"], needle)


def test_yaml_1e5_is_a_number(tmp_path):
    p = _write(tmp_path, "e.yaml", GOOD.replace("liquid: 1.0", "liquid: 1e0"))
    r = runner.invoke(app, ["robust", str(p), "--json"])
    assert r.exit_code == 0, r.output


def test_fifo_and_devices_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    env = dict(os.environ, MPLBACKEND="Agg")
    for target in (fifo, "/dev/zero", tmp_path):
        r = subprocess.run([sys.executable, "-m", "liqstress", "robust", str(target)], capture_output=True, text=True,
                           timeout=60, env=env)
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and ("regular file" in r.stderr or "directory" in r.stderr)


def test_size_limit(tmp_path):
    p = _write(tmp_path, "big.yaml", GOOD + "#" * 2000 + "\n")
    from liqstress.models.files import read_bytes

    with pytest.raises(InputError, match="limited to 1000 bytes"):
        read_bytes(p, limit=1000)


@pytest.mark.parametrize("reader", ["plan", "stress"])
def test_plan_and_stress_files_share_the_reader(tmp_path, reader):
    p = _write(tmp_path, "bomb.yaml", BOMB)
    args = ["cbc", p, "--json"] if reader == "plan" else ["report", p, "-o", tmp_path / "r.md"]
    _one_line_exit_2(args, "expands to more than")
    q = _write(tmp_path, "bad.yaml", b"horizon_days: 3\n# \xff\xfe\n")
    args = ["cbc", q, "--json"] if reader == "plan" else ["report", q, "-o", tmp_path / "r.md"]
    _one_line_exit_2(args, "UTF")
    assert not (tmp_path / "r.md").exists()


def test_plan_booleans_are_not_numbers(tmp_path):
    plan = {"horizon_days": 2, "opening_cash": True, "net_outflows": [1, 1], "assets": []}
    p = _write(tmp_path, "p.json", json.dumps(plan))
    _one_line_exit_2(["cbc", p, "--json"], "opening_cash")


def test_stress_file_typo_names_the_unknown_key(tmp_path):
    doc = yaml.safe_load((ROOT / "examples/stress/midsize_bank.yaml").read_text())
    doc["liabilitys"] = doc.pop("liabilities")
    p = _write(tmp_path, "s.yaml", yaml.safe_dump(doc))
    _one_line_exit_2(["report", p, "-o", tmp_path / "out" / "r.md"], "liabilitys: unknown field (did you mean 'liabilities'?)")
    assert not (tmp_path / "out").exists()


def test_neva_csv_through_the_same_reader(tmp_path):
    bs = _write(tmp_path, "b.csv", "bank_name,external_asset,external_liabilities\nA,1e300,1\nB,2,1\n")
    ex = _write(tmp_path, "e.csv", "lender,borrower,amount\nA,B,0.1\n")
    _one_line_exit_2(["network", "stats", f"{bs}:{ex}"], "|value| must be <=")
    bs.write_bytes("bank_name,external_asset,external_liabilities\nCaf\xe9,1,1\n".encode("latin-1"))
    _one_line_exit_2(["network", "stats", f"{bs}:{ex}"], "not UTF-8")


# ----------------------------------------------------------------------------- outputs
def test_figures_write_nothing_before_failing_on_a_bad_system(tmp_path):
    bad = _write(tmp_path, "bad.yaml", GOOD.replace("liabilities", "liabilitys"))
    out = tmp_path / "figs"
    _one_line_exit_2(["figures", "-o", out, "--system43", bad, "--points", "3", "--alphas", "3", "--check-points", "0"],
                     "liabilitys")
    assert not out.exists()
    four = ROOT / "examples/systems/four_banks_exp.yaml"
    _one_line_exit_2(["figures", "-o", out, "--system", four, "--points", "3", "--alphas", "3"], "two-bank")
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ["figures", "-o", "{f}/figs"],
    ["report", "examples/stress/midsize_bank.yaml", "-o", "{f}/r.md", "--no-reverse"],
    ["cbc", "examples/plans/treasury_plan.yaml", "--csv", "{f}/a.csv"],
    ["network", "convert", "examples/systems/interbank_five.yaml", "-o", "{f}/x.json"],
    ["pipeline", "-o", "{f}/out"],
    ["sweep", "gap", "--systems", "1", "-o", "{f}/g.csv"],
])
def test_output_under_a_non_directory(tmp_path, args, monkeypatch):
    monkeypatch.chdir(ROOT)
    f = _write(tmp_path, "plain_file", "x")
    err = _one_line_exit_2([a.format(f=f) for a in args])
    assert "not a directory" in err


def test_a_failing_solve_leaves_no_partial_report(tmp_path, monkeypatch):
    """Outputs are staged: an error after some files were produced leaves nothing behind."""
    import liqstress.reports.narrative as narrative

    real = narrative.evaluate

    def boom(*a, **k):
        real(*a, **k)
        raise InputError("checklist", "injected failure after the figures were drawn")

    monkeypatch.setattr(narrative, "evaluate", boom)
    out = tmp_path / "rep" / "r.md"
    _one_line_exit_2(["report", ROOT / "examples/stress/midsize_bank.yaml", "-o", out, "--no-reverse"], "injected")
    assert not out.parent.exists() or not any(out.parent.iterdir())
    assert not any(p.name.startswith(".liqstress-stage") for p in tmp_path.rglob("*"))


# ----------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("args,needle", [
    (["maximin"], "Missing argument"),
    (["robust", "x.yaml", "--alpha", "abc"], "--alpha"),
    (["robust", "--no-such-option"], "No such option"),
    (["no-such-command"], "No such command"),
    (["network", "generate", "erdos-renyi"], "--banks"),
])
def test_usage_errors_are_one_line(args, needle):
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "liqstress", *args], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
    assert "╭" not in r.stderr and "Traceback" not in r.stderr


def test_help_shows_flags_as_flags():
    r = runner.invoke(app, ["maximin", "--help"])
    assert r.exit_code == 0 and "<bool>" not in r.stdout and "BOOLEAN" not in r.stdout
    assert "--allow-uncertified" in r.stdout and "--json" in r.stdout


# ----------------------------------------------------------------------------- fuzzing
_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
_docs = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.sampled_from(["inverse_demand", "kind", "beta", "gamma", "alpha", "banks", "name", "liquid",
                                     "illiquid", "liabilities", "interbank", "debtor", "creditor", "amount",
                                     "horizon_days", "opening_cash", "net_outflows", "assets", "scenarios", "x"]),
                    kids, max_size=5)), max_leaves=25)
_mutations = st.sampled_from(["none", "truncate", "latin1", "nul", "tabs", "deep"])


def _mutate(text: str, how: str, k: int) -> bytes:
    data = text.encode("utf-8")
    if how == "truncate":
        return data[: max(0, len(data) - 1 - k % max(1, len(data)))]
    if how == "latin1":
        return data + b"\xe9"
    if how == "nul":
        return data[: k % (len(data) + 1)] + b"\x00" + data[k % (len(data) + 1):]
    if how == "tabs":
        return data.replace(b" ", b"\t")
    if how == "deep":
        return ("[" * (70 + k % 50) + "]" * (70 + k % 50)).encode()
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=_docs, how=_mutations, k=st.integers(0, 10**6), as_json=st.booleans())
def test_fuzz_malformed_documents(tmp_path, doc, how, k, as_json):
    """Any document, mutated: the three loaders either accept it or raise InputError whose
    message is one line; nothing else escapes (no traceback for a user)."""
    from liqstress.models.cbc_plan import CBCPlan
    from liqstress.models.stress_file import load_stress
    from liqstress.models.system import load_system

    try:
        text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    except (ValueError, yaml.YAMLError):
        return
    p = tmp_path / ("f.json" if as_json else "f.yaml")
    p.write_bytes(_mutate(text, how, k))
    for load in (load_system, CBCPlan.from_file, load_stress):
        try:
            load(p)
        except InputError as err:
            msg = str(err)
            assert msg and "\n" not in msg and len(msg) < 2000
            assert "Traceback" not in msg


@settings(max_examples=60, deadline=None)
@given(doc=_docs)
def test_check_document_accepts_or_names_the_place(doc):
    try:
        check_document(doc)
    except InputError as err:
        assert err.field and "\n" not in str(err)


# --------------------------------------------------------------- fuzzing the full example files
_EXAMPLE_FILES = [ROOT / "examples/stress/midsize_bank.yaml", ROOT / "examples/stress/two_currency_bank.yaml",
                  ROOT / "examples/stress/svb_2023.yaml", ROOT / "examples/plans/treasury_plan.yaml"]


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))
    else:
        yield path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(which=st.integers(0, len(_EXAMPLE_FILES) - 1), k=st.integers(0, 10**6), value=_scalars,
       drop=st.booleans())
def test_fuzz_one_field_of_the_examples(tmp_path, which, k, value, drop):
    """Every optional block of the bundled stress and plan files (currencies, FX lines, linked
    collateral, cash floors, NSFR, action kinds, ...): one leaf replaced by any scalar (or its
    key removed) is either accepted or refused with a one-line InputError naming a field."""
    from liqstress.models.cbc_plan import CBCPlan
    from liqstress.models.stress_file import load_stress

    src = _EXAMPLE_FILES[which]
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    paths = list(_leaves(doc))
    path = paths[k % len(paths)]
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        text = yaml.safe_dump(doc)
    except (ValueError, yaml.YAMLError):
        return
    p = tmp_path / "f.yaml"
    p.write_text(text, encoding="utf-8")
    load = CBCPlan.from_file if "plans" in src.parts else load_stress
    try:
        load(p)
    except InputError as err:
        msg = str(err)
        assert err.field and msg and "\n" not in msg and len(msg) < 2000, msg


# =============================================================================================
# Network inputs (docs/model.md section 15.6): neva JSON, CSV pairs (pyarrow), Parquet pairs,
# multi-asset files, the per-bank mappings of `network debtrank|cascade` — the same protections.
# =============================================================================================
BAL = "bank_name,external_asset,external_liabilities\nA,2,1\nB,3,1\nC,1,0.5\n"
EXP = "lender,borrower,amount\nA,B,0.5\nB,C,0.25\n"
MULTI = ("assets:\n  - {name: bonds, inverse_demand: {kind: linear, beta: 0.02}}\n  - {name: eq, depth: 60.0}\n"
         "banks:\n  - {name: A, liquid: 1.0, liabilities: 10.0, holdings: {bonds: 5.0, eq: 3.0}}\n"
         "  - {name: B, liquid: 0.5, liabilities: 6.0, holdings: {bonds: 2.0}}\n")


def _pair(tmp_path, bal=BAL, exp=EXP, kind="csv"):
    b, e = tmp_path / f"b.{kind}", tmp_path / f"e.{kind}"
    for p, d in ((b, bal), (e, exp)):
        p.write_bytes(d if isinstance(d, bytes) else d.encode("utf-8"))
    return f"{b}:{e}"


def _parquet_pair(tmp_path, bal_cols: dict, exp_cols: dict, metadata=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    b, e = tmp_path / "b.parquet", tmp_path / "e.parquet"
    tb = pa.table(bal_cols)
    if metadata is not None:
        tb = tb.replace_schema_metadata({b"liqstress": metadata})
    pq.write_table(tb, b)
    pq.write_table(pa.table(exp_cols), e)
    return f"{b}:{e}"


@pytest.mark.parametrize("bal,exp,needle", [
    (BAL.replace("A,2,1", "A,nan,1"), EXP, "b.csv:2.external_asset: must be a finite number"),
    (BAL.replace("B,3,1", "B,inf,1"), EXP, "b.csv:3.external_asset: must be a finite number"),
    (BAL.replace("C,1,0.5", "C,1,1e300"), EXP, "b.csv:4.external_liabilities: |value| must be <= 1e+15"),
    (BAL.replace("C,1,0.5", "C,1,100000000000000000000"), EXP, "b.csv:4.external_liabilities: |value| must be <="),
    (BAL, EXP.replace("B,C,0.25", "B,C,2e15"), "e.csv:3.amount: |value| must be <= 1e+15, got 2e+15"),
    (BAL, EXP.replace("B,C,0.25", "B,C,-0.25"), "e.csv:3.amount: must be >= 0"),
    (BAL, EXP + "C,Z,1\n", "e.csv:4.borrower: unknown bank name 'Z'"),
    (BAL + "A,1,1\n", EXP, "b.csv:5.bank_name: duplicate bank name 'A' (first at line 2)"),
    (BAL, EXP + "C,C,1\n", "e.csv:4: self-loop"),
    ("bank_name,external_asset,external_liabilities,liquid\nA,2,1,1\nB,3,1,1\nC,1,0.5,0.5\n", EXP,
     "b.csv.header: column 'liquid' without 'illiquid'"),
    ("bank_name,external_asset,external_asset,external_liabilities\nA,2,2,1\nB,3,3,1\nC,1,1,0.5\n", EXP,
     "b.csv.header: duplicate column 'external_asset'"),
    ((BAL + "D\xe9,1,1\n").encode("latin-1"), EXP, "b.csv: b.csv is not UTF-8 text"),
    (BAL.encode("utf-16"), EXP, "UTF-16"),
    (BAL, (EXP + "C,A,\x001\n"), "binary"),
    ("", EXP, "empty"),
    (BAL, "0,1,0\n0,0,1e400\n0,0,0\n", "e.csv:2.col3: must be a finite number"),
    (BAL, "0,1,0\n0,0,1\n0,2e16,0\n", "e.csv:3.col2: |value| must be <="),
    (BAL, "0,1,0\n0,1,1\n0,0,0\n", "e.csv:2: diagonal entry for 'B' must be 0"),
])
def test_csv_pair_hostile(tmp_path, bal, exp, needle):
    _one_line_exit_2(["network", "stats", _pair(tmp_path, bal, exp)], needle)


def test_csv_pair_with_bom_and_matrix_reads(tmp_path):
    from liqstress.models.system import load_system

    s = load_system(_pair(tmp_path, "\ufeff" + BAL, "0,1,0\n0,0,0.5\n0,0,0\n"))
    assert s.n == 3 and s.Lmat[1, 0] == 1.0 and s.Lmat[2, 1] == 0.5  # entry (l, b): b owes l


def test_parquet_pair_hostile(tmp_path):
    names = ["A", "B", "C"]
    good_b = {"bank_name": names, "external_asset": [2.0, 3.0, 1.0], "external_liabilities": [1.0, 1.0, 0.5]}
    good_e = {"lender": ["A", "B"], "borrower": ["B", "C"], "amount": [0.5, 0.25]}
    from liqstress.models.system import load_system

    assert load_system(_parquet_pair(tmp_path, good_b, good_e)).n == 3
    cases = [
        ({**good_b, "external_asset": [2.0, float("nan"), 1.0]}, good_e, "b.parquet:row 2.external_asset: must be a finite number"),
        ({**good_b, "external_liabilities": [1.0, 1.0, 1e300]}, good_e, "b.parquet:row 3.external_liabilities: |value| must be <="),
        (good_b, {**good_e, "amount": [0.5, -1.0]}, "e.parquet:row 2.amount: must be >= 0"),
        (good_b, {**good_e, "borrower": ["B", "Q"]}, "e.parquet:row 2.borrower: unknown bank name 'Q'"),
        (good_b, {**good_e, "borrower": ["A", "C"]}, "e.parquet:row 1: self-loop"),
        ({**good_b, "bank_name": ["A", "B", "A"]}, good_e, "b.parquet:row 3.bank_name: duplicate bank name 'A' (first at row 1)"),
        ({**good_b, "external_asset": [True, False, True]}, good_e, "b.parquet:row 1.external_asset: expected a number"),
        ({**good_b, "bank_name": [None, "B", "C"]}, good_e, "b.parquet:row 1.bank_name: must be a non-empty string"),
        ({**good_b, "external_asset": [2.0, None, 1.0]}, good_e, "b.parquet:row 2.external_asset: expected a number, got an empty field"),
    ]
    for b, e, needle in cases:
        _one_line_exit_2(["robust", _parquet_pair(tmp_path, b, e)], needle)
    for meta, needle in ((b'{"alpha": 2}', "b.parquet.metadata.liqstress.alpha: must be a number in [0, 1]"),
                         (b'{"alpha": true}', "alpha: must be a number"),
                         (b'{"inverse_demand": {"kind": "linear", "beta": NaN}}', "must be a finite number"),
                         (b'{"inverse_demand": {"kind": "cubic", "beta": 1}}', "inverse_demand.kind"),
                         (b'{"colour": 1}', "b.parquet.metadata.liqstress.colour: unknown field"),
                         (b"\xff", "not UTF-8"), (b"[1", "cannot parse")):
        _one_line_exit_2(["robust", _parquet_pair(tmp_path, good_b, good_e, meta)], needle)
    (tmp_path / "e.parquet").write_bytes(b"PAR1 not really parquet")
    _one_line_exit_2(["robust", f"{tmp_path / 'b.parquet'}:{tmp_path / 'e.parquet'}"], "e.parquet: cannot parse")


@pytest.mark.parametrize("text,needle", [
    ('[{"name": "A", "extasset": 1e300, "extliab": 0}]', "n.json:[0].extasset: |value| must be <= 1e+15"),
    ('[{"name": "A", "extasset": NaN, "extliab": 0}]', "n.json:[0].extasset: must be a finite number"),
    ('[{"name": "A", "extasset": 1, "extliab": -1}]', "n.json:[0].extliab: must be >= 0"),
    ('[{"name": "A", "extasset": 1, "extliab": 0, "ibasset": {"B": 1, "B": 2}}, {"name": "B", "extasset": 1, "extliab": 0}]',
     "duplicate key 'B'"),
    ('[{"name": "A", "extasset": 1, "extasset": 2, "extliab": 0}]', "duplicate key 'extasset'"),
    ('[{"name": "A", "extasset": 1, "extliab": 0}, {"name": "A", "extasset": 1, "extliab": 0}]', "n.json:[1].name: duplicate bank name 'A'"),
    ('[{"name": "A", "extasset": 1, "extliab": 0, "ibasset": {"A": 1}}]', "n.json:[0].ibasset.A: self-loop"),
    ('[{"name": "A", "extasset": true, "extliab": 0}]', "n.json:[0].extasset: expected a number"),
    ('[{"name": "A", "extasset": 1, "extliab": 0, "ibasset": {"Q": 1}}]', "n.json:[0].ibasset.Q: unknown bank name 'Q'"),
])
def test_neva_json_hostile(tmp_path, text, needle):
    p = _write(tmp_path, "n.json", text)
    _one_line_exit_2(["clear", p], needle)
    q = _write(tmp_path, "m.json", text.encode("utf-8") + b"\xe9")
    _one_line_exit_2(["clear", q], "not UTF-8")


@pytest.mark.parametrize("mutate,needle", [
    (lambda t: t.replace("liquid: 1.0", "liquid: 1.0e300"), "m.yaml:banks[0].liquid: |value| must be <= 1e+15"),
    (lambda t: t.replace("liquid: 1.0", "liquid: .nan"), "must be a finite number"),
    (lambda t: t.replace("liquid: 1.0", "liquid: true"), "banks[0].liquid"),
    (lambda t: t.replace("holdings: {bonds: 5.0, eq: 3.0}", "holdings: {bonds: 5.0, bonds: 3.0}"), "duplicate key 'bonds'"),
    (lambda t: t.replace("bonds: 2.0", "bonds: -2.0"), "m.yaml:banks[1].holdings"),
    (lambda t: t.replace("{bonds: 2.0}", "{gold: 2.0}"), "m.yaml:banks[1].holdings.gold: unknown asset 'gold'"),
    (lambda t: t.replace("name: B", "name: A"), "m.yaml:banks[1].name: duplicate name 'A'"),
    (lambda t: t.replace("liabilities: 6.0", "liabilitys: 6.0"), "unknown field"),
])
def test_multi_asset_file_hostile(tmp_path, mutate, needle):
    p = _write(tmp_path, "m.yaml", mutate(MULTI))
    _one_line_exit_2(["firesale", p, "--json"], needle)


@pytest.mark.parametrize("option,text,needle", [
    ("--equity", "A: 1\nB: .inf\nC: 1\n", "eq.yaml:B: must be a finite number"),
    ("--equity", "A: 1\nB: 1e300\nC: 1\n", "|value| must be <= 1e+15"),
    ("--equity", "A: 1\nB: x\nC: 1\n", "eq.yaml:B: expected a number, got 'x'"),
    ("--equity", "A: 1\nB: 2\nZ: 1\n", "eq.yaml:Z: unknown bank name 'Z'"),
    ("--equity", "A: 1\nB: 2\nA: 1\n", "duplicate key 'A'"),
    ("--equity", "A: 1\nB: 2\n", "no value for bank 'C'"),
    ("--weights", "A: 1\nB: -2\nC: 1\n", "eq.yaml:B: must be >= 0"),
    ("--weights", "A: true\nB: 2\nC: 1\n", "eq.yaml:A: expected a number, got True"),
    ("--scenarios", "s1: {A: 1.5}\n", "eq.yaml:s1.A: must be in (0, 1]"),
    ("--scenarios", "s1: {Z: 0.5}\n", "eq.yaml:s1.Z: unknown bank name 'Z'"),
    ("--scenarios", "s1: {A: 0.5, A: 0.2}\n", "duplicate key 'A'"),
    ("--scenarios", "s1: {A: .nan}\n", "eq.yaml:s1.A: must be a finite number"),
])
def test_debtrank_mapping_files_hostile(tmp_path, option, text, needle):
    p = _write(tmp_path, "eq.yaml", text)
    args = ["network", "debtrank", _pair(tmp_path), option, p]
    if option != "--scenarios":
        args += ["--shock", "A=1"]
    _one_line_exit_2(args, needle)


def test_network_inputs_fifo_and_devices_refused_without_hanging(tmp_path):
    """One interpreter tries every new reader on a FIFO, /dev/zero and a directory."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    fifo_pq, fifo_json, fifo_yaml = tmp_path / "pipe.parquet", tmp_path / "pipe.json", tmp_path / "pipe.yaml"
    for f in (fifo_pq, fifo_json, fifo_yaml):
        os.mkfifo(f)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    good = _pair(tmp_path)
    _, e = good.split(":")
    script = f"""
import sys
from liqstress.errors import InputError
from liqstress.models.system import load_system
from liqstress.models.multi_asset import load_multi_asset
from liqstress.models.files import read_document
cases = [lambda: load_system({str(fifo) + ':' + e!r}), lambda: load_system({e.replace('e.csv', 'b.csv') + ':' + str(fifo)!r}),
         lambda: load_system({str(fifo_pq) + ':' + str(fifo_pq)!r}), lambda: load_system({str(fifo_json)!r}),
         lambda: load_multi_asset({str(fifo_yaml)!r}), lambda: read_document({str(fifo_yaml)!r}, unique_keys=True),
         lambda: load_system({str(zero) + ':' + e!r}), lambda: load_system({str(tmp_path) + '/x.parquet:' + str(tmp_path)!r}),
         lambda: load_multi_asset('/dev/zero')]
for k, case in enumerate(cases):
    try:
        case()
        print(k, "ACCEPTED")
    except InputError as err:
        print(k, "one line" if "\\n" not in str(err) else "multi", "regular file" in str(err) or "directory" in str(err) or "not found" in str(err))
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 9 and all(ln.endswith("one line True") for ln in lines), r.stdout
    r = subprocess.run([sys.executable, "-m", "liqstress", "network", "debtrank", good, "--shock", "A", "--equity", str(fifo_yaml)],
                       capture_output=True, text=True, timeout=60, env=dict(os.environ, MPLBACKEND="Agg"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "regular file" in r.stderr, r.stderr


# ----------------------------------------------------------------------------- network outputs
@pytest.mark.parametrize("out", ["{d}/x.neva.json", "{d}/b.parquet:{d}/e.parquet", "{d}/b.csv:{d}/e.csv", "{d}/x.yaml"])
def test_network_outputs_validated_first_and_atomic(tmp_path, out, monkeypatch):
    src = ROOT / "examples/systems/interbank_five.yaml"
    plain = _write(tmp_path, "plain_file", "x")
    err = _one_line_exit_2(["network", "convert", src, "-o", out.format(d=plain)])  # before any work
    assert "not a directory" in err
    target = tmp_path / "out"
    import liqstress.networks.io as nio

    def boom(*a, **k):
        raise InputError("convert", "injected failure while writing")

    for name in ("save_system", "write_neva_csv", "write_neva_json"):
        monkeypatch.setattr(nio, name, boom)
    import liqstress.networks.columnar as col

    real_pq = col.write_parquet

    def half(system, b, e):  # writes one file, then fails
        real_pq(system, b, e)
        raise InputError("convert", "injected failure while writing")

    monkeypatch.setattr(col, "write_parquet", half)
    _one_line_exit_2(["network", "convert", src, "-o", out.format(d=target)], "injected")
    assert not target.exists() or not any(target.iterdir())
    monkeypatch.undo()
    r = runner.invoke(app, ["network", "convert", str(src), "-o", out.format(d=target)])
    assert r.exit_code == 0, r.output
    if out.endswith(".csv"):
        assert b"\r\n" not in (target / "b.csv").read_bytes() and b"\r\n" not in (target / "e.csv").read_bytes()
    assert not any(p.name.startswith(".liqstress-stage") for p in tmp_path.rglob("*"))


def test_network_output_option_is_out_and_format_checked(tmp_path):
    src = ROOT / "examples/systems/interbank_five.yaml"
    r = runner.invoke(app, ["network", "convert", str(src), "--output", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2
    _one_line_exit_2(["network", "convert", src, "-o", tmp_path / "x.txt"], "--out: suffix must be")
    _one_line_exit_2(["network", "convert", src, "-o", f"{tmp_path / 'b.csv'}:{tmp_path / 'e.csv'}", "--format", "neva"],
                     "--format: applies to a JSON output only")
    _one_line_exit_2(["network", "generate", "erdos-renyi", "--banks", "5", "-o", f"{tmp_path / 'b.csv'}:{tmp_path / 'b.csv'}"],
                     "must differ")


def test_firesale_out_is_atomic_json(tmp_path):
    m = _write(tmp_path, "m.yaml", MULTI)
    out = tmp_path / "r" / "fs.json"
    r = runner.invoke(app, ["firesale", str(m), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text()) == json.loads(r.stdout)
    plain = _write(tmp_path, "plain_file", "x")
    _one_line_exit_2(["firesale", m, "-o", plain / "fs.json"], "not a directory")
    _one_line_exit_2(["firesale", m, "-o", tmp_path / "fs.txt"], "--out: the output is a JSON document")


# ----------------------------------------------------------------------------- fuzzing the network readers
_cells = st.one_of(st.sampled_from(["A", "B", "C", "", " ", "x", "nan", "inf", "-1", "1e300", "1e15", "0", "0.5", '"A"', "Caf\u00e9",
                                    "true", "1,5", "\u2028", "-0", "1e-320"]),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**20, 10**20).map(str))
_headers = st.lists(st.sampled_from(["bank_name", "external_asset", "external_liabilities", "liquid", "illiquid",
                                     "lender", "borrower", "debtor", "creditor", "amount", "x"]), min_size=0, max_size=6)


def _csv_text(header, rows):
    return "\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bh=_headers, eh=_headers, brows=st.lists(st.lists(_cells, min_size=0, max_size=6), max_size=5),
       erows=st.lists(st.lists(_cells, min_size=0, max_size=4), max_size=5), how=_mutations, k=st.integers(0, 10**6),
       base=st.booleans())
def test_fuzz_csv_pairs(tmp_path, bh, eh, brows, erows, how, k, base):
    """Random neva CSV pairs (valid headers mixed with junk cells), mutated: load_system accepts
    them or raises a one-line InputError; nothing else escapes."""
    from liqstress.models.system import load_system

    if base:  # a valid pair with one table replaced by the random one
        bal, exp = BAL, _csv_text(eh, erows)
    else:
        bal, exp = _csv_text(bh, brows), EXP
    b, e = tmp_path / "b.csv", tmp_path / "e.csv"
    b.write_bytes(_mutate(bal, how, k) if k % 2 else bal.encode())
    e.write_bytes(_mutate(exp, how, k) if not k % 2 else exp.encode())
    try:
        s = load_system(f"{b}:{e}")
        assert np.isfinite(s.c).all() and (s.L <= 1e15).all()
    except InputError as err:
        msg = str(err)
        assert msg and "\n" not in msg and len(msg) < 2000


_pa_cols = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=3, max_size=3),
    st.lists(st.one_of(st.none(), st.floats(-1e20, 1e20)), min_size=3, max_size=3),
    st.lists(st.integers(-2**62, 2**62), min_size=3, max_size=3),
    st.lists(st.sampled_from(["A", "B", "C", "Z", "", "1.5", "x"]), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(which=st.sampled_from(["bank_name", "external_asset", "external_liabilities", "lender", "borrower", "amount"]),
       col=_pa_cols, meta=st.one_of(st.none(), st.sampled_from([b'{"alpha": 0.5}', b'{"alpha": "x"}', b"{}", b"[]", b"null",
                                                                 b'{"inverse_demand": {"kind": "linear", "beta": 0.01}}',
                                                                 b'{"inverse_demand": 3}'])))
def test_fuzz_parquet_pairs(tmp_path, which, col, meta):
    """Parquet pairs with one column replaced by any Arrow type and random metadata: accepted
    or a one-line InputError."""
    from liqstress.models.system import load_system

    bal = {"bank_name": ["A", "B", "C"], "external_asset": [2.0, 3.0, 1.0], "external_liabilities": [1.0, 1.0, 0.5]}
    exp = {"lender": ["A", "B", "C"], "borrower": ["B", "C", "A"], "amount": [0.5, 0.25, 0.1]}
    (bal if which in bal else exp)[which] = col
    try:
        spec = _parquet_pair(tmp_path, bal, exp, meta)
    except Exception:  # pyarrow cannot build such a table: nothing to read
        return
    try:
        s = load_system(spec)
        assert np.isfinite(s.pbar).all() and (s.pbar <= 3e15).all()
    except InputError as err:
        assert "\n" not in str(err) and len(str(err)) < 2000


_neva_docs = st.lists(st.dictionaries(
    st.sampled_from(["name", "extasset", "extliab", "ibasset", "ibliabtot", "liquid", "illiquid", "x"]),
    st.one_of(_scalars, st.dictionaries(st.sampled_from(["A", "B", "C", "Z"]), _scalars, max_size=3)), max_size=6), max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=_neva_docs, how=_mutations, k=st.integers(0, 10**6), named=st.booleans())
def test_fuzz_neva_json(tmp_path, doc, how, k, named):
    from liqstress.models.system import load_system

    if named:  # mostly well-formed banks A, B, C with random fields
        for j, bank in enumerate(doc):
            bank.setdefault("name", "ABC"[j % 3])
    try:
        text = json.dumps(doc)
    except ValueError:
        return
    p = tmp_path / "n.json"
    p.write_bytes(_mutate(text, how, k) if how != "deep" else text.encode())
    try:
        load_system(p)
    except InputError as err:
        assert "\n" not in str(err) and len(str(err)) < 2000


_multi_docs = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=3),
    st.dictionaries(st.sampled_from(["alpha", "assets", "banks", "name", "inverse_demand", "kind", "beta", "depth",
                                     "liquid", "liabilities", "holdings", "other_assets", "bonds", "eq"]), kids, max_size=4)),
    max_leaves=20)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=_multi_docs, how=_mutations, k=st.integers(0, 10**6), as_json=st.booleans())
def test_fuzz_multi_asset_and_mapping_files(tmp_path, doc, how, k, as_json):
    """Any document, mutated, as a multi-asset file and as the --equity / --scenarios mappings."""
    from liqstress.cli.network import _bank_values, _scenarios
    from liqstress.models.multi_asset import load_multi_asset
    from liqstress.models.system import load_system

    try:
        text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    except (ValueError, yaml.YAMLError):
        return
    p = tmp_path / ("f.json" if as_json else "f.yaml")
    p.write_bytes(_mutate(text, how, k))
    sysm = load_system(_pair(tmp_path))
    for load in (lambda: load_multi_asset(p), lambda: _bank_values(sysm, str(p), "--equity", nonneg=False),
                 lambda: _scenarios(sysm, str(p))):
        try:
            load()
        except InputError as err:
            assert err.field and "\n" not in str(err) and len(str(err)) < 2000
