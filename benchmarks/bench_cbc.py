"""Benchmark of the CBC planner: ``python benchmarks/bench_cbc.py [--quick]``.

Rows (all measured in this run, on the same synthetic plans):

* ``reduced`` vs ``full``: solve time of ``solve_plan`` (both stages) with the reduced
  formulation (default: closed-form bracket, reduced LPs, ``cbc_reduced``) and with the full
  daily LP of the previous method (``formulation="full"``); ratio = full / reduced seconds;
  the horizons and remaining CBC are asserted equal;
* ``reduced`` vs ``milp``: the same against the MILP (method a);
* ``horizon/lp_vs_waterfall``: survival days of the LP plan vs the greedy waterfall;
* ``backend/pyomo``: the same model built algebraically in Pyomo vs the sparse highspy
  build (smaller plan: Pyomo expression building is the bottleneck).

Plans: ``days`` x ``lines`` asset lines over L1/L2A/L2B/non_HQLA with daily capacities,
settlement lags 0-3, market closures (20% of lines), price-impacted non-HQLA lines (20% of
them, 20 tranches), a counted facility, an uncounted central-bank line and a management
action; optionally a share of term repos (half rollable); outflows = 1.3 x the CBC cash value
front-loaded, so that the horizon binds (the bisection really bisects).  Every solve has a
time limit of 120 s; a solve that hits it is reported as such.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from liqstress.errors import SolverFailure
from liqstress.models.cbc_plan import CBCPlan
from liqstress.solvers.cbc import solve_plan, waterfall

LEVELS = ["L1", "L2A", "L2B", "non_HQLA"]


def synthetic_plan(days: int, lines: int, seed: int = 0, stress: float = 1.3, term_share: float = 0.0,
                   pi_share: float = 0.2, spike: float = 0.0) -> CBCPlan:
    """``spike``: an extra outflow of ``spike`` x the total outflows over days 5-15, 80% of it
    coming back as inflows over days 40-80, with term repos priced below the sale discount
    and without rollover (temporary repo funding is then attractive)."""
    rng = np.random.default_rng(seed)
    assets = []
    for k in range(lines):
        lv = LEVELS[min(3, int(rng.integers(0, 4)))]
        base = {"L1": 0.0, "L2A": 0.05, "L2B": 0.2, "non_HQLA": 0.3}[lv]
        amount = float(rng.uniform(5, 60))
        a = {
            "id": f"line{k:03d}", "level": lv, "amount": round(amount, 2),
            "sale_discount": round(base + rng.uniform(0, 0.05), 4),
            "repo_haircut": round(base + rng.uniform(0, 0.1), 4),
            "daily_capacity": round(amount * rng.uniform(0.05, 0.4), 2),
            "settlement_days": int(rng.integers(0, 4)),
            "sale": True, "repo": bool(lv != "non_HQLA" or rng.random() < 0.5),
        }
        if rng.random() < 0.2:
            start = int(rng.integers(1, days - 3))
            a["closed_days"] = list(range(start, start + int(rng.integers(1, 4))))
        if a["repo"] and rng.random() < term_share:
            a["repo_term_days"] = int(rng.choice([7, 14, 30]))
            a["rollover"] = bool(rng.random() < 0.5)
        if lv == "non_HQLA" and rng.random() < pi_share:
            a["price_impact"] = {"kind": "linear", "beta": round(0.3 / amount, 6), "tranches": 20}
        assets.append(a)
    total = sum(a["amount"] * (1 - a["sale_discount"]) for a in assets)
    t = np.arange(1, days + 1)
    profile = 0.02 * np.exp(-t / 10) + 0.004 + 0.001 * rng.random(days)
    out = (stress * total * profile / profile.sum()).round(3)  # stress = outflows / CBC cash value
    opening = round(float(out[:3].sum()), 2)
    if spike > 0:
        sp = float(out.sum()) * spike
        out = out.copy()
        out[4:15] += sp / 11
        out[39:80] -= 0.8 * sp / 41
        out = out.round(3)
        for a in assets:
            if a.get("repo_term_days"):
                a["repo_haircut"] = max(0.0, round(a["sale_discount"] - 0.03, 4))
                a["rollover"] = False
    doc = {
        "horizon_days": days, "opening_cash": opening, "net_outflows": out.tolist(),
        "assets": assets,
        "facilities": [{"id": "committed", "amount": round(0.02 * total, 2), "haircut": 0.0, "lead_days": 2,
                        "counted_in_horizon": True, "daily_capacity": round(0.005 * total, 2)},
                       {"id": "central_bank", "amount": round(0.2 * total, 2), "haircut": 0.1, "lead_days": 1}],
        "management_actions": [{"id": "mgmt", "amount": round(0.01 * total, 2), "lead_days": 10,
                                "capacity_per_day": round(0.002 * total, 2)}],
    }
    return CBCPlan.from_dict(doc)


def _time(fn):
    t0 = time.perf_counter()
    try:
        out = fn()
    except SolverFailure as err:  # time limit: reported, not hidden
        out = err
    return time.perf_counter() - t0, out


LIMIT = 120.0  # seconds per solve in the benchmark


def _same(a, b, what: str) -> None:
    assert a.survival_days == b.survival_days, f"{what}: horizons differ"
    assert abs(a.remaining_cbc - b.remaining_cbc) <= 1e-6 * max(1.0, abs(b.remaining_cbc)), f"{what}: remaining CBC differs"


def _rows(days: int, lines: int, term_share: float = 0.0, tag: str = "", pi_share: float = 0.2,
          seed: int | None = None, stress: float = 1.3, milp: bool = True, spike: float = 0.0) -> list[dict]:
    seed = days + lines if seed is None else seed
    plan = synthetic_plan(days, lines, seed=seed, term_share=term_share, pi_share=pi_share, stress=stress, spike=spike)
    tb, rb = _time(lambda: solve_plan(plan, method="bisection", time_limit=LIMIT))
    tf, rf = _time(lambda: solve_plan(plan, method="bisection", formulation="full", time_limit=LIMIT))
    tm, rm = _time(lambda: solve_plan(plan, method="milp", time_limit=LIMIT)) if milp else (float("nan"), None)
    tw, w = _time(lambda: waterfall(plan))
    n = f"{days}d x {lines} lines{tag}" + (f" (seed {seed}, stress {stress})" if (seed != days + lines or stress != 1.3) else "")
    ok_b, ok_f = not isinstance(rb, Exception), not isinstance(rf, Exception)
    ok_m = milp and not isinstance(rm, Exception)
    if ok_b and ok_f:
        _same(rb, rf, "reduced vs full")
    if ok_b and ok_m:
        _same(rb, rm, "reduced vs MILP")
    tb_s = (f"T={rb.survival_days}, remaining {rb.remaining_cbc:.6f}, LP solves={rb.info.get('lp_solves')}, "
            f"stage 2: {rb.info.get('stage2', '-')}") if ok_b else f"reduced: {rb}"
    tf_s = f"full: T={rf.survival_days}, remaining {rf.remaining_cbc:.6f}, LP solves={rf.info.get('lp_solves')}" if ok_f else f"full: {rf}"
    tm_s = (f"milp nodes={rm.info.get('mip_nodes')}" if ok_m else f"milp: {rm}") if milp else "milp not run"
    rows = [{"benchmark": "cbc horizon+stage 2: reduced (ours) vs full LP (previous method)", "n": n, "seconds": tb,
             "baseline": "full LP, bisection", "baseline_seconds": tf, "ratio": tf / tb, "note": f"{tb_s}; {tf_s}"}]
    if milp:
        rows.append({"benchmark": "cbc horizon+stage 2: reduced (ours) vs MILP", "n": n, "seconds": tb,
                     "baseline": "milp", "baseline_seconds": tm, "ratio": tm / tb, "note": tm_s})
    if ok_b:
        rows.append({"benchmark": "cbc survival days: LP vs waterfall", "n": n, "seconds": tb,
                     "baseline": "waterfall", "baseline_seconds": tw,
                     "ratio": rb.survival_days / max(w.survival_days, 1),
                     "note": f"LP {rb.survival_days} d vs waterfall {w.survival_days} d; remaining CBC {rb.remaining_cbc:.1f} vs {w.remaining_cbc:.1f}"})
    return rows


def example_rows() -> list[dict]:
    """The shipped example under each scenario (term repos, closures, price impact)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "plans" / "treasury_plan.yaml"
    base = CBCPlan.from_file(path)
    rows = []
    for scen in (None, "market_wide", "combined"):
        plan = base.with_scenario(scen)
        tb, rb = _time(lambda: solve_plan(plan, method="bisection"))
        tm, rm = _time(lambda: solve_plan(plan, method="milp"))
        tw, w = _time(lambda: waterfall(plan))
        assert rb.survival_days == rm.survival_days
        rows.append({"benchmark": "cbc example: LP (bisection) vs waterfall", "n": f"treasury_plan {scen or 'base'}",
                     "seconds": tb, "baseline": "waterfall", "baseline_seconds": tw,
                     "ratio": rb.survival_days / max(w.survival_days, 1),
                     "note": f"LP {rb.survival_days} d vs waterfall {w.survival_days} d; milp {tm:.2f} s"})
    return rows


