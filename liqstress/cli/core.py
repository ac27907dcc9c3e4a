"""``liqstress robust`` and ``liqstress clear`` (docs/model.md §9.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from liqstress.cli._common import guarded, parse_float_list, print_json, progress_enabled, render_table
from liqstress.models.system import load_system


def robust(
    system: Path = typer.Argument(..., help="System file (YAML or JSON, docs/model.md §7.1), neva JSON, or a pair BALANCE.csv:EXPOSURES.csv / .parquet."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Permanent price impact in [0, 1] (default: the file's)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Robust early-liquidation strategy of every bank (Theorem 4.4 / Theorem 5.3; numeric where
    the unified model has no closed form — each bank's ``method`` says which)."""
    from liqstress.solvers.robust import robust_strategies

    sysm = load_system(system)
    res = robust_strategies(sysm, alpha, progress=progress_enabled())
    if res.worst_case_value is None:
        from liqstress.solvers.robust_values import interbank_worst_case_values

        res = interbank_worst_case_values(sysm, res)
    doc = res.to_json()
    if json_out:
        print_json(doc)
        return
    rows = [[b["name"], b["ell"], b["alpha_bar"], b["strategy"], b["worst_case_others"], b["worst_case_value"]] for b in doc["banks"]]
    render_table(
        f"Robust early liquidation  (Lambda = {doc['Lambda']:.6g}, alpha = {doc['alpha']:.3g})",
        ["name", "ell", "alpha_bar", "strategy", "worst_case_others", "worst_case_value"],
        rows,
    )
    by_method: dict = {}
    for b in doc["banks"]:
        by_method.setdefault(b["method"], []).append(b["name"])
    for m, names in by_method.items():
        shown = ", ".join(names[:8]) + (f" ... ({len(names)} banks)" if len(names) > 8 else "")
        typer.echo(f"method {m}: {shown}")
    if res.value_note:
        typer.echo(res.value_note)


def clear_cmd(
    system: Path = typer.Argument(..., help="System file (YAML or JSON, docs/model.md §7.1), neva JSON, or a pair BALANCE.csv:EXPOSURES.csv / .parquet."),
    early: Optional[str] = typer.Option(None, "--early", help="Early sales x1,x2,... in bank order (default: none)."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Permanent price impact in [0, 1] (default: the file's)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Clearing equilibrium given early sales: price fixed point (4) or joint clearing (15)."""
    import numpy as np

    from liqstress.solvers.clearing import clear

    sysm = load_system(system)
    x = np.zeros(sysm.n) if early is None else parse_float_list(early, "--early")
    res = clear(sysm, sysm.check_early(x, "--early"), alpha)
    doc = res.to_json()
    if json_out:
        print_json(doc)
        return
    typer.echo(f"price at t=1: {res.price_t1:.12g}    price at t=2: {res.price_t2:.12g}")
    rows = [[nm, xi, yi, vi, pi] for nm, xi, yi, vi, pi in zip(sysm.names, x, res.sales_t2, res.values, res.payments)]
    render_table("Clearing", ["name", "early", "sales_t2", "value", "payment"], rows)


def register(app: typer.Typer) -> None:
    app.command("robust")(guarded(robust))
    app.command("clear")(guarded(clear_cmd))
