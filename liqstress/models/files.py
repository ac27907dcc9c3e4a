"""Reading input files and turning pydantic errors into one-line :class:`InputError`.

Shared by the system file, the CBC plan file and the stress file (formats: ``docs/model.md``,
section "File formats"): a parse error or a validation error always becomes
``InputError(dotted.field.path, rule)``.

Every input file goes through :func:`read_document`, which is safe on hostile input
(``docs/model.md``, section "Input limits"):

* only regular files are opened (a FIFO, a device such as ``/dev/zero`` or a directory is
  refused before any read; the file is opened non-blocking and checked with ``fstat``);
* at most :data:`MAX_INPUT_BYTES` bytes are read;
* the text must be UTF-8 (a UTF-8 byte-order mark is accepted) and contain no NUL byte;
* YAML is parsed with the safe loader (no Python objects); the parsed document is walked
  once with a node budget, so an alias bomb (a few hundred bytes that expand to billions of
  nodes) or a recursive alias is rejected instead of exhausting memory, and nesting is
  limited to :data:`MAX_DEPTH` levels (deeply nested JSON cannot raise ``RecursionError``);
  JSON numbers are checked while parsing, and a JSON text above 1 MiB is not walked (JSON
  has no aliases; its nesting is then bounded by the parser, not by MAX_DEPTH);
* every number must be finite with ``|v| <= MAX_MAGNITUDE`` (booleans are not numbers);
* files keyed by names (neva JSON, multi-asset files, per-bank mappings) are read with
  ``unique_keys=True``: a key repeated in one mapping is an error, not a silently lost line.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from liqstress.errors import InputError

#: Largest input file read, in bytes (256 MiB: a 1e5-bank / 1e6-exposure JSON system is ~92 MB).
MAX_INPUT_BYTES = 256 * 2**20
#: Largest accepted absolute value of any number in an input file.
MAX_MAGNITUDE = 1e15
#: Deepest accepted nesting of mappings and lists.
MAX_DEPTH = 64

#: JSON texts longer than this are not walked by :func:`check_document`: their numbers are
#: checked while parsing (:func:`_json_float` ...), which costs ~0.1 s per million numbers.
_JSON_FAST = 1 << 20


class _OutOfRange(Exception):
    """A JSON number outside the limits; the document is parsed again to name the place."""


def _json_float(text: str) -> float:
    v = float(text)
    if not -MAX_MAGNITUDE <= v <= MAX_MAGNITUDE:
        raise _OutOfRange(text)
    return v


def _json_int(text: str) -> int:
    v = int(text)
    if len(text) > 15 and abs(v) > MAX_MAGNITUDE:
        raise _OutOfRange(text)
    return v


def _json_constant(text: str) -> float:
    raise _OutOfRange(text)

_SKIP_LOC = ("function-", "literal", "typed-dict")
_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$")


def read_bytes(path: str | Path, field: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; InputError otherwise.

    The file is opened non-blocking (a FIFO cannot hang the reader) and ``fstat``-checked
    before anything is read (a device such as /dev/zero is refused)."""
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise InputError(field, f"file not found: {p}") from None
    except IsADirectoryError:
        raise InputError(field, f"is a directory, not a file: {p}") from None
    except PermissionError:
        raise InputError(field, f"permission denied: {p}") from None
    except NotADirectoryError:
        raise InputError(field, f"a parent of {p} is not a directory") from None
    except OSError as err:
        raise InputError(field, f"cannot open {p}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(field, f"is a directory, not a file: {p}")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(field, f"not a regular file (FIFO, device or socket): {p}")
        if st.st_size > limit:
            raise InputError(field, f"{p.name} is {st.st_size} bytes; input files are limited to {limit} bytes")
        chunks, total = [], 0
        while True:
            try:
                b = os.read(fd, min(1 << 20, limit + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files never block
                continue
            if not b:
                break
            chunks.append(b)
            total += len(b)
            if total > limit:
                raise InputError(field, f"{p.name} exceeds the input size limit of {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | Path, field: str = "file", limit: int = MAX_INPUT_BYTES) -> str:
    """UTF-8 text of a regular file (see :func:`read_bytes`); InputError for anything else."""
    data = read_bytes(path, field, limit)
    name = Path(path).name
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(field, f"{name} is UTF-16 text; save it as UTF-8")
    if b"\x00" in data:
        raise InputError(field, f"{name} is binary (contains NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start:err.start + 1].hex()
        raise InputError(field, f"{name} is not UTF-8 text (byte 0x{bad} at offset {err.start}); save it as UTF-8") from None


def _where(path: str) -> str:
    if len(path) > 80:
        return path[:60] + "..."
    return path or "document"


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (plain data only), also reading ``1e5`` as a number (YAML 1.2; YAML 1.1
    wants ``1.0e5`` and would otherwise give the string "1e5")."""


_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class _UniqueKeyLoader(_SafeLoader):
    """:class:`_SafeLoader` that refuses a key repeated in one mapping (the safe loader keeps
    the last silently; for files keyed by bank or asset name that would drop a line)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                except TypeError:  # unhashable key: the safe constructor reports it
                    continue
                if dup:
                    raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                            f"found duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def _unique_pairs(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def check_document(doc: Any, field: str = "file", budget: int = 10_000_000) -> Any:
    """Walk a parsed document once: at most ``budget`` values (alias expansion counts, so an
    alias bomb or a recursive alias stops here), nesting <= MAX_DEPTH, numbers finite with
    ``|v| <= MAX_MAGNITUDE``.  Returns ``doc``; InputError naming the place otherwise.

    The walk keeps no paths (a 1e6-exposure file is checked in about a second); the dotted
    path of a bad value is recovered by :func:`_locate` only when there is one."""
    M = MAX_MAGNITUDE
    stack: list[tuple[Any, int]] = [(doc, 0)] if type(doc) in (dict, list) else []
    seen = 1
    if type(doc) is float or type(doc) is int:
        _check_scalar(doc, "document")
    while stack:
        node, depth = stack.pop()
        vals = node.values() if type(node) is dict else node
        if depth >= MAX_DEPTH:
            raise InputError(_where(_locate(doc, lambda v, d: d >= MAX_DEPTH and type(v) in (dict, list))),
                             f"nested deeper than {MAX_DEPTH} levels")
        seen += len(vals)
        if seen > budget:
            raise InputError(field, f"document expands to more than {budget} values (YAML aliases?); refusing to expand it")
        for v in vals:
            t = type(v)
            if t is float:
                if not -M <= v <= M:  # also false for NaN
                    _check_scalar(v, _where(_locate(doc, lambda x, d, v=v: x is v)))
            elif t is int:
                if v > M or v < -M:
                    _check_scalar(v, _where(_locate(doc, lambda x, d, v=v: x is v)))
            elif t is dict or t is list:
                stack.append((v, depth + 1))
    return doc


def _check_scalar(v: Any, where: str) -> None:
    if type(v) is float and not math.isfinite(v):
        raise InputError(where, "must be a finite number (no NaN or inf)")
    if abs(v) > MAX_MAGNITUDE:
        shown = f"{v:g}" if type(v) is float else _short(v)
        raise InputError(where, f"|value| must be <= {MAX_MAGNITUDE:g}, got {shown}")


def _locate(doc: Any, hit) -> str:
    """Dotted path of the first value for which ``hit(value, depth)`` is true (depth-first,
    bounded by MAX_DEPTH + 1 levels, so it terminates on recursive aliases)."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if hit(node, depth):
            return where
        if depth > MAX_DEPTH:
            continue
        if type(node) is dict:
            items = [(f"{where}.{k}" if where else str(k), v) for k, v in node.items()]
        elif type(node) is list:
            items = [(f"{where}[{k}]", v) for k, v in enumerate(node)]
        else:
            continue
        stack.extend((v, w, depth + 1) for w, v in reversed(items))
    return ""


def _short(v: int) -> str:
    s = str(v)
    return s if len(s) <= 24 else f"{s[:8]}...({len(s)} digits)"


def parse_text(text: str, name: str, as_json: bool, field: str = "file", budget: int | None = None,
               unique_keys: bool = False) -> Any:
    """Parse JSON or YAML text (safe loader) and :func:`check_document` the result.

    ``unique_keys``: a key repeated in one mapping is an error (files keyed by names)."""
    checked = False
    hook = _unique_pairs if unique_keys else None
    try:
        if as_json:
            try:
                doc = json.loads(text, parse_float=_json_float, parse_int=_json_int, parse_constant=_json_constant,
                                 object_pairs_hook=hook)
                checked = True
            except _OutOfRange:
                doc = json.loads(text, object_pairs_hook=hook)  # again, unchecked: check_document names the place
        else:
            doc = yaml.load(text, Loader=_UniqueKeyLoader if unique_keys else _SafeLoader)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as err:
        first = " ".join(str(err).split())[:200] or type(err).__name__
        raise InputError(field, f"cannot parse {name}: {first}") from None
    except RecursionError:
        raise InputError(field, f"cannot parse {name}: nested deeper than {MAX_DEPTH} levels") from None
    if checked and len(text) > _JSON_FAST:
        # large JSON whose numbers were checked while parsing: no aliases to expand, so the
        # walk (about 1 s per million values) is skipped; nesting stays bounded by the parser
        return doc
    return check_document(doc, field, budget if budget is not None else 4 * len(text) + 10_000)


def read_document(path: str | Path, field: str = "file", unique_keys: bool = False) -> Any:
    """Parse a JSON (by suffix) or YAML file safely (module docstring); InputError(field, ...)
    if missing, not a regular file, too large, not UTF-8, unparsable or out of range (and,
    with ``unique_keys``, if a mapping repeats a key)."""
    p = Path(path)
    text = read_text(p, field)
    return parse_text(text, p.name, p.suffix.lower() == ".json", field, unique_keys=unique_keys)


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

    An unknown key is reported before anything else (a misspelt ``liabilitys`` is named, with
    the closest known field, rather than reported as a missing ``liabilities``).  Messages our
    own validators raise as ``"sub.field: rule"`` are re-rooted under the location of the
    model that raised them.
    """
    errors = err.errors(include_url=False)
    extra = [e for e in errors if e.get("type") == "extra_forbidden"]
    e = extra[0] if extra else errors[0]
    field = dotted(tuple(e.get("loc", ())))
    msg = str(e.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    typ = e.get("type", "")
    if typ == "finite_number":
        msg = "must be a finite number (no NaN or inf)"
    elif typ == "extra_forbidden":
        msg = "unknown field"
        loc = tuple(e.get("loc", ()))
        missing = [str(m["loc"][-1]) for m in errors
                   if m.get("type") == "missing" and tuple(m.get("loc", ()))[:-1] == loc[:-1] and m.get("loc")]
        close = difflib.get_close_matches(str(loc[-1]) if loc else "", missing, n=1, cutoff=0.6) if missing else []
        if close:
            msg = f"unknown field (did you mean {close[0]!r}?)"
        elif missing:
            msg = f"unknown field (missing: {', '.join(missing)})"
    elif typ == "missing":
        msg = "is required"
    elif typ in ("float_type", "int_type", "bool_type", "string_type") and isinstance(e.get("input"), (bool, str)):
        got = e.get("input")
        msg = f"{msg.rstrip('.')} (got {'a boolean' if isinstance(got, bool) else 'the string ' + repr(got[:40])})"
    head, sep, rest = msg.partition(": ")
    if sep and _FIELD_PATH.match(head):
        field = f"{field}.{head}" if field else head
        msg = rest
    return InputError(field or root, msg)
