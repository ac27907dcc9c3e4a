"""Reading input files and turning pydantic errors into one-line :class:`InputError`.

Shared by the system file (SPEC Part C), the CBC plan file and the stress file: a parse error
or a validation error always becomes ``InputError(dotted.field.path, rule)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from liqstress.errors import InputError

_SKIP_LOC = ("function-", "literal", "typed-dict")
_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$")


def read_document(path: str | Path, field: str = "file") -> Any:
    """Parse a JSON (by suffix) or YAML file; InputError(field, ...) if missing or unparsable."""
    p = Path(path)
    if not p.exists():
        raise InputError(field, f"file not found: {p}")
    if p.is_dir():
        raise InputError(field, f"is a directory: {p}")
    text = p.read_text()
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        first = " ".join(str(err).split())[:200] or type(err).__name__
        raise InputError(field, f"cannot parse {p.name}: {first}") from None


def dotted(loc: tuple) -> str:
    """pydantic location -> ``a.b[3].c`` (internal validator/union tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        part = str(part)
        if part.startswith(_SKIP_LOC) or "[" in part:
            continue
        out += f".{part}" if out else part
    return out


def validation_error(err: ValidationError, root: str = "file") -> InputError:
    """The first pydantic error as ``InputError(dotted path, rule)``.

    Messages our own validators raise as ``"sub.field: rule"`` are re-rooted under the
    location of the model that raised them.
    """
    e = err.errors(include_url=False)[0]
    field = dotted(tuple(e.get("loc", ())))
    msg = str(e.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    typ = e.get("type", "")
    if typ == "finite_number":
        msg = "must be a finite number (no NaN or inf)"
    elif typ == "extra_forbidden":
        msg = "unknown field"
    elif typ == "missing":
        msg = "is required"
    head, sep, rest = msg.partition(": ")
    if sep and _FIELD_PATH.match(head):
        field = f"{field}.{head}" if field else head
        msg = rest
    return InputError(field or root, msg)
