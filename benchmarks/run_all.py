"""Run every ``benchmarks/bench_*.py`` and print one table of measured ratios.

Usage::

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--timeout SECONDS] [--out benchmarks/RESULTS.md]

Each benchmark module exposes ``run(quick: bool) -> list[dict]`` with the row keys
``benchmark, n, seconds, baseline, baseline_seconds, ratio, note`` (ours vs the baseline,
both measured in the same run).  Modules are imported one by one; a module that fails to
import, raises, runs longer than ``--timeout`` (SIGALRM) or returns malformed rows becomes
a ``FAILED`` row, never a crash.  The
table (plus the machine: CPU model, cores, RAM, Python, numpy) is printed and written as
Markdown to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

HERE = Path(__file__).resolve().parent
KEYS = ("benchmark", "n", "seconds", "baseline", "baseline_seconds", "ratio", "note")
TABLE_COLUMNS = ("module", "benchmark", "n", "seconds", "baseline", "baseline_seconds", "ratio", "speedup", "note", "status")


# ----------------------------------------------------------------------------- machine
def machine_info() -> dict[str, Any]:
    """CPU model (/proc/cpuinfo), logical cores, RAM (/proc/meminfo), Python, numpy."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb: Optional[float] = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024**2
                break
    except (OSError, ValueError):
        pass
    try:
        import numpy

        np_version = numpy.__version__
    except ImportError:  # pragma: no cover
        np_version = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": None if ram_gb is None else round(ram_gb, 1),
        "python": platform.python_version(),
        "numpy": np_version,
        "platform": platform.platform(),
    }


# ----------------------------------------------------------------------------- aggregation
def _num(v: Any) -> Optional[float]:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def failed_row(module: str, error: str) -> dict[str, Any]:
    """The row that stands for a benchmark module that could not produce results."""
    return {
        "module": module,
        "benchmark": "-",
        "n": None,
        "seconds": None,
        "baseline": "-",
        "baseline_seconds": None,
        "ratio": None,
        "speedup": None,
        "note": " ".join(str(error).split())[:200],
        "status": "FAILED",
    }


