"""Columnar system inputs: neva-style CSV pairs and Parquet pairs, read with pyarrow.

``BALANCE.csv:EXPOSURES.csv`` and ``BALANCE.parquet:EXPOSURES.parquet`` hold the same
tables:

* balance sheets — columns ``bank_name, external_asset, external_liabilities`` (the neva
  format) and optionally ``liquid, illiquid`` (the exact split of the external assets; without
  them ``liquid = liquid_share * external_asset``, the rest illiquid units at price 1);
  other columns are ignored (neva keeps them as parameters);
* exposures — an edge list ``lender, borrower, amount`` (the borrower owes the lender;
  repeated pairs: the last line wins, as in neva) or ``debtor, creditor, amount``
  (liqstress' orientation; repeated pairs are summed, as in system files).  A CSV may
  instead hold the header-less n x n lender x borrower matrix of neva.

Parquet files written by :func:`write_parquet` carry the inverse demand and alpha in the
file metadata (key ``liqstress``), so a Parquet pair round-trips a system exactly; CSV pairs
and Parquet files without that key get the default linear f with ``f(S) = 1 - impact``.

Everything is vectorised (pyarrow parsing, hashing of names with ``pyarrow.compute``), so
a 1e5-bank, 1e6-exposure system loads in well under a second; every problem is a one-line
:class:`~liqstress.errors.InputError` naming the file, line and column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError
from liqstress.models.files import MAX_MAGNITUDE
from liqstress.models.inverse_demand import InverseDemand, from_dict
from liqstress.models.system import System

META_KEY = b"liqstress"
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def split_pair(spec: str) -> Optional[tuple[str, str, str]]:
    """``(kind, balance, exposures)`` for ``A.csv:B.csv`` / ``A.parquet:B.parquet``, else None."""
    if ":" not in spec:
        return None
    bs, ex = spec.rsplit(":", 1)
    lb, le = bs.lower(), ex.lower()
    if lb.endswith(CSV_SUFFIXES) and le.endswith(CSV_SUFFIXES):
        return "csv", bs, ex
    if lb.endswith(PARQUET_SUFFIXES) and le.endswith(PARQUET_SUFFIXES):
        return "parquet", bs, ex
    return None


def is_single_table(spec: str) -> bool:
    low = spec.lower()
    return low.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES) and split_pair(spec) is None


# ----------------------------------------------------------------------------- reading
def _np(col, dtype) -> np.ndarray:
    """A null-free numeric (Chunked)Array as numpy, straight from its data buffers (pyarrow's
    own ``to_numpy`` imports pandas, which costs more than the whole read)."""
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    parts = [np.frombuffer(ch.buffers()[1], dtype=dtype, count=len(ch), offset=ch.offset * np.dtype(dtype).itemsize)
             for ch in chunks if len(ch)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _first_null(col) -> int:
    k = 0
    for ch in (col.chunks if hasattr(col, "chunks") else [col]):
        if ch.null_count:
            return k + next(i for i, v in enumerate(ch.to_pylist()) if v is None)
        k += len(ch)
    return -1


def _loc(where: str, kind: str, k: int) -> str:
    """Where row ``k`` (0-based, after the header) of a table is: ``b.csv:3`` (the line of a
    CSV whose line 1 is the header) or ``b.parquet:row 1``."""
    return f"{where}:{k + 2}" if kind == "csv" else f"{where}:row {k + 1}"


def _row_word(kind: str, k: int) -> str:
    return f"line {k + 2}" if kind == "csv" else f"row {k + 1}"


def _file_bytes(path: Path, kind: str) -> bytes:
    """The file's bytes through the shared reader (:mod:`liqstress.models.files`): regular
    files only (a FIFO or /dev/zero is refused before any read), the size limit, and for CSV
    UTF-8 text without NUL bytes (a byte-order mark is dropped)."""
    from liqstress.models.files import read_bytes, read_text

    if kind == "parquet":
        return read_bytes(path, path.name)
    return read_text(path, path.name).encode("utf-8")


def _read_table(path: Path, kind: str, strings: tuple[str, ...] = (), data: Optional[bytes] = None):
    import pyarrow as pa

    if data is None:
        data = _file_bytes(path, kind)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(pa.BufferReader(data))
        else:
            import pyarrow.csv as pcsv

            types = {c: pa.string() for c in strings}
            table = pcsv.read_csv(pa.BufferReader(data), convert_options=pcsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, OSError, ValueError) as err:
        first = " ".join(str(err).split())[:200]
        if "Empty CSV file" in first:
            raise InputError(path.name, "empty file (a header line is required)") from None
        raise InputError(path.name, f"cannot parse: {first}") from None
    seen: set[str] = set()
    for name in table.column_names:
        if name in seen:
            raise InputError(f"{path.name}.header", f"duplicate column {name!r}")
        seen.add(name)
    return table


def _column(table, name: str, where: str, kind: str = "csv") -> np.ndarray:
    """A numeric column as float64: finite, >= 0 and at most MAX_MAGNITUDE; InputError naming
    the file, the first bad row and the column otherwise."""
    import pyarrow as pa

    col = table.column(name)
    typ = col.type
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
        col = col.cast(typ)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        if col.null_count:
            raise InputError(f"{_loc(where, kind, _first_null(col))}.{name}", "expected a number, got an empty field")
        if not pa.types.is_float64(typ):
            try:
                col = col.cast(pa.float64())
            except pa.ArrowException as err:
                raise InputError(f"{where}.{name}", f"cannot read as numbers: {' '.join(str(err).split())[:120]}") from None
        arr = _np(col, np.float64)
    else:
        try:
            text = col.cast(pa.string()) if not pa.types.is_string(typ) else col
        except pa.ArrowException:
            raise InputError(f"{where}.{name}", f"expected numbers, got a column of type {typ}") from None
        vals = text.to_pylist()
        arr = np.empty(len(vals))
        for k, v in enumerate(vals):
            try:
                arr[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{_loc(where, kind, k)}.{name}", f"expected a number, got {v!r}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        k = int(bad.argmax())
        raise InputError(f"{_loc(where, kind, k)}.{name}", "must be a finite number (no NaN or inf)")
    neg = arr < 0
    if neg.any():
        k = int(neg.argmax())
        raise InputError(f"{_loc(where, kind, k)}.{name}", f"must be >= 0, got {arr[k]}")
    big = arr > MAX_MAGNITUDE
    if big.any():
        k = int(big.argmax())
        raise InputError(f"{_loc(where, kind, k)}.{name}", f"|value| must be <= {MAX_MAGNITUDE:g}, got {arr[k]:g}")
    return arr


def _strings(table, name: str, where: str = "table"):
    import pyarrow as pa

    col = table.column(name)
    if not pa.types.is_string(col.type):
        try:
            col = col.cast(pa.string())
        except pa.ArrowException:
            raise InputError(f"{where}.{name}", f"expected bank names (text), got a column of type {col.type}") from None
    return col


def read_balance(path: Path, kind: str, liquid_share: float) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, Any]:
    """(names, c, s, b, table) from a balance-sheet table."""
    where = path.name
    table = _read_table(path, kind, strings=("bank_name",))
    cols = set(table.column_names)
    for need in ("bank_name", "external_asset", "external_liabilities"):
        if need not in cols:
            raise InputError(f"{where}.header", f"missing column {need!r} (neva format: bank_name, external_asset, external_liabilities)")
    if ("liquid" in cols) != ("illiquid" in cols):
        have, lack = ("liquid", "illiquid") if "liquid" in cols else ("illiquid", "liquid")
        raise InputError(f"{where}.header", f"column {have!r} without {lack!r}: the two give the exact split of external_asset together")
    if table.num_rows == 0:
        raise InputError(where, "no banks (at least one row is required)")
    names_col = _strings(table, "bank_name", where)
    if names_col.null_count:
        raise InputError(f"{_loc(where, kind, _first_null(names_col))}.bank_name", "must be a non-empty string")
    names = [str(x).strip() for x in names_col.to_pylist()]
    ext = _column(table, "external_asset", where, kind)
    b = _column(table, "external_liabilities", where, kind)
    if "liquid" in cols:
        c = _column(table, "liquid", where, kind)
        s = _column(table, "illiquid", where, kind)
        off = np.abs(c + s - ext) > 1e-9 * np.maximum(ext, 1.0)
        if off.any():
            k = int(off.argmax())
            raise InputError(_loc(where, kind, k), f"liquid + illiquid = {c[k] + s[k]:.10g} must equal external_asset = {ext[k]:.10g}")
    else:
        if not 0 <= liquid_share < 1:
            raise InputError("liquid_share", f"must be in [0, 1), got {liquid_share}")
        c, s = liquid_share * ext, (1 - liquid_share) * ext
    empty = [k for k, nm in enumerate(names) if not nm]
    if empty:
        raise InputError(f"{_loc(where, kind, empty[0])}.bank_name", "must be a non-empty string")
    return names, c, s, b, table


def _name_index(values, names_arr, where: str, role: str, kind: str = "csv") -> np.ndarray:
    import pyarrow.compute as pc

    idx = pc.index_in(values, value_set=names_arr)
    if idx.null_count:
        k = _first_null(idx)
        raise InputError(f"{_loc(where, kind, k)}.{role}", f"unknown bank name {values[k].as_py()!r}")
    return _np(idx.cast("int64"), np.int64)


def read_edges(path: Path, kind: str, names: list[str], names_arr=None) -> sp.csr_matrix:
    """The exposures table as the debtor x creditor matrix (neva edge list, liqstress edge
    list, or — CSV only — the n x n lender x borrower matrix)."""
    import pyarrow as pa

    where = path.name
    n = len(names)
    data = _file_bytes(path, kind)
    if kind == "csv" and not _csv_has_edge_header(data):
        return _read_matrix_csv(path, data, names)
    table = _read_table(path, kind, strings=("lender", "borrower", "debtor", "creditor"), data=data)
    del data
    cols = table.column_names
    if {"lender", "borrower", "amount"} <= set(cols):
        credit, debit, last_wins = "lender", "borrower", True
    elif {"debtor", "creditor", "amount"} <= set(cols):
        credit, debit, last_wins = "creditor", "debtor", False
    else:
        raise InputError(f"{where}.header", "edge list header must be lender,borrower,amount (or debtor,creditor,amount)")
    if table.num_rows == 0:
        return sp.csr_matrix((n, n))
    if names_arr is None:
        names_arr = pa.array([str(x) for x in names], type=pa.string())
    for role in (credit, debit):
        col = _strings(table, role, where)
        if col.null_count:
            raise InputError(f"{_loc(where, kind, _first_null(col))}.{role}", "must be a bank name")
    import pyarrow.compute as pc

    cred = _name_index(pc.utf8_trim_whitespace(_strings(table, credit, where)), names_arr, where, credit, kind)
    debt = _name_index(pc.utf8_trim_whitespace(_strings(table, debit, where)), names_arr, where, debit, kind)
    amt = _column(table, "amount", where, kind)
    loop = cred == debt
    if loop.any():
        k = int(loop.argmax())
        raise InputError(_loc(where, kind, k), f"self-loop: bank {names[cred[k]]!r} cannot owe itself (L_ii = 0)")
    if last_wins:  # neva: a repeated (lender, borrower) pair keeps the last line
        key = debt * n + cred
        order = np.argsort(key, kind="stable")
        ks = key[order]
        last = np.ones(ks.size, dtype=bool)
        last[:-1] = ks[1:] != ks[:-1]
        keep = order[last]
        debt, cred, amt = debt[keep], cred[keep], amt[keep]
    Lm = sp.csr_matrix((amt, (debt, cred)), shape=(n, n))  # repeated debtor/creditor pairs are summed
    if Lm.nnz and Lm.data.max() > MAX_MAGNITUDE:
        i, j = (int(x[0]) for x in (Lm > MAX_MAGNITUDE).nonzero())
        raise InputError(f"{where}.amount", f"{names[i]!r} owes {names[j]!r} {Lm[i, j]:g} in total; |value| must be <= {MAX_MAGNITUDE:g}")
    return Lm


def _csv_has_edge_header(data: bytes) -> bool:
    head = data[:4096].split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    for cell in head.split(","):  # a header has a non-numeric cell; neva's matrix has none
        try:
            float(cell.strip().strip('"'))
        except ValueError:
            return True
    return False


def _read_matrix_csv(path: Path, data: bytes, names: list[str]) -> sp.csr_matrix:
    """neva's header-less n x n matrix: entry (l, b) is what bank b owes bank l (kept sparse:
    only the nonzero entries are stored)."""
    import csv
    import io

    n = len(names)
    rows = (r for r in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) if r and any(x.strip() for x in r))
    lender, borrower, vals = [], [], []
    count = 0
    for l_idx, r in enumerate(rows):
        count += 1
        if count > n:
            continue  # counted for the message below
        if len(r) != n:
            raise InputError(f"{path.name}:{l_idx + 1}", f"expected {n} columns, got {len(r)}")
        try:
            row = np.array(r, dtype=float)
        except ValueError:
            row = None
        where = f"{path.name}:{l_idx + 1}"
        for b_idx, x in enumerate(r):
            if row is not None and np.isfinite(row[b_idx]) and 0 <= row[b_idx] <= MAX_MAGNITUDE:
                continue
            try:
                v = float(x)
            except ValueError:
                raise InputError(f"{where}.col{b_idx + 1}", f"expected a number, got {x!r}") from None
            if not np.isfinite(v):
                raise InputError(f"{where}.col{b_idx + 1}", "must be a finite number (no NaN or inf)")
            if v < 0:
                raise InputError(f"{where}.col{b_idx + 1}", f"must be >= 0, got {v}")
            if v > MAX_MAGNITUDE:
                raise InputError(f"{where}.col{b_idx + 1}", f"|value| must be <= {MAX_MAGNITUDE:g}, got {v:g}")
        if row is None:
            row = np.array([float(x) for x in r])
        nz = np.flatnonzero(row)
        if row[l_idx] != 0:
            raise InputError(where, f"diagonal entry for {names[l_idx]!r} must be 0 (L_ii = 0)")
        lender.append(np.full(nz.size, l_idx, dtype=np.int64))
        borrower.append(nz)
        vals.append(row[nz])
    if count != n:
        raise InputError(path.name, f"exposure matrix has {count} rows, expected {n} (one per bank)")
    cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dtype=dt))
    return sp.csr_matrix((cat(vals, float), (cat(borrower, np.int64), cat(lender, np.int64))), shape=(n, n))  # debtor x creditor


def _meta(table, where: str) -> dict:
    """The liqstress key of a Parquet file's metadata: the inverse demand and alpha, validated
    like a system file's."""
    md = table.schema.metadata or {}
    if META_KEY not in md:
        return {}
    from liqstress.models.files import parse_text

    try:
        text = md[META_KEY].decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}.metadata.liqstress", "is not UTF-8 text") from None
    doc = parse_text(text, f"{where} metadata", True, f"{where}.metadata.liqstress")
    if not isinstance(doc, dict):
        raise InputError(f"{where}.metadata.liqstress", "must be a mapping with inverse_demand and alpha")
    extra = sorted(set(doc) - {"inverse_demand", "alpha"})
    if extra:
        raise InputError(f"{where}.metadata.liqstress.{extra[0]}", "unknown field (the key holds inverse_demand and alpha)")
    out: dict = {}
    if "alpha" in doc:
        a = doc["alpha"]
        if type(a) not in (int, float) or not 0.0 <= a <= 1.0:
            raise InputError(f"{where}.metadata.liqstress.alpha", f"must be a number in [0, 1], got {a!r}")
        out["alpha"] = float(a)
    if "inverse_demand" in doc:
        from pydantic import ValidationError

        from liqstress.models.files import validation_error
        from liqstress.models.system import InverseDemandSpec

        try:
            spec = InverseDemandSpec.model_validate(doc["inverse_demand"])
        except ValidationError as err:
            e = validation_error(err, "inverse_demand")
            raise InputError(f"{where}.metadata.liqstress.inverse_demand" + ("" if e.field == "inverse_demand" else f".{e.field}"),
                             e.rule) from None
        out["inverse_demand"] = spec.model_dump(exclude_none=True)
    return out


