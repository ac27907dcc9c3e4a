"""Report text generated from the numbers of one scenario (issue 12 §3-§5, §7).

Every function returns Markdown built from the scenario's own figures -- survival definition,
shortfall against the internal minimum, cliff effects, sensitivities and headroom fragility,
the reconciliation of the 30-day cash table with the stress LCR, the escalation timeline, the
management actions with their status, the recovery path derived from the projection and the
"outcomes worsen if" paragraph derived from the scenario's own sensitivities.  Sentences name
the scenario or carry its numbers, so no sentence repeats between scenarios (tested).

``f`` is the report's number formatter (:class:`liqstress.reports.narrative.Fmt`): ``f.m`` money,
``f.mu`` money with unit, ``f.p`` percent, ``f.n`` any value, each with its provenance tag.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from liqstress.models.stress_file import PHASE_LABEL, StressFile
from liqstress.solvers.cbc import survival_text


# --------------------------------------------------------------------------- helpers
def table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def days_text(T: int, H: int, f: Any, tag: str = "d") -> str:
    """A horizon as printed everywhere: censored horizons read ``>= H (whole projection)``."""
    if T >= H:
        return f.n(survival_text(T, H), tag)
    return f"{f.n(T, tag)} days"


def _words(k: str) -> str:
    return k.replace("_", " ")


def source_label(res, key: str) -> str:
    """`` (from <scenario>)`` for a combined scenario's parameter (empty otherwise)."""
    if not res.overlay_of:
        return ""
    src = res.sources.get(key)
    if src is None:
        return ""
    return " (both components)" if src == "both" else f" (from {src})"


# --------------------------------------------------------------------------- survival definition
def survival_definition(stress: StressFile, f: Any) -> str:
    """Once per report: what "meets all obligations" means, including the cash floor."""
    mo, intra = stress.minimum_operational_cash, stress.intraday_liquidity_requirement
    floor = stress.survival_floor()
    head = ("Survival definition: the bank survives a day when it meets every stressed obligation of that day "
            "using only its cash, contractual inflows net of haircuts, the monetisation of unencumbered "
            "counterbalancing capacity and committed facilities (no unsecured wholesale funding, no new deposits, "
            "central-bank facilities shown but not counted unless the file says so)")
    if floor <= 0:
        return (head + ", with a cash floor of zero: the file sets no minimum operational cash buffer "
                f"(minimum_operational_cash = {f.m(mo, 'i')}) and no intraday liquidity requirement "
                f"(intraday_liquidity_requirement = {f.m(intra, 'i')}), so every unit of cash down to zero counts "
                "towards survival.")
    parts = []
    parts.append(f"a minimum operational cash buffer of {f.mu(mo, 'i')}" if mo > 0 else
                 f"no minimum operational cash buffer ({f.m(0.0, 'i')} in the file)")
    parts.append(f"an intraday liquidity requirement of {f.mu(intra, 'i')}" if intra > 0 else
                 f"no intraday liquidity requirement ({f.m(0.0, 'i')} in the file)")
    return (head + f", while keeping at least {f.mu(floor, 'i')} of cash at the end of every day: "
            + " and ".join(parts) + ". The horizon is the last day up to which this holds.")


def floor_bullet(sd, stress: StressFile, f: Any) -> str:
    floor = stress.survival_floor()
    name = sd.name
    if floor <= 0:
        return f"- Cash floor in {name}: none (the file sets both the minimum operational cash and the intraday requirement to 0)"
    B = sd.a.lp.balances
    T = sd.a.horizon
    upto = max(1, min(T, len(B)))
    low = float(np.min(B[:upto]))
    day = int(np.argmin(B[:upto])) + 1
    return (f"- Cash floor in {name}: {f.mu(floor, 'i')} kept every day (minimum operational "
            f"{f.m(stress.minimum_operational_cash, 'i')} + intraday {f.m(stress.intraday_liquidity_requirement, 'i')}); "
            f"lowest cash balance of the LP plan up to the horizon {f.mu(low, 'd')} on day {f.n(day, 'd')}")


