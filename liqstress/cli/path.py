"""``liqstress path``: the alpha-path of the true problem (robust strategy vs certified (7))."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from liqstress.cli._common import (allow_uncertified_option, atomic_file, check_output_path, exit_if_uncertified, guarded,
                                   print_json, progress, render_table)
from liqstress.errors import InputError
from liqstress.models.system import load_system

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def path_cmd(
    system: Path = typer.Argument(..., help="System file (YAML or JSON)."),
    bank: str = typer.Option(..., "--bank", help="Name of the bank."),
    alphas: str = typer.Option("0:1:21", "--alphas", help="Alpha grid: start:stop:count (inclusive) or a comma list."),
    tol: float = typer.Option(1e-4, "--tol", help="Absolute tolerance on v_opt (certified outer level)."),
    time_limit: float = typer.Option(300.0, "--time-limit", help="Wall-clock limit per alpha for (7), seconds."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write the two-panel figure here (.png, .pdf or .svg)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    allow_uncertified: bool = allow_uncertified_option(),
) -> None:
    """Robust strategy (closed form, or numeric in the unified model) against the certified
    optimum of (7) for every alpha of a grid: v_rob, v_opt, regret, conservatism.

    Exit status 4 when some row is not certified unless --allow-uncertified (the rows are
    printed either way)."""
    from liqstress.solvers.alpha_path import alpha_path, parse_alphas, plot_path

    grid = parse_alphas(alphas)
    if not (tol > 0):
        raise InputError("--tol", f"must be > 0, got {tol}")
    if not (time_limit > 0):
        raise InputError("--time-limit", f"must be > 0 seconds, got {time_limit}")
    if plot is not None:
        if plot.suffix.lower() not in PLOT_SUFFIXES:
            raise InputError("--plot", f"must end in {', '.join(PLOT_SUFFIXES)}, got {plot.name!r}")
        if not plot.parent.resolve().is_dir():
            raise InputError("--plot", f"directory does not exist: {plot.parent}")
        check_output_path(plot, "--plot")
    sysm = load_system(system)
    sysm.index(bank)  # unknown bank -> exit 2 before any solve

    with progress(len(grid), f"path {bank}", unit="alpha") as bar:
        doc = alpha_path(sysm, bank, grid, tol=tol, time_limit=time_limit, inner_time_limit=min(60.0, time_limit),
                         on_row=lambda row: bar.advance())
    if plot is not None:
        with atomic_file(plot, "--plot") as tmp:
            plot_path(doc, tmp)
    if json_out:
        print_json(doc)
    else:
        rows = [[r["alpha"], r["robust_strategy"], r["opt_strategy"], r["v_rob"], r["v_opt"], r["regret"], r["conservatism"],
                 "yes" if r["certified"] else "no"] for r in doc["rows"]]
        ab = doc["alpha_bar"]
        render_table(f"alpha-path, bank {doc['bank']} (ell = {doc['ell']:.6g}, alphabar = {ab if ab is None else round(ab, 6)})",
                     ["alpha", "robust", "optimal", "v_rob", "v_opt", "regret", "conservatism", "certified"], rows)
        methods = sorted({r["robust_method"] for r in doc["rows"] if r["robust_method"]})
        typer.echo("robust strategy: " + "; ".join(methods))
        if plot is not None:
            typer.echo(f"figure: {plot}")
    bad = [r for r in doc["rows"] if not r["certified"]]
    if bad:
        first = bad[0]
        exit_if_uncertified(False, first["status"], allow_uncertified,
                            f"the alpha-path ({len(bad)} of {len(doc['rows'])} rows not certified; first at alpha={first['alpha']:g})")


def register(app: typer.Typer) -> None:
    app.command("path")(guarded(path_cmd))
