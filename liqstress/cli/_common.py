"""Shared CLI plumbing: one-line errors with exit codes, JSON output, tables."""

from __future__ import annotations

import functools
import json
import math
import sys
from typing import Any, Callable

import numpy as np
import typer

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
        return v if math.isfinite(v) else None
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

    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c not in ("name", "bank", "asset", "scenario") else "left")
    for r in rows:
        table.add_row(*[_fmt(v) for v in r])
    Console(width=max(100, 14 * len(columns))).print(table)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)