# --------------------------------------------------------------------------- shortfall, cliffs
def shortfall_bullet(sd, f: Any) -> str:
    a = sd.a
    sh, sha = sd.shortfall, sd.shortfall_actions
    M, H = a.internal_minimum, a.horizon_days
    if not sh or sh["days"] <= 0:
        return f"- Shortfall against the internal minimum of {sd.name}: none (internal minimum 0 days)"
    d = sh["days"]
    lim = f"{f.n(d, 'i')}-day internal minimum" if not sh["beyond_projection"] else \
        f"whole {f.n(H, 'i')}-day projection (the {f.n(M, 'i')}-day minimum lies beyond it)"
    if sh["shortfall"] > 0:
        txt = (f"- Shortfall against the internal minimum: {sd.name} misses the {lim} by {f.mu(sh['shortfall'], 'd')}: "
               f"the smallest extra cash on day 1 with which some CBC plan meets every obligation up to day {f.n(d, 'd')}")
        if sha and sha.get("days", 0) > 0:
            txt += (f"; with management actions the gap is {f.mu(sha['shortfall'], 'd')}" if sha["shortfall"] > 0 else
                    f"; management actions close it ({f.mu(sha['surplus'], 'd')} to spare)")
        return txt
    return (f"- Surplus against the internal minimum: {sd.name} meets the {lim} with {f.mu(sh['surplus'], 'd')} to spare "
            f"on its tightest day: an extra day-1 outflow of up to that amount would still leave the minimum met")


def cliff_bullet(sd, f: Any) -> str:
    a = sd.a
    H, T = a.horizon_days, a.horizon
    if T >= H:
        return f"- Cliff effects in {sd.name}: none shorten the horizon (it reaches the end of the projection)"
    if not sd.cliffs:
        return (f"- Cliff effects in {sd.name}: no maturity or dated outflow falls on or before the failure day "
                f"{f.n(T + 1, 'd')}; the horizon is set by the behavioural run-offs")
    parts = []
    ends = [c for c in sd.cliffs if c.day == T + 1]
    for c in sd.cliffs:
        if c.days_lost <= 0:
            continue
        w = days_text(c.horizon_without, H, f)
        parts.append(f"{c.source} {c.kind} of {f.mu(c.amount, 'd')} on day {f.n(c.day, 'i')} "
                     f"({f.n(c.days_lost, 'd')} days lost: {w} without it)")
    if not parts:
        return (f"- Cliff effects in {sd.name}: removing any single dated lump on or before day {f.n(T + 1, 'd')} "
                f"leaves the horizon unchanged")
    lead = (f"- Cliff effects in {sd.name}: the horizon ends on the day of the {ends[0].source} {ends[0].kind} "
            f"(day {f.n(T + 1, 'd')}); " if ends else f"- Cliff effects in {sd.name}: ")
    return lead + "largest dated lumps up to the failure day and the days each costs: " + "; ".join(parts)


# --------------------------------------------------------------------------- sensitivities
def _val(fac, v, f: Any) -> str:
    if v is None:
        return "—"
    if fac.kind in ("run_off", "rollover", "inflow"):
        return f.p(v, "a" if v == fac.base else "d")
    if fac.kind == "haircut":
        pts = 100 * v  # a whole number of points, else one decimal (-0.5 pts, never "-0 pts")
        return f.n(f"{pts:+.0f} pts" if abs(pts - round(pts)) < 1e-9 else f"{pts:+.1f} pts", "a" if v == fac.base else "d")
    if fac.kind == "closure":
        return f.n("closed" if v >= 0.5 else "open", "a" if v == fac.base else "d")
    return f.n(f"{v:g} d", "a" if v == fac.base else "d")


def _h(T, H, f: Any) -> str:
    return "—" if T is None else f.n(survival_text(T, H), "d")


