"""``liqstress report STRESS -o OUT.md``: the narrative liquidity stress report (SPEC Part B/C)."""

from __future__ import annotations

from pathlib import Path

import typer

from liqstress.cli._common import guarded, print_json


def report(
    stress: Path = typer.Argument(..., help="Stress file (YAML, JSON or an .xlsx workbook; docs/stress.md, docs/interop.md)."),
    out: Path = typer.Option(..., "-o", "--out", help="Markdown report to write (HTML, PNG figures and CSVs go beside it)."),
    method: str = typer.Option("bisection", "--method", help="CBC LP horizon method: bisection | milp."),
    no_reverse: bool = typer.Option(False, "--no-reverse", help="Skip the reverse stress test (faster)."),
    no_sensitivities: bool = typer.Option(False, "--no-sensitivities",
                                          help="Skip one-factor sensitivities, tornado charts and headroom fragility (faster)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    xlsx: Path = typer.Option(None, "--xlsx", help="Also write the results as an Excel workbook (docs/interop.md)."),
) -> None:
    """Stress liquidity narratives: survival horizons, CBC deployment, CFP, stress LCR, sensitivities, checklist."""
    from liqstress.errors import InputError
    from liqstress.models.stress_file import load_stress
    from liqstress.reports.data import work_units
    from liqstress.reports.narrative import write_report
    from liqstress.solvers.cbc import survival_text

    if method not in ("bisection", "milp"):
        raise InputError("method", f"must be bisection or milp, got {method!r}")
    if out.suffix.lower() != ".md":
        raise InputError("out", f"must end in .md, got {out.name!r}")
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError("--xlsx", f"must end in .xlsx, got {xlsx.name!r}")
    st = load_stress(stress)
    from tqdm import tqdm

    bar = tqdm(total=work_units(st, not no_reverse, not no_sensitivities), desc="stress report", unit="step",
               leave=False, dynamic_ncols=True)
    try:
        res = write_report(st, out, method=method, reverse=not no_reverse, sensitivities=not no_sensitivities,
                           progress=lambda: bar.update(1))
    finally:
        bar.close()
    if xlsx is not None:
        from liqstress.io.excel import write_report_workbook

        write_report_workbook(res, xlsx)
    doc = res.summary()
    if json_out:
        print_json(doc)
        return
    rows = [[s["name"], survival_text(s["survival_days"], s["horizon_days"]),
             survival_text(s["waterfall_survival_days"], s["horizon_days"]),
             survival_text(s["survival_days_with_actions"], s["horizon_days"]),
             s["internal_minimum_days"], s["stress_lcr"]] for s in doc["scenarios"]]
    _render(f"{doc['stress']} -> {out}", ["scenario", "LP days", "waterfall", "w/ actions", "min days", "LCR"], rows)
    failed = [c["item"] for c in doc["checklist"] if c["status"] == "fail"]
    typer.echo(f"checklist: {10 - len(failed)}/10 pass" + (f"; failing: {'; '.join(failed)}" if failed else ""))


def _render(title: str, columns: list[str], rows: list[list]) -> None:
    """Like ``render_table`` but wide enough for censored horizons (``>= 365 (whole projection)``)."""
    from rich.console import Console
    from rich.table import Table

    from liqstress.cli._common import _fmt

    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="left" if c == "scenario" else "right", no_wrap=True)
    for r in rows:
        table.add_row(*[_fmt(v) for v in r])
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    app.command("report")(guarded(report))
