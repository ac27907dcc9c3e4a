"""``liqstress maximin`` and ``liqstress gap`` (docs/model.md §4, §9.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from liqstress.cli._common import (allow_uncertified_option, clean_number, exit_if_uncertified, fmt_number, guarded, print_json,
                                   render_table, spinner)
from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import load_system

PROBLEMS = ("original", "relaxed")
# statuses of a finished but uncertified solve (exit 4); anything else is a solver failure (exit 3)
UNCERTIFIED_STATUS = ("optimal", "time limit", "iteration limit", "stalled", "node limit", "resolution limit", "dominated")
METHODS = ("global", "local", "grid")


def maximin_cmd(
    system: Path = typer.Argument(..., help="System file (YAML or JSON, docs/model.md §7.1), neva JSON, or a pair BALANCE.csv:EXPOSURES.csv / .parquet."),
    bank: str = typer.Option(..., "--bank", help="Name of the bank whose strategy is optimised."),
    problem: str = typer.Option("original", "--problem", help="original (7)/(15) or relaxed (9)/(20)."),
    method: str = typer.Option("global", "--method", help="global (certified) | local | grid."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Permanent price impact in [0, 1] (default: the file's)."),
    tol: float = typer.Option(1e-4, "--tol", help="Absolute tolerance on the max-min value (global)."),
    time_limit: float = typer.Option(300.0, "--time-limit", help="Wall-clock limit in seconds (global)."),
    engine: str = typer.Option("auto", "--engine", help="Middle level of (7), global method: auto | separable | scip "
                               "(auto: separable for permanent impact, scip with interbank exposures)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    allow_uncertified: bool = allow_uncertified_option(),
) -> None:
    """max over the bank's early sale of the min over the others' (problem (7) or its relaxation).

    Exit status 4 when the result is not certified (always for --method local|grid) unless
    --allow-uncertified; the statuses are listed in docs/model.md, section "Status words"."""
    if problem not in PROBLEMS:
        raise InputError("--problem", f"must be one of {', '.join(PROBLEMS)}; got {problem!r}")
    if method not in METHODS:
        raise InputError("--method", f"must be one of {', '.join(METHODS)}; got {method!r}")
    if not (time_limit > 0):
        raise InputError("--time-limit", f"must be > 0 seconds, got {time_limit}")
    sysm = load_system(system).with_alpha(alpha)
    sysm.index(bank)  # unknown bank -> InputError (exit 2)
    with spinner(f"maximin: bank {bank}, problem {problem}, method {method} ..."):
        if problem == "original":
            from liqstress.solvers.original import maximin_original

            res = maximin_original(sysm, bank, method=method, tol=tol, time_limit=time_limit,
                                   inner_time_limit=min(60.0, time_limit), engine=engine)
        else:
            from liqstress.solvers.relaxed import maximin_relaxed

            res = maximin_relaxed(sysm, bank, method=method, tol=tol, time_limit=time_limit)
    if problem == "original" and method == "global" and not res.certified and res.status not in UNCERTIFIED_STATUS:
        raise SolverFailure(res.solver, res.status, f"bank {bank}")
    doc = res.to_json()
    if json_out:
        print_json(doc)
        exit_if_uncertified(res.certified, res.status, allow_uncertified, f"maximin ({problem}, {method})")
        return
    i = sysm.index(bank)
    others = [nm for k, nm in enumerate(sysm.names) if k != i]
    typer.echo(f"bank {bank}: problem {problem}, method {method}, solver {res.solver}")
    typer.echo(f"  strategy (early sale x_i) = {fmt_number(res.strategy, 10)}")
    typer.echo(f"  max-min value             = {fmt_number(res.value, 10)}")
    cert = "certified" if res.certified else "NOT certified"
    tl = f" to {res.tolerance:g}" if res.tolerance is not None and res.certified else ""
    typer.echo(f"  {cert}{tl} (status {res.status}), {res.seconds:.3g} s")
    render_table("Others' worst case", ["bank", "early sale"], [[nm, float(v)] for nm, v in zip(others, res.worst_case_others)])
    exit_if_uncertified(res.certified, res.status, allow_uncertified, f"maximin ({problem}, {method})")


def gap_cmd(
    system: Path = typer.Argument(..., help="System file (YAML or JSON, docs/model.md §7.1), neva JSON, or a pair BALANCE.csv:EXPOSURES.csv / .parquet."),
    bank: str = typer.Option(..., "--bank", help="Name of the bank."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Permanent price impact in [0, 1] (default: the file's)."),
    tol: float = typer.Option(1e-4, "--tol", help="Absolute tolerance on v_opt."),
    engine: str = typer.Option("auto", "--engine", help="Middle level of (7): auto | separable | scip."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    allow_uncertified: bool = allow_uncertified_option(),
) -> None:
    """Relaxation gap (docs/model.md, "Relaxation gap"): v_opt, v_rob, vt, regret = v_opt - v_rob,
    conservatism = v_rob - vt.  Exit status 4 when not certified unless --allow-uncertified."""
    from liqstress.solvers.original import gap_report

    sysm = load_system(system)
    sysm.index(bank)
    if not (tol > 0):
        raise InputError("--tol", f"must be > 0, got {tol}")
    with spinner(f"gap: bank {bank} (three certified solves) ..."):
        doc = gap_report(sysm, bank, tol=tol, alpha=alpha, engine=engine)
    scale = max(abs(doc["v_opt"]), abs(doc["v_rob"]), 1.0)
    for k in ("regret", "conservatism", "conservatism_capped"):  # differences of O(scale) values
        if doc.get(k) is not None:
            doc[k] = clean_number(doc[k], scale)
    if json_out:
        print_json(doc)
        exit_if_uncertified(doc["certified"], _gap_status(doc), allow_uncertified, "gap")
        return
    rows = [[k, doc[k]] for k in ("robust_strategy", "optimal_strategy", "v_opt", "v_rob", "vt", "regret", "conservatism", "liabilities")]
    render_table(f"Relaxation gap, bank {doc['bank']} (alpha = {doc['alpha']:g})", ["quantity", "value"], rows)
    typer.echo(("certified" if doc["certified"] else "NOT certified") + f" (tolerance {doc['tolerance']:g}), {doc['seconds']:.3g} s")
    exit_if_uncertified(doc["certified"], _gap_status(doc), allow_uncertified, "gap")


def _gap_status(doc: dict) -> str:
    return f"v_opt {doc.get('v_opt_status', '?')}, v_rob {doc.get('v_rob_status', '?')}"


def register(app: typer.Typer) -> None:
    app.command("maximin")(guarded(maximin_cmd))
    app.command("gap")(guarded(gap_cmd))
