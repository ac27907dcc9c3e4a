"""Narrative stress report (seed 001 "Output Specification"): Markdown + HTML + PNG figures.

For each scenario the sections of the seed's Output Specification, in that order: Scenario
Summary, Cash Flow Impact (30-Day Horizon), Survival Horizon, Counterbalancing Capacity
Deployment, CFP Trigger Status, Stress LCR, Management Actions, Recovery Path (plus Residual
Risk from Step 7).  Narrative paragraphs are generated from the numbers in the style of the
seed's examples.  Every number carries a tag: ``i`` input (read from the file), ``a`` assumed
(a scenario / behavioural assumption of the file), ``d`` derived (computed by liqstress).
Then the reverse stress test, historical reference events and the Validation Checklist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from liqstress.models.stress_file import PHASE_LABEL, PHASES, StressFile, load_stress
from liqstress.reports import behavioural, charts
from liqstress.reports.checklist import Check, evaluate
from liqstress.reports.data import ReportData, ScenarioData, collect
from liqstress.stress.projection import bucketed

TYPE_LABEL = {"idiosyncratic": "Idiosyncratic", "market_wide": "Market-wide", "combined": "Combined"}
TAG_LEGEND = "<sup>i</sup> input (from the stress file) · <sup>a</sup> assumed (scenario / behavioural assumption of the file) · <sup>d</sup> derived (computed by liqstress)"


class Fmt:
    """Number formatting with provenance tags."""

    def __init__(self, unit: str):
        self.unit = unit
        self.dec = 1 if "bn" in unit.lower() or unit.strip().upper().endswith("B") else 0

    def m(self, x: float, tag: str) -> str:  # money
        if x is None or not math.isfinite(x):
            return f"n/a<sup>{tag}</sup>"
        return f"{x:,.{self.dec}f}<sup>{tag}</sup>"

    def mu(self, x: float, tag: str) -> str:  # money with unit
        return f"{self.unit} {self.m(x, tag)}" if not self.unit.startswith("$") else self._dollar(x, tag)

    def _dollar(self, x: float, tag: str) -> str:
        suffix = self.unit[1:]
        return f"${x:,.{self.dec}f}{suffix}<sup>{tag}</sup>"

    @staticmethod
    def p(x: float, tag: str, dec: int = 1) -> str:  # percent
        if x is None or not math.isfinite(x):
            return f"n/a<sup>{tag}</sup>"
        return f"{100 * x:.{dec}f}%<sup>{tag}</sup>"

    @staticmethod
    def n(x: Any, tag: str) -> str:
        return f"{x}<sup>{tag}</sup>"


def _days(sd: ScenarioData, T: int, f: Fmt) -> str:
    H = sd.a.horizon_days
    return f"more than {f.n(H, 'i')} days (the whole projection)" if T >= H else f"{f.n(T, 'd')} days"


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
        "survival_days": f"the remaining survival horizon falls below {r['level']:g} days",
        "deposit_outflow_sigma": f"deposit outflows exceed {r['level']:g} sigma",
        "wholesale_closed": "unsecured wholesale markets close",
        "rating_notches": f"the rating is cut by {r['level']:g}+ notches",
    }
    return words.get(r["indicator"], r["id"])


# --------------------------------------------------------------------------- narrative
def summary_paragraph(sd: ScenarioData, f: Fmt, stress: StressFile) -> str:
    a, r = sd.a, sd.a.res
    H, T, M = a.horizon_days, a.horizon, a.internal_minimum
    drv = sorted(((k[4:], v) for k, v in a.proj.by_driver(min(30, H)).items() if k.startswith("out:") and v > 0),
                 key=lambda kv: -kv[1])
    out30 = float(a.proj.daily["outflows"].iloc[:30].sum())
    parts = [f"{f.mu(v, 'd')} of {k.replace('_', ' ')}" + ("" if k.endswith("outflows") else " outflows") for k, v in drv[:3]]
    comp = ", ".join(parts[:-1]) + (f" and {parts[-1]}" if len(parts) > 1 else (parts[0] if parts else ""))
    lead = {"idiosyncratic": "Under the idiosyncratic scenario", "market_wide": "Under the market-wide scenario",
            "combined": "The combined stress scenario"}[r.type]
    trig = r.trigger or "the scenario's trigger"
    s = []
    if r.type == "combined":
        s.append(f"{lead} overlays {r.overlay_of[0]} onto {r.overlay_of[1]} ({trig}), producing "
                 f"{f.mu(out30, 'd')} of cumulative 30-day outflows, comprising {comp}.")
    else:
        s.append(f"{lead} triggered by {trig}, the bank faces {f.mu(out30, 'd')} of cumulative outflows over 30 days, "
                 f"comprising {comp}.")
    if T >= H:
        surv = f"a survival horizon beyond the {f.n(H, 'i')}-day projection"
        cmp = (f", exceeding the {f.n(M, 'i')}-day internal minimum by at least {f.n(H - M, 'd')} days" if H >= M else
               f"; the {f.n(M, 'i')}-day internal minimum lies beyond the projection and cannot be confirmed")
    else:
        surv = f"a survival horizon of {f.n(T, 'd')} days"
        cmp = (f", exceeding the {f.n(M, 'i')}-day internal minimum by {f.n(T - M, 'd')} days" if T > M else
               f", meeting the {f.n(M, 'i')}-day internal minimum exactly" if T == M else
               f", breaching the {f.n(M, 'i')}-day internal minimum by {f.n(M - T, 'd')} days")
    s.append(f"The counterbalancing capacity of {f.mu(sd.cbc_total, 'd')} (including {f.mu(sd.cbc_l1, 'd')} of cash and "
             f"Level 1 HQLA, after scenario haircuts) provides {surv}{cmp}.")
    ha, co, cr = (_phase_day(sd, p) for p in ("heightened_alert", "contingency", "crisis"))
    if ha is not None:
        s.append(f"CFP Phase 2 (Heightened Alert) activates on Day {f.n(ha, 'd')} as {_trigger_reason(sd, 'heightened_alert')}.")
    if co is not None:
        s.append(f"CFP Phase 3 (Contingency) activates on Day {f.n(co, 'd')} as {_trigger_reason(sd, 'contingency')}"
                 + (f", and Phase 4 (Crisis) on Day {f.n(cr, 'd')} as {_trigger_reason(sd, 'crisis')}." if cr is not None else "."))
    else:
        s.append("No Phase 3 activation is anticipated under this scenario.")
    if a.lp_actions.management:
        tot = sum(m["cash"] for m in a.lp_actions.management)
        names = {m.id: m.name or m.id for m in stress.management_actions}
        used: dict[str, float] = {}
        for m in a.lp_actions.management:
            used[m["id"]] = used.get(m["id"], 0.0) + m["cash"]
        lst = ", ".join(f"{names[k]} ({f.mu(v, 'd')})" for k, v in used.items())
        Ta = a.lp_actions.survival_days
        ext = (f"the effective survival horizon extends to {f.n(Ta, 'd')} days" if Ta < H else
               f"the effective survival horizon extends beyond the {f.n(H, 'i')}-day projection")
        s.append(f"Management actions raise {f.mu(tot, 'd')} ({lst}); with them {ext}.")
    return " ".join(s)


def impact_timeline(sd: ScenarioData, f: Fmt) -> str:
    """Phase-by-phase evolution of the liquidity position (seed Step 7 "Impact timeline")."""
    a = sd.a
    H, T = a.horizon_days, a.horizon
    end_all = H if T >= H else T + 1
    starts = [(p, a.cfp.activation[p]) for p in PHASES if a.cfp.activation[p] is not None]
    # distinct start days only (phases reached the same day collapse into the highest)
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
    tail = (f" The cash position turns negative on day {f.n(T + 1, 'd')}." if T < H else
            f" The bank remains liquid through day {f.n(H, 'i')}.")
    return "Impact timeline: " + "; ".join(parts) + "." + tail


def recovery_paragraph(sd: ScenarioData, f: Fmt) -> str:
    a, r = sd.a, sd.a.res
    H, T = a.horizon_days, a.horizon
    dur = r.duration_days
    conds = "; ".join(r.recovery_conditions) if r.recovery_conditions else "(no qualifying conditions stated in the file)"
    if T < H and T < (dur or H):
        first = (f"Under the stated assumptions the bank does not reach stabilisation on its own: the cash position turns "
                 f"negative on day {f.n(T + 1, 'd')}, before the {f.n(dur, 'a') if dur else 'stated'}-day stress period ends. "
                 f"Recovery then requires measures outside the counted liquidity sources (central-bank emergency "
                 f"lending, a capital raise, resolution).")
    else:
        rem = sd.shown.remaining_by_level
        left_end = float(sum(v[min(dur or H, H) - 1] for v in rem.values()))
        first = (f"The stressed outflows are expected to abate after the {f.n(dur, 'a') if dur else 'stated'}-day stress "
                 f"period, with {f.mu(left_end, 'd')} of counterbalancing capacity still unencumbered at that point in the "
                 f"deployment shown; the buffer is then rebuilt from maturing assets and retained earnings.")
    return first + f" Return to the Monitoring phase requires: {conds}."


def residual_paragraph(sd: ScenarioData, f: Fmt, stress: StressFile) -> str:
    a = sd.a
    s = []
    if sd.reverse is not None:
        rv = sd.reverse
        if rv.multiplier is None:
            s.append(f"Even at {rv.m_max:g} times the scenario severity the horizon stays above the internal minimum.")
        elif rv.multiplier == 0:
            s.append("The horizon is below the internal minimum even without any stress (severity multiplier 0).")
        else:
            s.append(f"The reverse stress test shows the horizon falls below the {f.n(rv.internal_minimum, 'i')}-day "
                     f"minimum at {f.n(f'{rv.multiplier:.2f}', 'd')} times the scenario severity "
                     f"(run-off rates, non-rolled shares, inflow haircuts and fire-sale add-ons scaled together).")
    memo = [x for x in stress.facilities if x.kind == "central_bank" and not x.is_counted()]
    if memo:
        s.append("Central-bank facilities (" + ", ".join(f"{x.id} {f.mu(x.amount * (1 - x.haircut), 'i')} after haircut" for x in memo)
                 + ") are available but not assumed in the survival horizon.")
    cf = a.plan.assets
    slow = [x.id for x in cf if x.settlement_days >= 2]
    if slow:
        s.append(f"Settlement lags of two days or more on {', '.join(slow)} mean a faster run than assumed would hit before "
                 f"those assets turn into cash.")
    s.append("Outcomes worsen if run-offs are faster than the stated windows, if repo markets close for Level 2 "
             "collateral, or if management actions take longer than their stated lead times.")
    return " ".join(s)


# --------------------------------------------------------------------------- tables
def _table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def scenario_section(sd: ScenarioData, d: ReportData, f: Fmt, figs: dict[str, str]) -> str:
    a, r, st = sd.a, sd.a.res, d.stress
    H, T, M = a.horizon_days, a.horizon, a.internal_minimum
    L: list[str] = [f"# Stress Liquidity Analysis — {r.name}", "", summary_paragraph(sd, f, st), ""]
    # ---- Scenario Summary
    L += ["## Scenario Summary", "",
          f"- **Type**: {TYPE_LABEL[r.type]}" + (f" (overlay of {r.overlay_of[0]} and {r.overlay_of[1]}: the more severe value of every parameter)" if r.overlay_of else ""),
          f"- **Trigger**: {r.trigger or 'not stated'}",
          f"- **Duration**: {f.n(r.duration_days, 'a') + ' days' if r.duration_days else 'not stated'}",
          f"- **Severity**: {r.severity or 'not stated'}", ""]
    rows = []
    for line in st.liabilities:
        if line.maturities is None:
            ro = r.run_off[line.category]
            rows.append([line.id, line.category, f.m(line.amount, "i"), f.p(ro.rate, "a"), f.n(ro.days, "a"),
                         f.p(ro.front_share, "a"), f.p(ro.cumulative(30), "d"), f.p(line.basel_rate(), "i"),
                         (ro.basis or "—") + (f" (from {r.sources.get(f'run_off.{line.category}.rate')})" if r.overlay_of else "")])
        else:
            roll = r.rollover[line.category]
            rows.append([line.id, line.category, f.m(line.amount, "i"), f"{f.p(1 - roll, 'a')} not rolled", "at maturity",
                         "—", f.p(1 - roll, "d"), f.p(line.basel_rate(), "i"),
                         f"maturities on days {', '.join(str(m.day) for m in line.maturities)}"])
    L += ["Outflow assumptions:", "", _table(["Line", "Category", f"Balance ({st.unit})", "Run-off", "Days", "Day-1 share",
                                              "30-day run-off", "Basel LCR rate", "Basis"], rows), ""]
    extra = []
    if r.inflow_haircut:
        extra.append("inflow haircuts " + ", ".join(f"{k} {f.p(v, 'a', 0)}" for k, v in r.inflow_haircut.items()))
    adds = [(k, r.sale_discount_add[k], r.repo_haircut_add[k], r.capacity_factor[k]) for k in r.sale_discount_add]
    adds = [x for x in adds if x[1] > 0 or x[2] > 0 or x[3] < 1]
    if adds:
        extra.append("CBC stress " + "; ".join(f"{k}: sale discount +{f.p(s_, 'a', 0)}, repo haircut +{f.p(h_, 'a', 0)}"
                                               + (f", capacity ×{f.n(f'{c_:g}', 'a')}" if c_ < 1 else "") for k, s_, h_, c_ in adds))
    if r.closed_sale or r.closed_repo:
        extra.append("closed markets: " + ", ".join([f"{k} (sale)" for k in sorted(r.closed_sale)] + [f"{k} (repo)" for k in sorted(r.closed_repo)]))
    extra.append("unsecured wholesale funding " + ("assumed open but never counted" if r.unsecured_wholesale_open else "closed (never counted)"))
    if r.rating_notches:
        extra.append(f"rating downgrade of {f.n(r.rating_notches, 'a')} notches on day {f.n(r.rating_day, 'a')}")
    L += ["Other parameters: " + "; ".join(extra) + ".", ""]

    # ---- Cash Flow Impact
    lp_cash = a.lp.balances
    bt = bucketed(a.proj.daily, H, 30, extra={"cash_lp": lp_cash})
    rows = [[b.bucket, f.m(b.outflows, "d"), f.m(b.inflows, "d"), f.m(b.net, "d"), f.m(b.cumulative, "d"),
             f.m(b.cash_lp, "d")] for b in bt.itertuples()]
    L += ["## Cash Flow Impact (30-Day Horizon)", "",
          _table(["Time Bucket", f"Outflows ({st.unit})", f"Inflows ({st.unit})", f"Net ({st.unit})",
                  f"Cumulative ({st.unit})", f"Cash after CBC, LP plan ({st.unit})"], rows), "",
          f"Net = inflows − outflows (stressed, contractual; no CBC). Cumulative = running sum of Net. The last column "
          f"is the cumulative net cash position including the opening cash of {f.mu(st.opening_cash, 'i')} and the CBC "
          f"monetisation of the LP plan (survival run: positive up to the survival horizon"
          + (")." if T >= H else "; after it the LP plan stops monetising, see the waterfall series in the chart)."),
          ""]
    if H > 30:
        bl = bucketed(a.proj.daily, H, None, extra={"cash_lp": lp_cash})
        bl = bl[bl["first_day"] > 30]
        rows = [[b.bucket, f.m(b.outflows, "d"), f.m(b.inflows, "d"), f.m(b.net, "d"), f.m(b.cumulative, "d"),
                 f.m(b.cash_lp, "d")] for b in bl.itertuples()]
        L += ["### Beyond 30 days (monthly buckets)", "",
              _table(["Time Bucket", f"Outflows ({st.unit})", f"Inflows ({st.unit})", f"Net ({st.unit})",
                      f"Cumulative ({st.unit})", f"Cash after CBC, LP plan ({st.unit})"], rows), ""]

    # ---- Survival Horizon
    head = (f"{f.n(T - M, 'd')} days" if T < H or H < M else f"at least {f.n(H - M, 'd')} days") if H >= M or T < H else \
        "not determinable (the internal minimum lies beyond the projection)"
    L += ["## Survival Horizon", "",
          f"- Survival horizon: {_days(sd, T, f)} under {r.name} (CBC LP, exact; waterfall baseline: {_days(sd, a.wf.survival_days, f)})",
          f"- With management actions: {_days(sd, a.lp_actions.survival_days, f)} (LP); {_days(sd, a.wf_actions.survival_days, f)} (waterfall)",
          f"- Internal minimum: {f.n(M, 'i')} days",
          f"- Headroom: {head}",
          f"- Binding constraint: {sd.binding_constraint}",
          behavioural.confidence_bullet(sd, f), ""]
    L += ["Lines of defence: " + " ".join(sd.lines_of_defence), ""]
    L += behavioural.mc_lines(sd, f, st.unit)
    L += [f"![Cumulative net cash position — {r.name}]({figs['cash']})", "",
          f"Full daily series (all {f.n(H, 'i')} days): [{figs['csv']}]({figs['csv']}).", ""]
    if sd.reverse is not None:
        rv = sd.reverse
        if rv.multiplier is None:
            txt = f"the horizon stays at or above {f.n(M, 'i')} days up to {rv.m_max:g}× severity."
        else:
            txt = (f"smallest severity multiplier with a horizon below {f.n(M, 'i')} days: {f.n(f'{rv.multiplier:.3f}', 'd')} "
                   f"(horizon {f.n(rv.horizon_at_multiplier, 'd')} days there"
                   + (f", {f.n(rv.horizon_below, 'd')} days at {rv.multiplier - rv.tol:.3f}" if rv.horizon_below is not None else "")
                   + f"; bisection to ±{rv.tol:g}, {len(rv.evaluations)} exact horizon solves).")
        L += [f"Reverse stress test: {txt}", ""]

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
    L += ["## Counterbalancing Capacity Deployment", "",
          f"Plan shown: **{dep.source}**" + (" (level-ordered, just-in-time; it reaches the LP horizon, so the optimiser gains nothing by departing from the liquidity order)."
                                               if dep.source == "waterfall" else
                                               f" (the LP survives {a.lp.survival_days - a.wf.survival_days} days longer than the level-ordered waterfall)."),
          "", _table(["Day", f"CBC Available, start of day ({st.unit})", f"CBC Deployed, cumulative ({st.unit})",
                      f"Remaining, end of day ({st.unit})"], rows), "",
          "Values are cash values after the scenario's haircuts (best of sale and repo per line); the opening cash is "
          "not included (it is the first line of defence).", ""]
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
          f"![CBC deployment — {r.name}]({figs['cbc']})", ""]

    # ---- CFP
    tr = a.cfp.triggers
    rows = []
    for t in tr.itertuples():
        cur = t.current
        if t.indicator == "lcr":
            cs, lvl = f.p(cur, "d"), f.p(t.level, "i", 0)
        elif t.indicator == "survival_days":
            cs = f.n("beyond projection" if not math.isfinite(cur) else f"{cur:.0f} d", "d")
            lvl = f.n(f"{t.level:g} d", "i")
        else:
            cs, lvl = f.n(f"{cur:.2f}", "d"), f.n(f"{t.level:g}", "i")
        op = "<" if t.op == "below" else "≥"
        fb = t.first_breach_day
        status = "not breached" if fb is None or (isinstance(fb, float) and math.isnan(fb)) else f"BREACHED day {int(fb)}"
        rows.append([f"{t.id} ({t.indicator})", cs, f"{op} {lvl}", status, PHASE_LABEL[t.phase]])
    L += ["## CFP Trigger Status", "",
          _table(["Indicator", "Current (day 1)", "Trigger Level", "Status", "Phase"], rows), "",
          "Phase timeline: " + "; ".join(f"{PHASE_LABEL[p]} from day {f.n(a.cfp.activation[p], 'd')}"
                                         for p in PHASES if a.cfp.activation[p] is not None)
          + ("" if T >= H else f" (evaluated up to the failure day {f.n(T + 1, 'd')})") + ". Escalation is sticky.", "", impact_timeline(sd, f), ""]
    if st.cfp.phases:
        rows = [[PHASE_LABEL[p], st.cfp.phases[p].authority, st.cfp.phases[p].actions] for p in PHASES if p in st.cfp.phases]
        L += [_table(["Phase", "Authority", "Actions"], rows), ""]

    # ---- Stress LCR
    rows = [["base (regulatory parameters)", f.p(d.base_lcr.lcr, "d"), "—", _status(d.base_lcr.lcr)]]
    for o in d.scenarios:
        x = o.a.lcr.lcr
        nm = f"**{o.name}**" if o.name == r.name else o.name
        rows.append([nm, f.p(x, "d"), f"{(x - d.base_lcr.lcr) * 100:+.1f} pp<sup>d</sup>", _status(x)])
    s_ = a.lcr.stock
    k, v = sd.lcr_driver
    bind = d.binding_lcr
    L += ["## Stress LCR", "", _table(["Scenario", "Stress LCR", "Δ vs Base LCR", "Status vs 100%"], rows), "",
          f"Binding scenario: **{bind.scenario}** (lowest stress LCR {f.p(bind.lcr, 'd')}); its primary driver is "
          f"{d.binding_driver[0]} ({f.mu(d.binding_driver[1], 'd')} vs base). For {r.name} the primary driver is {k} "
          f"({f.mu(v, 'd')} vs base). Internal target {f.p(st.lcr.internal_target, 'i', 0)}: "
          f"{'met' if a.lcr.lcr >= st.lcr.internal_target else 'missed'}.", "",
          _table(["Component (BCBS 238)", f"{r.name} ({st.unit})", f"base ({st.unit})"], [
              ["Level 1 (after 0% haircut)", f.m(s_.l1, "d"), f.m(d.base_lcr.stock.l1, "d")],
              ["Level 2A (after 15% haircut)", f.m(s_.l2a, "d"), f.m(d.base_lcr.stock.l2a, "d")],
              ["Level 2B (after 25–50% haircut)", f.m(s_.l2b, "d"), f.m(d.base_lcr.stock.l2b, "d")],
              ["Adjustment for 15% cap (Annex 1)", f.m(s_.adj15, "d"), f.m(d.base_lcr.stock.adj15, "d")],
              ["Adjustment for 40% cap (Annex 1)", f.m(s_.adj40, "d"), f.m(d.base_lcr.stock.adj40, "d")],
              ["Stock of HQLA", f.m(s_.hqla, "d"), f.m(d.base_lcr.hqla, "d")],
              ["Total outflows (30 days)", f.m(a.lcr.total_outflows, "d"), f.m(d.base_lcr.total_outflows, "d")],
              ["Total inflows (30 days)", f.m(a.lcr.total_inflows, "d"), f.m(d.base_lcr.total_inflows, "d")],
              ["Inflows after 75% cap", f.m(a.lcr.capped_inflows, "d"), f.m(d.base_lcr.capped_inflows, "d")],
              ["Net cash outflows", f.m(a.lcr.net_outflows, "d"), f.m(d.base_lcr.net_outflows, "d")],
          ]), "",
          "Stress outflow rates are the higher of the Basel rate and the scenario's 30-day run-off; inflows are the "
          "Basel rate times (1 − scenario haircut); HQLA is valued after the scenario's fire-sale add-on, and the "
          "adjusted amounts unwind secured transactions maturing within 30 days.", ""]

    # ---- Management Actions
    rows = []
    for m in st.management_actions:
        act = a.activation.get(m.id)
        used = sum(x["cash"] for x in a.lp_actions.management if x["id"] == m.id)
        counted = "yes" if m.counted() else ("no: not pre-approved" if not m.pre_approved else "no: low feasibility")
        when = f"{f.n(m.lead_days, 'a')} days after {PHASE_LABEL[m.phase]}" + (
            f" (day {f.n(act, 'd')})" if act is not None else " (phase not reached)" if m.counted() else "")
        rows.append([m.name or m.id, f.m(m.impact, "a"), when, m.feasibility, counted, f.m(used, "d")])
    L += ["## Management Actions", ""]
    if rows:
        L += [_table(["Action", f"Liquidity Impact ({st.unit})", "Execution Time", "Feasibility", "Counted",
                      f"Used in LP plan ({st.unit})"], rows), "",
              f"Only pre-approved actions that are not of low feasibility are counted, each from the day its CFP phase "
              f"activates plus its lead time, spread over its stated days. Survival with actions: "
              f"{_days(sd, a.lp_actions.survival_days, f)} (LP).", ""]
    else:
        L += ["No management actions in the file.", ""]
    L += ["## Residual Risk", "", residual_paragraph(sd, f, st), ""]
    L += ["## Recovery Path", "", recovery_paragraph(sd, f), ""]
    return "\n".join(L)


def _lv(dep, asset_id: str) -> str:
    from liqstress.reports.data import unit_values

    return unit_values(dep.plan).get(asset_id, ("", 0, 0))[0]


def _status(x: float) -> str:
    if not math.isfinite(x):
        return "above (no net outflows)"
    return "above" if x >= 1.0 else f"BELOW by {(1 - x) * 100:.1f} pp"


def document(d: ReportData, figs: dict[str, dict[str, str]], checks: list[Check]) -> str:
    st = d.stress
    f = Fmt(st.unit)
    L = [f"# Liquidity Stress Report — {st.name}", "",
         f"As of {st.as_of or 'not stated'}; amounts in {st.unit}; projection horizon {f.n(st.horizon_days, 'i')} days "
         f"(daily for days 1–7, weekly to day 30, monthly after). Tags: {TAG_LEGEND}.", ""]
    if st.description:
        L += [st.description.strip(), ""]
    rows = []
    for sd in d.scenarios:
        a = sd.a
        H, T, M = a.horizon_days, a.horizon, a.internal_minimum
        hs = lambda x: f.n(f"≥{H}" if x >= H else x, "d")  # noqa: E731
        top = max((p for p in PHASES if a.cfp.activation[p] is not None), key=PHASES.index)
        rows.append([sd.name, TYPE_LABEL[a.res.type], hs(T), hs(a.wf.survival_days), hs(a.lp_actions.survival_days),
                     f.n(M, "i"), "pass" if T >= M and (T < H or H >= M) else "FAIL" if T < M else "n/a",
                     f.p(a.lcr.lcr, "d"), f"{PHASE_LABEL[top]} (day {a.cfp.activation[top]})"])
    L += ["## Summary", "", _table(["Scenario", "Type", "Survival LP (d)", "Survival waterfall (d)", "With actions LP (d)",
                                    "Internal min (d)", "vs minimum", "Stress LCR", "Highest CFP phase"], rows), "",
          f"Base LCR (regulatory parameters): {f.p(d.base_lcr.lcr, 'd')}. Binding stress-LCR scenario: "
          f"**{d.binding_lcr.scenario}** ({f.p(d.binding_lcr.lcr, 'd')}), driven by {d.binding_driver[0]}.", ""]
    for sd in d.scenarios:
        L += [scenario_section(sd, d, f, figs[sd.name]), ""]
    # reverse stress summary
    rows = []
    for sd in d.scenarios:
        rv = sd.reverse
        if rv is None:
            continue
        rows.append([sd.name, f.n(rv.internal_minimum, "i"),
                     f.n("not reached" if rv.multiplier is None else f"{rv.multiplier:.3f}", "d"),
                     f.n("—" if rv.horizon_at_multiplier is None else rv.horizon_at_multiplier, "d"), f.n(len(rv.evaluations), "d")])
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


@dataclass
class ReportOutput:
    markdown: Path
    html: Path
    figures: list
    data: ReportData
    checks: list

    def summary(self) -> dict:
        d = self.data
        sc = []
        for sd in d.scenarios:
            a = sd.a
            sc.append({
                "name": sd.name, "type": a.res.type,
                "survival_days": a.lp.survival_days, "waterfall_survival_days": a.wf.survival_days,
                "survival_days_with_actions": a.lp_actions.survival_days,
                "waterfall_survival_days_with_actions": a.wf_actions.survival_days,
                "horizon_days": a.horizon_days, "internal_minimum_days": a.internal_minimum,
                "headroom_days": a.lp.survival_days - a.internal_minimum,
                "survival_censored": a.lp.survival_days >= a.horizon_days,
                "stress_lcr": a.lcr.lcr, "hqla": a.lcr.hqla, "net_outflows_30d": a.lcr.net_outflows,
                "lcr_driver": sd.lcr_driver[0],
                "cfp_activation": a.cfp.activation,
                "reverse_stress_multiplier": None if sd.reverse is None else sd.reverse.multiplier,
                "binding_constraint": sd.binding_constraint,
                **behavioural.mc_json(sd),
            })
        return {
            "stress": d.stress.name, "unit": d.stress.unit, "base_lcr": d.base_lcr.lcr,
            "binding_lcr_scenario": d.binding_lcr.scenario, "binding_lcr_driver": d.binding_driver[0],
            "scenarios": sc,
            "checklist": [{"item": c.item, "status": "pass" if c.passed else "fail", "reason": c.reason} for c in self.checks],
            "report": str(self.markdown), "html": str(self.html), "figures": [str(p) for p in self.figures],
        }


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def write_report(source: Any, out_md: str | Path, method: str = "bisection", reverse: bool = True,
                 paths: int = 10_000, seed: int = 0, progress: bool = False) -> ReportOutput:
    """Analyse every scenario of a stress file and write OUT.md, OUT.html, PNG figures and daily CSVs.
    ``paths``/``seed``: Monte Carlo survival distribution of files with a behavioural section
    (``paths=0`` skips it)."""
    import markdown as md_lib

    stress = load_stress(source)
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    d = collect(stress, method=method, reverse=reverse, paths=paths, seed=seed, progress=progress)
    stem = out_md.stem
    figs: dict[str, dict[str, str]] = {}
    files = []
    for sd in d.scenarios:
        a = sd.a
        H = a.horizon_days
        slug = _slug(sd.name)
        cash_png = out_md.with_name(f"{stem}_{slug}_cash.png")
        cbc_png = out_md.with_name(f"{stem}_{slug}_cbc.png")
        csv = out_md.with_name(f"{stem}_{slug}_daily.csv")
        series = {"cash before CBC (contractual only)": a.proj.daily["cash_before_cbc"].to_numpy(),
                  "with CBC, LP plan": a.lp.balances, "with CBC, waterfall": a.wf.balances}
        if a.lp_actions.management:
            series["with CBC + management actions, LP"] = a.lp_actions.balances
        charts.cash_chart(cash_png, f"{stress.name} — {sd.name}: cumulative net cash position", stress.unit, series,
                          a.horizon, a.internal_minimum, H)
        charts.cbc_chart(cbc_png, f"{stress.name} — {sd.name}: CBC deployment ({sd.shown.source} plan)", stress.unit,
                         sd.shown.remaining_by_level, sd.shown.deployed_cum, H)
        df = a.proj.daily[["day", "outflows", "inflows", "net_outflows", "cumulative_net", "cash_before_cbc"]].copy()
        df["cash_lp"] = a.lp.balances
        df["cash_waterfall"] = a.wf.balances
        df["cash_lp_with_actions"] = a.lp_actions.balances
        df["cbc_remaining_shown"] = sum(sd.shown.remaining_by_level.values())
        df["lcr_projection"] = a.lcr_path
        df["cfp_phase"] = a.cfp.daily["phase"].to_numpy()
        df.to_csv(csv, index=False, float_format="%.6f")
        figs[sd.name] = {"cash": cash_png.name, "cbc": cbc_png.name, "csv": csv.name}
        files += [cash_png, cbc_png, csv]
    checks = evaluate(d)
    text = document(d, figs, checks)
    out_md.write_text(text)
    html_path = out_md.with_suffix(".html")
    body = md_lib.markdown(text, extensions=["tables"])
    html_path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + stress.name + "</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}sup{color:#888;font-size:0.65em}img{max-width:100%}</style>"
        "</head><body>\n" + body + "\n</body></html>\n")
    return ReportOutput(out_md, html_path, files, d, checks)
