"""The relaxation-gap sweep (SPEC A.6) over random or user-given systems.

One *task* is one (system, bank): it rebuilds the system from its dict (SPEC Part C file
schema, so the same bytes reach a local process or a Dask worker), calls
:func:`liqstress.solvers.original.gap_report` and returns one flat row:

    system_id, bank, n, alpha, f_kind, beta, method, v_opt, v_rob, vt, regret,
    conservatism, certified, status, seconds, x_rob, x_opt, message

``regret = v_opt - v_rob`` (the cost of using the relaxed strategy) and
``conservatism = v_rob - vt`` (how pessimistic the relaxed worst case is).  A failed solve
is a row with its status (``SolverFailure.status``, ``input_error`` or ``error``) and NaN
values, never a crash.  Results do not depend on the executor: tasks carry everything they
need (the system, alpha, the method), the random systems are seeded per system index
(:mod:`liqstress.research.random_systems`) and rows are written sorted by task order at
the end.

Output files (suffix decides): ``.csv`` is appended row by row (flushed); ``.parquet``
keeps a CSV journal ``.<name>.journal.csv`` that is appended row by row and folded into
the Parquet file every few rows and at the end.  On rerun, rows already present (keyed by
``(system_id, bank)``) are skipped; a truncated last line of a CSV is dropped and
recomputed.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from liqstress.errors import InputError, LiqstressError, SolverFailure

COLUMNS = [
    "system_id",
    "bank",
    "n",
    "alpha",
    "f_kind",
    "beta",
    "method",
    "v_opt",
    "v_rob",
    "vt",
    "regret",
    "conservatism",
    "certified",
    "status",
    "seconds",
    "x_rob",
    "x_opt",
    "message",
]
FLOAT_COLS = ["alpha", "beta", "v_opt", "v_rob", "vt", "regret", "conservatism", "seconds", "x_rob", "x_opt"]
INT_COLS = ["n"]
BOOL_COLS = ["certified"]
#: statuses that count as a successful solve (anything else is a failure row)
OK_STATUSES = ("optimal", "ok", "certified", "local_optimal", "locally_optimal", "feasible")
METHODS = ("global", "local", "grid")
#: ``module:function`` computing the per-bank gap report (SPEC A.6)
DEFAULT_REPORT = "liqstress.solvers.original:gap_report"


# =============================================================================== tasks
@dataclass(frozen=True)
class Task:
    """Everything one worker needs: picklable, no file access on the worker."""

    order: int
    system_id: str
    bank: str
    system: dict
    alpha: Optional[float]
    method: str
    options: dict = field(default_factory=dict)
    report: str = DEFAULT_REPORT

    @property
    def key(self) -> tuple[str, str]:
        return (self.system_id, self.bank)


def make_tasks(
    systems: Sequence[tuple[str, Any]],
    method: str,
    alpha: Optional[float] = None,
    options: Optional[dict] = None,
    report: str = DEFAULT_REPORT,
) -> list[Task]:
    """One task per (system, bank), in system order then bank order.

    ``report`` names the function ``f(system, bank, method=..., **options) -> dict`` that
    computes the gap (default: :func:`liqstress.solvers.original.gap_report`)."""
    if method not in METHODS:
        raise InputError("--method", f"must be one of {', '.join(METHODS)}; got {method!r}")
    tasks: list[Task] = []
    for sid, sysm in systems:
        doc = sysm.to_dict()
        for name in sysm.names:
            tasks.append(Task(len(tasks), sid, name, doc, alpha, method, dict(options or {}), report))
    return tasks


def load_system_dir(directory: Path, limit: Optional[int] = None) -> list[tuple[str, Any]]:
    """User system files (``*.yaml``, ``*.yml``, ``*.json``) of a folder, sorted by name;
    the system id is the file name.  Any invalid file is an InputError naming it."""
    from liqstress.models.system import load_system

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("--systems-dir", f"not a directory: {directory}")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
    if not files:
        raise InputError("--systems-dir", f"no *.yaml, *.yml or *.json system files in {directory}")
    if limit is not None:
        files = files[: int(limit)]
    out = []
    for p in files:
        try:
            out.append((p.name, load_system(p)))
        except InputError as err:
            raise InputError(f"--systems-dir {p.name}: {err.field}", err.rule) from None
    return out


def _gap_report_fn(spec: str = DEFAULT_REPORT) -> Callable:
    """The gap-report function ``module:function`` (imported lazily, in the worker)."""
    import importlib

    mod, _, name = spec.partition(":")
    return getattr(importlib.import_module(mod), name or "gap_report")


def _call_gap_report(fn: Callable, system, bank: str, method: str, options: dict) -> dict:
    """Call ``gap_report(system, bank, ...)`` passing ``method`` and options it accepts."""
    try:
        params = inspect.signature(fn).parameters
        accepts_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
        names = set(params)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        accepts_kw, names = True, set()
    kw = {}
    for k, v in {"method": method, **options}.items():
        if accepts_kw or k in names:
            kw[k] = v
    return fn(system, bank, **kw)


def _num(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def run_task(task: Task) -> dict:
    """Solve one (system, bank) gap task; always returns a row (module docstring)."""
    from liqstress.models.system import system_from_dict

    t0 = time.perf_counter()
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(system_id=task.system_id, bank=task.bank, method=task.method)
    try:
        sysm = system_from_dict(task.system)
        if task.alpha is not None:
            sysm = sysm.with_alpha(task.alpha)
        row.update(n=sysm.n, alpha=sysm.alpha, f_kind=sysm.f.kind, beta=_num(getattr(sysm.f, "beta", math.nan)))
        rep = _call_gap_report(_gap_report_fn(task.report), sysm, task.bank, task.method, task.options)
        for k in ("v_opt", "v_rob", "vt"):
            row[k] = _num(rep.get(k))
        row["regret"] = _num(rep.get("regret", row["v_opt"] - row["v_rob"]))
        row["conservatism"] = _num(rep.get("conservatism", row["v_rob"] - row["vt"]))
        row["certified"] = bool(rep.get("certified", False))
        row["x_rob"] = _num(rep.get("x_rob", rep.get("strategy_robust", rep.get("x_robust"))))
        row["x_opt"] = _num(rep.get("x_opt", rep.get("strategy_opt", rep.get("x_optimal"))))
        status = rep.get("status")
        if status is None:
            finite = all(math.isfinite(row[k]) for k in ("v_opt", "v_rob", "vt"))
            status = "optimal" if finite else "no_value"
        row["status"] = str(status)
        row["message"] = str(rep.get("message", rep.get("note", "")) or "")
    except SolverFailure as err:
        row.update(status=str(err.status) or "solver_failure", certified=False, message=str(err))
    except InputError as err:
        row.update(status="input_error", certified=False, message=str(err))
    except LiqstressError as err:
        row.update(status="error", certified=False, message=str(err))
    except Exception as err:  # a failed solve is a row, never a crash of the sweep
        row.update(status="error", certified=False, message=f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
    row["seconds"] = time.perf_counter() - t0
    return _normalise(row)


def _normalise(row: dict) -> dict:
    out = {c: row.get(c) for c in COLUMNS}
    for c in FLOAT_COLS:
        out[c] = _num(out[c])
    for c in INT_COLS:
        v = _num(out[c])
        out[c] = int(v) if math.isfinite(v) else None
    out["certified"] = bool(out["certified"]) if out["certified"] is not None else False
    for c in ("system_id", "bank", "f_kind", "method", "status", "message"):
        out[c] = "" if out[c] is None else str(out[c])
    return out


def is_ok(row: dict) -> bool:
    """True when the row is a successful solve (status in OK_STATUSES and finite values)."""
    return str(row.get("status", "")).lower() in OK_STATUSES and all(
        math.isfinite(_num(row.get(k))) for k in ("v_opt", "v_rob", "vt")
    )


# =============================================================================== executors
def iter_local(tasks: Sequence[Task], workers: int) -> Iterator[dict]:
    """Rows as tasks finish: in this process when ``workers <= 1``, else in a
    ProcessPoolExecutor (spawned workers: no inherited threads or locks)."""
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(t)
        return
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futs = [pool.submit(run_task, t) for t in tasks]
        for fut in as_completed(futs):
            yield fut.result()


def iter_dask(tasks: Sequence[Task], address: str) -> Iterator[dict]:
    """Rows as tasks finish on a Dask distributed cluster (``Client(address)``)."""
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError as err:  # pragma: no cover - dask is a dependency
        raise InputError("--scheduler", f"dask.distributed is not installed ({err})") from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError("--scheduler", f"cannot connect to {address}: {' '.join(str(err).split())[:200]}") from None
    try:
        futs = client.map(run_task, list(tasks), pure=False)
        for fut in dask_completed(futs, loop=client.loop):
            yield fut.result()
    finally:
        client.close()


# =============================================================================== storage
def _parse_row(rec: dict) -> Optional[dict]:
    """A CSV record back to a typed row; None if it is malformed (e.g. a truncated line)."""
    if rec is None or any(rec.get(c) is None for c in COLUMNS) or None in rec:
        return None
    if not rec["system_id"] or not rec["bank"] or not rec["status"]:
        return None
    row = dict(rec)
    for c in FLOAT_COLS:
        if row[c] in ("", None):
            row[c] = math.nan
        else:
            try:
                row[c] = float(row[c])
            except ValueError:
                return None
    try:
        row["n"] = int(float(row["n"])) if row["n"] not in ("", None) else None
    except ValueError:
        return None
    if row["certified"] not in ("True", "False", "true", "false", "1", "0"):
        return None
    row["certified"] = row["certified"] in ("True", "true", "1")
    return _normalise(row)


def read_csv_rows(path: Path) -> list[dict]:
    """Valid rows of a (possibly partially written) sweep CSV; malformed lines are dropped."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open(newline="") as fh:
        text = fh.read()
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]  # drop a torn last line
    reader = csv.DictReader(complete.splitlines())
    if reader.fieldnames is None:
        return []
    missing = [c for c in COLUMNS if c not in reader.fieldnames]
    if missing:
        raise InputError(str(path), f"not a gap-sweep file (missing columns {', '.join(missing)})")
    rows = []
    for rec in reader:
        r = _parse_row(rec)
        if r is not None:
            rows.append(r)
    return rows


