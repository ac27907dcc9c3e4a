"""``liqstress pipeline --out DIR [--quick]``: the whole package on bundled data.

Steps (each isolated: a failing step prints one clear line, the others still run, and the
command exits 1 if any step failed):

1. ``robust``  — robust strategies (Theorem 4.4) of ``examples/systems/eight_banks.yaml``:
   table on stdout, ``robust/robust.csv`` and ``robust/robust.json``;
2. ``gap``     — a small relaxation-gap study (docs/model.md §4): random systems x banks with the
   certified global method; a task whose global solve fails is retried with the local
   method and marked as such (never silently certified): ``gap/gap.csv`` + 3 PNG;
3. ``figures`` — the paper figures (the ``liqstress figures`` command's function): ``figures/``;
4. ``cbc``     — CBC plan of ``examples/plans/treasury_plan.yaml`` (exact horizon vs
   waterfall): ``cbc/plan.json``, ``cbc/actions.csv``, ``cbc/deployment.csv``, ``cbc/chart.png``;
5. ``stress``  — the stress report of ``examples/stress/midsize_bank.yaml``:
   ``stress/report.md``, ``stress/report.html``, its PNGs (cash, CBC, tornado) and CSVs (daily
   series, sensitivities, EBA C 66.01 maturity ladder, summary);

and ``DIR/README.md`` (index of outputs and key numbers) plus ``DIR/pipeline.json``.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from liqstress.cli._common import _jsonable, guarded, render_table
from liqstress.errors import InputError

#: the repository root (bundled examples live in ``examples/``)
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@dataclass
class StepResult:
    name: str
    ok: bool = False
    seconds: float = 0.0
    outputs: list = field(default_factory=list)
    key: dict = field(default_factory=dict)
    message: str = ""
    warnings: list = field(default_factory=list)


# =============================================================================== steps
def step_robust(out: Path, quick: bool, examples: Path = EXAMPLES) -> StepResult:
    """Robust strategies of every bank (Theorem 4.4), printed and saved."""
    from liqstress.models.system import load_system
    from liqstress.solvers.robust import robust_strategies

    path = Path(examples) / "systems" / "eight_banks.yaml"
    res = robust_strategies(load_system(path))
    doc = _jsonable(res.to_json())
    d = out / "robust"
    d.mkdir(parents=True, exist_ok=True)
    (d / "robust.json").write_text(json.dumps(doc, indent=2))
    cols = ["name", "ell", "alpha_bar", "strategy", "worst_case_others", "worst_case_value"]
    import pandas as pd

    pd.DataFrame(doc["banks"], columns=cols).to_csv(d / "robust.csv", index=False)
    render_table(
        f"Robust early liquidation, {path.name} (Lambda = {doc['Lambda']:.6g}, alpha = {doc['alpha']:.3g})",
        cols,
        [[b[c] for c in cols] for b in doc["banks"]],
    )
    top = max(doc["banks"], key=lambda b: b["strategy"] or 0.0)
    r = StepResult("robust", True, outputs=[d / "robust.csv", d / "robust.json"])
    r.key = {
        "system": path.name,
        "banks": len(doc["banks"]),
        "Lambda": doc["Lambda"],
        "alpha": doc["alpha"],
        "largest_strategy": f"{top['name']} sells {top['strategy']:.4g} of ell = {top['ell']:.4g} early",
        "banks_past_tipping_point": sum(1 for b in doc["banks"] if b["alpha_bar"] is not None and doc["alpha"] > b["alpha_bar"]),
    }
    return r


def step_gap(out: Path, quick: bool, examples: Path = EXAMPLES, systems: Optional[int] = None, banks: Optional[int] = None,
             seed: int = 2026, workers: int = 1, report: Optional[str] = None) -> StepResult:
    """Small relaxation-gap study (docs/model.md §4) with the certified global method (3 systems x 3
    banks; 2 x 2 with ``quick``); failed global solves are retried with the local method
    (reported, never certified).  ``report`` replaces the global gap function (tests)."""
    from liqstress.research.gap_sweep import DEFAULT_REPORT, is_ok, make_tasks, run_sweep, summary_stats
    from liqstress.research.random_systems import random_systems

    systems = systems or (2 if quick else 3)
    banks = banks or (2 if quick else 3)
    d = out / "gap"
    d.mkdir(parents=True, exist_ok=True)
    csv_path = d / "gap.csv"
    csv_path.unlink(missing_ok=True)  # a pipeline run is a fresh study, not a resume
    syslist = random_systems(seed, systems, [banks])
    tasks = make_tasks(syslist, "global", report=report or DEFAULT_REPORT)
    from liqstress.cli._common import progress_enabled

    summ = run_sweep(tasks, csv_path, workers=workers, progress=progress_enabled(), plots=False)
    rows = summ.rows
    failed = [r for r in rows if not is_ok(r)]
    warnings = []
    if failed:
        # honest fallback: recompute the failed (system, bank) with the local method
        keys = {(r["system_id"], r["bank"]) for r in failed}
        retry = [t for t in make_tasks(syslist, "local") if t.key in keys]
        kept = [r for r in rows if is_ok(r)]
        csv_path.unlink()
        from liqstress.research.gap_sweep import RowSink

        sink = RowSink(csv_path, kept)
        from liqstress.research.gap_sweep import iter_local

        for row in iter_local(retry, workers):
            first = next(r for r in failed if (r["system_id"], r["bank"]) == (row["system_id"], row["bank"]))
            row["message"] = (f"global failed ({first['status']}: {first['message'][:120]}); local fallback " + row["message"]).strip()
            row["certified"] = False
            sink.add(row)
        sink.close({t.key: t.order for t in tasks})
        rows = sink.rows
        warnings.append(f"{len(failed)} of {len(tasks)} global solves failed; recomputed with the local method (not certified)")
    from liqstress.research.gap_sweep import summary_plots

    plots = summary_plots(rows, csv_path)
    stats = summary_stats(rows)
    r = StepResult("gap", stats["solved"] > 0, outputs=[csv_path, *plots], warnings=warnings)
    r.key = {
        "systems x banks": f"{systems} x {banks} (seed {seed})",
        "rows": stats["rows"],
        "solved": stats["solved"],
        "certified": stats["certified"],
        "max_regret": stats["max_regret"],
        "mean_conservatism_capped": stats["mean_conservatism_capped"],
        "sweep_seconds": round(summ.seconds, 2),
    }
    if stats["failed"]:
        r.warnings.append(f"{stats['failed']} rows still failed after the fallback (see status/message columns)")
    if not r.ok:
        bad = next((x for x in rows if not is_ok(x)), None)
        r.message = "no (system, bank) could be solved" + (f"; first: {bad['status']}: {bad['message'][:200]}" if bad else "")
    return r


def step_figures(out: Path, quick: bool, examples: Path = EXAMPLES) -> StepResult:
    """Figures 4.2 and 4.3 of the paper through the ``liqstress figures`` command's function
    (:func:`liqstress.cli.figures.figures`; ``--quick`` uses coarser grids)."""
    from liqstress.cli.figures import figures

    d = out / "figures"
    d.mkdir(parents=True, exist_ok=True)
    sys2 = Path(examples) / "systems" / "two_banks.yaml"
    sys4 = Path(examples) / "systems" / "four_banks_fig43.yaml"
    grid = dict(points=21, inner_points=101, alphas=41, check_points=2) if quick else dict(points=41, inner_points=201, alphas=101, check_points=5)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):  # the command prints one JSON document: keep its numbers
        figures(out=d, system=sys2 if sys2.exists() else None, system43=sys4 if sys4.exists() else None, json_out=True, **grid)
    pngs = sorted(d.glob("*.png"))
    r = StepResult("figures", bool(pngs), outputs=[*pngs, *sorted(d.glob("*.csv"))])
    r.key = {"figures": len(pngs), "grids": ", ".join(f"{k}={v}" for k, v in grid.items())}
    try:
        doc = json.loads(buf.getvalue())
    except ValueError:
        doc = {}
    for fig, vals in doc.items():
        if isinstance(vals, dict):
            for k, v in vals.items():
                if k not in ("png", "csv", "system") and isinstance(v, (int, float, str, bool)):
                    r.key[f"{fig}.{k}"] = v
    if not pngs:
        r.message = f"the figures function wrote no PNG into {d}"
    return r


def step_cbc(out: Path, quick: bool, examples: Path = EXAMPLES) -> StepResult:
    """CBC plan (exact survival horizon, then remaining CBC) vs the waterfall baseline."""
    import pandas as pd

    from liqstress.cli.cbc import write_chart
    from liqstress.models.cbc_plan import CBCPlan
    from liqstress.cli._common import fmt_days
    from liqstress.solvers.cbc import solve_plan, waterfall

    path = Path(examples) / "plans" / "treasury_plan.yaml"
    plan = CBCPlan.from_file(path)
    res = solve_plan(plan)
    base = waterfall(plan)
    d = out / "cbc"
    d.mkdir(parents=True, exist_ok=True)
    doc = res.to_json(waterfall_survival_days=base.survival_days)
    doc["waterfall_remaining_cbc"] = float(base.remaining_cbc)
    (d / "plan.json").write_text(json.dumps(_jsonable(doc), indent=2))
    pd.DataFrame(res.actions, columns=["day", "asset", "action", "amount", "cash"]).to_csv(d / "actions.csv", index=False)
    res.deployment.to_csv(d / "deployment.csv")
    write_chart(d / "chart.png", res, base, plan.unit)
    r = StepResult("cbc", True, outputs=[d / "plan.json", d / "actions.csv", d / "deployment.csv", d / "chart.png"])
    r.key = {
        "plan": path.name,
        "survival_days (LP)": fmt_days(res.survival_days, res.horizon_days),
        "survival_days (waterfall)": fmt_days(base.survival_days, base.horizon_days),
        "horizon_days": res.horizon_days,
        "remaining_cbc (LP)": round(float(res.remaining_cbc), 4),
        "actions": len(res.actions),
        "solver": res.solver,
    }
    if res.survival_days < base.survival_days:
        r.ok = False
        r.message = f"LP survival {res.survival_days} d is below the waterfall's {base.survival_days} d (must never happen)"
    return r


def step_stress(out: Path, quick: bool, examples: Path = EXAMPLES) -> StepResult:
    """Narrative stress report (Markdown + HTML + PNGs) via the ``liqstress report`` function."""
    from liqstress.reports.narrative import write_report

    path = Path(examples) / "stress" / "midsize_bank.yaml"
    if not path.exists():
        raise InputError("stress file", f"not found: {path}")
    d = out / "stress"
    d.mkdir(parents=True, exist_ok=True)
    res = write_report(path, d / "report.md", reverse=not quick, sensitivities=not quick,
                       paths=2000 if quick else 10_000)
    doc = res.summary()
    outputs = [Path(res.markdown), Path(res.html), *[Path(p) for p in res.figures]]
    outputs += sorted(d.glob("*.csv"))
    outputs = list(dict.fromkeys(Path(p).resolve() for p in outputs))
    r = StepResult("stress", Path(res.markdown).exists() and Path(res.html).exists(), outputs=outputs)
    from liqstress.cli._common import fmt_days, fmt_percent

    r.key = {"stress file": path.name, "base LCR": fmt_percent(doc.get("base_lcr"))}
    for sc in doc["scenarios"]:
        H = sc["horizon_days"]
        r.key[f"{sc['name']}: survival LP / waterfall / with actions / internal min (days)"] = (
            f"{fmt_days(sc['survival_days'], H)} / {fmt_days(sc['waterfall_survival_days'], H)} / "
            f"{fmt_days(sc['survival_days_with_actions'], H)} / {sc['internal_minimum_days']}")
        short = (sc.get("shortfall_to_minimum") or {}).get("amount") or 0.0
        if short > 0:
            r.key[f"{sc['name']}: cash short of the internal minimum"] = f"{short:,.4g} {doc.get('unit', '')}".strip()
        r.key[f"{sc['name']}: stress LCR"] = fmt_percent(sc["stress_lcr"])
        pc = sc.get("survival_percentiles")
        if pc:  # behavioural deposit segments: Monte Carlo survival distribution
            r.key[f"{sc['name']}: Monte Carlo survival p5 / p50 / p95 (days), P(below minimum)"] = (
                " / ".join(fmt_days(pc[k], H) for k in ("p5", "p50", "p95"))
                + f", {fmt_percent(sc['breach_probability'])}")
    fails = [c["item"] for c in doc["checklist"] if c["status"] == "fail"]
    r.key["checklist"] = f"{len(doc['checklist']) - len(fails)}/{len(doc['checklist'])} pass"
    if fails:
        r.warnings.append("checklist items failing: " + "; ".join(fails))
    if quick:
        r.warnings.append("--quick: reverse stress test and sensitivities skipped; Monte Carlo on 2,000 paths")
    return r


STEPS: list[tuple[str, Callable[..., StepResult]]] = [
    ("robust", step_robust),
    ("gap", step_gap),
    ("figures", step_figures),
    ("cbc", step_cbc),
    ("stress", step_stress),
]


# =============================================================================== runner
def run_pipeline(
    out: Path, quick: bool = False, steps=None, echo: Callable[[str], None] = typer.echo, examples: Path = EXAMPLES
) -> list[StepResult]:
    """Run every step ``fn(out, quick, examples)`` in isolation; return their results
    (the caller decides the exit status)."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = []
    steps = STEPS if steps is None else steps
    for k, (name, fn) in enumerate(steps, 1):
        echo(f"[{k}/{len(steps)}] {name} ...")
        t0 = time.perf_counter()
        try:
            res = fn(out, quick, examples)
        except Exception as err:  # a failing step is reported, the pipeline goes on
            res = StepResult(name, False, message=_one_line(err))
            (out / "logs").mkdir(exist_ok=True)
            (out / "logs" / f"{name}.traceback.txt").write_text(traceback.format_exc())
        res.seconds = time.perf_counter() - t0
        status = "ok" if res.ok else "FAILED"
        echo(f"[{k}/{len(steps)}] {name}: {status} in {res.seconds:.1f} s" + (f" -- {res.message}" if res.message else ""))
        for w in res.warnings:
            echo(f"    warning: {w}")
        results.append(res)
    return results


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, ImportError):
        return f"not available in this build ({text})"
    return f"{type(err).__name__}: {text}"[:400]


