"""The relaxation-gap sweep (docs/model.md §4) over random or user-given systems.

One *task* is one (system, bank): it rebuilds the system from its dict (system file of docs/model.md §7.1
schema, so the same bytes reach a local process or a Dask worker), calls
:func:`liqstress.solvers.original.gap_report` and returns one flat row:

    system_id, bank, n, alpha, f_kind, beta, method, v_opt, v_rob, vt, regret,
    conservatism, liabilities, conservatism_capped, certified, status, seconds,
    x_rob, x_opt, message

``regret = v_opt - v_rob`` (the cost of using the relaxed strategy) and
``conservatism = v_rob - vt`` (how pessimistic the relaxed worst case is).  Because V_i is
capped at the liabilities L_i and Vt_i is not, ``conservatism`` is negative for a bank that
is solvent in the worst case; Proposition 4.3 (``V_i >= min(Vt_i, L_i)``) makes
``conservatism_capped = v_rob - min(vt, L_i) >= 0`` the meaningful measure.

Methods: ``global`` is :func:`liqstress.solvers.original.gap_report` (SCIP-certified inner
minima, certified cutting planes for (7); status ``optimal`` when certified, else
``not_certified``).  ``local`` and ``grid`` compose the same three numbers from
:func:`~liqstress.solvers.original.inner_original` and
:func:`~liqstress.solvers.original.maximin_original` with that method (never certified;
status ``local_optimum`` / ``grid``); ``vt`` is the closed-form relaxed worst case (12)
(or, with an interbank block, :func:`liqstress.solvers.relaxed.inner_relaxed`).  A failed
solve is a row with its status (``SolverFailure.status``, ``input_error`` or ``error``) and
NaN values, never a crash.  Results do not depend on the executor: tasks carry everything they
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
    "liabilities",
    "conservatism_capped",
    "certified",
    "status",
    "seconds",
    "x_rob",
    "x_opt",
    "message",
]
FLOAT_COLS = ["alpha", "beta", "v_opt", "v_rob", "vt", "regret", "conservatism", "liabilities", "conservatism_capped",
              "seconds", "x_rob", "x_opt"]
INT_COLS = ["n"]
BOOL_COLS = ["certified"]
#: statuses that count as a successful solve (anything else is a failure row)
OK_STATUSES = ("optimal", "not_certified", "local_optimum", "grid")
METHODS = ("global", "local", "grid")
#: ``module:function`` computing the per-bank gap report (docs/model.md §4)
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


def _accepts(fn: Callable) -> tuple[bool, set]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return True, set()
    return any(p.kind == p.VAR_KEYWORD for p in params.values()), set(params)


def _call_filtered(fn: Callable, system, bank: str, kwargs: dict) -> dict:
    """``fn(system, bank, **kwargs)`` passing only the keywords ``fn`` accepts."""
    var_kw, names = _accepts(fn)
    return fn(system, bank, **{k: v for k, v in kwargs.items() if var_kw or k in names})


def _report_nonglobal(system, bank: str, method: str, options: dict) -> dict:
    """The gap numbers of docs/model.md §4 with the ``local`` or ``grid`` method (not certified)."""
    from liqstress.solvers.clearing import ell as ell_of
    from liqstress.solvers.original import inner_original, maximin_original
    from liqstress.solvers.robust import robust_strategies

    i = system.index(bank)
    e = ell_of(system)
    rob = robust_strategies(system, ell_vec=e)
    xs = float(rob.strategy[i])
    if rob.worst_case_value is not None:
        vt = float(rob.worst_case_value[i])
    else:
        from liqstress.solvers.relaxed import inner_relaxed

        vt = float(inner_relaxed(system, i, xs, method=method, ell_vec=e).value)
    v_rob = float(inner_original(system, i, xs, method=method, ell_vec=e).value)
    opt = _call_filtered(maximin_original, system, bank, {"method": method, "ell_vec": e, **options})
    return {
        "v_opt": float(opt.value),
        "v_rob": v_rob,
        "vt": vt,
        "regret": float(opt.value) - v_rob,
        "conservatism": v_rob - vt,
        "robust_strategy": xs,
        "optimal_strategy": float(opt.strategy),
        "liabilities": float(system.pbar[i]),
        "certified": False,
        "status": "local_optimum" if method == "local" else "grid",
        "message": str(opt.status),
    }


def gap_numbers(system, bank: str, method: str, options: dict, report: str = DEFAULT_REPORT) -> dict:
    """Dispatch: ``report`` if it is not the default; else ``gap_report`` for ``global``
    (or for every method once it takes a ``method`` keyword); else :func:`_report_nonglobal`."""
    fn = _gap_report_fn(report)
    _, names = _accepts(fn)
    if report != DEFAULT_REPORT or method == "global" or "method" in names:
        rep = dict(_call_filtered(fn, system, bank, {"method": method, **options}))
        if "status" not in rep:
            rep["status"] = "optimal" if rep.get("certified") else "not_certified"
        return rep
    return _report_nonglobal(system, bank, method, options)


def _num(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _first(rep: dict, *keys: str) -> Any:
    for k in keys:
        if rep.get(k) is not None:
            return rep[k]
    return None


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
        i = sysm.index(task.bank)
        row.update(n=sysm.n, alpha=sysm.alpha, f_kind=sysm.f.kind, beta=_num(getattr(sysm.f, "beta", math.nan)),
                   liabilities=float(sysm.pbar[i]))
        rep = gap_numbers(sysm, task.bank, task.method, task.options, task.report)
        for k in ("v_opt", "v_rob", "vt"):
            row[k] = _num(rep.get(k))
        row["regret"] = _num(_first(rep, "regret")) if "regret" in rep else row["v_opt"] - row["v_rob"]
        row["conservatism"] = _num(_first(rep, "conservatism")) if "conservatism" in rep else row["v_rob"] - row["vt"]
        if rep.get("liabilities") is not None:
            row["liabilities"] = _num(rep["liabilities"])
        row["conservatism_capped"] = row["v_rob"] - min(row["vt"], row["liabilities"])
        row["certified"] = bool(rep.get("certified", False))
        row["x_rob"] = _num(_first(rep, "x_rob", "robust_strategy"))
        row["x_opt"] = _num(_first(rep, "x_opt", "optimal_strategy"))
        finite = all(math.isfinite(row[k]) for k in ("v_opt", "v_rob", "vt"))
        row["status"] = str(rep.get("status")) if finite else "no_value"
        msg = str(rep.get("message", rep.get("note", "")) or "")
        bounds = rep.get("v_opt_bounds")
        if not msg and isinstance(bounds, (list, tuple)) and len(bounds) == 2 and None not in bounds:
            msg = f"v_opt in [{_num(bounds[0]):.9g}, {_num(bounds[1]):.9g}]"
        row["message"] = msg
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


def _failed_row(task: Task, status: str, err: BaseException) -> dict:
    row = {c: None for c in COLUMNS}
    row.update(system_id=task.system_id, bank=task.bank, method=task.method, status=status, certified=False,
               message=f"{type(err).__name__}: {' '.join(str(err).split())[:300]}")
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
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futs = {pool.submit(run_task, t): t for t in tasks}
        for fut in as_completed(futs):
            try:
                yield fut.result()
            except BrokenProcessPool:
                # a worker died (e.g. killed, out of memory): every pending task is lost, so
                # stop here; the rows written so far are kept and a rerun resumes
                raise SolverFailure("process pool", "worker_died", "a worker process died; rerun the same command to resume") from None
            except Exception as err:  # pragma: no cover - run_task catches everything itself
                yield _failed_row(futs[fut], "worker_error", err)


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
        by_key = {f.key: t for f, t in zip(futs, tasks)}
        for fut in dask_completed(futs, loop=client.loop):
            try:
                yield fut.result()
            except Exception as err:  # e.g. KilledWorker: this task keeps killing workers
                yield _failed_row(by_key[fut.key], "worker_error", err)
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
    warnings: list = field(default_factory=list)

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
    # the resume key is (system_id, bank): flag rows kept from a run with other settings
    stale = [
        t.key for t in tasks
        if t.key in seen and (seen[t.key]["method"] != t.method
                              or (t.alpha is not None and not _num(seen[t.key]["alpha"]) == float(t.alpha)))
    ]
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
    if stale:
        summary.warnings.append(
            f"{len(stale)} kept rows were computed with another --method or --alpha (e.g. {stale[0][0]} {stale[0][1]}); "
            "use a new output file to change settings")
    if plots:
        summary.plots = summary_plots(sink.rows, out)
    return summary


# =============================================================================== plots
def plot_paths(out: Path) -> dict[str, Path]:
    """PNG paths named after the whole output file (``gap.csv`` -> ``gap_csv_regret_hist.png``),
    so a Parquet run never overwrites the plots of a CSV run with the same stem."""
    out = Path(out)
    stem = out.with_suffix("")
    if out.suffix:
        stem = Path(f"{stem}_{out.suffix.lstrip('.').lower()}")
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
    cons = np.array([r["conservatism_capped"] for r in ok], dtype=float)
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
            ax.scatter(xs + jitter, cons, s=14, label="conservatism v_rob - min(vt, L_i)", color="tab:orange", marker="x")
            unc = ~cert
            if unc.any():
                ax.scatter(xs[unc] - jitter, regret[unc], s=40, facecolors="none", edgecolors="red", label="not certified")
            ax.legend(fontsize=8)
            if key == "gap_vs_n":
                ns = sorted({int(v) for v in xs if np.isfinite(v)})
                ax.set_xticks(ns)
                ax.set_xlim(min(ns) - 0.75, max(ns) + 0.75)  # readable with a single n too
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
    cons = np.array([r["conservatism_capped"] for r in ok], dtype=float)
    return {
        "rows": len(rows),
        "solved": len(ok),
        "failed": len(rows) - len(ok),
        "certified": int(sum(bool(r["certified"]) for r in ok)),
        "max_regret": float(reg.max()) if reg.size else None,
        "mean_regret": float(reg.mean()) if reg.size else None,
        "zero_regret_share": float(np.mean(reg <= 1e-7)) if reg.size else None,
        "max_conservatism_capped": float(cons.max()) if cons.size else None,
        "mean_conservatism_capped": float(cons.mean()) if cons.size else None,
        "min_conservatism_uncapped": float(min(r["conservatism"] for r in ok)) if ok else None,
        "solver_seconds": float(sum(_num(r["seconds"]) for r in rows if math.isfinite(_num(r["seconds"])))),
    }
