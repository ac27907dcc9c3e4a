"""``liqstress report STRESS -o OUT.md``: the narrative liquidity stress report (docs/stress.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from liqstress.cli._common import (atomic_file, check_output_path, fmt_days, fmt_percent, guarded, print_json, progress,
                                   render_table, write_outputs_atomically)


def report(
    stress: Path = typer.Argument(..., help="Stress file (YAML, JSON or an .xlsx workbook; docs/stress.md, docs/interop.md)."),
    out: Path = typer.Option(..., "-o", "--out", help="Markdown report to write (HTML, PNG figures and CSVs go beside it)."),
    method: str = typer.Option("bisection", "--method", help="CBC LP horizon method: bisection | milp."),
    no_reverse: bool = typer.Option(False, "--no-reverse", help="Skip the reverse stress test (faster)."),
    no_sensitivities: bool = typer.Option(False, "--no-sensitivities",
                                          help="Skip one-factor sensitivities, tornado charts and headroom fragility (faster)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    xlsx: Path = typer.Option(None, "--xlsx", help="Also write the results as an Excel workbook (docs/interop.md)."),
    paths: int = typer.Option(10_000, "--paths", help="Monte Carlo paths per scenario (files with a behavioural section; 0 = skip)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo survival distribution (same seed, same result)."),
) -> None:
    """Stress liquidity narratives: survival horizons, CBC deployment, CFP, stress LCR, sensitivities, checklist."""
    from liqstress.errors import InputError
    from liqstress.models.stress_file import load_stress
    from liqstress.reports.data import work_units
    from liqstress.reports.narrative import write_report

    if method not in ("bisection", "milp"):
        raise InputError("--method", f"must be bisection or milp, got {method!r}")
    if out.suffix.lower() != ".md":
        raise InputError("--out", f"must end in .md, got {out.name!r}")
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError("--xlsx", f"must end in .xlsx, got {xlsx.name!r}")
    if paths < 0:
        raise InputError("--paths", f"must be >= 0, got {paths}")
    if seed < 0:
        raise InputError("--seed", f"must be >= 0, got {seed}")
    check_output_path(out, "--out")
    if xlsx is not None:
        check_output_path(xlsx, "--xlsx")
    model = load_stress(stress)  # the whole input is validated before any work or output
    with write_outputs_atomically(out.parent, "--out") as stage, \
            progress(work_units(model, not no_reverse, not no_sensitivities, paths), f"report: {stress.name}") as bar:
        res = write_report(model, stage / out.name, method=method, reverse=not no_reverse,
                           sensitivities=not no_sensitivities, progress=bar.advance, paths=paths, seed=seed)
        doc = res.summary()
        if xlsx is not None:
            from liqstress.io.excel import write_report_workbook

            with atomic_file(xlsx, "--xlsx") as tmp:
                write_report_workbook(res, tmp)
    final = str(out.parent)  # paths in the summary: where the files are now, not the stage
    doc["report"], doc["html"] = str(out), str(out.with_suffix(".html"))
    doc["figures"] = [str(Path(final) / Path(p).name) for p in doc["figures"]]
    if json_out:
        print_json(doc)
        return
    rows = [[s["name"], fmt_days(s["survival_days"], s["horizon_days"]),
             fmt_days(s["waterfall_survival_days"], s["horizon_days"]),
             fmt_days(s["survival_days_with_actions"], s["horizon_days"]),
             s["internal_minimum_days"], fmt_percent(s["stress_lcr"])] for s in doc["scenarios"]]
    render_table(f"{doc['stress']} -> {out}", ["scenario", "LP days", "waterfall", "w/ actions", "min days", "stress LCR"], rows)
    typer.echo(f"base LCR {fmt_percent(doc.get('base_lcr'))}; '>= H (whole projection)' marks a horizon censored "
               "at the end of the H-day projection")
    for s in doc["scenarios"]:
        pc = s.get("survival_percentiles")
        if pc:
            typer.echo(f"{s['name']}: Monte Carlo survival days "
                       + ", ".join(f"{k} {fmt_days(pc[k], s['horizon_days'])}" for k in ("p5", "p50", "p95"))
                       + f"; P(horizon < {s['internal_minimum_days']} d) = {fmt_percent(s['breach_probability'])}")
    failed = [c["item"] for c in doc["checklist"] if c["status"] == "fail"]
    typer.echo(f"checklist: {len(doc['checklist']) - len(failed)}/{len(doc['checklist'])} pass" + (f"; failing: {'; '.join(failed)}" if failed else ""))


def register(app: typer.Typer) -> None:
    app.command("report")(guarded(report))