def _fmt(v: Any) -> str:
    from liqstress.cli._common import fmt_number

    if isinstance(v, float):
        return "-" if not math.isfinite(v) else fmt_number(v)
    return "-" if v is None else str(v)


def _relative(p: Path, out: Path) -> Path:
    """``p`` relative to the (absolute) output folder when it lies inside it."""
    try:
        return p.resolve().relative_to(out)
    except ValueError:
        return p


def write_index(out: Path, results: list[StepResult], total: float, quick: bool) -> Path:
    """``DIR/README.md``: what ran, how long, the outputs and the key numbers."""
    out = Path(out).resolve()
    failed = [r for r in results if not r.ok]
    lines = [
        "# liqstress pipeline output",
        "",
        f"`liqstress pipeline -o {out.name}{' --quick' if quick else ''}` finished in {total:.1f} s "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): "
        + ("all steps succeeded." if not failed else f"{len(failed)} step(s) FAILED: {', '.join(r.name for r in failed)}."),
        "",
        "| step | status | seconds | message |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {'ok' if r.ok else 'FAILED'} | {r.seconds:.1f} | {(r.message or '; '.join(r.warnings) or '').replace('|', '/')} |")
    for r in results:
        lines += ["", f"## {r.name}", ""]
        if r.key:
            lines += ["| key number | value |", "|---|---|"]
            lines += [f"| {k} | {_fmt(v)} |" for k, v in r.key.items()]
            lines.append("")
        if r.outputs:
            lines.append("Outputs:")
            lines.append("")
            for p in r.outputs:
                p = Path(p)
                rel = _relative(p, out)
                lines.append(f"- [{rel}]({rel})" + ("" if p.exists() else " (missing)"))
        if not r.ok:
            lines += ["", f"**FAILED**: {r.message}"]
    path = out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    doc = {
        "total_seconds": total,
        "quick": quick,
        "steps": [
            {"name": r.name, "ok": r.ok, "seconds": r.seconds, "message": r.message, "warnings": r.warnings, "key": r.key,
             "outputs": [str(_relative(Path(p), out)) for p in r.outputs]}
            for r in results
        ],
    }
    (out / "pipeline.json").write_text(json.dumps(_jsonable(doc), indent=2))
    return path