def load_pair(balance: str | Path, exposures: str | Path, kind: str, inverse_demand: InverseDemand | dict | None = None,
              liquid_share: float = 0.1, impact: float = 0.05) -> System:
    """System from a CSV or Parquet pair (see module doc).  Both files go through the shared
    reader (regular files, size limit, UTF-8 for CSV) before pyarrow sees a byte."""
    bs_path, ex_path = Path(balance), Path(exposures)
    names, c, s, b, table = read_balance(bs_path, kind, liquid_share)
    seen: dict[str, int] = {}
    for k, nm in enumerate(names):
        if nm in seen:
            raise InputError(f"{_loc(bs_path.name, kind, k)}.bank_name", f"duplicate bank name {nm!r} (first at {_row_word(kind, seen[nm])})")
        seen[nm] = k
    import pyarrow.compute as pc

    names_arr = pc.utf8_trim_whitespace(_strings(table, "bank_name", bs_path.name)).combine_chunks()
    Lm = read_edges(ex_path, kind, names, names_arr)
    meta = _meta(table, bs_path.name) if kind == "parquet" else {}
    alpha = float(meta.get("alpha", 0.0))
    if inverse_demand is None and "inverse_demand" in meta:
        inverse_demand = meta["inverse_demand"]
    if inverse_demand is None:
        from liqstress.networks.generators import inverse_demand_for

        f = inverse_demand_for(float(np.sum(s)), impact, "linear")
    else:
        f = from_dict(inverse_demand) if isinstance(inverse_demand, dict) else inverse_demand
    return System.from_arrays(c, s, b, f, alpha=alpha, names=names, Lmat=Lm if Lm.nnz else None)


