"""Excel in and out: round trips, templates, results workbooks, one-line errors naming sheet and cell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from liqstress.errors import InputError
from liqstress.io import excel
from liqstress.models.cbc_plan import CBCPlan
from liqstress.models.stress_file import load_stress
from liqstress.solvers.cbc import solve_plan

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "examples/stress/midsize_bank.yaml"
SVB = ROOT / "examples/stress/svb_2023.yaml"
TWO = ROOT / "examples/stress/two_currency_bank.yaml"
PLAN = ROOT / "examples/plans/treasury_plan.yaml"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from liqstress.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.parametrize("src", [MID, SVB, TWO])
def test_stress_file_to_workbook_and_back_is_identical(src, tmp_path):
    s = load_stress(src)
    wb = excel.write_workbook(excel.model_doc(s), "stress", tmp_path / "s.xlsx")
    assert excel.read_stress_workbook(wb) == s


def _every_new_field() -> dict:
    """midsize_bank (linked secured funding, cash floors, action kinds, closed markets, l2b_rmbs)
    plus the remaining optional fields set away from their defaults."""
    import yaml

    d = yaml.safe_load(MID.read_text())
    d["cfp"]["runway_window_days"] = 15
    d["liabilities"].append({"id": "repo_rmbs_sovereign", "category": "secured_funding", "amount": 50.0,
                             "collateral_level": "L2B", "collateral_rmbs": True, "counterparty": "sovereign",
                             "maturities": [{"day": 3, "amount": 50.0}]})
    d["lcr"]["secured_transactions"] = [
        {"id": "swap_out", "maturity_days": 7, "gave": {"level": "L2A", "value": 95.0, "asset": "gse_bonds"},
         "received": {"level": "L1", "value": 90.0, "cash": True}},
    ]
    d["scenarios"][0]["closed_markets"] = ["equity", "term_funding"]
    return d


def test_every_field_of_treasury_files_round_trips(tmp_path):
    s = load_stress(_every_new_field())
    assert s.minimum_operational_cash > 0 and s.lcr.l2b_rmbs and s.scenarios[0].closed_markets
    assert any(m.curtails for m in s.management_actions) and any(m.requires_markets for m in s.management_actions)
    assert any(x.collateral for x in s.liabilities) and any(x.counterparty == "central_bank" for x in s.liabilities)
    beh = s.behavioural  # behavioural segments: run-off by scenario type, dated sourced figures, defaults
    assert beh is not None and beh.description and len(beh.segments) >= 5
    assert any(g.insured is None for g in beh.segments) and any(g.note for g in beh.segments)
    cal = [c for g in beh.segments for c in g.calibration]
    assert any(not c.approximate for c in cal) and all(c.date is not None and c.quote for c in cal)
    wb = excel.write_workbook(excel.model_doc(s), "stress", tmp_path / "s.xlsx")
    back = excel.read_stress_workbook(wb)
    assert back == s and back.behavioural == beh
    book = openpyxl.load_workbook(wb, read_only=True)
    assert {"behavioural_segments", "behavioural_run_off", "behavioural_calibration"} <= set(book.sheetnames)
    readme = {(r[0], r[2]) for r in book["README"].iter_rows(min_row=2, values_only=True)}
    assert {("behavioural_run_off", "days_min"), ("behavioural_calibration", "source"),
            ("settings", "(field) behavioural.correlation")} <= readme
    # a scenario-name key (svb_2023: observed_march_2023) and a start bound left to its default
    import yaml

    d = yaml.safe_load(SVB.read_text())
    d["behavioural"]["segments"][1]["run_off"]["idiosyncratic"].pop("start_max")
    d["behavioural"]["segments"][1]["calibration"] = [{"event": "e", "outflow": 0.1, "days": 3, "base": "b",
                                                       "scenario": "market_wide", "source": "s"}]
    s2 = load_stress(d)
    wb2 = excel.write_workbook(excel.model_doc(s2), "stress", tmp_path / "s2.xlsx")
    assert excel.read_stress_workbook(wb2) == s2
    plan = CBCPlan.from_dict({**CBCPlan.from_file(PLAN).model_dump(mode="python", exclude_none=True),
                              "minimum_balance": 120.0})
    wb = excel.write_workbook(excel.model_doc(plan), "plan", tmp_path / "p.xlsx")
    assert excel.read_plan_workbook(wb) == plan


def _model_fields(model, seen=None) -> set:
    """(model, field) names of a pydantic model and every model nested in it."""
    import typing

    from pydantic import BaseModel

    seen = set() if seen is None else seen
    out = set()
    if model in seen:
        return out
    seen.add(model)
    for name, f in model.model_fields.items():
        out.add((model.__name__, name))
        stack = [f.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                out |= _model_fields(t, seen)
            stack.extend(typing.get_args(t))
    return out


@pytest.mark.parametrize("kind", ["stress", "plan"])
def test_workbook_layout_knows_every_field_of_the_file_models(kind):
    """A field added to the stress-file (or plan-file) models must have a workbook column, or the
    workbook would silently drop it: every field name appears in a sheet path or column path."""
    from liqstress.models.stress_file import StressFile

    root = StressFile if kind == "stress" else CBCPlan
    specs = excel.STRESS_SHEETS if kind == "stress" else excel.PLAN_SHEETS
    names = set(excel.SCENARIO_PARAMS) | {"run_off", "rates", "opening_cash", "gave", "received"}
    for sp in specs:
        names |= set(sp.path.split("."))
        for c in sp.cols:
            names |= set(c.path.split("."))
    fields = _model_fields(root)
    assert len(fields) > (60 if kind == "stress" else 20)
    missing = sorted(f"{m}.{n}" for m, n in fields if n not in names)
    assert missing == [], missing


def test_file_to_xlsx_to_file_through_the_cli(tmp_path):
    wb, back = tmp_path / "s.xlsx", tmp_path / "back.yaml"
    assert _cli("template", "stress", "--from", str(TWO), "-o", str(wb)).returncode == 0
    p = _cli("template", "stress", "--from", str(wb), "-o", str(back))
    assert p.returncode == 0, p.stderr
    assert load_stress(back) == load_stress(TWO)


def test_plan_round_trip_and_cbc_from_workbook(tmp_path):
    plan = CBCPlan.from_file(PLAN)
    p = _cli("template", "plan", "--from", str(PLAN), "-o", str(tmp_path / "plan.xlsx"))
    assert p.returncode == 0, p.stderr
    assert excel.read_plan_workbook(tmp_path / "plan.xlsx") == plan
    p = _cli("cbc", str(tmp_path / "plan.xlsx"), "--json", "--xlsx", str(tmp_path / "res.xlsx"))
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["survival_days"] == solve_plan(plan).survival_days
    book = openpyxl.load_workbook(tmp_path / "res.xlsx", read_only=True)
    assert {"summary", "plan", "deployment"} <= set(book.sheetnames)


def test_report_from_workbook_gives_identical_results(tmp_path):
    wb = tmp_path / "two.xlsx"
    assert _cli("template", "stress", "--from", str(TWO), "-o", str(wb)).returncode == 0
    a = _cli("report", str(TWO), "-o", str(tmp_path / "a" / "r.md"), "--no-reverse", "--json")
    b = _cli("report", str(wb), "-o", str(tmp_path / "b" / "r.md"), "--no-reverse", "--json",
             "--xlsx", str(tmp_path / "res.xlsx"))
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    da, db = json.loads(a.stdout), json.loads(b.stdout)
    for x, y in zip(da["scenarios"], db["scenarios"]):
        for k in ("survival_days", "waterfall_survival_days", "survival_days_with_actions", "stress_lcr", "currencies"):
            assert x[k] == y[k], k
    assert da["nsfr"] == db["nsfr"] and da["base_lcr"] == db["base_lcr"]
    book = openpyxl.load_workbook(tmp_path / "res.xlsx", read_only=True)
    names = set(book.sheetnames)
    assert {"summary", "lcr components", "nsfr", "nsfr items"} <= names
    for sc in ("idiosyncratic", "market_wide", "combined"):
        assert {f"daily {sc}", f"cbc {sc}", f"plan {sc}", f"c6601 {sc}"} <= names
    ws = book["summary"]
    head = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert {"name", "survival_days", "stress_lcr", "EUR_survival_days", "EUR_censored"} <= set(head)


def test_blank_template_lists_every_sheet(tmp_path):
    out = tmp_path / "blank.xlsx"
    p = _cli("template", "stress", "-o", str(out))
    assert p.returncode == 0, p.stderr
    book = openpyxl.load_workbook(out, read_only=True)
    assert [s.name for s in excel.STRESS_SHEETS] + ["README"] == book.sheetnames
    # an empty template is rejected with a one-line error naming the sheet
    p = _cli("report", str(out), "-o", str(tmp_path / "r.md"))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("liqstress: settings")


@pytest.fixture(scope="module")
def good_wb(tmp_path_factory):
    out = tmp_path_factory.mktemp("wb") / "two.xlsx"
    excel.write_workbook(excel.model_doc(load_stress(TWO)), "stress", out)
    return out


def _edit(src: Path, dst: Path, fn) -> Path:
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def _set(sheet, cell, value):
    def fn(wb):
        wb[sheet][cell].value = value
    return fn


@pytest.mark.parametrize("edit, message", [
    (_set("flows", "D3", -5), "flows!D3: amount must be >= 0 (got -5.0)"),
    (_set("flows", "D3", "abc"), "flows!D3: amount must be a number (got 'abc')"),
    (_set("flows", "D1", "amout"), "flows!D1: unknown column 'amout'"),
    (lambda wb: wb.remove(wb["liabilities"]), "workbook: missing sheet 'liabilities'"),
    (lambda wb: wb["liabilities"].delete_cols(3), "liabilities!1: missing column 'amount'"),
    (_set("run_off", "C2", 2.0), "run_off!C2: rate must be in [0, 1] (got 2.0)"),
    (_set("scenarios", "B2", "weird"), "scenarios!B2: type must be 'idiosyncratic', 'market_wide' or 'combined'"),
    (_set("flows", "E3", None), "flows!A3: give exactly one of day or date"),
    (_set("maturities", "A2", "nope"), "maturities!A2: liability 'nope' is not an id of sheet liabilities"),
    (_set("cbc", "G2", 1.5), "cbc!G2: settlement_days must be an integer (got 1.5)"),
    (_set("fx_rates", "B2", "1,1.0"), "fx_rates!B2: rate must be a number"),
])
def test_bad_workbooks_give_one_line_errors(good_wb, tmp_path, edit, message):
    bad = _edit(good_wb, tmp_path / "bad.xlsx", edit)
    with pytest.raises(InputError) as e:
        excel.read_stress_workbook(bad)
    assert str(e.value).startswith(message), str(e.value)


def test_bad_workbook_cli_exit_2_without_traceback(good_wb, tmp_path):
    bad = _edit(good_wb, tmp_path / "bad.xlsx", _set("flows", "D3", "abc"))
    p = _cli("report", str(bad), "-o", str(tmp_path / "r.md"))
    assert p.returncode == 2
    assert p.stderr == "liqstress: flows!D3: amount must be a number (got 'abc')\n"
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook")
    for args in (["report", str(junk), "-o", str(tmp_path / "r.md")], ["cbc", str(junk)]):
        p = _cli(*args)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    p = _cli("cbc", str(good_wb))
    assert p.returncode == 2 and "--scenario" in p.stderr


def test_bad_behavioural_cells_name_the_cell(tmp_path):
    """A run-off row for an unknown segment, a Beta sd too large for its mean and a missing
    run length: one error naming the sheet and cell of the behavioural sheets."""
    s = load_stress(MID)
    wb = excel.write_workbook(excel.model_doc(s), "stress", tmp_path / "s.xlsx")

    def edit(sheet: str, cell: str, value) -> Path:
        book = openpyxl.load_workbook(wb)
        book[sheet][cell] = value
        out = tmp_path / f"{sheet}_{cell}.xlsx"
        book.save(out)
        return out

    head = [c.value for c in openpyxl.load_workbook(wb)["behavioural_run_off"][1]]
    col = {h: chr(65 + j) for j, h in enumerate(head)}
    with pytest.raises(InputError) as e:
        excel.read_stress_workbook(edit("behavioural_run_off", "A2", "nope"))
    assert e.value.field == "behavioural_run_off!A2" and "not an id of sheet behavioural_segments" in e.value.rule
    with pytest.raises(InputError) as e:
        excel.read_stress_workbook(edit("behavioural_run_off", f"{col['sd']}2", 0.9))
    assert e.value.field.startswith("behavioural_run_off!") and "sd" in str(e.value)
    with pytest.raises(InputError) as e:
        excel.read_stress_workbook(edit("behavioural_run_off", f"{col['days_max']}2", None))
    assert e.value.field == f"behavioural_run_off!{col['days_max']}2" and "days_max is required" in str(e.value)
