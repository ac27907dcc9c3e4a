"""Narrative stress report (structure: docs/model.md §6.6): Markdown + HTML + PNG figures.

For each scenario the sections of docs/model.md §6.6, in that order: Scenario
Summary, Cash Flow Impact (30-Day Horizon), Survival Horizon, Counterbalancing Capacity
Deployment, CFP Trigger Status, Stress LCR, Management Actions, Recovery Path (plus Residual
Risk from Step 7).  Narrative paragraphs are generated from the numbers in the style of
ILAAP stress narratives.  Every number carries a tag: ``i`` input (read from the file), ``a`` assumed
(a scenario / behavioural assumption of the file), ``d`` derived (computed by liqstress).
Then the reverse stress test, historical reference events and the Validation Checklist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


import numpy as np

from liqstress.models.stress_file import PHASE_LABEL, PHASES, StressFile, load_stress
from liqstress.reports import behavioural, charts, interop_sections, story
from liqstress.stress import almm
from liqstress.reports.checklist import Check, evaluate
from liqstress.reports.data import ReportData, ScenarioData, collect
from liqstress.reports.formatting import embed_images, split_provenance
from liqstress.solvers.cbc import survival_text
from liqstress.stress.projection import bucketed

TYPE_LABEL = {"idiosyncratic": "Idiosyncratic", "market_wide": "Market-wide", "combined": "Combined"}
TAG_LEGEND = "<sup>i</sup> input (from the stress file) · <sup>a</sup> assumed (scenario / behavioural assumption of the file) · <sup>d</sup> derived (computed by liqstress)"


class Fmt:
    """Number formatting with provenance tags."""

    def __init__(self, unit: str):
        self.unit = unit
        self.dec = 1 if "bn" in unit.lower() or unit.strip().upper().endswith("B") else 0

    def _z(self, x: float) -> float:
        """An amount that rounds to zero prints as 0, never -0."""
        return 0.0 if abs(x) < 0.5 * 10.0 ** -self.dec else x

    def m(self, x: float, tag: str) -> str:  # money
        if x is None or not math.isfinite(x):
            return f"n/a<sup>{tag}</sup>"
        return f"{self._z(x):,.{self.dec}f}<sup>{tag}</sup>"

    def mu(self, x: float, tag: str) -> str:  # money with unit
        return f"{self.unit} {self.m(x, tag)}" if not self.unit.startswith("$") else self._dollar(x, tag)

    def _dollar(self, x: float, tag: str) -> str:
        suffix = self.unit[1:]
        return f"${self._z(x):,.{self.dec}f}{suffix}<sup>{tag}</sup>"

    @staticmethod
    def p(x: float, tag: str, dec: int = 1) -> str:  # percent
        if x is None or not math.isfinite(x):
            return f"n/a<sup>{tag}</sup>"
        return f"{100 * x:.{dec}f}%<sup>{tag}</sup>"

    @staticmethod
    def n(x: Any, tag: str) -> str:
        return f"{x}<sup>{tag}</sup>"


def _days(sd: ScenarioData, T: int, f: Fmt) -> str:
    return story.days_text(T, sd.a.horizon_days, f)


def _phase_day(sd: ScenarioData, phase: str):
    return sd.a.cfp.activation.get(phase)


def _trigger_reason(sd: ScenarioData, phase: str) -> str:
    tr = sd.a.cfp.triggers
    day = _phase_day(sd, phase)
    hits = tr[(tr["phase"] == phase) & (tr["first_breach_day"] == day)]
    if hits.empty:  # reached through a higher phase's trigger
        hits = tr[tr["first_breach_day"] == day]
    if hits.empty:
        return ""
    r = hits.iloc[0]
    words = {
        "lcr": f"the LCR projection falls below {r['level']:.0%}",
        "survival_days": f"the observed runway (liquid resources over the trailing average net outflow) falls below {r['level']:g} days",
        "deposit_outflow_sigma": f"deposit outflows exceed {r['level']:g} sigma",
        "wholesale_closed": "unsecured wholesale markets close",
        "rating_notches": f"the rating is cut by {r['level']:g}+ notches",
    }
    return words.get(r["indicator"], r["id"])


def action_effects(sd: ScenarioData, stress: StressFile) -> dict[str, float]:
    """Cash effect of each counted management action in the LP plan with actions, up to the day
    after its horizon: LP usage of funding / asset-sale actions, removed outflow of curtailments."""
    from liqstress.stress.actions import curtailment

    a = sd.a
    upto = min(a.horizon_days, a.lp_actions.survival_days + 1)
    out: dict[str, float] = {}
    for m in a.lp_actions.management:
        out[m["id"]] = out.get(m["id"], 0.0) + m["cash"]
    acts = {m.id: m for m in stress.management_actions}
    for st in a.actions:
        if st.counted and st.kind == "curtail_outflow":
            out[st.id] = float(curtailment(stress, acts[st.id], int(st.effective_day))[:upto].sum())
    return {k: v for k, v in out.items() if v > 0}


# --------------------------------------------------------------------------- narrative
def summary_paragraph(sd: ScenarioData, f: Fmt, stress: StressFile) -> str:
    a, r = sd.a, sd.a.res
    H, T, M = a.horizon_days, a.horizon, a.internal_minimum
    drv = sorted(((k[4:], v) for k, v in a.proj.by_driver(min(30, H)).items() if k.startswith("out:") and v > 0),
                 key=lambda kv: -kv[1])
    out30 = float(a.proj.daily["outflows"].iloc[:30].sum())
    parts = [f"{f.mu(v, 'd')} of {k.replace('_', ' ')}" + ("" if k.endswith("outflows") else " outflows") for k, v in drv[:3]]
    comp = ", ".join(parts[:-1]) + (f" and {parts[-1]}" if len(parts) > 1 else (parts[0] if parts else ""))
    trig = r.trigger or "the scenario's trigger"
    s = []
    if r.type == "combined":
        s.append(f"The combined stress scenario {r.name} overlays {r.overlay_of[0]} onto {r.overlay_of[1]} ({trig}), "
                 f"producing {f.mu(out30, 'd')} of cumulative 30-day outflows, comprising {comp}.")
    else:
        lead = {"idiosyncratic": "idiosyncratic", "market_wide": "market-wide"}[r.type]
        s.append(f"Under the {lead} scenario {r.name}, triggered by {trig}, the bank faces {f.mu(out30, 'd')} of "
                 f"cumulative outflows over 30 days, comprising {comp}.")
    if T >= H:
        surv = f"a censored survival horizon of {f.n(survival_text(T, H), 'd')}"
        cmp = (f", exceeding the {f.n(M, 'i')}-day internal minimum by at least {f.n(H - M, 'd')} days" if H >= M else
               f"; the {f.n(M, 'i')}-day internal minimum lies beyond the projection and cannot be confirmed")
    else:
        surv = f"a survival horizon of {f.n(T, 'd')} days"
        cmp = (f", exceeding the {f.n(M, 'i')}-day internal minimum by {f.n(T - M, 'd')} days" if T > M else
               f", meeting the {f.n(M, 'i')}-day internal minimum exactly" if T == M else
               f", breaching the {f.n(M, 'i')}-day internal minimum by {f.n(M - T, 'd')} days")
        if sd.shortfall and sd.shortfall.get("shortfall", 0.0) > 0:
            cmp += f" ({f.mu(sd.shortfall['shortfall'], 'd')} short)"
    s.append(f"The counterbalancing capacity of {r.name}, {f.mu(sd.cbc_total, 'd')} (including {f.mu(sd.cbc_l1, 'd')} of cash and "
             f"Level 1 HQLA, after scenario haircuts) provides {surv}{cmp}.")
    ha, co, cr = (_phase_day(sd, p) for p in ("heightened_alert", "contingency", "crisis"))
    if ha is not None:
        s.append(f"In {r.name}, CFP Phase 2 (Heightened Alert) activates on Day {f.n(ha, 'd')} as {_trigger_reason(sd, 'heightened_alert')}.")
    if co is not None:
        s.append(f"CFP Phase 3 (Contingency) of {r.name} activates on Day {f.n(co, 'd')} as {_trigger_reason(sd, 'contingency')}"
                 + (f", and Phase 4 (Crisis) on Day {f.n(cr, 'd')} as {_trigger_reason(sd, 'crisis')}." if cr is not None else "."))
    else:
        s.append(f"No Phase 3 activation is anticipated under {r.name}.")
    used = action_effects(sd, stress)
    if used:
        names = {m.id: m.name or m.id for m in stress.management_actions}
        lst = ", ".join(f"{names[k]} ({f.mu(v, 'd')})" for k, v in used.items())
        Ta = a.lp_actions.survival_days
        ext = (f"the effective survival horizon extends to {f.n(Ta, 'd')} days" if Ta < H else
               f"the effective survival horizon becomes {f.n(survival_text(Ta, H), 'd')}")
        s.append(f"Management actions of {r.name} provide {f.mu(sum(used.values()), 'd')} ({lst}); with them {ext}.")
    bad = [st for st in a.actions if not st.feasible and st.reason.startswith("infeasible")]
    if bad:
        s.append(f"Not counted, infeasible in {r.name}: " + "; ".join(f"{st.name} ({st.reason.split(': ', 1)[1]})" for st in bad) + ".")
    return " ".join(s)


def impact_timeline(sd: ScenarioData, f: Fmt) -> str:
    """Phase-by-phase evolution of the liquidity position (the impact timeline of the report, docs/model.md §6.6)."""
    a = sd.a
    H, T = a.horizon_days, a.horizon
    end_all = H if T >= H else T + 1
    starts = [(p, a.cfp.activation[p]) for p in PHASES if a.cfp.activation[p] is not None]
    seg: list[tuple[str, int]] = []
    for p, d0 in starts:
        if seg and seg[-1][1] == d0:
            seg[-1] = (p, d0)
        else:
            seg.append((p, d0))
    rem = sum(sd.shown.remaining_by_level.values())
    out = a.proj.daily["outflows"].to_numpy()
    parts = []
    for k, (p, d0) in enumerate(seg):
        if d0 > end_all:
            break
        d1 = min(seg[k + 1][1] - 1 if k + 1 < len(seg) else end_all, end_all)
        lc = float(a.lcr_path[d1 - 1])
        parts.append(f"{PHASE_LABEL[p]} (days {f.n(d0, 'd')}–{f.n(d1, 'd')}): stressed outflows of "
                     f"{f.mu(float(out[d0 - 1:d1].sum()), 'd')}, unused CBC "
                     + (f"falls to {f.mu(float(rem[d1 - 1]), 'd')} and the LCR projection to {f.p(lc, 'd')}"
                        if math.isfinite(lc) else f"falls to {f.mu(float(rem[d1 - 1]), 'd')}")
                     + f" by day {f.n(d1, 'd')}")
    tail = (f" The cash position of {a.res.name} falls below its floor on day {f.n(T + 1, 'd')}." if T < H else
            f" {a.res.name} remains liquid through day {f.n(H, 'i')}.")
    return f"Impact timeline of {a.res.name}: " + "; ".join(parts) + "." + tail


def residual_paragraph(sd: ScenarioData, f: Fmt, stress: StressFile) -> str:
    a = sd.a
    H = a.horizon_days
    name = sd.name
    s = []
    if sd.reverse is not None:
        rv = sd.reverse
        if rv.multiplier is None:
            s.append(f"Even at {rv.m_max:g} times the severity of {name} the horizon stays above the internal minimum.")
        elif rv.multiplier == 0:
            s.append(f"The horizon of {name} is below the internal minimum even without any stress (severity multiplier 0).")
        else:
            s.append(f"The reverse stress test shows the horizon of {name} falls below the {f.n(rv.internal_minimum, 'i')}-day "
                     f"minimum at {f.n(f'{rv.multiplier:.2f}', 'd')} times its severity "
                     f"(run-off rates, non-rolled shares, inflow haircuts and fire-sale add-ons scaled together).")
    memo = [x for x in stress.facilities if x.kind == "central_bank" and not x.is_counted()]
    if memo and a.lp_central_bank is not None:
        cb = a.lp_central_bank.survival_days
        s.append("If " + name + " could count its central-bank facilities ("
                 + ", ".join(f"{x.id} {f.mu(x.amount * (1 - x.haircut), 'i')} after haircut" for x in memo)
                 + f"), its horizon would be {_days(sd, cb, f)} instead of {_days(sd, a.horizon, f)}; they are not "
                   f"assumed.")
    s.append(story.outcomes_worsen(sd, f))
    return " ".join(s)


# --------------------------------------------------------------------------- tables
def _table(headers: list[str], rows: list[list[str]]) -> str:
    return story.table(headers, rows)


def _overlay_basis(stress: StressFile, r, cat: str) -> str:
    """Basis of a combined run-off, labelled with the component each value came from."""
    bits = []
    for fld, label in (("rate", "rate"), ("days", "days"), ("front_share", "day-1 share")):
        src = r.sources.get(f"run_off.{cat}.{fld}") or r.sources.get(f"run_off.{cat}")
        if src is None:
            continue
        names = list(r.overlay_of) if src == "both" else [src]
        basis = [stress.scenario(n).run_off[cat].basis for n in names if cat in stress.scenario(n).run_off]
        basis = [b for b in dict.fromkeys(basis) if b]
        bits.append(f"{label} from {'both components' if src == 'both' else src}"
                    + (f" ({'; '.join(basis)})" if basis and fld == "rate" else ""))
    return "; ".join(bits) or "—"


def scenario_section(sd: ScenarioData, d: ReportData, f: Fmt, figs: dict[str, str]) -> str:
    a, r, st = sd.a, sd.a.res, sd.stress or d.stress  # all currencies at the scenario's stressed rates
    H, T, M = a.horizon_days, a.horizon, a.internal_minimum
    name = r.name
    lab = lambda key: story.source_label(r, key)  # noqa: E731
    L: list[str] = [f"# Stress Liquidity Analysis — {name}", "", summary_paragraph(sd, f, st), ""]
    # ---- Scenario Summary
    L += ["## Scenario Summary", "",
          f"- **Type**: {TYPE_LABEL[r.type]} ({name}" + (f", overlay of {r.overlay_of[0]} and {r.overlay_of[1]}: the more severe value of every parameter)" if r.overlay_of else ")"),
          f"- **Trigger**: {r.trigger or f'not stated for {name}'}",
          f"- **Duration**: {f.n(r.duration_days, 'a') + f' days of stress in {name}' if r.duration_days else f'not stated for {name}'}",
          f"- **Severity**: {r.severity or f'not stated for {name}'}", ""]
    rows = []
    for line in st.liabilities:
        if line.maturities is None:
            ro = r.run_off[line.category]
            c = line.category
            basis = _overlay_basis(st, r, c) if r.overlay_of else (ro.basis or "—")
            rows.append([line.id, c, f.m(line.amount, "i"), f.p(ro.rate, "a") + lab(f"run_off.{c}.rate"),
                         f.n(ro.days, "a") + lab(f"run_off.{c}.days"), f.p(ro.front_share, "a") + lab(f"run_off.{c}.front_share"),
                         f.p(ro.cumulative(30), "d"), f.p(st.basel_rate(line), "i"), basis])
        else:
            roll = r.rollover[line.category]
            coll = (f"; collateral {line.collateral} ({f.m(line.collateral_units, 'i')} units, encumbered)" if line.collateral else "")
            rows.append([line.id, line.category, f.m(line.amount, "i"), f"{f.p(1 - roll, 'a')} not rolled" + lab(f"rollover.{line.category}"),
                         "at maturity", "—", f.p(1 - roll, "d"), f.p(st.basel_rate(line), "i"),
                         f"maturities on days {', '.join(str(m.day) for m in line.maturities)}{coll}"])
    L += [f"Outflow assumptions of {name}" + (" (each combined value labelled with the component it came from)" if r.overlay_of else "") + ":", "",
          _table(["Line", "Category", f"Balance ({st.unit})", "Run-off", "Days", "Day-1 share",
                  "30-day run-off", "Basel LCR rate", "Basis"], rows), ""]
    extra = []
    if r.inflow_haircut:
        extra.append("inflow haircuts " + ", ".join(f"{k} {f.p(v, 'a', 0)}{lab(f'inflow_haircut.{k}')}" for k, v in r.inflow_haircut.items()))
    adds = [(k, r.sale_discount_add[k], r.repo_haircut_add[k], r.capacity_factor[k]) for k in r.sale_discount_add]
    adds = [x for x in adds if x[1] > 0 or x[2] > 0 or x[3] < 1]
    if adds:
        extra.append("CBC stress " + "; ".join(
            f"{k}: sale discount +{f.p(s_, 'a', 0)}{lab(f'sale_discount_add.{k}')}, repo haircut +{f.p(h_, 'a', 0)}{lab(f'repo_haircut_add.{k}')}"
            + (f", capacity ×{f.n(f'{c_:g}', 'a')}{lab(f'capacity_factor.{k}')}" if c_ < 1 else "") for k, s_, h_, c_ in adds))
    if r.closed_sale or r.closed_repo:
        extra.append("closed asset markets: " + ", ".join([f"{k} (sale){lab(f'closed_sale.{k}')}" for k in sorted(r.closed_sale)]
                                                        + [f"{k} (repo){lab(f'closed_repo.{k}')}" for k in sorted(r.closed_repo)]))
    extra.append("unsecured wholesale funding " + ("assumed open but never counted" if r.unsecured_wholesale_open else
                                                   "closed (never counted)" + lab("unsecured_wholesale_open")))
    other_closed = sorted(m for m in r.closed_markets if m != "unsecured_wholesale")
    if other_closed:
        extra.append("closed funding markets: " + ", ".join(f"{m.replace('_', ' ')}{lab(f'closed_markets.{m}')}" for m in other_closed))
    if r.rating_notches:
        extra.append(f"rating downgrade of {f.n(r.rating_notches, 'a')} notches on day {f.n(r.rating_day, 'a')}{lab('rating_notches')}")
    L += [f"Other parameters of {name}: " + "; ".join(extra) + ".", ""]

    # ---- Cash Flow Impact
    lp_cash = a.lp.balances
    bt = bucketed(a.proj.daily, H, 30, extra={"cash_lp": lp_cash})
    rows = [[b.bucket, f.m(b.outflows, "d"), f.m(b.inflows, "d"), f.m(b.net, "d"), f.m(b.cumulative, "d"),
             f.m(b.cash_lp, "d")] for b in bt.itertuples()]
    o30, i30 = float(bt["outflows"].sum()), float(bt["inflows"].sum())
    L += ["## Cash Flow Impact (30-Day Horizon)", "",
          _table(["Time Bucket", f"Outflows ({st.unit})", f"Inflows ({st.unit})", f"Net ({st.unit})",
                  f"Cumulative ({st.unit})", f"Cash after CBC, LP plan ({st.unit})"], rows), "",
          f"Over days 1–{f.n(min(30, H), 'd')} of {name}, stressed outflows of {f.mu(o30, 'd')} against inflows of "
          f"{f.mu(i30, 'd')} leave a contractual net position of {f.mu(i30 - o30, 'd')} before the CBC; with the LP plan's "
          f"monetisation the cash balance on day {f.n(min(30, H), 'd')} is {f.mu(float(lp_cash[min(30, H) - 1]), 'd')}.", ""]
    if H > 30:
        bl = bucketed(a.proj.daily, H, None, extra={"cash_lp": lp_cash})
        bl = bl[bl["first_day"] > 30]
        rows = [[b.bucket, f.m(b.outflows, "d"), f.m(b.inflows, "d"), f.m(b.net, "d"), f.m(b.cumulative, "d"),
                 f.m(b.cash_lp, "d")] for b in bl.itertuples()]
        L += [f"### Beyond 30 days (monthly buckets) — {name}", "",
              _table(["Time Bucket", f"Outflows ({st.unit})", f"Inflows ({st.unit})", f"Net ({st.unit})",
                      f"Cumulative ({st.unit})", f"Cash after CBC, LP plan ({st.unit})"], rows), ""]
    L += story.reconciliation(sd, f, st.unit)

    # ---- Survival Horizon
    head = (f"{f.n(T - M, 'd')} days" if T < H or H < M else f"at least {f.n(H - M, 'd')} days") if H >= M or T < H else \
        "not determinable (the internal minimum lies beyond the projection)"
    rv = sd.reverse
    conf = (f"reverse stress multiplier {f.n(f'{rv.multiplier:.3f}', 'd')}" if rv is not None and rv.multiplier is not None
            else "no reverse stress multiplier within the range tested" if rv is not None else "reverse stress not run")
    L += ["## Survival Horizon", "",
          f"- Survival horizon: {_days(sd, T, f)} under {name} (CBC LP, exact; waterfall baseline: {_days(sd, a.wf.survival_days, f)})",
          f"- With management actions, {name}: {_days(sd, a.lp_actions.survival_days, f)} (LP); {_days(sd, a.wf_actions.survival_days, f)} (waterfall)",
          f"- Internal minimum for {name}: {f.n(M, 'i')} days",
          f"- Headroom of {name}: {head}",
          story.shortfall_bullet(sd, f),
          story.floor_bullet(sd, st, f),
          f"- Binding constraint in {name}: {sd.binding_constraint}",
          story.cliff_bullet(sd, f),
          behavioural.confidence_bullet(sd, f, name, conf), ""]
    L += [f"Lines of defence in {name}: " + " ".join(sd.lines_of_defence), ""]
    L += behavioural.mc_lines(sd, f, st.unit)
    L += [f"![Cumulative net cash position — {name}]({figs['cash']})", "",
          f"Full daily series of {name} (all {f.n(H, 'i')} days): [{figs['csv']}]({figs['csv']}).", ""]
    L += story.sensitivity_section(sd, f, st.unit, figs.get("tornado"))

    # ---- CBC Deployment
    dep = sd.shown
    last = min(H, T + 1) if T < H else H
    days = [x for x in (1, 2, 3, 4, 5, 6, 7, 14, 21, 30, 60, 90, 120, 180, 270, 365, 730) if x <= last]
    if last not in days:
        days.append(last)
    rows = []
    for t in days:
        avail = float(sum(v[t - 2] for v in dep.remaining_by_level.values())) if t > 1 else float(
            sum(v[0] for v in dep.remaining_by_level.values()) + dep.deployed_cum[0])
        rows.append([f.n(t, "d"), f.m(avail, "d"), f.m(float(dep.deployed_cum[t - 1]), "d"),
                     f.m(float(sum(v[t - 1] for v in dep.remaining_by_level.values())), "d")])
    pledged = {k: v for k, v in st.pledged_units().items() if v > 0}
    L += ["## Counterbalancing Capacity Deployment", "",
          f"Plan shown for {name}: **{dep.source}**" + (" (level-ordered, just-in-time; it reaches the LP horizon, so the optimiser gains nothing by departing from the liquidity order)."
                                                         if dep.source == "waterfall" else
                                                         f" (the LP survives {a.lp.survival_days - a.wf.survival_days} days longer than the level-ordered waterfall)."),
          "", _table(["Day", f"CBC Available, start of day ({st.unit})", f"CBC Deployed, cumulative ({st.unit})",
                      f"Remaining, end of day ({st.unit})"], rows), ""]
    if pledged:
        L += [f"Encumbered by secured funding and excluded from the CBC of {name}: "
              + ", ".join(f"{k} {f.m(v, 'i')} units" for k, v in pledged.items())
              + f" (no sale or repo of them in any plan; collateral returned by the non-rolled share is not added back).", ""]
    rows = []
    for lv in ("L1", "L2A", "L2B", "non_HQLA", "facility"):
        start = float(dep.remaining_by_level[lv][0] + 0.0)
        fd, ld = dep.first_day_by_level[lv], dep.last_day_by_level[lv]
        tot0 = start + sum(x["cash"] for x in dep.result.actions if x["day"] == 1 and _lv(dep, x["asset"]) == lv)
        if tot0 <= 0 and fd is None:
            continue
        rows.append([lv, f.m(dep.cash_raised_by_level[lv], "d"), f.n(fd if fd is not None else "—", "d"),
                     f.n(ld if ld is not None else "—", "d"), f.m(float(dep.remaining_by_level[lv][last - 1]), "d")])
    L += [_table(["Level", f"Cash raised ({st.unit})", "First day", "Last day", f"Left at day {last} ({st.unit})"], rows), "",
          f"![CBC deployment — {name}]({figs['cbc']})", ""]

    # ---- CFP
    tr = a.cfp.triggers
    rows = []
    for t in tr.itertuples():
        cur = t.current
        if t.indicator == "lcr":
            cs, lvl = f.p(cur, "d"), f.p(t.level, "i", 0)
        elif t.indicator == "survival_days":
            cs = f.n("∞ (no net outflow)" if not math.isfinite(cur) else f"{cur:.0f} d", "d")
            lvl = f.n(f"{t.level:g} d", "i")
        else:
            cs, lvl = f.n(f"{cur:.2f}", "d"), f.n(f"{t.level:g}", "i")
        op = "<" if t.op == "below" else "≥"
        fb = t.first_breach_day
        status = "not breached" if fb is None or (isinstance(fb, float) and math.isnan(fb)) else f"BREACHED day {int(fb)}"
        rows.append([f"{t.id} ({t.indicator})", cs, f"{op} {lvl}", status, PHASE_LABEL[t.phase]])
    L += ["## CFP Trigger Status", "",
          _table(["Indicator", "Current (day 1)", "Trigger Level", "Status", "Phase"], rows), ""]
    L += story.escalation_section(sd, f)
    L += [impact_timeline(sd, f), ""]
    if st.cfp.phases:
        rows = [[PHASE_LABEL[p], st.cfp.phases[p].authority, st.cfp.phases[p].actions] for p in PHASES if p in st.cfp.phases]
        L += [_table(["Phase", "Authority", "Actions"], rows), ""]

    # ---- Stress LCR
    rows = [["base (regulatory parameters)", f.p(d.base_lcr.lcr, "d"), "—", _status(d.base_lcr.lcr)]]
    for o in d.scenarios:
        x = o.a.lcr.lcr
        nm = f"**{o.name}**" if o.name == name else o.name
        rows.append([nm, f.p(x, "d"), f"{(x - d.base_lcr.lcr) * 100:+.1f} pp<sup>d</sup>", _status(x)])
    s_ = a.lcr.stock
    k, v = sd.lcr_driver
    rank = 1 + sum(1 for o in d.scenarios if o.a.lcr.lcr < a.lcr.lcr)
    b_ = d.base_lcr.stock
    L += ["## Stress LCR", "", _table(["Scenario", "Stress LCR", "Δ vs Base LCR", "Status vs 100%"], rows), "",
          f"{name} ranks {f.n(rank, 'd')} of {f.n(len(d.scenarios), 'd')} from the lowest stress LCR ({f.p(a.lcr.lcr, 'd')}; "
          + ("the binding scenario" if d.binding_lcr.scenario == name else f"binding: {d.binding_lcr.scenario}")
          + f"); its primary driver is {k} ({f.mu(v, 'd')} vs base), and its internal target of "
          f"{f.p(st.lcr.internal_target, 'i', 0)} is {'met' if a.lcr.lcr >= st.lcr.internal_target else 'missed'}.", "",
          _table(["Component (BCBS 238)", f"{name} ({st.unit})", f"base ({st.unit})"], [
              ["Level 1 (after 0% haircut)", f.m(s_.l1, "d"), f.m(b_.l1, "d")],
              ["Level 2A (after 15% haircut)", f.m(s_.l2a, "d"), f.m(b_.l2a, "d")],
              ["Level 2B (after 25–50% haircut)", f.m(s_.l2b, "d"), f.m(b_.l2b, "d")],
              ["Adjusted Level 1 (Annex 1, after unwinding)", f.m(s_.adj_l1, "d"), f.m(b_.adj_l1, "d")],
              ["Adjusted Level 2A", f.m(s_.adj_l2a, "d"), f.m(b_.adj_l2a, "d")],
              ["Adjusted Level 2B", f.m(s_.adj_l2b, "d"), f.m(b_.adj_l2b, "d")],
              ["Adjustment for 15% cap (Annex 1)", f.m(s_.adj15, "d"), f.m(b_.adj15, "d")],
              ["Adjustment for 40% cap (Annex 1)", f.m(s_.adj40, "d"), f.m(b_.adj40, "d")],
              ["Stock of HQLA", f.m(s_.hqla, "d"), f.m(d.base_lcr.hqla, "d")],
              ["Total outflows (30 days)", f.m(a.lcr.total_outflows, "d"), f.m(d.base_lcr.total_outflows, "d")],
              ["Total inflows (30 days)", f.m(a.lcr.total_inflows, "d"), f.m(d.base_lcr.total_inflows, "d")],
              ["Inflows after 75% cap", f.m(a.lcr.capped_inflows, "d"), f.m(d.base_lcr.capped_inflows, "d")],
              ["Net cash outflows", f.m(a.lcr.net_outflows, "d"), f.m(d.base_lcr.net_outflows, "d")],
          ]), "", story.annex1_note(sd, f), ""]

    # ---- Management Actions
    L += ["## Management Actions", ""]
    L += story.actions_section(sd, st, f, st.unit)
    L += ["## Residual Risk", "", residual_paragraph(sd, f, st), ""]
    L += ["## Recovery Path", "", story.recovery_paragraph(sd, st, f), ""]
    return "\n".join(L)


def _lv(dep, asset_id: str) -> str:
    from liqstress.reports.data import unit_values

    return unit_values(dep.plan).get(asset_id, ("", 0, 0))[0]


def _status(x: float) -> str:
    if not math.isfinite(x):
        return "above (no net outflows)"
    return "above" if x >= 1.0 else f"BELOW by {(1 - x) * 100:.1f} pp"


HOW_TO_READ = [
    "Cash Flow Impact tables: Net = inflows − outflows (stressed, contractual; no CBC) and Cumulative is the running "
    "sum of Net; the last column is the cash balance including the opening cash and the CBC monetisation of the LP "
    "plan (the survival run: at or above the cash floor up to the survival horizon; after it the LP plan stops "
    "monetising, the waterfall series in the chart continues).",
    "CBC values are cash values after each scenario's haircuts (best of sale and repo per line); the opening cash is "
    "not part of the CBC (it is the first line of defence), and units pledged to secured funding are excluded.",
    "Stress LCR: each outflow rate is the higher of the Basel rate (secured funding: BCBS 238 para 115 by the collateral "
    "it encumbers) and the scenario's 30-day run-off; inflows are the Basel rate times (1 − scenario haircut); HQLA is "
    "valued after the scenario's fire-sale add-on, and the Annex 1 adjusted amounts unwind secured transactions "
    "maturing within 30 days (their legs after the same add-on), applied literally without flooring.",
    "Management actions are counted only if pre-approved, not of low feasibility, tied to a mechanism the projection "
    "models (an outflow they halt, or funding / asset sales whose markets are open in the scenario) and only from the "
    "day their CFP phase is reached plus their lead time; the rest are listed with the reason.",
    "CFP phases come from indicators only (the LCR projection, the observed runway, deposit outflows in sigmas, "
    "market closure, rating); the runway indicator divides liquid resources (cash above the floor plus unused CBC) by "
    "the average daily net outflow of the last days observed (cfp.runway_window_days, days before the stress at zero) "
    "and never uses the model's own survival horizon. Escalation is sticky.",
    "Sensitivities move one factor at a time: run-off rates and non-rolled shares by ±20% of their value, inflow "
    "haircuts by ±10 points, a CBC line's haircut and discount add-ons by ±5 points, a line's market closed, settlement "
    "lags and facility lead times by ±1 day; each row re-solves the exact LP horizon without management actions.",
]


def document(d: ReportData, figs: dict[str, dict[str, str]], checks: list[Check]) -> str:
    st = d.stress
    f = Fmt(st.unit)
    L = [f"# Liquidity Stress Report — {st.name}", "",
         f"As of {st.as_of or 'not stated'}; amounts in {st.unit}; projection horizon {f.n(st.horizon_days, 'i')} days "
         f"(daily for days 1–7, weekly to day 30, monthly after). Tags: {TAG_LEGEND}.", ""]
    if st.description:
        L += [st.description.strip(), ""]
    L += ["## How to read this report", "", story.survival_definition(st, f), ""]
    L += [f"- {x}" for x in HOW_TO_READ] + [""]
    rows = []
    for sd in d.scenarios:
        a = sd.a
        H, T, M = a.horizon_days, a.horizon, a.internal_minimum
        hs = lambda x: f.n(survival_text(x, H), "d")  # noqa: E731
        top = max((p for p in PHASES if a.cfp.activation[p] is not None), key=PHASES.index)
        sh = sd.shortfall
        gap = ("—" if not sh or sh.get("days", 0) <= 0 else
               f"{f.m(sh['shortfall'], 'd')} short" if sh["shortfall"] > 0 else f"{f.m(sh['surplus'], 'd')} spare")
        rows.append([sd.name, TYPE_LABEL[a.res.type], hs(T), hs(a.wf.survival_days), hs(a.lp_actions.survival_days),
                     f.n(M, "i"), "pass" if T >= M and (T < H or H >= M) else "FAIL" if T < M else "n/a", gap,
                     f.p(a.lcr.lcr, "d"), f"{PHASE_LABEL[top]} (day {a.cfp.activation[top]})"])
    L += ["## Summary", "", _table(["Scenario", "Type", "Survival LP (d)", "Survival waterfall (d)", "With actions LP (d)",
                                    "Internal min (d)", "vs minimum", f"Cash vs minimum ({st.unit})", "Stress LCR",
                                    "Highest CFP phase"], rows), "",
          f"Base LCR (regulatory parameters): {f.p(d.base_lcr.lcr, 'd')}. Binding stress-LCR scenario: "
          f"**{d.binding_lcr.scenario}** ({f.p(d.binding_lcr.lcr, 'd')}), driven by {d.binding_driver[0]}."
          + (" Adjusted Level 1 is negative in: " + ", ".join(o.name for o in d.scenarios if o.a.lcr.stock.negative_adjusted_l1)
             + " (see their Stress LCR sections)." if any(o.a.lcr.stock.negative_adjusted_l1 for o in d.scenarios) else ""), ""]
    for sd in d.scenarios:
        L += [scenario_section(sd, d, f, figs[sd.name]), ""]
    rows = []
    for sd in d.scenarios:
        rv = sd.reverse
        if rv is None:
            continue
        H = sd.a.horizon_days
        rows.append([sd.name, f.n(rv.internal_minimum, "i"),
                     f.n("not reached" if rv.multiplier is None else f"{rv.multiplier:.3f}", "d"),
                     f.n("—" if rv.horizon_at_multiplier is None else survival_text(rv.horizon_at_multiplier, H), "d"),
                     f.n(len(rv.evaluations), "d")])
    if rows:
        L += ["# Reverse Stress Test", "",
              "Smallest severity multiplier m at which the LP survival horizon (without management actions) falls below "
              "the internal minimum. Run-off rates, non-rolled shares of maturing funding, inflow haircuts and the CBC "
              "discount / haircut add-ons are multiplied by m (capped at 100%). Each daily net outflow is non-decreasing "
              "and each asset's cash per unit non-increasing in m, so the horizon is non-increasing in m and bisection "
              "on m is exact up to its tolerance.", "",
              _table(["Scenario", "Internal min (d)", "Multiplier m*", "Horizon at m* (d)", "Horizon solves"], rows), ""]
    L += behavioural.model_section(d, f)
    if st.historical_events:
        rows = [[e.name, f.n(e.year, "i"), f.p((e.deposit_outflow_pct or float('nan')) / 100, "i", 0) if e.deposit_outflow_pct is not None else "—",
                 f.n(e.days, "i") if e.days else "—", e.wholesale_access or "—", e.note or "—", e.source or "—"]
                for e in st.historical_events]
        L += ["# Historical Reference Events", "",
              _table(["Event", "Year", "Deposit outflow", "Days", "Wholesale access", "Note", "Source"], rows), ""]
    L += ["# Validation Checklist", ""]
    for c in checks:
        L.append(f"- [{'x' if c.passed else ' '}] **{'PASS' if c.passed else 'FAIL'}** — {c.item}: {c.reason}.")
    L += ["", "---", f"Generated by liqstress; {TAG_LEGEND}.", ""]
    return "\n".join(L)


def _jsonf(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def scenario_json(sd: ScenarioData, stress: StressFile) -> dict:
    """Per-scenario entry of ``liqstress report --json`` (issue 12 additions on top of the
    original keys)."""
    a = sd.a
    H = a.horizon_days
    st = a.lcr.stock
    rv = sd.reverse
    eff = action_effects(sd, stress)
    return {
        "name": sd.name, "type": a.res.type,
        "survival_days": a.lp.survival_days, "waterfall_survival_days": a.wf.survival_days,
        "survival_days_with_actions": a.lp_actions.survival_days,
        "waterfall_survival_days_with_actions": a.wf_actions.survival_days,
        "horizon_days": a.horizon_days, "internal_minimum_days": a.internal_minimum,
        "headroom_days": a.lp.survival_days - a.internal_minimum,
        "survival_censored": a.lp.survival_days >= H,
        "censored": a.lp.survival_days >= H,
        "censored_with_actions": a.lp_actions.survival_days >= H,
        "survival_text": survival_text(a.lp.survival_days, H),
        "minimum_balance": stress.survival_floor(),
        "shortfall_to_minimum": {"days": sd.shortfall.get("days"), "amount": sd.shortfall.get("shortfall"),
                                 "surplus": sd.shortfall.get("surplus"),
                                 "with_actions": sd.shortfall_actions.get("shortfall"),
                                 "minimum_beyond_projection": sd.shortfall.get("beyond_projection")},
        "cliff_effects": [{"source": c.source, "kind": c.kind, "day": c.day, "amount": c.amount,
                           "horizon_without": c.horizon_without, "days_lost": c.days_lost} for c in sd.cliffs],
        "stress_lcr": a.lcr.lcr, "hqla": a.lcr.hqla, "net_outflows_30d": a.lcr.net_outflows,
        "lcr_driver": sd.lcr_driver[0],
        "lcr_annex1": {"level1": st.l1, "level2a": st.l2a, "level2b": st.l2b, "adjusted_level1": st.adj_l1,
                       "adjusted_level2a": st.adj_l2a, "adjusted_level2b": st.adj_l2b, "adjustment_15": st.adj15,
                       "adjustment_40": st.adj40, "negative_adjusted_level1": st.negative_adjusted_l1,
                       "unwound": [dict(x) for x in a.lcr.unwound]},
        "lcr_reconciliation": {"cash_table_net_outflow_30d": sum(r.cash for r in sd.recon),
                               "lcr_net_outflows": sum(r.lcr for r in sd.recon),
                               "rows": [{"item": r.item, "side": r.side, "cash_table": r.cash, "lcr": r.lcr,
                                         "difference": r.difference, "reason": r.reason} for r in sd.recon]},
        "cfp_activation": a.cfp.activation,
        "cfp_escalation": sd.escalation,
        "management_actions": [{"id": s.id, "kind": s.kind, "counted": s.counted, "feasible": s.feasible,
                                "reason": s.reason, "activation_day": s.activation_day, "effective_day": s.effective_day,
                                "cash_effect": eff.get(s.id, 0.0)} for s in a.actions],
        "reverse_stress_multiplier": None if rv is None else rv.multiplier,
        "reverse_stress": None if rv is None else {"multiplier": rv.multiplier, "horizon_at_multiplier": rv.horizon_at_multiplier,
                                                   "internal_minimum_days": rv.internal_minimum, "tolerance": rv.tol},
        "sensitivities": [{"factor": s.factor.key, "label": s.factor.label, "value": s.factor.base,
                           "down": s.factor.down, "up": s.factor.up, "horizon": s.horizon,
                           "horizon_down": s.horizon_down, "horizon_up": s.horizon_up,
                           "censored_down": None if s.horizon_down is None else s.horizon_down >= H,
                           "censored_up": None if s.horizon_up is None else s.horizon_up >= H,
                           "surplus": _jsonf(s.surplus), "surplus_down": _jsonf(s.surplus_down),
                           "surplus_up": _jsonf(s.surplus_up)} for s in sd.sensitivities],
        "headroom_fragility": [{"factor": x.factor.key, "value": x.factor.base, "break_even": x.value,
                                "horizon_at_break_even": x.horizon_at_value, "direction": x.direction,
                                "tolerance": x.tol} for x in sd.fragility],
        # plain text; the provenance of its numbers in a separate field (no markup in JSON)
        "binding_constraint": split_provenance(sd.binding_constraint)[0],
        "binding_constraint_provenance": split_provenance(sd.binding_constraint)[1],
    }


@dataclass
class ReportOutput:
    markdown: Path
    html: Path
    figures: list
    data: ReportData
    checks: list
    ladders: dict = None  # scenario -> C 66.01 DataFrame (liqstress.stress.almm)

    def summary(self) -> dict:
        d = self.data
        st = d.stress
        sc = []
        for sd in d.scenarios:
            row = scenario_json(sd, sd.stress or st)
            row["currencies"] = _currencies_json(d, sd)
            row.update(behavioural.mc_json(sd))
            sc.append(row)
        return {
            "stress": st.name, "unit": st.unit, "base_lcr": d.base_lcr.lcr,
            "minimum_operational_cash": st.minimum_operational_cash,
            "intraday_liquidity_requirement": st.intraday_liquidity_requirement,
            "binding_lcr_scenario": d.binding_lcr.scenario, "binding_lcr_driver": d.binding_driver[0],
            "scenarios": sc,
            "checklist": [{"item": c.item, "status": "pass" if c.passed else "fail", "reason": c.reason} for c in self.checks],
            "report": str(self.markdown), "html": str(self.html), "figures": [str(p) for p in self.figures],
            "nsfr": None if d.nsfr is None else d.nsfr.to_json(),
        }


def _currencies_json(d: ReportData, sd: ScenarioData) -> dict:
    """Per significant currency; a single-currency file has its one currency = all currencies."""
    if sd.currencies:
        return {c: r.to_json() for c, r in sd.currencies.items()}
    a = sd.a
    from liqstress.solvers.cbc import survival_text

    return {d.stress.currency: {"survival_days": a.lp.survival_days, "censored": a.lp.survival_days >= a.horizon_days,
                                "survival_text": survival_text(a.lp.survival_days, a.horizon_days),
                                "stress_lcr": a.lcr.lcr, "standalone_survival_days": a.lp.survival_days,
                                "liability_share": 1.0, "hqla": a.lcr.hqla, "net_outflows_30d": a.lcr.net_outflows,
                                "fx_used": []}}


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def summary_table(d: ReportData) -> "list[dict]":
    """Rows of ``OUT_summary.csv`` (censored horizons as ``>= H (whole projection)``)."""
    rows = []
    for sd in d.scenarios:
        a = sd.a
        H = a.horizon_days
        rows.append({"scenario": sd.name, "type": a.res.type,
                     "survival_days_lp": survival_text(a.lp.survival_days, H),
                     "survival_days_waterfall": survival_text(a.wf.survival_days, H),
                     "survival_days_with_actions_lp": survival_text(a.lp_actions.survival_days, H),
                     "censored": a.lp.survival_days >= H, "internal_minimum_days": a.internal_minimum,
                     "shortfall_to_minimum": sd.shortfall.get("shortfall"), "surplus_at_minimum": sd.shortfall.get("surplus"),
                     "stress_lcr": a.lcr.lcr, "negative_adjusted_level1": a.lcr.stock.negative_adjusted_l1})
    return rows


def write_report(source: Any, out_md: str | Path, method: str = "bisection", reverse: bool = True,
                 sensitivities: bool = True, progress=None, paths: int = 10_000, seed: int = 0) -> ReportOutput:
    """Analyse every scenario of a stress file and write OUT.md, OUT.html, PNG figures and CSVs
    (``OUT_<scenario>_daily.csv``, ``OUT_<scenario>_sensitivities.csv``, ``OUT_summary.csv``).
    ``progress``: optional callable ticked once per unit of work (see ``data.work_units``).
    ``paths``/``seed``: Monte Carlo survival distribution of files with a behavioural section
    (``paths=0`` skips it)."""
    import markdown as md_lib
    import pandas as pd

    stress = load_stress(source)
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    d = collect(stress, method=method, reverse=reverse, sensitivities=sensitivities, progress=progress,
                paths=paths, seed=seed)
    stem = out_md.stem
    figs: dict[str, dict[str, str]] = {}
    files = []
    ladders: dict = {}
    ladder_files: dict = {}
    for sd in d.scenarios:
        a = sd.a
        H = a.horizon_days
        slug = _slug(sd.name)
        cash_png = out_md.with_name(f"{stem}_{slug}_cash.png")
        cbc_png = out_md.with_name(f"{stem}_{slug}_cbc.png")
        csv = out_md.with_name(f"{stem}_{slug}_daily.csv")
        series = {"cash before CBC (contractual only)": a.proj.daily["cash_before_cbc"].to_numpy(),
                  "with CBC, LP plan": a.lp.balances, "with CBC, waterfall": a.wf.balances}
        if a.lp_actions.management or np.any(np.asarray(a.plan_actions.net_outflows) != np.asarray(a.plan.net_outflows)):
            series["with CBC + management actions, LP"] = a.lp_actions.balances
        charts.cash_chart(cash_png, f"{stress.name} — {sd.name}: cumulative net cash position", stress.unit, series,
                          a.horizon, a.internal_minimum, H, floor=stress.survival_floor())
        charts.cbc_chart(cbc_png, f"{stress.name} — {sd.name}: CBC deployment ({sd.shown.source} plan)", stress.unit,
                         sd.shown.remaining_by_level, sd.shown.deployed_cum, H)
        df = a.proj.daily[["day", "outflows", "inflows", "net_outflows", "cumulative_net", "cash_before_cbc"]].copy()
        df["cash_lp"] = a.lp.balances
        df["cash_waterfall"] = a.wf.balances
        df["cash_lp_with_actions"] = a.lp_actions.balances
        df["cbc_remaining_shown"] = sum(sd.shown.remaining_by_level.values())
        df["lcr_projection"] = a.lcr_path
        df["runway_indicator_days"] = a.runway
        df["cfp_phase"] = a.cfp.daily["phase"].to_numpy()
        df.to_csv(csv, index=False, float_format="%.6f")
        figs[sd.name] = {"cash": cash_png.name, "cbc": cbc_png.name, "csv": csv.name}
        files += [cash_png, cbc_png, csv]
        ladders[sd.name] = almm.scenario_ladders(d.source or stress, a, sd.name, method=method)
        c66 = out_md.with_name(f"{stem}_{slug}_c6601.csv")
        ladders[sd.name].to_csv(c66, index=False, float_format="%.6f")
        ladder_files[sd.name] = c66.name
        files.append(c66)
        if sd.sensitivities:
            tor = out_md.with_name(f"{stem}_{slug}_tornado.png")
            charts.tornado_chart(tor, f"{stress.name} — {sd.name}: one-factor sensitivities of the survival horizon",
                                 sd.sensitivities, a.horizon, H, a.internal_minimum)
            scsv = out_md.with_name(f"{stem}_{slug}_sensitivities.csv")
            pd.DataFrame([{"factor": s.factor.key, "label": s.factor.label, "value": s.factor.base,
                           "less_severe": s.factor.down, "more_severe": s.factor.up,
                           "horizon": survival_text(s.horizon, H),
                           "horizon_less_severe": None if s.horizon_down is None else survival_text(s.horizon_down, H),
                           "horizon_more_severe": None if s.horizon_up is None else survival_text(s.horizon_up, H),
                           "surplus_less_severe": s.surplus_down, "surplus_more_severe": s.surplus_up}
                          for s in sd.sensitivities]).to_csv(scsv, index=False)
            figs[sd.name]["tornado"] = tor.name
            files += [tor, scsv]
    summ = out_md.with_name(f"{stem}_summary.csv")
    pd.DataFrame(summary_table(d)).to_csv(summ, index=False)
    files.append(summ)
    checks = evaluate(d)
    text = document(d, figs, checks)
    f_ = Fmt(d.stress.unit)
    text = interop_sections.insert(text, [interop_sections.currency_markdown(d, f_), interop_sections.nsfr_markdown(d, f_),
                                          interop_sections.ladder_markdown(ladder_files)])
    out_md.write_text(text)
    html_path = out_md.with_suffix(".html")
    body = embed_images(md_lib.markdown(text, extensions=["tables"]), out_md.parent)  # one self-contained file
    html_path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + stress.name + "</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}sup{color:#888;font-size:0.65em}img{max-width:100%}</style>"
        "</head><body>\n" + body + "\n</body></html>\n")
    return ReportOutput(out_md, html_path, files, d, checks, ladders)
