"""``liqstress report``: report sections (docs/model.md §6.6), numbers, checklist, figures, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from liqstress.models.stress_file import load_stress
from liqstress.reports.checklist import ITEMS
from liqstress.reports.data import deployment
from liqstress.reports.narrative import write_report
from liqstress.solvers.cbc import solve_plan
from liqstress.stress.engine import analyse, plan_for_scenario
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
        for h in ("Survival horizon:", f"Internal minimum for {name}:", f"Headroom of {name}:",
                  f"Binding constraint in {name}:", "against the internal minimum", f"Cliff effects in {name}:",
                  f"Cash floor in {name}:"):
            assert h in sec, h
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
            assert "Survival horizon: >= 365 (whole projection)<sup>d</sup>" in line
            assert sc["censored"] is True and sc["survival_text"] == ">= 365 (whole projection)"
        else:
            assert f"Survival horizon: {T}<sup>d</sup> days" in line
            assert sc["censored"] is False and sc["survival_text"] == str(T)
        M = sc["internal_minimum_days"]
        assert f"Internal minimum for {sc['name']}: {M}<sup>i</sup> days" in sec
        lcr = compute_lcr(s, resolve(s, sc["name"])).lcr
        assert sc["stress_lcr"] == pytest.approx(lcr)
        assert f"{100 * lcr:.1f}%<sup>d</sup>" in sec
    comb = _section(text, "combined")
    assert "breaching the 90<sup>i</sup>-day internal minimum by 2<sup>d</sup> days" in comb
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
    res = write_report(SVB, tmp_path / "svb.md", reverse=False, sensitivities=False)
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
    res = write_report(doc, tmp_path / "x.md", reverse=False, sensitivities=False)
    st = {c.item: c for c in res.checks}
    assert not st[ITEMS[1]].passed and "without a stated basis" in st[ITEMS[1]].reason
    assert not st[ITEMS[9]].passed and "no recovery_conditions" in st[ITEMS[9]].reason
    assert "**FAIL** — Recovery path" in (tmp_path / "x.md").read_text()


@pytest.mark.parametrize("content, field", [
    ("name: x\nopening_cash: -5\n", "opening_cash"),
    ("name: [unclosed\n", "file"),
    (MID.read_text().replace("curtails: new_lending", "curtails: growth"), "management_actions[0].curtails"),
    (MID.read_text().replace("collateral: gse_bonds", "collateral: gold"), "liabilities[9].collateral"),
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


# --------------------------------------------------------------------------- issue 12: text, censoring, files
def _sentences_by_scenario(text: str) -> dict[str, set[str]]:
    """Prose sentences (paragraphs and bullets, tags stripped) of each scenario section."""
    heads = [m.start() for m in re.finditer(r"^# Stress Liquidity Analysis — ", text, re.M)]
    out = {}
    for k, a in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else text.find("\n# ", a + 5)
        sec = text[a:end if end > 0 else None]
        name = sec.splitlines()[0].split("— ", 1)[1]
        sents = set()
        for line in sec.splitlines():
            line = line.strip()
            if not line or line.startswith(("|", "#", "![")):
                continue
            line = re.sub(r"<sup>.</sup>", "", line).lstrip("- ")
            for s in re.split(r"(?<=[.!?])\s+", line):
                if len(s.strip()) > 3:
                    sents.add(s.strip())
        out[name] = sents
    return out


def _assert_no_repeated_sentence(text: str) -> None:
    secs = _sentences_by_scenario(text)
    assert len(secs) >= 3
    names = list(secs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common = secs[a] & secs[b]
            assert not common, f"{a} / {b}: {sorted(common)[:3]}"


def test_no_sentence_repeated_between_scenarios(midsize, tmp_path):
    out, _ = midsize
    _assert_no_repeated_sentence(out.read_text())
    write_report(SVB, tmp_path / "svb.md", reverse=False)
    _assert_no_repeated_sentence((tmp_path / "svb.md").read_text())


def test_sentence_check_detects_a_repeat():
    text = ("# Stress Liquidity Analysis — a\n\nSame words here. Only in a.\n\n"
            "# Stress Liquidity Analysis — b\n\n- Same words here.\n\n"
            "# Stress Liquidity Analysis — c\n\nOther.\n")
    with pytest.raises(AssertionError, match="Same words here"):
        _assert_no_repeated_sentence(text)


def test_censored_everywhere(midsize):
    out, doc = midsize
    sc = {s["name"]: s for s in doc["scenarios"]}
    mw = sc["market_wide"]
    assert mw["censored"] is True and mw["survival_days"] == 365 and mw["survival_text"] == ">= 365 (whole projection)"
    assert sc["combined"]["censored"] is False
    text = out.read_text()
    summary_row = next(l for l in text.splitlines() if l.startswith("| market_wide | Market-wide"))
    assert ">= 365 (whole projection)<sup>d</sup>" in summary_row
    import pandas as pd

    csv = pd.read_csv(out.parent / "midsize_summary.csv")
    assert csv.set_index("scenario").loc["market_wide", "survival_days_lp"] == ">= 365 (whole projection)"
    assert csv.set_index("scenario").loc["combined", "survival_days_lp"] == "88"
    sens = pd.read_csv(out.parent / "midsize_market_wide_sensitivities.csv")
    assert (sens["horizon"] == ">= 365 (whole projection)").all()


def test_censored_in_cli_table_and_pipeline_index(tmp_path):
    doc = yaml.safe_load(MID.read_text())
    doc["horizon_days"] = 60  # every scenario of the bank survives 60 days but combined
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc))
    p = _cli("report", str(f), "-o", str(tmp_path / "o.md"), "--no-reverse", "--no-sensitivities")
    assert p.returncode == 0, p.stderr
    assert ">= 60 (whole projection)" in p.stdout
    from liqstress.cli.pipeline import step_stress, write_index

    (tmp_path / "ex" / "stress").mkdir(parents=True)
    (tmp_path / "ex" / "stress" / "midsize_bank.yaml").write_text(yaml.safe_dump(doc))
    r = step_stress(tmp_path / "run", quick=True, examples=tmp_path / "ex")
    index = write_index(tmp_path / "run", [r], 1.0, True).read_text()
    assert ">= 60 (whole projection) / >= 60 (whole projection) / 180" in index


def test_report_json_issue12_fields(midsize):
    _, doc = midsize
    sc = {s["name"]: s for s in doc["scenarios"]}
    comb = sc["combined"]
    assert doc["minimum_operational_cash"] == 150 and doc["intraday_liquidity_requirement"] == 250
    assert comb["minimum_balance"] == 400
    assert comb["shortfall_to_minimum"]["amount"] > 0 and comb["shortfall_to_minimum"]["days"] == 90
    assert sc["idiosyncratic"]["shortfall_to_minimum"]["amount"] == 0 and sc["idiosyncratic"]["shortfall_to_minimum"]["surplus"] > 0
    cl = sc["idiosyncratic"]["cliff_effects"]
    assert cl[0]["source"] == "senior_bonds" and cl[0]["day"] == 200 and cl[0]["horizon_without"] == 365
    assert comb["lcr_annex1"]["negative_adjusted_level1"] is False
    assert comb["lcr_reconciliation"]["lcr_net_outflows"] == pytest.approx(comb["net_outflows_30d"])
    acts = {a["id"]: a for a in comb["management_actions"]}
    assert acts["abs_issuance"]["feasible"] is False and "term funding" in acts["abs_issuance"]["reason"]
    assert acts["halt_originations"]["counted"] and acts["halt_originations"]["cash_effect"] == pytest.approx(450.0)
    assert comb["sensitivities"] and comb["headroom_fragility"]
    assert [e["day"] for e in comb["cfp_escalation"]] == sorted({e["day"] for e in comb["cfp_escalation"]})
    assert comb["reverse_stress"]["multiplier"] == comb["reverse_stress_multiplier"]


def test_outcomes_worsen_from_the_scenarios_own_sensitivities(midsize):
    out, doc = midsize
    text = out.read_text()
    for sc in doc["scenarios"]:
        sec = re.sub(r"<sup>.</sup>", "", _section(text, sc["name"]))
        para = next(l for l in sec.splitlines() if f"Outcomes for {sc['name']} " in l)
        para = para[para.index(f"Outcomes for {sc['name']} "):]
        adverse = sorted((s for s in sc["sensitivities"] if s["horizon_up"] is not None and s["horizon_up"] < s["horizon"]),
                         key=lambda s: (s["horizon_up"] - s["horizon"], s["factor"]))
        if adverse:
            top = adverse[0]
            assert f"→ {survival_text_(top['horizon_up'], sc['horizon_days'])}" in para, (top, para)
        else:
            assert "tightest-day surplus" in para or "No one-factor" in para


def survival_text_(T, H):
    return f">= {H} (whole projection)" if T >= H else f"{T} days"


def test_tornado_beside_report(midsize):
    out, doc = midsize
    for sc in doc["scenarios"]:
        p = out.parent / f"midsize_{sc['name']}_tornado.png"
        assert p.exists() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({p.name})" in out.read_text()


def test_overlay_basis_labelled_with_its_source(midsize):
    out, _ = midsize
    sec = _section(out.read_text(), "combined")
    s = load_stress(MID)
    row = next(l for l in sec.splitlines() if l.startswith("| retail_online |"))
    # rate from idiosyncratic (45% > 20%), days from market_wide (45 < 120)
    assert "45.0%<sup>a</sup> (from idiosyncratic)" in row and "45<sup>a</sup> (from market_wide)" in row
    assert s.scenario("idiosyncratic").run_off["retail_digital"].basis in row
    assert s.scenario("market_wide").run_off["retail_digital"].basis not in row.split("days from")[0]
    assert "closed funding markets: term funding (from market_wide)" in sec


def test_recovery_path_from_projection(midsize):
    out, doc = midsize
    text = re.sub(r"<sup>.</sup>", "", out.read_text())
    sec = _section(text, "market_wide")
    s = load_stress(MID)
    a = analyse(s, "market_wide")
    net = a.proj.daily["net_outflows"].to_numpy()
    peak = int(np.argmax(net)) + 1
    assert f"daily net outflows peak at ${net[peak - 1]:,.0f}M on day {peak}" in sec
    # trough of liquid resources = cash above the floor + unused CBC of the deployment shown
    dep = deployment(a.plan, a.wf, "waterfall")
    liq = a.wf.balances - 400 + sum(dep.remaining_by_level.values())
    d = int(np.argmin(liq)) + 1
    assert f"to a trough of ${liq[d - 1]:,.0f}M on day {d}" in sec