def sensitivity_rows(sd, f: Any, top: int = 12) -> list[list[str]]:
    H = sd.a.horizon_days
    rows = []
    for s in sd.sensitivities[:top]:
        fac = s.factor
        row = [fac.label, _val(fac, fac.base, f), _val(fac, fac.down, f), _h(s.horizon_down, H, f),
               _val(fac, fac.up, f), _h(s.horizon_up, H, f)]
        if s.surplus is not None:
            row += [f.m(s.surplus_down, "d") if s.surplus_down is not None else "—",
                    f.m(s.surplus_up, "d") if s.surplus_up is not None else "—"]
        rows.append(row)
    return rows


def sensitivity_section(sd, f: Any, unit: str, tornado: str | None) -> list[str]:
    a = sd.a
    H, T, M = a.horizon_days, a.horizon, a.internal_minimum
    L = [f"### Sensitivities and headroom fragility — {sd.name}", ""]
    if not sd.sensitivities:
        return L + [f"One-factor sensitivities of {sd.name} were not run (--no-sensitivities).", ""]
    cens = T >= H
    hdr = ["Factor", "Scenario value", "Less severe", "Horizon (d)", "More severe", "Horizon (d)"]
    if cens:
        hdr += [f"Tightest-day surplus, less severe ({unit})", f"Tightest-day surplus, more severe ({unit})"]
    moving = [s for s in sd.sensitivities if s.swing > 0]
    lead = (f"Each factor of {sd.name} is moved alone around its scenario value, all else fixed, and the LP "
            f"horizon without management actions ({days_text(T, H, f)} at the scenario values) is solved again; "
            f"{f.n(len(moving), 'd')} of {f.n(len(sd.sensitivities), 'd')} factors move it.")
    if cens:
        lead += (f" The horizon of {sd.name} is censored at the projection length, so the last two columns rank "
                 f"the factors by the liquidity surplus on the tightest day (the largest extra day-1 outflow the "
                 f"bank could absorb; {f.mu(sd.sensitivities[0].surplus, 'd')} at the scenario values).")
    L += [lead, "", table(hdr, sensitivity_rows(sd, f)), ""]
    if tornado:
        L += [f"![Tornado of the survival horizon — {sd.name}]({tornado})", ""]
    rows = []
    if sd.reverse is not None:
        rv = sd.reverse
        val = "not reached" if rv.multiplier is None else f"{rv.multiplier:.3f}×"
        rows.append([f"all severities together (reverse stress, {sd.name})", f.n("1.000×", "a"), f.n(val, "d"),
                     f.n("—" if rv.horizon_at_multiplier is None else survival_text(rv.horizon_at_multiplier, H), "d")])
    for fr in sd.fragility:
        fac = fr.factor
        what = "not reached" if fr.value is None else None
        rows.append([fac.label, _val(fac, fac.base, f), f.n(what, "d") if what else _val(fac, fr.value, f),
                     f.n("—" if fr.horizon_at_value is None else survival_text(fr.horizon_at_value, H), "d")])
    if rows:
        m = min(M, H)
        if T >= m:
            txt = (f"Headroom fragility of {sd.name}: the value at which each factor alone (first row: all together) "
                   f"takes the horizon below the {f.n(M, 'i')}-day minimum; the headroom is "
                   + (f"{f.n(T - M, 'd')} days." if T < H or H < M else f"at least {f.n(H - M, 'd')} days."))
        else:
            txt = (f"Headroom fragility of {sd.name}: the horizon is already {f.n(M - T, 'd')} days short of the "
                   f"{f.n(M, 'i')}-day minimum; the table gives the least severe value of each factor alone that would "
                   f"restore it (first row: the joint severity multiplier at which it is lost).")
        L += [txt, "", table(["Factor", "Scenario value", "Break-even value", "Horizon there (d)"], rows), ""]
    return L


