"""``liqstress report STRESS -o OUT.md``: the narrative liquidity stress report (SPEC Part B/C)."""

from __future__ import annotations

from pathlib import Path

import typer

from liqstress.cli._common import guarded, print_json, render_table


def report(
    stress: Path = typer.Argument(..., help="Stress file (YAML or JSON, docs/stress.md)."),
    out: Path = typer.Option(..., "-o", "--out", help="Markdown report to write (HTML, PNG figures and CSVs go beside it)."),
    method: str = typer.Option("bisection", "--method", help="CBC LP horizon method: bisection | milp."),
    no_reverse: bool = typer.Option(False, "--no-reverse", help="Skip the reverse stress test (faster)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    paths: int = typer.Option(10_000, "--paths", help="Monte Carlo paths per scenario (files with a behavioural section; 0 = skip)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo survival distribution (same seed, same result)."),
) -> None:
    """Stress liquidity narratives: survival horizons, CBC deployment, CFP, stress LCR, checklist."""
    from liqstress.errors import InputError
    from liqstress.reports.narrative import write_report

    if method not in ("bisection", "milp"):
        raise InputError("method", f"must be bisection or milp, got {method!r}")
    if out.suffix.lower() != ".md":
        raise InputError("out", f"must end in .md, got {out.name!r}")
    if paths < 0:
        raise InputError("paths", f"must be >= 0, got {paths}")
    if seed < 0:
        raise InputError("seed", f"must be >= 0, got {seed}")
    res = write_report(stress, out, method=method, reverse=not no_reverse, paths=paths, seed=seed, progress=True)
    doc = res.summary()
    if json_out:
        print_json(doc)
        return
    rows = [[s["name"], s["survival_days"], s["waterfall_survival_days"], s["survival_days_with_actions"],
             s["internal_minimum_days"], s["stress_lcr"]] for s in doc["scenarios"]]
    render_table(f"{doc['stress']} -> {out}", ["scenario", "LP days", "waterfall", "w/ actions", "min days", "LCR"], rows)
    failed = [c["item"] for c in doc["checklist"] if c["status"] == "fail"]
    typer.echo(f"checklist: {10 - len(failed)}/10 pass" + (f"; failing: {'; '.join(failed)}" if failed else ""))


def register(app: typer.Typer) -> None:
    app.command("report")(guarded(report))
