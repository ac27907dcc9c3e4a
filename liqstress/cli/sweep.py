"""``liqstress sweep gap``: the relaxation-gap study of docs/model.md §4 over many systems.

Thin layer over :mod:`liqstress.research.gap_sweep` (tasks, executors, resumable output,
plots) and :mod:`liqstress.research.random_systems` (the documented random generator).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from liqstress.cli._common import check_output_path, guarded, print_json, render_table
from liqstress.errors import InputError

sweep_app = typer.Typer(name="sweep", help="Parameter sweeps (relaxation gap of docs/model.md §4).", no_args_is_help=True, rich_markup_mode=None)


def parse_sizes(text: str) -> list[int]:
    """``--banks``: ``3``, ``2,3,5`` or a range ``2-6`` (system k gets sizes[k % len])."""
    text = str(text).strip()
    try:
        if "-" in text and "," not in text:
            lo, hi = (int(t) for t in text.split("-", 1))
            sizes = list(range(lo, hi + 1))
        else:
            sizes = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError("--banks", f"expected an integer, a list 2,3,5 or a range 2-6; got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise InputError("--banks", f"every system needs at least 1 bank; got {text!r}")
    if max(sizes) > 200:
        raise InputError("--banks", f"at most 200 banks per system in a gap sweep; got {max(sizes)}")
    return sizes


def build_tasks(
    systems: Optional[int],
    banks: str,
    seed: int,
    alpha: Optional[float],
    method: str,
    systems_dir: Optional[Path],
    kind: Optional[str] = None,
):
    """The task list of a sweep (random systems, or the files of ``systems_dir``)."""
    from liqstress.research.gap_sweep import load_system_dir, make_tasks
    from liqstress.research.random_systems import random_systems

    if alpha is not None and not 0.0 <= alpha <= 1.0:
        raise InputError("--alpha", f"must be in [0, 1], got {alpha}")
    if systems is not None and systems < 1:
        raise InputError("--systems", f"must be >= 1, got {systems}")
    if systems_dir is not None:
        syslist = load_system_dir(systems_dir, systems)
    else:
        if systems is None:
            raise InputError("--systems", "is required unless --systems-dir is given")
        syslist = random_systems(seed, systems, parse_sizes(banks), kind=kind, alpha=alpha)
    return make_tasks(syslist, method, alpha)


def gap(
    out: Path = typer.Option(..., "-o", "--out", help="Output file: .csv or .parquet (resumable)."),
    systems: Optional[int] = typer.Option(None, "--systems", help="Number of random systems (or the first N files of --systems-dir)."),
    banks: str = typer.Option("3", "--banks", help="Number of banks in each generated system: 3, a list 2,3,5 (cycled) or a range 2-6."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random systems (system k is drawn from SeedSequence of (seed, k))."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Fix alpha for every system (default: random U(0,1), or the file's)."),
    inverse_demand: Optional[str] = typer.Option(None, "--inverse-demand", help="Fix the inverse-demand family: linear, exponential or power (default: random)."),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), "--workers", help="Local worker processes (1 = in this process)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786): run the tasks on that cluster."),
    method: str = typer.Option("global", "--method", help="Method for the original problem (7): global | local | grid."),
    systems_dir: Optional[Path] = typer.Option(None, "--systems-dir", help="Use the system files of this folder instead of random systems."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Recompute rows whose status is a failure."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
    json_out: bool = typer.Option(False, "--json", help="Summary as one JSON document on stdout."),
) -> None:
    """Relaxation gap per bank: v_opt (7), v_rob, vt, regret and conservatism (docs/model.md §4)."""
    from liqstress.research.gap_sweep import check_output, run_sweep, summary_stats

    if workers < 1:
        raise InputError("--workers", f"must be >= 1, got {workers}")
    kind = inverse_demand
    if kind is not None and kind not in ("linear", "exponential", "power"):
        raise InputError("--inverse-demand", f"must be linear, exponential or power; got {kind!r}")
    check_output(out)
    check_output_path(out, "--out")
    tasks = build_tasks(systems, banks, seed, alpha, method, systems_dir, kind)
    summ = run_sweep(tasks, out, workers=workers, scheduler=scheduler, progress=not no_progress)
    stats = summary_stats(summ.rows)
    doc = {
        "output": str(summ.path),
        "tasks": summ.total_tasks,
        "skipped_existing": summ.skipped,
        "computed": summ.computed,
        "failed_computed": summ.failed,
        "seconds": summ.seconds,
        "tasks_per_second": summ.rate if summ.computed else None,
        "executor": f"dask {scheduler}" if scheduler else f"local x{workers}",
        "plots": [str(p) for p in summ.plots],
        "warnings": summ.warnings,
        **stats,
    }
    for w in summ.warnings:
        typer.echo(f"liqstress: warning: {w}", err=True)
    if json_out:
        print_json(doc)
        return
    typer.echo(
        f"{summ.computed} computed ({summ.failed} failed), {summ.skipped} already in {summ.path.name}; "
        f"{summ.seconds:.1f} s on {doc['executor']}"
        + (f", {summ.rate:.2f} tasks/s" if summ.computed else "")
    )
    render_table(
        "Relaxation gap summary (docs/model.md §4)",
        ["rows", "solved", "certified", "max_regret", "mean_regret", "max_cons_capped", "mean_cons_capped"],
        [[stats["rows"], stats["solved"], stats["certified"], stats["max_regret"], stats["mean_regret"], stats["max_conservatism_capped"], stats["mean_conservatism_capped"]]],
    )
    for p in summ.plots:
        typer.echo(f"plot: {p}")


def register(app: typer.Typer) -> None:
    sweep_app.command("gap")(guarded(gap))
    app.add_typer(sweep_app, name="sweep")