def outcomes_worsen(sd, f: Any) -> str:
    """The "outcomes worsen if" paragraph from the scenario's own sensitivities."""
    a = sd.a
    H, T = a.horizon_days, a.horizon
    name = sd.name
    if not sd.sensitivities:
        return f"Outcomes for {name} worsen with any more severe parameter; its sensitivities were not run."
    adverse = [s for s in sd.sensitivities if s.loss > 0]
    adverse.sort(key=lambda s: (-s.loss, s.factor.key))
    parts = []
    for s in adverse[:3]:
        fac = s.factor
        if fac.kind == "closure":
            what = f"the {fac.key.split('.', 1)[1]} market closes for sale and repo"
        elif fac.kind == "haircut":
            what = f"{fac.key.split('.', 1)[1]} haircuts and discounts widen by 5 points"
        elif fac.kind == "lag":
            what = f"{fac.label} is {f.n(int(fac.up), 'd')} days instead of {f.n(int(fac.base), 'a')}"
        else:
            what = f"the {fac.label} is {_val(fac, fac.up, f)} instead of {_val(fac, fac.base, f)}"
        parts.append(f"{what} (horizon {days_text(T, H, f)} → {days_text(s.horizon_up, H, f)})")
    if parts:
        return f"Outcomes for {name} worsen most if " + "; if ".join(parts) + "."
    cand = [s for s in sd.sensitivities if s.surplus is not None and s.surplus_up is not None and s.surplus_up < s.surplus]
    cand.sort(key=lambda s: (s.surplus_up - s.surplus, s.factor.key))
    if cand:
        parts = [f"the {s.factor.label} moves to {_val(s.factor, s.factor.up, f)} (tightest-day surplus "
                 f"{f.mu(s.surplus, 'd')} → {f.mu(s.surplus_up, 'd')})" for s in cand[:3]]
        return (f"Outcomes for {name} worsen as follows: no single one-factor shock shortens its horizon within the "
                f"projection, but the tightest-day surplus shrinks most if " + "; if ".join(parts) + ".")
    return f"Outcomes for {name} do not worsen under any one-factor shock tested (horizon and tightest-day surplus unchanged)."


# --------------------------------------------------------------------------- reconciliation
def reconciliation(sd, f: Any, unit: str) -> list[str]:
    from liqstress.stress.reconcile import totals

    rows = sorted(sd.recon, key=lambda r: ({"outflow": 0, "inflow": 1, "cap": 2}[r.side]))
    cash, lcr = totals(rows)
    L = [f"### Reconciliation with the stress LCR — {sd.name}", ""]
    tab = [[r.item, r.side, f.m(r.cash, "d"), f.m(r.lcr, "d"), f.m(r.difference, "d"), r.reason]
           for r in rows if abs(r.cash) > 0 or abs(r.lcr) > 0]
    tab.append(["**total (net outflow)**", "", f.m(cash, "d"), f.m(lcr, "d"), f.m(lcr - cash, "d"), ""])
    groups: dict[str, float] = {}
    for r in rows:
        if abs(r.difference) < 1e-9:
            continue
        if r.side == "cap":
            k = "the 75% inflow cap"
        elif r.side == "inflow":
            k = "lower LCR inflow rates"
        elif "Basel floor" in r.reason or "para 115" in r.reason or "Basel rate" in r.reason:
            k = "Basel outflow floors"
        elif "lcr_rate" in r.reason:
            k = "outflows the LCR does not count (lcr_rate)"
        else:
            k = "other rate differences"
        groups[k] = groups.get(k, 0.0) + r.difference
    expl = ", ".join(f"{k} {f.mu(v, 'd')}" for k, v in sorted(groups.items(), key=lambda kv: -abs(kv[1])))
    big = max((r for r in rows if r.side == "outflow"), key=lambda r: r.difference, default=None)
    sent = (f"For {sd.name}, the stress LCR's net cash outflows of {f.mu(lcr, 'd')} and the cash table's 30-day net "
            f"outflow of {f.mu(cash, 'd')} differ by {f.mu(lcr - cash, 'd')}"
            + (f": {expl}." if expl else "; every line uses the same 30-day rate in both."))
    if big is not None and big.difference > 0:
        sent += f" The largest single difference is {big.item} ({f.mu(big.difference, 'd')}: {big.reason})."
    L += [sent, "", table(["Line", "Side", f"Cash table, days 1-30 ({unit})", f"Stress LCR ({unit})",
                             f"LCR − cash ({unit})", "Why"], tab), ""]
    return L


