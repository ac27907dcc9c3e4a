"""Shared CLI plumbing: one-line errors with exit codes, JSON output, tables, progress,
outputs written only after every input is validated, and the certification exit status.

Exit statuses (``docs/model.md``, section "Exit statuses"): 0 success, 1 a pipeline step
failed, 2 bad input or usage, 3 solver failure, 4 a max-min / gap result that is not
certified (unless ``--allow-uncertified``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np
import typer
from typer.core import TyperGroup

from liqstress.errors import InputError, LiqstressError


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return clean_number(v) if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def print_json(doc: Any) -> None:
    """Write one JSON document on stdout (NaN/inf become null)."""
    sys.stdout.write(json.dumps(_jsonable(doc), indent=2, allow_nan=False) + "\n")


def fail(message: str, code: int = 2) -> None:
    sys.stderr.write("liqstress: " + " ".join(str(message).split()) + "\n")
    raise typer.Exit(code)


def guarded(func: Callable) -> Callable:
    """Decorator for command functions: user mistakes -> one line on stderr + exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except LiqstressError as err:
            fail(str(err), err.exit_code)
        except FileNotFoundError as err:
            fail(f"file: not found: {err.filename}", 2)
        except IsADirectoryError as err:
            fail(f"file: is a directory: {err.filename}", 2)
        except PermissionError as err:
            fail(f"file: permission denied: {err.filename}", 2)
        except NotADirectoryError as err:
            fail(f"file: a parent of {err.filename} is not a directory", 2)
        except UnicodeDecodeError as err:
            fail(f"file: not UTF-8 text ({err.reason} at byte {err.start})", 2)
        except RecursionError:
            fail("file: input nested too deeply", 2)
        except OSError as err:
            fail(f"file: {err.strerror or err}" + (f": {err.filename}" if getattr(err, "filename", None) else ""), 2)

    return wrapper


