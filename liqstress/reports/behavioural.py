"""Report text of the behavioural deposit model and of the Monte Carlo survival distribution.

Every sentence is generated from the numbers it states (``liqstress.stress.behavioural``,
``liqstress.stress.montecarlo``); tests re-derive each number from the text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from liqstress.reports import story
from liqstress.solvers.cbc import survival_text
from liqstress.stress import behavioural as bh


def _days(x: int, H: int, f) -> str:
    """A horizon in a table cell: censored ones read ``>= H (whole projection)`` as everywhere."""
    return f.n(survival_text(x, H), "d") if x >= H else f.n(x, "d")


def _span(x: int, H: int, f) -> str:
    """"N days", or the whole projection when censored."""
    return f"the whole {f.n(H, 'i')}-day projection" if x >= H else f"{f.n(x, 'd')} day{'' if x == 1 else 's'}"


def confidence_bullet(sd, f, name: str, conf: str) -> str:
    """The "Confidence" bullet of the Survival Horizon section of scenario ``name``; ``conf``:
    the reverse stress phrase (multiplier, none found, or not run)."""
    tail = (f"the horizon is the exact LP optimum, and how far it moves with each assumption is in the sensitivity "
            f"table below ({conf}).")
    mc = getattr(sd, "mc", None)
    if mc is None:
        return (f"- Confidence for {name}: deterministic given the file's assumptions (the file has no behavioural "
                f"deposit model, so no survival distribution is computed); " + tail)
    H = mc.horizon_days
    p = mc.percentiles
    if p["p5"] >= H:
        spread = f"the bank survives the whole {f.n(H, 'i')}-day projection in at least 95% of paths"
    else:
        low = ("the bank is short of cash on day 1 in at least 5% of paths" if p["p5"] == 0 else
               f"the bank survives at least {_span(p['p5'], H, f)} in 95% of paths")
        spread = f"{low}; the median horizon is {_span(p['p50'], H, f)} and the 95th percentile {_span(p['p95'], H, f)}"
    return (f"- Confidence for {name}: in {f.n(f'{mc.paths:,}', 'd')} simulated deposit-run paths (behavioural "
            f"segments, seed {f.n(mc.seed, 'i')}) {spread}; "
            f"the probability of falling short of the {f.n(mc.internal_minimum, 'i')}-day internal minimum is "
            f"{f.p(mc.breach_probability, 'd')} (Monte Carlo standard error {f.p(mc.breach_se, 'd', 2)})"
            + (" (a lower bound: the minimum lies beyond the projection)" if mc.minimum_beyond_projection else "")
            + "; for the deterministic projection " + tail)


def deterministic_rank(mc) -> float:
    """Share of paths whose horizon is at most the deterministic one."""
    return float(np.mean(mc.survival <= mc.deterministic_days))


def mc_lines(sd, f, unit: str) -> list[str]:
    """The "Survival distribution (Monte Carlo)" subsection of a scenario."""
    mc = getattr(sd, "mc", None)
    if mc is None:
        return []
    H = mc.horizon_days
    p = mc.percentiles
    rows = [[k, _days(v, H, f)] for k, v in p.items()]
    rows.append(["mean", f.n(f"{float(mc.survival.mean()):.1f}", "d")])
    rows.append([f"P(horizon < {mc.internal_minimum} d)", f"{f.p(mc.breach_probability, 'd')} ± {f.p(mc.breach_se, 'd', 2)}"])
    rows.append(["paths surviving the whole projection", f.p(mc.censored_share, "d")])
    seg_rows = []
    for label, amount, dist, src in mc.segments:
        seg_rows.append([label, f.m(amount, "i"), f.p(dist.mean, "a"), f.p(dist.sd, "a"),
                         f"{f.p(bh.quantile(dist, 0.05), 'd')}–{f.p(bh.quantile(dist, 0.95), 'd')}",
                         f"{f.n(dist.days[0], 'a')}–{f.n(dist.days[1], 'a')}",
                         f.n(1, "a") if dist.start_max == 1 else f"1–{f.n(dist.start_max, 'a')}",
                         f.p(dist.front_share, "a"), src])
    rank = deterministic_rank(mc)
    name = sd.name
    L = [f"### Survival distribution (Monte Carlo) — {name}", "",
         f"The {f.n(f'{mc.paths:,}', 'd')} paths of {name} (seed {f.n(mc.seed, 'i')}) have their survival computed "
         f"exactly ({mc.method}" + (f"; {f.n(mc.lp_paths, 'd')} paths needed an LP" if mc.lp_paths else "") + "). "
         f"The deterministic projection of {name} gives {story.days_text(mc.deterministic_days, H, f)} by the same "
         f"computation (equal to the LP horizon above); {f.p(rank, 'd')} of the paths of {name} survive no longer "
         f"than that. Lines outside the segments keep the deterministic profile of {name}.", "",
         _table(["Statistic", "Survival horizon (days)"], rows), "",
         _table(["Segment", f"Balance ({unit})", "Mean run-off", "Sd", "5th–95th pct", "Run length (d)", "Start day",
                 "Day-1 share", "Parameters"], seg_rows), ""]
    return L


def _table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def model_section(d, f) -> list[str]:
    """The document-level "Behavioural Deposit Model" section (calibration to public events)."""
    st = d.stress
    beh = getattr(st, "behavioural", None)
    if beh is None:
        return []
    L = ["# Behavioural Deposit Model", ""]
    if beh.description:
        L += [beh.description.strip(), ""]
    L += [f"Deposit lines in segments run off by a random fraction, timing and length drawn per path: fraction "
          f"Beta(mean, sd); segments linked by a one-factor Gaussian copula with correlation "
          f"{f.n(f'{beh.correlation:g}', 'i')}; the run starts on a day drawn uniformly from 1 to the segment's "
          f"start bound (one draw per path shared by all segments); the run length is uniform on the given range; the "
          f"day-1 share leaves on the start day and the rest evenly afterwards. A combined scenario takes the more "
          f"severe of its components' parameters unless it has its own. Each scenario's Survival Horizon section "
          f"gives the distribution of the horizon over the simulated paths; its percentiles are inverted-CDF "
          f"quantiles (p5: at least 95% of paths survive that many days), and a horizon that reaches the end of the "
          f"projection is censored.", ""]
    rows = []
    for sd in d.scenarios:
        mc = getattr(sd, "mc", None)
        if mc is None:
            continue
        H = mc.horizon_days
        p = mc.percentiles
        rows.append([sd.name, _days(mc.deterministic_days, H, f), _days(p["p5"], H, f), _days(p["p50"], H, f),
                     _days(p["p95"], H, f), f.n(mc.internal_minimum, "i"),
                     f"{f.p(mc.breach_probability, 'd')} ± {f.p(mc.breach_se, 'd', 2)}"])
    if rows:
        L += [_table(["Scenario", "Deterministic (d)", "p5 (d)", "p50 (d)", "p95 (d)", "Internal min (d)",
                      "P(breach)"], rows), ""]
    L += ["## Calibration to public events", ""]
    for para in bh.calibration_text(st):
        L += [para, ""]
    cal = bh.calibration_rows(st)
    if cal:
        L += [_table(["Segment", "Event", "Figure", "Days", "Compared with", "Model mean by then", "Percentile",
                      "Source (text)"],
                     [[r.segment, r.event, f.p(r.outflow, "i"), f.n(r.days, "i"), r.scenario, f.p(r.mean_by_day, "d"),
                       f.n(f"{r.percentile:.1f}", "d"), f"{r.source}" + (f" — “{r.quote}”" if r.quote else "")]
                      for r in cal]), ""]
    return L


def mc_json(sd) -> dict[str, Any]:
    """Keys added to a scenario of ``liqstress report --json``."""
    mc = getattr(sd, "mc", None)
    if mc is None:
        return {"survival_percentiles": None, "breach_probability": None, "monte_carlo": None}
    return {"survival_percentiles": mc.percentiles, "breach_probability": mc.breach_probability,
            "monte_carlo": mc.to_json()}


__all__ = ["confidence_bullet", "mc_json", "mc_lines", "model_section"]
