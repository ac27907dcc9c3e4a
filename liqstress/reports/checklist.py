"""The validation checklist of docs/model.md §6.6, evaluated item by item with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from liqstress.models.stress_file import LEVELS
from liqstress.reports.data import ReportData

ITEMS = (
    "Three canonical scenario types defined with distinct parameters",
    "Outflow rates calibrated to historical stress events with justification",
    "Inflows haircut appropriately (no optimistic inflow assumptions)",
    "Survival horizon calculated as days to cumulative net cash zero",
    "CBC deployment sequenced by liquidity priority (Level 1 first)",
    "CFP triggers mapped to specific quantitative indicators",
    "Management actions quantified and assessed for execution feasibility",
    "Stress LCR computed with scenario-specific modified parameters",
    "Combined scenario represents overlay (not average) of idiosyncratic and market-wide",
    "Recovery path stated with qualifying conditions",
)


@dataclass(frozen=True)
class Check:
    item: str
    passed: bool
    reason: str


def _params(r) -> tuple:
    return (tuple(sorted((k, v.rate, v.days, v.front_share) for k, v in r.run_off.items())),
            tuple(sorted(r.rollover.items())), tuple(sorted(r.inflow_haircut.items())),
            tuple(sorted(r.sale_discount_add.items())), tuple(sorted(r.repo_haircut_add.items())),
            tuple(sorted(r.capacity_factor.items())), tuple(sorted(r.closed_sale)), tuple(sorted(r.closed_repo)))


def evaluate(d: ReportData) -> list[Check]:
    st = d.stress
    scen = [s.a.res for s in d.scenarios]
    out: list[Check] = []

    # 1 -- three canonical types with distinct parameters
    types = {t: [r for r in scen if r.type == t] for t in ("idiosyncratic", "market_wide", "combined")}
    missing = [t for t, v in types.items() if not v]
    if missing:
        out.append(Check(ITEMS[0], False, f"no {', '.join(missing)} scenario in the file"))
    else:
        same = [(a.name, b.name) for a in types["idiosyncratic"] for b in types["market_wide"] if _params(a) == _params(b)]
        out.append(Check(ITEMS[0], not same,
                         f"identical parameters in {same[0][0]} and {same[0][1]}" if same else
                         f"{len(types['idiosyncratic'])} idiosyncratic, {len(types['market_wide'])} market-wide and "
                         f"{len(types['combined'])} combined scenario(s); idiosyncratic and market-wide parameters differ"))

    # 2 -- run-off rates justified and anchored on historical events
    nobasis = [f"{s.name}.run_off.{k}" for s in st.scenarios if s.type != "combined"
               for k, v in s.run_off.items() if not v.basis.strip()]
    if not st.historical_events:
        out.append(Check(ITEMS[1], False, "no historical_events in the file to calibrate against"))
    elif nobasis:
        out.append(Check(ITEMS[1], False, f"{len(nobasis)} run-off rate(s) without a stated basis, e.g. {nobasis[0]}"))
    else:
        n = sum(len(s.run_off) for s in st.scenarios if s.type != "combined")
        out.append(Check(ITEMS[1], True, f"all {n} run-off rates state their basis; reference events: "
                         + ", ".join(f"{e.name} {e.year}" for e in st.historical_events)))

    # 3 -- inflow haircuts
    loans = ("retail_loan", "corporate_loan")
    kinds = sorted({f.kind for f in st.flows if f.direction == "inflow"})
    bad = [f"{r.name}.{k}" for r in scen for k in kinds if k in loans and r.inflow_haircut.get(k, 0.0) <= 0.0]
    if not kinds:
        out.append(Check(ITEMS[2], True, "no contractual inflows are counted"))
    elif bad:
        out.append(Check(ITEMS[2], False, f"loan repayments counted without haircut in {', '.join(bad)}"))
    else:
        lo = min(r.inflow_haircut.get(k, 0.0) for r in scen for k in kinds if k in loans) if any(k in loans for k in kinds) else None
        out.append(Check(ITEMS[2], True, "contractual inflows only (no new deposits, no unsecured wholesale, nothing discretionary); "
                         + (f"loan repayments haircut by at least {lo:.0%} in every scenario" if lo is not None else
                            "no loan repayments counted")))

    # 4 -- survival = days to cumulative net cash zero, replayed independently
    worst = max(s.replay_error for s in d.scenarios)
    neg = []
    floor = st.survival_floor()
    for s in d.scenarios:
        T = s.a.horizon
        B = s.a.lp.balances[:T]
        if T and B.min() < floor - 1e-6 * max(1.0, abs(st.opening_cash)):
            neg.append(s.name)
    ok4 = worst <= 1e-6 * max(1.0, st.opening_cash) and not neg
    fl = (f"at or above the cash floor of {floor:g} (minimum operational cash + intraday requirement)" if floor > 0
          else ">= 0 (the file sets no minimum operational cash or intraday requirement)")
    out.append(Check(ITEMS[3], ok4,
                     f"the LP plans were replayed with the cash semantics of docs/model.md §6.3: the cumulative cash position stays {fl} "
                     f"on every day up to the stated horizon and the LP certifies day horizon+1 infeasible "
                     f"(max replay difference {worst:.2e})" if ok4 else
                     f"replay mismatch {worst:.3g} or cash below the floor before the horizon in {', '.join(neg)}"))

    # 5 -- deployment sequenced by liquidity priority
    viol = []
    for s in d.scenarios:
        days = [(lv, s.shown.first_day_by_level[lv]) for lv in LEVELS if s.shown.first_day_by_level[lv] is not None]
        for (l1, d1), (l2, d2) in zip(days, days[1:]):
            if d2 < d1:
                viol.append(f"{s.name}: {l2} used on day {d2} before {l1} (day {d1}) in the {s.shown.source} plan")
    srcs = sorted({s.shown.source for s in d.scenarios})
    out.append(Check(ITEMS[4], not viol, viol[0] if viol else
                     f"in every scenario the deployment shown ({'/'.join(srcs)}) starts each liquidity level no earlier "
                     "than the previous one (L1, L2A, L2B, non-HQLA)"))

    # 6 -- CFP triggers quantitative, every escalation phase covered
    phases = {t.phase for t in st.cfp.triggers}
    miss = [p for p in ("heightened_alert", "contingency", "crisis") if p not in phases]
    out.append(Check(ITEMS[5], not miss,
                     f"no trigger for phase {', '.join(miss)}" if miss else
                     f"{len(st.cfp.triggers)} triggers, each a numeric level on a computed indicator "
                     f"({', '.join(sorted({t.indicator for t in st.cfp.triggers}))}); every phase has at least one"))

    # 7 -- management actions quantified and assessed
    acts = st.management_actions
    if not acts:
        out.append(Check(ITEMS[6], False, "no management actions in the file"))
    else:
        zero = [a.id for a in acts if a.impact <= 0]
        nokind = [a.id for a in acts if a.kind is None and a.pre_approved and a.feasibility != "low"]
        per = "; ".join(f"{s.name}: {sum(1 for x in s.a.actions if x.counted)} counted, "
                        f"{sum(1 for x in s.a.actions if not x.feasible and x.reason.startswith('infeasible'))} infeasible"
                        for s in d.scenarios)
        out.append(Check(ITEMS[6], not zero and not nokind,
                         f"action(s) without a liquidity impact: {', '.join(zero)}" if zero else
                         f"action(s) without a stated mechanism (kind), not checked against the projection: {', '.join(nokind)}"
                         if nokind else
                         f"{len(acts)} actions with impact, lead time, feasibility and mechanism (halted modelled outflow, or "
                         f"funding / asset sale with the markets it needs), assessed per scenario: {per}"))

    # 8 -- stress LCR with scenario-specific parameters
    same = [s.name for s in d.scenarios if s.a.lcr.rates == d.base_lcr.rates and abs(s.a.lcr.hqla - d.base_lcr.hqla) < 1e-9]
    out.append(Check(ITEMS[7], not same,
                     f"stress LCR equals the base LCR parameters in {', '.join(same)}" if same else
                     "each scenario's LCR uses its own run-off (floored at the Basel rate), inflow haircuts and HQLA "
                     "fire-sale discounts / closures, with the Annex 1 caps"))

    # 9 -- overlay, not average
    if not d.overlay_checks:
        out.append(Check(ITEMS[8], False, "no combined scenario"))
    else:
        bad9 = [(c, p) for c, rows in d.overlay_checks for p, *_x, ok in rows if not ok]
        ex = ""
        for c, rows in d.overlay_checks:
            for p, x, y, v, ok in rows:
                if x != y and isinstance(x, float):
                    ex = f"e.g. {p}: {x:g} and {y:g} give {v:g} (an average would give {(x + y) / 2:g})"
                    break
            if ex:
                break
        n = sum(len(r) for _, r in d.overlay_checks)
        out.append(Check(ITEMS[8], not bad9,
                         f"{bad9[0][0]}.{bad9[0][1]} is not the more severe of its components" if bad9 else
                         f"all {n} combined parameters equal the more severe component value; {ex}".rstrip("; ")))

    # 10 -- recovery path with conditions
    nocond = [r.name for r in scen if not r.recovery_conditions]
    out.append(Check(ITEMS[9], not nocond,
                     f"no recovery_conditions for {', '.join(nocond)}" if nocond else
                     "every scenario states its recovery path with qualifying conditions"))
    return out