def parse_float_list(text: str, field: str) -> np.ndarray:
    """Parse '1,2.5,3' into floats; reject NaN/inf with a named error."""
    try:
        vals = [float(t) for t in text.split(",") if t.strip() != ""]
    except ValueError:
        raise InputError(field, f"expected comma-separated numbers, got {text!r}") from None
    arr = np.asarray(vals, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise InputError(field, "must be finite numbers (no NaN or inf)")
    return arr


def render_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Readable table on stdout with rich."""
    from rich.console import Console
    from rich.table import Table

    cells = [[_fmt(v) for v in r] for r in rows]
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c not in ("name", "bank", "asset", "scenario") else "left")
    for r in cells:
        table.add_row(*r)
    # wide enough that no cell wraps (censored horizons print as ">= 365 (whole projection)")
    need = sum(max([len(str(c))] + [len(r[k]) for r in cells if k < len(r)]) + 3 for k, c in enumerate(columns)) + 1
    Console(width=max(100, 14 * len(columns), need)).print(table)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return fmt_number(float(v))
    return str(v)


# =========================================================================== numbers for people
#: Absolute values below this print as 0 (round-off of differences of O(1) quantities).
ZERO_TOL = 1e-12


def clean_number(x: float, scale: float = 1.0, rel: float = ZERO_TOL) -> float:
    """``x`` with round-off removed for output: 0.0 when ``|x| <= rel * max(1, |scale|)``
    (so neither ``-0`` nor ``-4e-14`` reaches a user), otherwise ``x`` unchanged."""
    x = float(x)
    if not math.isfinite(x):
        return x
    if abs(x) <= rel * max(1.0, abs(float(scale))):
        return 0.0
    return x


def fmt_number(x: Optional[float], digits: int = 6, scale: float = 1.0) -> str:
    """``x`` to ``digits`` significant digits, round-off shown as ``0``, never ``-0``."""
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "n/a"
    x = clean_number(x, scale)
    text = f"{x:.{digits}g}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def fmt_percent(ratio: Optional[float], decimals: int = 1) -> str:
    """A ratio (1.278) as a percentage (``127.8%``); ``n/a`` when missing or not finite."""
    if ratio is None or not math.isfinite(float(ratio)):
        return "n/a"
    text = f"{100.0 * clean_number(float(ratio)):.{decimals}f}%"
    return text[1:] if text.startswith("-") and float(text[:-1]) == 0.0 else text


def fmt_days(days: Optional[int], horizon: Optional[int] = None, censored: Optional[bool] = None) -> str:
    """A survival horizon in days; a horizon that reaches the end of the projection is
    censored (the bank survives at least that long) and prints as ``>= H (whole projection)``,
    the wording of :func:`liqstress.solvers.cbc.survival_text` used by the reports and JSON."""
    if days is None:
        return "-"
    cen = bool(censored) if censored is not None else (horizon is not None and days >= horizon)
    return f">= {int(horizon if horizon is not None else days)} (whole projection)" if cen else str(int(days))


def split_provenance(text: str) -> tuple[str, list[dict]]:
    """See :func:`liqstress.reports.formatting.split_provenance`."""
    from liqstress.reports.formatting import split_provenance as _split

    return _split(text)


# =========================================================================== certification
#: Exit status of a max-min / gap result that is not certified (without --allow-uncertified).
EXIT_UNCERTIFIED = 4


def allow_uncertified_option() -> Any:
    """The ``--allow-uncertified`` flag (a fresh typer option for each command)."""
    return typer.Option(
        False, "--allow-uncertified",
        help="Exit 0 even when the result is not certified (default: exit status 4).",
    )


def exit_if_uncertified(certified: bool, status: str, allow: bool, what: str = "result") -> None:
    """After the result was printed: exit with status 4 and one line on stderr when it is not
    certified, unless ``allow`` (``--allow-uncertified``)."""
    if certified or allow:
        return
    fail(f"{what} is NOT certified (status {status}): the printed value is not proven optimal; "
         f"pass --allow-uncertified to accept it with exit status 0", EXIT_UNCERTIFIED)


# =========================================================================== outputs
def check_output_path(path: Path, field: str = "--out", directory: bool = False) -> Path:
    """Fail early (exit 2, before any work) if ``path`` cannot be an output: an existing
    ancestor that is not a directory, a directory where a file is expected, or the reverse."""
    path = Path(path)
    if directory and path.exists() and not path.is_dir():
        raise InputError(field, f"{path} exists and is not a directory")
    if not directory and path.is_dir():
        raise InputError(field, f"{path} is a directory, not a file")
    for anc in path.absolute().parents:
        if anc.exists():
            if not anc.is_dir():
                raise InputError(field, f"{anc} is not a directory, so {path} cannot be written")
            if not os.access(anc, os.W_OK):
                raise InputError(field, f"permission denied: cannot write into {anc}")
            break
    return path


def _nearest_existing(path: Path) -> Path:
    for anc in (path.absolute(), *path.absolute().parents):
        if anc.exists():
            return anc
    return Path.cwd()  # pragma: no cover


@contextlib.contextmanager
def write_outputs_atomically(final_dir: Path, field: str = "--out") -> Iterator[Path]:
    """Stage every output file in a temporary folder and move them into ``final_dir`` (created
    if needed) only when the block succeeds; on any error nothing is left behind.

        with write_outputs_atomically(out) as stage:
            write_everything(stage)      # paths under ``stage`` mirror paths under ``out``
    """
    final_dir = check_output_path(Path(final_dir), field, directory=True)
    base = _nearest_existing(final_dir)
    stage = Path(tempfile.mkdtemp(prefix=".liqstress-stage-", dir=base))
    try:
        yield stage
        final_dir.mkdir(parents=True, exist_ok=True)
        for src in sorted(stage.rglob("*")):
            if src.is_dir():
                continue
            dst = final_dir / src.relative_to(stage)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: Path, field: str = "--out") -> Iterator[Path]:
    """A temporary path beside ``path``, moved onto ``path`` when the block succeeds."""
    path = check_output_path(Path(path), field)
    with write_outputs_atomically(path.parent, field) as stage:
        yield stage / path.name


# =========================================================================== progress
class Progress:
    """A progress bar on stderr (tqdm) for work that can take more than a couple of seconds;
    silent when stderr is not a terminal unless ``LIQSTRESS_PROGRESS=1``."""

    def __init__(self, total: Optional[int], desc: str, unit: str = "step", enabled: Optional[bool] = None):
        if enabled is None:
            enabled = progress_enabled()
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
                             disable=False, mininterval=0.2)

    def advance(self, n: int = 1, note: Optional[str] = None) -> None:
        if self._bar is not None:
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_enabled() -> bool:
    """Progress output goes to stderr when it is a terminal (``LIQSTRESS_PROGRESS=1``/``0``
    forces it on/off)."""
    env = os.environ.get("LIQSTRESS_PROGRESS")
    return (env == "1") if env in ("0", "1") else sys.stderr.isatty()


@contextlib.contextmanager
def spinner(text: str) -> Iterator[None]:
    """An animated status line with elapsed time on stderr during one long solve (rich)."""
    if not progress_enabled():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress as _RichProgress
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with _RichProgress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                       console=Console(stderr=True), transient=True) as bar:
        bar.add_task(text, total=None)
        yield


def progress(total: Optional[int], desc: str, unit: str = "step", enabled: Optional[bool] = None) -> Progress:
    """``with progress(n, "figures") as bar: ... bar.advance()`` (see :class:`Progress`)."""
    return Progress(total, desc, unit, enabled)


# =========================================================================== usage errors
def _is_a(err: BaseException, name: str) -> bool:
    # typer >= 0.26 vendors click (typer._click), older typer uses click: match by class name
    return any(c.__name__ == name for c in type(err).__mro__)


class OneLineErrorsGroup(TyperGroup):
    """Click/typer usage errors (missing argument, bad option value, unknown option) as one
    line on stderr with exit status 2, instead of a boxed multi-line message."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        except Exception as err:
            if not standalone_mode:
                raise
            if _is_a(err, "ClickException"):
                if _is_a(err, "NoArgsIsHelpError") and getattr(err, "ctx", None) is not None:
                    sys.stdout.write(err.ctx.get_help() + "\n")  # bare ``liqstress`` / group: the help
                else:
                    _usage_line(err)
                sys.exit(getattr(err, "exit_code", 2))
            if isinstance(err, typer.Abort) or _is_a(err, "Abort"):
                sys.stderr.write("liqstress: aborted\n")
                sys.exit(1)
            raise
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


def _usage_line(err: BaseException) -> None:
    ctx = getattr(err, "ctx", None)
    where = ctx.command_path if ctx is not None else "liqstress"
    msg = " ".join(err.format_message().split())  # type: ignore[attr-defined]
    hint = f" (see '{where} --help')" if _is_a(err, "UsageError") else ""
    where = where if where.startswith("liqstress") else f"liqstress {where}"
    sys.stderr.write(f"{where}: {msg}{hint}\n")
