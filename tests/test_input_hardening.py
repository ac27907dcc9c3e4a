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
