"""``liqstress report``: report sections (docs/model.md §6.6), numbers, checklist, figures, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from liqstress.models.stress_file import load_stress
from liqstress.reports.checklist import ITEMS
from liqstress.reports.narrative import write_report
from liqstress.solvers.cbc import solve_plan
from liqstress.stress.engine import plan_for_scenario
from liqstress.stress.lcr import compute_lcr
from liqstress.stress.scenarios import resolve

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "examples/stress/midsize_bank.yaml"
SVB = ROOT / "examples/stress/svb_2023.yaml"
SECTIONS = ["## Scenario Summary", "## Cash Flow Impact (30-Day Horizon)", "## Survival Horizon",
            "## Counterbalancing Capacity Deployment", "## CFP Trigger Status", "## Stress LCR",
            "## Management Actions", "## Recovery Path"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from liqstress.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def midsize(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "midsize.md"
    p = _cli("report", str(MID), "-o", str(out), "--json")
    assert p.returncode == 0, p.stderr
    return out, json.loads(p.stdout)


def _section(text: str, name: str) -> str:
    start = text.index(f"# Stress Liquidity Analysis — {name}")
    nxt = text.find("\n# ", start + 5)
    return text[start: nxt if nxt > 0 else None]


def test_report_has_every_output_section_per_scenario(midsize):
    out, doc = midsize
    text = out.read_text()
    for name in ("idiosyncratic", "market_wide", "combined"):
        sec = _section(text, name)
        pos = [sec.index(h) for h in SECTIONS]
        assert pos == sorted(pos), name  # in the order of docs/model.md §6.6
        for b in ("**Type**", "**Trigger**", "**Duration**", "**Severity**"):
            assert b in sec
        for h in ("| Time Bucket | Outflows", "| Day | CBC Available", "| Indicator | Current",
                  "| Scenario | Stress LCR | Δ vs Base LCR | Status vs 100% |", "| Action | Liquidity Impact"):
            assert h in sec, h
        for h in ("Survival horizon:", "Internal minimum:", "Headroom:", "Binding constraint:"):
            assert h in sec
    assert (out.parent / "midsize.html").exists()
    html = (out.parent / "midsize.html").read_text()
    assert "<table>" in html and "Validation Checklist" in html


def test_report_numbers_equal_plan_for_scenario(midsize):
    out, doc = midsize
    text = out.read_text()
    s = load_stress(MID)
    for sc in doc["scenarios"]:
        T = solve_plan(plan_for_scenario(str(MID), sc["name"])).survival_days
        assert sc["survival_days"] == T
        sec = _section(text, sc["name"])
        line = next(l for l in sec.splitlines() if l.startswith("- Survival horizon:"))
        if T >= s.horizon_days:
            assert "more than 365<sup>i</sup> days" in line
        else:
            assert f"Survival horizon: {T}<sup>d</sup> days" in line
        M = sc["internal_minimum_days"]
        assert f"Internal minimum: {M}<sup>i</sup> days" in sec
        lcr = compute_lcr(s, resolve(s, sc["name"])).lcr
        assert sc["stress_lcr"] == pytest.approx(lcr)
        assert f"{100 * lcr:.1f}%<sup>d</sup>" in sec
    comb = _section(text, "combined")
    assert "breaching the 90<sup>i</sup>-day internal minimum by 3<sup>d</sup> days" in comb
    assert doc["binding_lcr_scenario"] == "combined"


def test_report_cash_table_sums_to_projection(midsize):
    out, _ = midsize
    sec = _section(out.read_text(), "combined")
    rows = [l for l in sec.splitlines() if re.match(r"\| (Day \d|Days )", l)]
    assert len(rows) == 11  # 7 daily + 4 weekly buckets to day 30
    num = lambda c: float(re.sub(r"<sup>.</sup>", "", c).replace(",", ""))  # noqa: E731
    outs = sum(num(r.split("|")[2]) for r in rows)
    from liqstress.stress.projection import project

    s = load_stress(MID)
    assert outs == pytest.approx(project(s, resolve(s, "combined")).daily["outflows"].iloc[:30].sum(), abs=6)


def test_report_checklist_item_by_item(midsize):
    out, doc = midsize
    text = out.read_text()
    chk = text[text.index("# Validation Checklist"):]
    for item in ITEMS:
        line = next(l for l in chk.splitlines() if item in l)
        assert re.search(r"\*\*(PASS|FAIL)\*\* — ", line)
        assert len(line.split(item + ": ", 1)[1]) > 10  # a reason follows
    assert [c["item"] for c in doc["checklist"]] == list(ITEMS)


def test_every_number_in_tables_is_tagged(midsize):
    out, _ = midsize
    text = out.read_text()
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|--"):
            for cell in line.strip("|").split("|")[1:]:
                cell = cell.strip()
                if re.fullmatch(r"-?[\d,]+(\.\d+)?%?", cell):
                    pytest.fail(f"untagged number {cell!r} in: {line}")


def test_figures_written(midsize):
    out, doc = midsize
    for f in doc["figures"]:
        p = Path(f)
        assert p.exists() and p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](midsize_combined_cash.png)" in out.read_text()


def test_svb_report_states_failure_within_one_day(tmp_path):
    res = write_report(SVB, tmp_path / "svb.md", reverse=False)
    sc = {x["name"]: x for x in res.summary()["scenarios"]}
    assert sc["observed_march_2023"]["survival_days"] <= 1
    sec = _section((tmp_path / "svb.md").read_text(), "observed_march_2023")
    assert re.search(r"Survival horizon: [01]<sup>d</sup> days under observed_march_2023", sec)


def test_checklist_fails_with_reason_when_basis_missing(tmp_path):
    doc = yaml.safe_load(SVB.read_text())
    for s in doc["scenarios"]:
        for v in s.get("run_off", {}).values():
            v.pop("basis", None)
        s.pop("recovery_conditions", None)
    res = write_report(doc, tmp_path / "x.md", reverse=False)
    st = {c.item: c for c in res.checks}
    assert not st[ITEMS[1]].passed and "without a stated basis" in st[ITEMS[1]].reason
    assert not st[ITEMS[9]].passed and "no recovery_conditions" in st[ITEMS[9]].reason
    assert "**FAIL** — Recovery path" in (tmp_path / "x.md").read_text()


@pytest.mark.parametrize("content, field", [
    ("name: x\nopening_cash: -5\n", "opening_cash"),
    ("name: [unclosed\n", "file"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, content, field):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    p = _cli("report", str(f), "-o", str(tmp_path / "o.md"))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], p.stderr
    assert "Traceback" not in p.stderr


def test_bad_field_deep_in_file_exits_2(tmp_path):
    doc = yaml.safe_load(MID.read_text())
    doc["scenarios"][1]["run_off"]["retail_stable"]["rate"] = 2.0
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(doc))
    p = _cli("report", str(f), "-o", str(tmp_path / "o.md"))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()]
    assert "scenarios[1].run_off.retail_stable.rate" in p.stderr
    p2 = _cli("report", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "o.md"))
    assert p2.returncode == 2 and "not found" in p2.stderr