def load_columnar(spec: str, **kw: Any) -> System:
    """``A.csv:B.csv`` or ``A.parquet:B.parquet`` -> System."""
    pair = split_pair(spec)
    if pair is None:
        raise InputError("SYSTEM", "a table input is a pair BALANCE_SHEETS.csv:EXPOSURES.csv (or .parquet:.parquet)")
    kind, bs, ex = pair
    return load_pair(bs, ex, kind, **kw)


# ----------------------------------------------------------------------------- writing
def _tables(system: System, orientation: str = "neva"):
    import pyarrow as pa

    names = pa.array(list(system.names), type=pa.string())
    bal = pa.table({
        "bank_name": names,
        "external_asset": pa.array(system.c + system.s),
        "external_liabilities": pa.array(system.L),
        "liquid": pa.array(system.c),
        "illiquid": pa.array(system.s),
    })
    n = system.n
    Lm = system.Lmat if system.Lmat is not None else sp.csr_matrix((n, n))
    coo = Lm.tocoo()
    if orientation == "neva":
        ex = pa.table({"lender": names.take(pa.array(coo.col)), "borrower": names.take(pa.array(coo.row)),
                       "amount": pa.array(coo.data)})
    else:
        ex = pa.table({"debtor": names.take(pa.array(coo.row)), "creditor": names.take(pa.array(coo.col)),
                       "amount": pa.array(coo.data)})
    return bal, ex


def write_csv_pair(system: System, balance: str | Path, exposures: str | Path) -> None:
    """neva-style CSV pair (edge list, lender first), written by pyarrow (shortest
    round-trip floats, so reading it back gives the same numbers)."""
    import pyarrow.csv as pcsv

    bal, ex = _tables(system)
    plain = not any(ch in nm for nm in system.names for ch in ',"\n\r')
    opts = pcsv.WriteOptions(quoting_style="none" if plain else "needed")
    pcsv.write_csv(bal, str(balance), opts)
    pcsv.write_csv(ex, str(exposures), opts)


def write_parquet(system: System, balance: str | Path, exposures: str | Path) -> None:
    """Parquet pair; the inverse demand and alpha go to the metadata (key ``liqstress``)."""
    import pyarrow.parquet as pq

    bal, ex = _tables(system)
    meta = {META_KEY: json.dumps({"inverse_demand": system.f.to_dict(), "alpha": system.alpha}).encode()}
    pq.write_table(bal.replace_schema_metadata(meta), str(balance))
    pq.write_table(ex, str(exposures))
