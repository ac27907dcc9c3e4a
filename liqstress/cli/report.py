"""``liqstress report STRESS -o OUT.md``: the narrative liquidity stress report (SPEC Part B/C)."""

from __future__ import annotations

from pathlib import Path

import typer

from liqstress.cli._common import guarded, print_json, render_table


def report(
    stress: Path = typer.Argument(..., help="Stress file (YAML, JSON or an .xlsx workbook; docs/stress.md, docs/interop.md)."),
    out: Path = typer.Option(..., "-o", "--out", help="Markdown report to write (HTML, PNG figures and CSVs go beside it)."),
    method: str = typer.Option("bisection", "--method", help="CBC LP horizon method: bisection | milp."),
    no_reverse: bool = typer.Option(False, "--no-reverse", help="Skip the reverse stress test (faster)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    xlsx: Path = typer.Option(None, "--xlsx", help="Also write the results as an Excel workbook (docs/interop.md)."),
) -> None:
    """Stress liquidity narratives: survival horizons, CBC deployment, CFP, stress LCR, checklist."""
    from liqstress.errors import InputError
    from liqstress.reports.narrative import write_report

    if method not in ("bisection", "milp"):
        raise InputError("method", f"must be bisection or milp, got {method!r}")
    if out.suffix.lower() != ".md":
        raise InputError("out", f"must end in .md, got {out.name!r}")
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError("--xlsx", f"must end in .xlsx, got {xlsx.name!r}")
    res = write_report(stress, out, method=method, reverse=not no_reverse)
    if xlsx is not None:
        from liqstress.io.excel import write_report_workbook

        write_report_workbook(res, xlsx)
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