def fallback_row() -> dict:
    """The reduced stage 2 without its restriction / relaxation certificate (the fallback
    with daily term-repo variables, used when the two bounds differ) on the 365 x 200 plan."""
    from liqstress.solvers.cbc_compile import compile_plan
    from liqstress.solvers.cbc_reduced import solve_reduced

    plan = synthetic_plan(365, 200, seed=565, term_share=0.1)
    c = compile_plan(plan)
    tr, rr = _time(lambda: solve_reduced(c, certify=False, time_limit=LIMIT))
    tf, rf = _time(lambda: solve_plan(plan, method="bisection", formulation="full", time_limit=LIMIT))
    ok = not isinstance(rr, Exception) and not isinstance(rf, Exception)
    if ok:
        assert rr["T"] == rf.survival_days
    return {"benchmark": "cbc reduced, fallback forced (daily term-repo LP) vs full LP", "n": "365d x 200 lines +10% term repos",
            "seconds": tr, "baseline": "full LP, bisection", "baseline_seconds": tf, "ratio": tf / tr,
            "note": (f"T={rr['T']} both; stage 2 columns {rr['info'].get('stage2_columns')}" if ok else f"{rr} / {rf}")}


def iter_rows(quick: bool):
    """Yield benchmark rows as they are measured."""
    yield from example_rows()
    sizes = [(90, 40), (180, 100)] if quick else [(90, 40), (180, 100), (365, 200)]
    for days, lines in sizes:
        yield from _rows(days, lines)
    if not quick:
        yield from _rows(365, 200, pi_share=0.0, tag=" (no price impact)")
    # Pyomo algebraic model vs sparse highspy on a medium plan
    days, lines = (60, 20) if quick else (90, 40)
    plan = synthetic_plan(days, lines, seed=7, term_share=0.1)
    th, rh = _time(lambda: solve_plan(plan, method="milp"))
    tp, rp = _time(lambda: solve_plan(plan, method="milp", backend="pyomo"))
    assert rh.survival_days == rp.survival_days, "Pyomo and highspy disagree"
    yield {"benchmark": "cbc backend: highspy sparse (ours) vs Pyomo", "n": f"{days}d x {lines} lines", "seconds": th,
           "baseline": "pyomo+highs (milp)", "baseline_seconds": tp, "ratio": tp / th,
           "note": f"T={rh.survival_days} both"}
    if not quick:
        yield from _rows(180, 100, term_share=0.1, tag=" +10% term repos")
        yield from _rows(365, 200, term_share=0.1, tag=" +10% term repos")
        # the same size on other draws, without the (slow) MILP
        for seed, stress in ((1, 1.3), (2, 1.3), (3, 0.8)):
            yield from _rows(365, 200, term_share=0.1, tag=" +10% term repos", seed=seed, stress=stress, milp=False)
        yield from _rows(365, 200, term_share=0.1, tag=" +10% term repos, outflow spike", seed=0, stress=1.0,
                         milp=False, spike=0.25)
        yield fallback_row()
    else:
        yield from _rows(180, 100, term_share=0.1, tag=" +10% term repos", milp=False)


def run(quick: bool) -> list[dict]:
    return list(iter_rows(quick))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    cols = ["benchmark", "n", "seconds", "baseline", "baseline_seconds", "ratio", "note"]
    print("| " + " | ".join(cols) + " |", flush=True)
    print("|" + "---|" * len(cols), flush=True)
    for r in iter_rows(args.quick):
        print("| " + " | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |", flush=True)


if __name__ == "__main__":
    main()