# --------------------------------------------------------------------------- CFP escalation
def escalation_section(sd, f: Any) -> list[str]:
    a = sd.a
    H, T = a.horizon_days, a.horizon
    rows = []
    for e in sd.escalation:
        ph = ", ".join(PHASE_LABEL[p] + (" (implied by a higher phase)" if p in e["implied"] else "") for p in e["phases"])
        tr = "; ".join(f"{t['id']}: {_ind(t['indicator'], t['value'])} {'<' if t['op'] == 'below' else '≥'} "
                       f"{_ind(t['indicator'], t['level'])}" for t in e["triggers"]) or "—"
        rows.append([f.n(e["day"], "d"), ph, tr])
    days = [e["day"] for e in sd.escalation]
    if not rows:
        return [f"Escalation timeline of {sd.name}: no trigger is breached"
                + (f" before the failure day {f.n(T + 1, 'd')}." if T < H else " within the projection."), ""]
    same = [e for e in sd.escalation if len(e["phases"]) > 1]
    txt = (f"Escalation timeline of {sd.name}: phases are reached on {f.n(len(set(days)), 'd')} distinct day(s)"
           + (f"; {', '.join(PHASE_LABEL[p] for p in same[0]['phases'])} are reached together on day {f.n(same[0]['day'], 'd')}"
              if same else "; each phase on its own day")
           + (f" (evaluated up to the failure day {f.n(T + 1, 'd')})." if T < H else "."))
    return [txt, "", table(["Day", "Phase(s) reached", "Trigger(s) first breached that day (value vs level)"], rows), ""]


