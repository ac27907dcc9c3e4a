"""Report sections for currencies, the NSFR and the C 66.01 maturity ladder (docs/interop.md).

Kept apart from :mod:`liqstress.reports.narrative`: :func:`insert` places the sections before
the Validation Checklist of the rendered Markdown.  Every number carries a provenance tag.
"""

from __future__ import annotations

import math


def _table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def currency_markdown(d, f) -> str:
    src = d.source if d.source is not None else d.stress
    if not any(sd.currencies for sd in d.scenarios):
        return ""
    from liqstress.solvers.cbc import survival_text
    from liqstress.stress import fx

    shares = fx.liability_shares(src)
    sig = fx.significant(src)
    thr = src.fx.significance if src.fx else 0.05
    L = ["# Currencies", "",
         f"Reporting currency {src.currency}. Significant currencies (liabilities at least {f.p(thr, 'i', 0)} of the "
         "total, at base FX rates): " + ", ".join(f"{c} ({f.p(shares[c], 'd')})" for c in sig) + ". "
         "The scenario sections above are in all currencies together, converted at each scenario's stressed rates "
         "(cash fungible across currencies). Per currency, the survival horizon is that of the multi-currency CBC LP, "
         "where cash moves between currencies only through the FX lines (their capacity, haircut and settlement lag, "
         "closed when the scenario closes the FX-swap market), and no other currency is made to fail earlier than "
         "on its own resources; the stand-alone horizon uses the currency's own cash and CBC only. The stress LCR of "
         "a currency is the Basel III LCR of its own items (HQLA, outflows and inflows in that currency).", ""]
    if src.fx and src.fx.lines:
        rows = [[ln.id, ln.kind, f"{ln.sell} → {ln.buy}",
                 f.m(ln.daily_capacity, "i") if ln.daily_capacity is not None else "unlimited",
                 f.p(ln.haircut, "i"), f.n(ln.settlement_days, "i")] for ln in src.fx.lines]
        L += [_table(["FX line", "Kind", "Converts", "Daily capacity (sold currency)", "Haircut", "Settlement (d)"], rows), ""]
    for c in sig:
        rows = []
        for sd in d.scenarios:
            r = sd.currencies.get(c)
            if r is None:
                continue
            H = r.horizon_days
            days = lambda x: f.n(survival_text(x, H), "d")  # noqa: E731  censored: ">= H (whole projection)"
            used = "; ".join(f"{u['line']} {f.m(u['units'], 'd')} {u['sell']} (days {f.n(u['first_day'], 'd')}–"
                             f"{f.n(u['last_day'], 'd')})" for u in r.fx_used) or "none"
            fxs = fx.fx_scenario(src, sd.name)
            closed = ", ".join(sorted(fxs.closed)) or "none"
            rows.append([sd.name, days(r.survival_days), days(r.standalone_days), days(sd.a.lp.survival_days),
                         f.p(r.stress_lcr, "d"), f.m(r.lcr.hqla, "d"), f.m(r.lcr.net_outflows, "d"), closed, used])
        L += [f"## {c}", "", f"Amounts in {c}.", "",
              _table(["Scenario", f"Survival {c} (d)", f"Stand-alone {c} (d)", "All currencies (d)", f"Stress LCR {c}",
                      f"HQLA {c}", f"Net outflows 30d {c}", "FX lines closed", "FX conversion used"], rows), ""]
        short = [sd.name for sd in d.scenarios if c in sd.currencies
                 and sd.currencies[c].survival_days < min(sd.a.lp.survival_days, sd.currencies[c].horizon_days)]
        if short:
            L += [f"The {c} horizon is shorter than the all-currency horizon under {', '.join(short)}: the bank as a whole "
                  f"holds enough liquidity, but not in {c}, and the FX lines cannot convert it fast enough.", ""]
    return "\n".join(L)


def nsfr_markdown(d, f) -> str:
    ns = d.nsfr
    if ns is None:
        return ""
    j = ns.to_json()
    ratio = ns.ratio
    status = "n/a" if not math.isfinite(ratio) else ("met" if ratio >= 1.0 else f"SHORT by {f.m(j['shortfall'], 'd')}")
    L = ["# Net Stable Funding Ratio (BCBS 295)", "",
         f"NSFR = available stable funding / required stable funding = {f.m(ns.asf, 'd')} / {f.m(ns.rsf, 'd')} = "
         f"**{f.p(ratio, 'd')}** (minimum 100%: {status}). Factors from the Basel III NSFR standard (BCBS 295, "
         "paras 21-25 for ASF, 36-47 for RSF); amounts in the reporting currency at base FX rates.", ""]
    rows = [[k.replace("_", " "), f.m(v, "d")] for k, v in sorted(j["asf_by_category"].items(), key=lambda kv: -kv[1])]
    L += [_table(["ASF category", "Weighted amount"], rows), ""]
    rows = [[k.replace("_", " "), f.m(v, "d")] for k, v in sorted(j["rsf_by_category"].items(), key=lambda kv: -kv[1])]
    L += [_table(["RSF category", "Weighted amount"], rows), ""]
    rows = [[b["id"], b["category"].replace("_", " "), f.m(b["amount"], "i"), f.p(b["factor"], "i", 0),
             f.m(b["weighted"], "d"), b["basis"]] for b in j["binding_items"]]
    L += ["Binding items (largest required stable funding):", "",
          _table(["Item", "Category", "Amount", "RSF factor", "RSF", "Basis"], rows), ""]
    return "\n".join(L)


def ladder_markdown(ladder_files: dict) -> str:
    if not ladder_files:
        return ""
    L = ["# Maturity Ladder (EBA ALMM C 66.01)", "",
         "Contractual and stressed maturity ladders in the time bands of template C 66.01 (Commission Implementing "
         "Regulation (EU) 2021/451, Annex XXII), for all currencies together and each significant currency, one CSV "
         "per scenario. Both ladders are before management actions. The contractual counterbalancing capacity holds "
         "unencumbered units only; collateral pledged to linked secured funding re-enters it in the band where that "
         "funding matures. A memorandum row holds the survival floor (minimum operational cash plus intraday "
         "liquidity requirement) that the bank keeps in cash:", ""]
    L += [f"- {name}: [{fn}]({fn})" for name, fn in ladder_files.items()]
    return "\n".join(L + [""])


def insert(text: str, sections: list[str]) -> str:
    """Place ``sections`` before the Validation Checklist (at the end if there is none)."""
    extra = "\n".join(s for s in sections if s)
    if not extra:
        return text
    key = "# Validation Checklist"
    i = text.find("\n" + key)
    if i < 0:
        return text + "\n" + extra + "\n"
    return text[: i + 1] + extra + "\n" + text[i + 1:]
