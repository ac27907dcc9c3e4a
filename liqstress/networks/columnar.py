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


def _read_table(path: Path, kind: str, strings: tuple[str, ...] = ()):
    import pyarrow as pa

    if not path.exists():
        raise InputError("file", f"not found: {path}")
    if path.is_dir():
        raise InputError("file", f"is a directory: {path}")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pcsv

        types = {c: pa.string() for c in strings}
        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                                        quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as err:
        first = " ".join(str(err).split())[:200]
        if "Empty CSV file" in first:
            raise InputError(path.name, "empty file (a header line is required)") from None
        raise InputError(path.name, f"cannot parse: {first}") from None


def _column(table, name: str, where: str) -> np.ndarray:
    """A numeric column as float64; InputError naming the first bad line otherwise."""
    import pyarrow as pa

    col = table.column(name)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
        if col.null_count:
            raise InputError(f"{where}:{_first_null(col) + 2}.{name}", "expected a number, got an empty field")
        if not pa.types.is_float64(col.type):
            col = col.cast(pa.float64())
        arr = _np(col, np.float64)
    else:
        text = col.cast(pa.string()) if not pa.types.is_string(col.type) else col
        vals = np.asarray(text.to_pylist(), dtype=object)
        arr = np.empty(vals.size)
        for k, v in enumerate(vals):
            try:
                arr[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{where}:{k + 2}.{name}", f"expected a number, got {v!r}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        k = int(bad.argmax())
        raise InputError(f"{where}:{k + 2}.{name}", "must be a finite number (no NaN or inf)")
    neg = arr < 0
    if neg.any():
        k = int(neg.argmax())
        raise InputError(f"{where}:{k + 2}.{name}", f"must be >= 0, got {arr[k]}")
    return arr


def _strings(table, name: str):
    import pyarrow as pa

    col = table.column(name)
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = col.cast(pa.string())
    return col


def read_balance(path: Path, kind: str, liquid_share: float) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, Any]:
    """(names, c, s, b, table) from a balance-sheet table."""
    where = path.name
    table = _read_table(path, kind, strings=("bank_name",))
    cols = set(table.column_names)
    for need in ("bank_name", "external_asset", "external_liabilities"):
        if need not in cols:
            raise InputError(f"{where}.header", f"missing column {need!r} (neva format: bank_name, external_asset, external_liabilities)")
    if table.num_rows == 0:
        raise InputError(where, "no banks (at least one row is required)")
    names_col = _strings(table, "bank_name")
    if names_col.null_count:
        raise InputError(f"{where}:{_first_null(names_col) + 2}.bank_name", "must be a non-empty string")
    names = [str(x).strip() for x in names_col.to_pylist()]
    ext = _column(table, "external_asset", where)
    b = _column(table, "external_liabilities", where)
    if "liquid" in cols and "illiquid" in cols:
        c = _column(table, "liquid", where)
        s = _column(table, "illiquid", where)
        off = np.abs(c + s - ext) > 1e-9 * np.maximum(ext, 1.0)
        if off.any():
            k = int(off.argmax())
            raise InputError(f"{where}:{k + 2}", f"liquid + illiquid = {c[k] + s[k]:.10g} must equal external_asset = {ext[k]:.10g}")
    else:
        if not 0 <= liquid_share < 1:
            raise InputError("liquid_share", f"must be in [0, 1), got {liquid_share}")
        c, s = liquid_share * ext, (1 - liquid_share) * ext
    empty = [k for k, nm in enumerate(names) if not nm]
    if empty:
        raise InputError(f"{where}:{empty[0] + 2}.bank_name", "must be a non-empty string")
    return names, c, s, b, table


def _name_index(values, names_arr, where: str, role: str) -> np.ndarray:
    import pyarrow.compute as pc

    idx = pc.index_in(values, value_set=names_arr)
    if idx.null_count:
        k = _first_null(idx)
        raise InputError(f"{where}:{k + 2}.{role}", f"unknown bank name {values[k].as_py()!r}")
    return _np(idx.cast("int64"), np.int64)