def aggregate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of every module, as one table.

    ``results`` maps a module name to what its ``run(quick)`` returned, or to the exception
    it raised.  Each row is checked: missing keys or a non-list result give a FAILED row;
    ``ratio`` is kept as the module reports it (modules define it in their own docs; when it
    is missing it is filled with ``baseline_seconds / seconds``); ``speedup`` is always
    ``baseline_seconds / seconds`` from the two measured times (> 1: ours is faster), so
    rows of different modules compare on one scale.
    """
    table: list[dict[str, Any]] = []
    for module in sorted(results):
        res = results[module]
        if isinstance(res, BaseException):
            table.append(failed_row(module, f"{type(res).__name__}: {res}"))
            continue
        if not isinstance(res, (list, tuple)) or not res:
            table.append(failed_row(module, f"run() returned {type(res).__name__} {'(empty)' if not res else ''}, expected a non-empty list of dicts"))
            continue
        for k, row in enumerate(res):
            if not isinstance(row, dict):
                table.append(failed_row(module, f"row {k} is {type(row).__name__}, not a dict"))
                continue
            missing = [key for key in KEYS if key not in row]
            if missing:
                table.append(failed_row(module, f"row {k} misses keys {', '.join(missing)}"))
                continue
            sec, bsec, ratio = _num(row["seconds"]), _num(row["baseline_seconds"]), _num(row["ratio"])
            speedup = bsec / sec if (sec and sec > 0 and bsec is not None) else None
            if ratio is None:
                ratio = speedup
            status = "ok"
            if str(row.get("status", "")).lower() in ("failed", "error"):
                status = "FAILED"
            table.append(
                {
                    "module": module,
                    "benchmark": str(row["benchmark"]),
                    "n": row["n"],
                    "seconds": sec,
                    "baseline": str(row["baseline"]),
                    "baseline_seconds": bsec,
                    "ratio": ratio,
                    "speedup": speedup,
                    "note": " ".join(str(row["note"] or "").split()),
                    "status": status,
                }
            )
    return table


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0:
            return "0"
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
    return str(v).replace("|", "/")


def render_text(table: Sequence[dict], machine: dict) -> str:
    """Plain-text table for the terminal."""
    cols = TABLE_COLUMNS
    cells = [[_fmt(r.get(c)) for c in cols] for r in table]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    widths[cols.index("note")] = min(widths[cols.index("note")], 60)
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    out = [_machine_line(machine), line, "-" * len(line)]
    for row in cells:
        out.append("  ".join(v[:w].ljust(w) for v, w in zip(row, widths)))
    return "\n".join(out)


def _machine_line(m: dict) -> str:
    return f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, numpy {m['numpy']}"


def render_markdown(table: Sequence[dict], machine: dict, quick: bool, seconds: float, when: str) -> str:
    """``benchmarks/RESULTS.md``: the machine, the mode and one Markdown table."""
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python benchmarks/run_all.py{' --quick' if quick else ''}` on {when} "
        f"(total {seconds:.1f} s). Both times of a row are measured in the same run on the same input. "
        "`ratio` is as reported by the module (see its docs); `speedup` = baseline_seconds / seconds "
        "(> 1: ours is faster).",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {machine['cpu']} |",
        f"| cores | {machine['cores']} |",
        f"| RAM | {machine['ram_gb']} GB |",
        f"| Python | {machine['python']} |",
        f"| numpy | {machine['numpy']} |",
        f"| platform | {machine['platform']} |",
        "",
        "| " + " | ".join(TABLE_COLUMNS) + " |",
        "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|",
    ]
    for r in table:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in TABLE_COLUMNS) + " |")
    failed = sum(r["status"] == "FAILED" for r in table)
    lines += ["", f"{len(table)} rows, {failed} failed."]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- discovery / run
def discover(directory: Path = HERE, only: Iterable[str] = ()) -> list[Path]:
    """``bench_*.py`` files of ``directory`` (filtered by ``--only`` names), sorted."""
    files = sorted(Path(directory).glob("bench_*.py"))
    only = set(only)
    if only:
        files = [p for p in files if p.stem in only or p.stem.removeprefix("bench_") in only]
    return files


def load_run(path: Path) -> Callable[[bool], list]:
    """Import a benchmark file by path and return its ``run``."""
    spec = importlib.util.spec_from_file_location(f"_liqstress_bench_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    run = getattr(mod, "run", None)
    if not callable(run):
        raise AttributeError(f"{path.name} has no run(quick) function")
    return run


class ModuleTimeout(Exception):
    """A benchmark module exceeded ``--timeout`` seconds."""


def _alarm(seconds: float):
    """Context manager raising ModuleTimeout after ``seconds`` (SIGALRM; no-op if 0 or unavailable)."""
    import contextlib
    import signal

    @contextlib.contextmanager
    def cm():
        if not seconds or not hasattr(signal, "SIGALRM"):
            yield
            return

        def handler(signum, frame):
            raise ModuleTimeout(f"exceeded --timeout {seconds:g} s")

        old = signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, float(seconds))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0.0)
            signal.signal(signal.SIGALRM, old)

    return cm()


def run_all(files: Sequence[Path], quick: bool, log: Callable[[str], None] = print, timeout: float = 0.0) -> dict[str, Any]:
    """Import and run each file; map module name -> rows or the exception raised
    (``timeout`` > 0: a module running longer is stopped and reported as FAILED)."""
    results: dict[str, Any] = {}
    for path in files:
        t0 = time.perf_counter()
        log(f"[run_all] {path.stem} ...")
        try:
            with _alarm(timeout):
                results[path.stem] = load_run(path)(quick)
            log(f"[run_all] {path.stem} done in {time.perf_counter() - t0:.1f} s")
        except BaseException as err:  # noqa: BLE001 - a failing module is a row, not a crash
            if isinstance(err, KeyboardInterrupt):
                raise
            results[path.stem] = err
            tb = traceback.format_exception_only(type(err), err)[-1].strip()
            log(f"[run_all] {path.stem} FAILED after {time.perf_counter() - t0:.1f} s: {tb}")
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small inputs (each module's quick mode)")
    ap.add_argument("--only", nargs="*", default=[], help="module names (bench_cbc or cbc)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Markdown output (default benchmarks/RESULTS.md)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per module before it is reported FAILED (0: none; default 900)")
    ap.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.dir))
    files = discover(args.dir, args.only)
    if not files:
        print(f"no bench_*.py files in {args.dir}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = run_all(files, args.quick, log=lambda s: print(s, file=sys.stderr, flush=True), timeout=args.timeout)
    seconds = time.perf_counter() - t0
    table = aggregate(results)
    machine = machine_info()
    print(render_text(table, machine))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    args.out.write_text(render_markdown(table, machine, args.quick, seconds, when))
    print(f"\nwritten {args.out} ({seconds:.1f} s)")
    return 1 if any(r["status"] == "FAILED" for r in table) else 0


if __name__ == "__main__":
    sys.exit(main())