def pipeline(
    out: Path = typer.Option(..., "-o", "--out", help="Output folder (created; existing files are overwritten)."),
    quick: bool = typer.Option(False, "--quick", help="Smaller gap study and figures (for CI)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated subset of steps: robust,gap,figures,cbc,stress."),
    examples: Path = typer.Option(EXAMPLES, "--examples", help="Folder with systems/eight_banks.yaml, plans/treasury_plan.yaml, stress/midsize_bank.yaml."),
) -> None:
    """Run the whole pipeline on the bundled examples into one folder (index: DIR/README.md)."""
    from liqstress.cli._common import check_output_path

    check_output_path(out, "--out", directory=True)
    steps = STEPS
    if only:
        names = [t.strip() for t in only.split(",") if t.strip()]
        known = [n for n, _ in STEPS]
        bad = [n for n in names if n not in known]
        if bad or not names:
            raise InputError("--only", f"unknown step {', '.join(bad) or only!r} (steps: {', '.join(known)})")
        steps = [(n, fn) for n, fn in STEPS if n in names]
    t0 = time.perf_counter()
    results = run_pipeline(out, quick, steps=steps, examples=examples)
    total = time.perf_counter() - t0
    index = write_index(out, results, total, quick)
    failed = [r.name for r in results if not r.ok]
    typer.echo(f"pipeline: {len(results) - len(failed)}/{len(results)} steps ok in {total:.1f} s; index {index}")
    if failed:
        typer.echo(f"liqstress: pipeline steps failed: {', '.join(failed)}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("pipeline")(guarded(pipeline))