def _write_csv(path: Path, rows: Iterable[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(_csv_ready(r))
    os.replace(tmp, path)


def _csv_ready(row: dict) -> dict:
    out = {}
    for c in COLUMNS:
        v = row.get(c)
        if isinstance(v, float):
            out[c] = "" if math.isnan(v) else repr(v)
        elif v is None:
            out[c] = ""
        else:
            out[c] = v
    return out


def rows_to_frame(rows: Sequence[dict]):
    import pandas as pd

    df = pd.DataFrame(list(rows), columns=COLUMNS)
    for c in FLOAT_COLS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["n"] = pd.to_numeric(df["n"], errors="coerce").astype("Int64")
    df["certified"] = df["certified"].astype(bool)
    return df


def read_rows(path: Path) -> list[dict]:
    """All rows already stored for ``path`` (the file itself and, for Parquet, its journal)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        rows: list[dict] = []
        if path.exists():
            import pandas as pd

            try:
                df = pd.read_parquet(path)
            except Exception as err:
                raise InputError(str(path), f"cannot read Parquet file ({type(err).__name__}); move it away to start over") from None
            missing = [c for c in COLUMNS if c not in df.columns]
            if missing:
                raise InputError(str(path), f"not a gap-sweep file (missing columns {', '.join(missing)})")
            for rec in df[COLUMNS].to_dict("records"):
                rec["n"] = None if rec["n"] is None or (isinstance(rec["n"], float) and math.isnan(rec["n"])) else int(rec["n"])
                rows.append(_normalise(rec))
        rows.extend(read_csv_rows(journal_path(path)))
        return rows
    return read_csv_rows(path)


def journal_path(path: Path) -> Path:
    return Path(path).with_name(f".{Path(path).name}.journal.csv")


class RowSink:
    """Incremental, crash-tolerant writer for CSV or Parquet (module docstring)."""

    def __init__(self, path: Path, existing: Sequence[dict], parquet_every: int = 20):
        self.path = Path(path)
        self.parquet = self.path.suffix.lower() == ".parquet"
        self.rows: list[dict] = list(existing)
        self.pending = 0
        self.every = max(1, int(parquet_every))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.parquet:
            self._flush_parquet()
            self._fh = journal_path(self.path).open("w", newline="")
        else:
            _write_csv(self.path, self.rows)  # clean rewrite (drops a torn last line)
            self._fh = self.path.open("a", newline="")
        self._w = csv.DictWriter(self._fh, fieldnames=COLUMNS, lineterminator="\n")
        if self.parquet:
            self._w.writeheader()
            self._fh.flush()

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self._w.writerow(_csv_ready(row))
        self._fh.flush()
        if self.parquet:
            self.pending += 1
            if self.pending >= self.every:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        rows_to_frame(self.rows).to_parquet(tmp, index=False)
        os.replace(tmp, self.path)
        self.pending = 0
        # the journal now duplicates the Parquet content: restart it
        if hasattr(self, "_fh"):
            self._fh.close()
            self._fh = journal_path(self.path).open("w", newline="")
            self._w = csv.DictWriter(self._fh, fieldnames=COLUMNS, lineterminator="\n")
            self._w.writeheader()
            self._fh.flush()

    def close(self, order: Optional[dict] = None) -> None:
        """Final write, rows sorted by task order (rows of other runs keep their place last)."""
        self._fh.close()
        if order is not None:
            big = len(order)
            self.rows.sort(key=lambda r: order.get((r["system_id"], r["bank"]), big))
        if self.parquet:
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            rows_to_frame(self.rows).to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
            journal_path(self.path).unlink(missing_ok=True)
        else:
            _write_csv(self.path, self.rows)


# =============================================================================== sweep
@dataclass
class SweepSummary:
    path: Path
    total_tasks: int
    skipped: int
    computed: int
    failed: int
    seconds: float
    rows: list = field(default_factory=list)
    plots: list = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Computed tasks per wall-clock second."""
        return self.computed / self.seconds if self.seconds > 0 else math.nan


def check_output(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InputError("-o", f"output must end in .csv or .parquet, got {path.name!r}")
    if path.exists() and path.is_dir():
        raise InputError("-o", f"is a directory: {path}")
    return path


def run_sweep(
    tasks: Sequence[Task],
    out: Path,
    workers: int = 1,
    scheduler: Optional[str] = None,
    progress: bool = True,
    retry_failed: bool = False,
    plots: bool = True,
) -> SweepSummary:
    """Run the tasks not yet in ``out`` and store every row (module docstring)."""
    out = check_output(out)
    t0 = time.perf_counter()
    existing = read_rows(out)
    if retry_failed:
        existing = [r for r in existing if is_ok(r)]
    seen: dict[tuple, dict] = {}
    for r in existing:
        seen[(r["system_id"], r["bank"])] = r  # a duplicate key keeps the last row
    existing = list(seen.values())
    todo = [t for t in tasks if t.key not in seen]
    order = {t.key: t.order for t in tasks}
    sink = RowSink(out, existing)
    failed = 0
    try:
        if todo:
            stream = iter_dask(todo, scheduler) if scheduler else iter_local(todo, workers)
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=len(todo), desc="gap sweep", unit="task", leave=False, dynamic_ncols=True)
            try:
                for row in stream:
                    sink.add(row)
                    failed += 0 if is_ok(row) else 1
                    if bar is not None:
                        bar.update(1)
            finally:
                if bar is not None:
                    bar.close()
    finally:
        sink.close(order)
    summary = SweepSummary(out, len(tasks), len(tasks) - len(todo), len(todo), failed, time.perf_counter() - t0, sink.rows)
    if plots:
        summary.plots = summary_plots(sink.rows, out)
    return summary


# =============================================================================== plots
def plot_paths(out: Path) -> dict[str, Path]:
    out = Path(out)
    stem = out.with_suffix("")
    return {
        "regret_hist": Path(f"{stem}_regret_hist.png"),
        "gap_vs_alpha": Path(f"{stem}_gap_vs_alpha.png"),
        "gap_vs_n": Path(f"{stem}_gap_vs_n.png"),
    }


def summary_plots(rows: Sequence[dict], out: Path) -> list[Path]:
    """Regret histogram, gaps against alpha and against n, as PNG beside ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if is_ok(r)]
    paths = plot_paths(out)
    regret = np.array([r["regret"] for r in ok], dtype=float)
    cons = np.array([r["conservatism"] for r in ok], dtype=float)
    alpha = np.array([r["alpha"] for r in ok], dtype=float)
    n = np.array([r["n"] for r in ok], dtype=float)
    cert = np.array([bool(r["certified"]) for r in ok])
    written = []

    fig, ax = plt.subplots(figsize=(6, 4))
    if regret.size:
        ax.hist(regret, bins=min(30, max(5, regret.size // 2)), color="tab:blue", alpha=0.8)
    ax.set_xlabel("regret  v_opt - v_rob")
    ax.set_ylabel("banks")
    ax.set_title(f"Relaxation regret ({regret.size} solved, {int(cert.sum())} certified)")
    fig.tight_layout()
    fig.savefig(paths["regret_hist"], dpi=110)
    plt.close(fig)
    written.append(paths["regret_hist"])

    for key, xs, label in (("gap_vs_alpha", alpha, "alpha (permanent price impact)"), ("gap_vs_n", n, "n (banks in the system)")):
        fig, ax = plt.subplots(figsize=(6, 4))
        if xs.size:
            jitter = 0.0 if key == "gap_vs_alpha" else 0.08
            ax.scatter(xs - jitter, regret, s=14, label="regret v_opt - v_rob", color="tab:blue")
            ax.scatter(xs + jitter, cons, s=14, label="conservatism v_rob - vt", color="tab:orange", marker="x")
            unc = ~cert
            if unc.any():
                ax.scatter(xs[unc] - jitter, regret[unc], s=40, facecolors="none", edgecolors="red", label="not certified")
            ax.legend(fontsize=8)
        ax.set_xlabel(label)
        ax.set_ylabel("value gap")
        ax.set_title("Relaxation gap " + ("against alpha" if key == "gap_vs_alpha" else "against n"))
        fig.tight_layout()
        fig.savefig(paths[key], dpi=110)
        plt.close(fig)
        written.append(paths[key])
    return written


def summary_stats(rows: Sequence[dict]) -> dict:
    """Key numbers of a sweep (JSON-able)."""
    ok = [r for r in rows if is_ok(r)]
    reg = np.array([r["regret"] for r in ok], dtype=float)
    cons = np.array([r["conservatism"] for r in ok], dtype=float)
    return {
        "rows": len(rows),
        "solved": len(ok),
        "failed": len(rows) - len(ok),
        "certified": int(sum(bool(r["certified"]) for r in ok)),
        "max_regret": float(reg.max()) if reg.size else None,
        "mean_regret": float(reg.mean()) if reg.size else None,
        "zero_regret_share": float(np.mean(reg <= 1e-7)) if reg.size else None,
        "max_conservatism": float(cons.max()) if cons.size else None,
        "mean_conservatism": float(cons.mean()) if cons.size else None,
        "solver_seconds": float(sum(_num(r["seconds"]) for r in rows if math.isfinite(_num(r["seconds"])))),
    }