def read_edges(path: Path, kind: str, names: list[str], names_arr=None) -> sp.csr_matrix:
    """The exposures table as the debtor x creditor matrix (neva edge list, liqstress edge
    list, or — CSV only — the n x n lender x borrower matrix)."""
    import pyarrow as pa

    where = path.name
    n = len(names)
    if kind == "csv" and not _csv_has_edge_header(path):
        return _read_matrix_csv(path, names)
    table = _read_table(path, kind, strings=("lender", "borrower", "debtor", "creditor"))
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
        col = _strings(table, role)
        if col.null_count:
            raise InputError(f"{where}:{_first_null(col) + 2}.{role}", "must be a bank name")
    import pyarrow.compute as pc

    cred = _name_index(pc.utf8_trim_whitespace(_strings(table, credit)), names_arr, where, credit)
    debt = _name_index(pc.utf8_trim_whitespace(_strings(table, debit)), names_arr, where, debit)
    amt = _column(table, "amount", where)
    loop = cred == debt
    if loop.any():
        k = int(loop.argmax())
        raise InputError(f"{where}:{k + 2}", f"self-loop: bank {names[cred[k]]!r} cannot owe itself (L_ii = 0)")
    if last_wins:  # neva: a repeated (lender, borrower) pair keeps the last line
        key = debt * n + cred
        order = np.argsort(key, kind="stable")
        ks = key[order]
        last = np.ones(ks.size, dtype=bool)
        last[:-1] = ks[1:] != ks[:-1]
        keep = order[last]
        debt, cred, amt = debt[keep], cred[keep], amt[keep]
    return sp.csr_matrix((amt, (debt, cred)), shape=(n, n))  # repeated debtor/creditor pairs are summed


def _csv_has_edge_header(path: Path) -> bool:
    if not path.exists():
        raise InputError("file", f"not found: {path}")
    with path.open("rb") as fh:
        head = fh.readline(4096).decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    for cell in head.split(","):  # a header has a non-numeric cell; neva's matrix has none
        try:
            float(cell.strip().strip('"'))
        except ValueError:
            return True
    return False


def _read_matrix_csv(path: Path, names: list[str]) -> sp.csr_matrix:
    """neva's header-less n x n matrix: entry (l, b) is what bank b owes bank l."""
    import csv

    n = len(names)
    with path.open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(x.strip() for x in r)]
    if len(rows) != n:
        raise InputError(path.name, f"exposure matrix has {len(rows)} rows, expected {n} (one per bank)")
    D = np.zeros((n, n))
    for l_idx, r in enumerate(rows):
        if len(r) != n:
            raise InputError(f"{path.name}:{l_idx + 1}", f"expected {n} columns, got {len(r)}")
        for b_idx, x in enumerate(r):
            try:
                v = float(x)
            except ValueError:
                raise InputError(f"{path.name}:{l_idx + 1}.col{b_idx + 1}", f"expected a number, got {x!r}") from None
            if not np.isfinite(v):
                raise InputError(f"{path.name}:{l_idx + 1}.col{b_idx + 1}", "must be a finite number (no NaN or inf)")
            if v < 0:
                raise InputError(f"{path.name}:{l_idx + 1}.col{b_idx + 1}", f"must be >= 0, got {v}")
            D[l_idx, b_idx] = v
    if np.diagonal(D).any():
        k = int(np.flatnonzero(np.diagonal(D))[0])
        raise InputError(f"{path.name}:{k + 1}", f"diagonal entry for {names[k]!r} must be 0 (L_ii = 0)")
    return sp.csr_matrix(D.T)  # debtor x creditor


def _meta(table) -> dict:
    md = table.schema.metadata or {}
    if META_KEY not in md:
        return {}
    try:
        doc = json.loads(md[META_KEY])
    except ValueError:
        raise InputError("parquet metadata", "the liqstress key is not valid JSON") from None
    return doc if isinstance(doc, dict) else {}


def load_pair(balance: str | Path, exposures: str | Path, kind: str, inverse_demand: InverseDemand | dict | None = None,
              liquid_share: float = 0.1, impact: float = 0.05) -> System:
    """System from a CSV or Parquet pair (see module doc)."""
    bs_path, ex_path = Path(balance), Path(exposures)
    for p in (bs_path, ex_path):
        if not p.exists():
            raise InputError("file", f"not found: {p}")
    names, c, s, b, table = read_balance(bs_path, kind, liquid_share)
    seen: dict[str, int] = {}
    for k, nm in enumerate(names):
        if nm in seen:
            raise InputError(f"{bs_path.name}:{k + 2}.bank_name", f"duplicate bank name {nm!r}")
        seen[nm] = k
    import pyarrow.compute as pc

    names_arr = pc.utf8_trim_whitespace(_strings(table, "bank_name")).combine_chunks()
    Lm = read_edges(ex_path, kind, names, names_arr)
    meta = _meta(table) if kind == "parquet" else {}
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