def _ind(indicator: str, v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "∞"
    if indicator == "lcr":
        return f"{100 * v:.1f}%"
    if indicator == "survival_days":
        return f"{v:.0f} d"
    return f"{v:g}" if float(v).is_integer() else f"{v:.2f}"


# --------------------------------------------------------------------------- management actions
def actions_section(sd, stress: StressFile, f: Any, unit: str) -> list[str]:
    a = sd.a
    H = a.horizon_days
    Ta = a.lp_actions.survival_days
    used_lp: dict[str, float] = {}
    for m in a.lp_actions.management:
        used_lp[m["id"]] = used_lp.get(m["id"], 0.0) + m["cash"]
    rows = []
    upto = min(H, Ta + 1)
    diff = np.asarray(a.plan.net_outflows) - np.asarray(a.plan_actions.net_outflows)
    acts = {m.id: m for m in stress.management_actions}
    for st in a.actions:
        m = acts[st.id]
        when = f"{f.n(m.lead_days, 'a')} days after {PHASE_LABEL[m.phase]}" + (
            f" (day {f.n(st.activation_day, 'd')} → effective day {f.n(st.effective_day, 'd')})" if st.activation_day is not None
            else " (phase not reached)")
        if st.counted and m.kind == "curtail_outflow":
            from liqstress.stress.actions import curtailment

            eff = curtailment(stress, m, int(st.effective_day))
            used = float(eff[:upto].sum())
        else:
            used = used_lp.get(st.id, 0.0)
        status = "counted" if st.counted else ("INFEASIBLE" if not st.feasible and st.reason.startswith("infeasible")
                                               else "not counted")
        rows.append([st.name, f.m(m.impact, "a"), when, m.feasibility, (m.kind or "not stated").replace("_", " "),
                     f"{status}: {st.reason}", f.m(used, "d")])
    if not rows:
        return [f"No management actions in the file, so {sd.name} has no third line of defence.", ""]
    n_c = sum(1 for s in a.actions if s.counted)
    n_inf = sum(1 for s in a.actions if not s.feasible and s.reason.startswith("infeasible"))
    total = float(diff[:upto].sum()) + sum(used_lp.values())
    txt = (f"In {sd.name}, {f.n(n_c, 'd')} of {f.n(len(rows), 'd')} actions are counted"
           + (f" and {f.n(n_inf, 'd')} are infeasible in this scenario" if n_inf else "")
           + f"; together they provide {f.mu(total, 'd')} up to day {f.n(upto, 'd')} and move the LP horizon from "
           f"{days_text(a.horizon, H, f)} to {days_text(Ta, H, f)}.")
    return [txt, "", table(["Action", f"Liquidity Impact ({unit})", "Execution Time", "Feasibility", "Mechanism",
                            "Status and reason", f"Cash effect in the LP plan ({unit})"], rows), ""]


# --------------------------------------------------------------------------- recovery path
def recovery_numbers(sd, stress: StressFile) -> dict:
    """Trajectory of liquid resources (cash above the floor + unused CBC of the deployment shown)."""
    a = sd.a
    dep = sd.shown
    H = a.horizon_days
    floor = stress.survival_floor()
    B = dep.result.balances
    R = sum(v for v in dep.remaining_by_level.values())
    liq = np.asarray(B - floor + R, dtype=float)
    start = float(stress.opening_cash - floor + R[0] + dep.deployed_cum[0])
    net = a.proj.daily["net_outflows"].to_numpy()
    s = int(np.argmin(liq)) + 1
    peak = int(np.argmax(net)) + 1
    drv = a.proj.daily.iloc[peak - 1].filter(like="out:").sort_values(ascending=False)
    after = net[s:] if s < H else np.array([])
    pace = float(-after.mean()) if len(after) else 0.0
    last30 = float(-net[max(0, H - 30):].mean())
    runoff_end = max(((r.days, k) for k, r in a.res.run_off.items() if r.rate > 0
                      and any(l.category == k and l.maturities is None and l.amount > 0 for l in stress.liabilities)),
                     default=(0, ""))
    return {"liq": liq, "start": start, "trough_day": s, "trough": float(liq[s - 1]), "peak_day": peak,
            "peak": float(net[peak - 1]), "peak_driver": drv.index[0][4:] if len(drv) else "", "pace": pace,
            "last30": last30, "end": float(liq[-1]), "runoff_end": runoff_end}


def recovery_paragraph(sd, stress: StressFile, f: Any) -> str:
    a, r = sd.a, sd.a.res
    H, T = a.horizon_days, a.horizon
    x = recovery_numbers(sd, stress)
    name = sd.name
    s = [f"Recovery path of {name}, derived from its projection: daily net outflows peak at {f.mu(x['peak'], 'd')} on day "
         f"{f.n(x['peak_day'], 'd')} (mostly {_words(x['peak_driver'])})"
         + (f", and the last behavioural run-off ({_words(x['runoff_end'][1])}) ends on day {f.n(x['runoff_end'][0], 'a')}."
            if x["runoff_end"][0] else ".")]
    if T < H:
        low = float(np.min(x["liq"]))
        s.append(f"{name} does not get through the outflows on its own: cash falls below the floor on day {f.n(T + 1, 'd')}"
                 + (f", {f.n(r.duration_days - T, 'd')} days before its {f.n(r.duration_days, 'a')}-day stress period ends"
                    if r.duration_days and r.duration_days > T else "")
                 + f", and with no further funding its liquid resources would bottom at {f.mu(low, 'd')} on day "
                   f"{f.n(x['trough_day'], 'd')} -- funding that must come from outside the counted sources (central-bank "
                   f"lending, a capital raise, or resolution) before recovery can start.")
        if x["trough_day"] < H and x["pace"] > 0:
            s.append(f"From day {f.n(x['trough_day'] + 1, 'd')} contractual inflows of {name} exceed outflows by "
                     f"{f.mu(x['pace'], 'd')} a day on average, which would rebuild {f.mu(x['end'] - x['trough'], 'd')} "
                     f"by day {f.n(H, 'i')}.")
    elif x["trough_day"] >= H:
        s.append(f"Liquid resources of {name} (cash above the floor plus unused CBC) are still falling at the end of the "
                 f"{f.n(H, 'i')}-day projection, by {f.mu(max(-x['last30'], 0.0), 'd')} a day over the last 30 days, "
                 f"to {f.mu(x['end'], 'd')}: no stabilisation is visible within the projection.")
    else:
        flat = abs(x["pace"]) < 0.5 * 10.0 ** -getattr(f, "dec", 0)  # rounds to zero at the report's precision
        s.append(f"Liquid resources of {name} fall from {f.mu(x['start'], 'd')} to a trough of {f.mu(x['trough'], 'd')} on day "
                 f"{f.n(x['trough_day'], 'd')}; "
                 + (f"after it inflows and outflows about balance, and they stay at {f.mu(x['end'], 'd')} to day "
                    f"{f.n(H, 'i')}." if flat else
                    f"after it contractual inflows exceed outflows by {f.mu(x['pace'], 'd')} a day "
                    f"on average, reaching {f.mu(x['end'], 'd')} by day {f.n(H, 'i')}." if x["pace"] > 0 else
                    f"after it net outflows continue at {f.mu(-x['pace'], 'd')} a day on average, and they end at "
                    f"{f.mu(x['end'], 'd')} on day {f.n(H, 'i')}."))
        if x["pace"] > 0 and x["trough"] < x["start"]:
            need = (x["start"] - x["trough"]) / x["pace"]
            back = x["trough_day"] + need
            s.append(f"At that pace the pre-stress level of {name} is regained around day {f.n(int(math.ceil(back)), 'd')}"
                     + (" (beyond the projection)." if back > H else "."))
    conds = "; ".join(r.recovery_conditions) if r.recovery_conditions else "none stated in the file"
    s.append(f"Return to the Monitoring phase for {name} requires: {conds}.")
    return " ".join(s)


# --------------------------------------------------------------------------- LCR Annex 1 note
def annex1_note(sd, f: Any) -> str:
    st = sd.a.lcr.stock
    legs = sd.a.lcr.unwound
    name = sd.name
    if not legs:
        txt = f"No secured transaction of {name} matures within 30 days, so the adjusted amounts equal the stock."
    else:
        back = sum(l["value"] for l in legs if l["value"] > 0)
        out = -sum(l["value"] for l in legs if l["value"] < 0)
        ids = sorted({l["id"] for l in legs})
        txt = (f"Annex 1 unwinding in {name}: {f.n(len(ids), 'd')} secured transaction(s) maturing within 30 days "
               f"({', '.join(ids)}) return {f.mu(out, 'd')} to counterparties and bring back collateral worth "
               f"{f.mu(back, 'd')} after LCR haircuts and the scenario's fire-sale add-on; adjusted Level 1 "
               f"{f.mu(st.adj_l1, 'd')}, Level 2A {f.mu(st.adj_l2a, 'd')}, Level 2B {f.mu(st.adj_l2b, 'd')}.")
    if st.negative_adjusted_l1:
        txt += (f" **Adjusted Level 1 is negative ({f.mu(st.adj_l1, 'd')})**: the cash {name} would have to return "
                f"on unwinding exceeds its Level 1 holdings. The Annex 1 formulas are applied literally, without "
                f"flooring: each unit of negative adjusted Level 1 raises the 15% cap adjustment by 15/60 and the 40% "
                f"cap adjustment by 2/3, so the adjustments can exceed the Level 2 amounts themselves and the stock "
                f"({f.mu(st.hqla, 'd')}) can fall below the unadjusted Level 1 amount ({f.mu(st.l1, 'd')}).")
    return txt
