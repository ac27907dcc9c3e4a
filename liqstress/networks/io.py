"""Conversions: :class:`System` <-> networkx DiGraph <-> neva-style CSV (and system files).

networkx: one node per bank (attributes ``liquid``, ``illiquid``, ``liabilities`` — the
external liabilities b_i), one edge ``debtor -> creditor`` per exposure with attribute
``amount``; graph attributes ``inverse_demand`` (a dict as in the system file) and ``alpha``.

neva-style CSV (the input format of the NEVA package, Barucca et al. 2020 / Bardoscia et al.):

* balance sheets: header with at least ``bank_name, external_asset, external_liabilities``;
  liqstress also reads and writes the extra columns ``liquid, illiquid`` (NEVA keeps unknown
  columns as parameters).  Without them the external assets are split into
  ``liquid = liquid_share * external_asset`` and ``illiquid`` = the rest (units at price 1).
* exposures: either an edge list with header ``lender,borrower,amount`` (the lender is the
  creditor: the borrower owes the lender ``amount``; repeated pairs: the last line wins, as
  in NEVA) or a header-less n x n matrix whose entry (l, b) is what bank b owes bank l, rows
  and columns in the order of the balance-sheet file.  Note the matrix is the *transpose*
  of liqstress' ``Lmat`` (debtor x creditor).

System files (docs/model.md §7.1) are read by :func:`liqstress.models.system.load_system` and
written by :meth:`System.save`; :func:`load_any` accepts either a system file or a
``BALANCE_SHEETS.csv:EXPOSURES.csv`` pair.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError
from liqstress.models.files import MAX_MAGNITUDE, read_text
from liqstress.models.inverse_demand import InverseDemand, from_dict
from liqstress.models.system import System, load_system

if TYPE_CHECKING:  # networkx is imported where it is used (reading a file need not import it)
    import networkx as nx


# ----------------------------------------------------------------------------- networkx
def to_networkx(system: System) -> nx.DiGraph:
    """DiGraph with an edge debtor -> creditor (attribute ``amount``) per interbank liability."""
    import networkx as nx

    G = nx.DiGraph(inverse_demand=system.f.to_dict(), alpha=system.alpha)
    for nm, c, s, b in zip(system.names, system.c, system.s, system.L):
        G.add_node(nm, liquid=float(c), illiquid=float(s), liabilities=float(b))
    if system.Lmat is not None:
        coo = system.Lmat.tocoo()
        names = system.names
        G.add_edges_from((names[i], names[j], {"amount": float(a)}) for i, j, a in zip(coo.row, coo.col, coo.data))
    return G


def from_networkx(G: nx.DiGraph, inverse_demand: InverseDemand | dict | None = None, weight: str = "amount") -> System:
    """:class:`System` from a DiGraph (node attributes liquid, illiquid, liabilities; edge weight)."""
    import networkx as nx

    if not isinstance(G, nx.DiGraph):
        raise InputError("graph", "must be a networkx DiGraph (edges debtor -> creditor)")
    nodes = list(G.nodes)
    if not nodes:
        raise InputError("graph", "has no nodes")
    idx = {nm: k for k, nm in enumerate(nodes)}
    cols = {}
    for attr in ("liquid", "illiquid", "liabilities"):
        vals = []
        for nm in nodes:
            d = G.nodes[nm]
            if attr not in d:
                raise InputError(f"graph.nodes[{nm}].{attr}", "is required")
            vals.append(float(d[attr]))
        cols[attr] = vals
    f = inverse_demand if inverse_demand is not None else G.graph.get("inverse_demand")
    if f is None:
        raise InputError("inverse_demand", "is required (argument or graph attribute)")
    if isinstance(f, dict):
        f = from_dict(f)
    rows, cs, vals = [], [], []
    for u, v, d in G.edges(data=True):
        if weight not in d:
            raise InputError(f"graph.edges[{u}->{v}].{weight}", "is required")
        rows.append(idx[u])
        cs.append(idx[v])
        vals.append(float(d[weight]))
    n = len(nodes)
    Lm = sp.coo_matrix((vals, (rows, cs)), shape=(n, n)).tocsr() if vals else None
    return System.from_arrays(cols["liquid"], cols["illiquid"], cols["liabilities"], f, alpha=float(G.graph.get("alpha", 0.0)), names=[str(x) for x in nodes], Lmat=Lm)


# ----------------------------------------------------------------------------- neva CSV
def read_neva_csv(
    balance_sheets: str | Path,
    exposures: str | Path,
    inverse_demand: InverseDemand | dict | None = None,
    liquid_share: float = 0.1,
    impact: float = 0.05,
) -> System:
    """System from a neva-style CSV pair (see module doc; parsed by pyarrow, see
    :mod:`liqstress.networks.columnar`).

    ``inverse_demand`` defaults to a linear f with ``f(S) = 1 - impact`` (valid for
    Assumption 4.1 when impact < 0.5).
    """
    from liqstress.networks.columnar import load_pair

    return load_pair(balance_sheets, exposures, "csv", inverse_demand=inverse_demand, liquid_share=liquid_share, impact=impact)


def write_neva_csv(system: System, balance_sheets: str | Path, exposures: str | Path, matrix: bool = False) -> None:
    """Write a neva-style CSV pair (edge list by default, the n x n lender x borrower matrix
    with ``matrix=True``); the extra columns liquid, illiquid keep the split exact."""
    if not matrix:
        from liqstress.networks.columnar import write_csv_pair

        write_csv_pair(system, balance_sheets, exposures)
        return
    with Path(balance_sheets).open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["bank_name", "external_asset", "external_liabilities", "liquid", "illiquid"])
        for nm, c, s, b in zip(system.names, system.c, system.s, system.L):
            w.writerow([nm, repr(float(c + s)), repr(float(b)), repr(float(c)), repr(float(s))])
    n = system.n
    Lm = system.Lmat if system.Lmat is not None else sp.csr_matrix((n, n))
    with Path(exposures).open("w", newline="") as fh:
        w = csv.writer(fh)
        D = Lm.T.toarray()  # lender x borrower
        for row in D:
            w.writerow([repr(float(v)) if v else "0" for v in row])


# ----------------------------------------------------------------------------- neva JSON
def system_from_neva_json(
    doc: Any,
    inverse_demand: InverseDemand | dict | None = None,
    liquid_share: float = 0.1,
    impact: float = 0.05,
) -> System:
    """System from neva's JSON input (``neva.parse_json``): a list of banks

        {"name": "A", "extasset": 1.0, "extliab": 0.0, "ibasset": {"B": 1.0}, "ibliabtot": 0.0}

    ``ibasset`` maps each borrower to the face value lent to it (optional), ``ibliabtot`` is
    the bank's total interbank liabilities and must equal what the other banks lent it
    (optional: computed when absent).  liqstress also reads and writes ``liquid`` and
    ``illiquid`` (the exact split of ``extasset``; neva ignores them); without them the
    split is ``liquid_share``.  The inverse demand is ``inverse_demand`` or the default
    linear f with ``f(S) = 1 - impact``.
    """
    if not isinstance(doc, list):
        raise InputError("SYSTEM", "neva JSON must be a list of banks")
    if not doc:
        raise InputError("SYSTEM", "neva JSON has no banks")
    if not 0 <= liquid_share < 1:
        raise InputError("liquid_share", f"must be in [0, 1), got {liquid_share}")
    fast = _neva_fast(doc, liquid_share)
    if fast is not None:
        names, c, s, b, Lm = fast
        return System.from_arrays(c, s, b, _neva_f(inverse_demand, s, impact), alpha=0.0, names=names,
                                  Lmat=Lm if Lm.nnz else None)
    names: list[str] = []
    index: dict[str, int] = {}
    c, s, b, ibtot = [], [], [], []
    allowed = {"name", "extasset", "extliab", "ibasset", "ibliabtot", "liquid", "illiquid"}
    for k, bank in enumerate(doc):
        where = f"[{k}]"
        if not isinstance(bank, dict):
            raise InputError(where, "each bank must be a mapping with name, extasset, extliab (ibasset, ibliabtot)")
        extra = sorted(set(bank) - allowed)
        if extra:
            raise InputError(f"{where}.{extra[0]}", "unknown field (neva banks have name, extasset, extliab, ibasset, ibliabtot)")
        for need in ("name", "extasset", "extliab"):
            if need not in bank:
                raise InputError(f"{where}.{need}", "is required")
        nm = bank["name"]
        if not isinstance(nm, (str, int)) or isinstance(nm, bool) or str(nm).strip() == "":
            raise InputError(f"{where}.name", "must be a non-empty string")
        nm = str(nm)
        if nm in index:
            raise InputError(f"{where}.name", f"duplicate bank name {nm!r}")
        index[nm] = k
        names.append(nm)
        ext = _json_num(bank["extasset"], f"{where}.extasset")
        b.append(_json_num(bank["extliab"], f"{where}.extliab"))
        if "liquid" in bank or "illiquid" in bank:
            ci = _json_num(bank.get("liquid"), f"{where}.liquid")
            si = _json_num(bank.get("illiquid"), f"{where}.illiquid")
            if abs(ci + si - ext) > 1e-9 * max(ext, 1.0):
                raise InputError(where, f"liquid + illiquid = {ci + si:.10g} must equal extasset = {ext:.10g}")
        else:
            ci, si = liquid_share * ext, (1 - liquid_share) * ext
        c.append(ci)
        s.append(si)
        ibtot.append(None if bank.get("ibliabtot") is None else _json_num(bank["ibliabtot"], f"{where}.ibliabtot"))
    rows, cols, vals = [], [], []
    for k, bank in enumerate(doc):
        ib = bank.get("ibasset") or {}
        if not isinstance(ib, dict):
            raise InputError(f"[{k}].ibasset", "must map borrower names to amounts")
        for borrower, amount in ib.items():
            where = f"[{k}].ibasset.{borrower}"
            if str(borrower) not in index:
                raise InputError(where, f"unknown bank name {borrower!r}")
            j = index[str(borrower)]
            if j == k:
                raise InputError(where, f"self-loop: bank {names[k]!r} cannot owe itself (L_ii = 0)")
            v = _json_num(amount, where)
            if v > 0:
                rows.append(j)  # the borrower owes the lender k
                cols.append(k)
                vals.append(v)
    n = len(names)
    Lm = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    owed = np.asarray(Lm.sum(axis=1)).ravel()
    for k, tot in enumerate(ibtot):
        if tot is not None and abs(tot - owed[k]) > 1e-9 * max(tot, owed[k], 1.0):
            raise InputError(f"[{k}].ibliabtot", f"is {tot:.10g} but the other banks lent {names[k]!r} {owed[k]:.10g} in total")
    return System.from_arrays(c, s, b, _neva_f(inverse_demand, s, impact), alpha=0.0, names=names, Lmat=Lm if Lm.nnz else None)


def _neva_f(inverse_demand: Any, s: Any, impact: float) -> InverseDemand:
    if inverse_demand is None:
        from liqstress.networks.generators import inverse_demand_for

        return inverse_demand_for(float(np.sum(s)), impact, "linear")
    return from_dict(inverse_demand) if isinstance(inverse_demand, dict) else inverse_demand


_NEVA_KEYS = frozenset({"name", "extasset", "extliab", "ibasset", "ibliabtot", "liquid", "illiquid"})


def _neva_fast(doc: list, liquid_share: float):
    """Vectorised reading of a well-formed neva document; None if anything is unusual (the
    validating loop then produces the exact one-line message)."""
    import itertools

    num = (int, float)
    try:
        if not all(type(bk) is dict and bk.keys() <= _NEVA_KEYS and type(bk.get("name")) is str and bk["name"].strip()
                   for bk in doc):
            return None
        names = [bk["name"] for bk in doc]
        index = {nm: k for k, nm in enumerate(names)}
        if len(index) != len(names):
            return None
        cols = {}
        for key in ("extasset", "extliab"):
            vals = [bk[key] for bk in doc]
            if not all(type(v) in num for v in vals):
                return None
            cols[key] = np.asarray(vals, dtype=float)
        split = [("liquid" in bk or "illiquid" in bk) for bk in doc]
        if any(split):
            if not all(split):
                return None
            lq, il = [bk.get("liquid") for bk in doc], [bk.get("illiquid") for bk in doc]
            if not all(type(v) in num for v in lq + il):
                return None
            c, s = np.asarray(lq, dtype=float), np.asarray(il, dtype=float)
            if (np.abs(c + s - cols["extasset"]) > 1e-9 * np.maximum(cols["extasset"], 1.0)).any():
                return None
        else:
            c, s = liquid_share * cols["extasset"], (1 - liquid_share) * cols["extasset"]
        ibs = [bk.get("ibasset") or {} for bk in doc]
        if not all(type(ib) is dict for ib in ibs):
            return None
        counts = np.fromiter((len(ib) for ib in ibs), dtype=np.int64, count=len(ibs))
        lender = np.repeat(np.arange(len(doc), dtype=np.int64), counts)
        borrower = np.fromiter((index[str(x)] for x in itertools.chain.from_iterable(ibs)), dtype=np.int64, count=int(counts.sum()))
        amounts = list(itertools.chain.from_iterable(ib.values() for ib in ibs))
        if not all(type(v) in num for v in amounts):
            return None
        amt = np.asarray(amounts, dtype=float)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    arrays = (cols["extasset"], cols["extliab"], c, s, amt)
    if not all(np.all(np.isfinite(a)) and not (a < 0).any() and not (a > MAX_MAGNITUDE).any() for a in arrays) \
            or (lender == borrower).any():
        return None
    n = len(doc)
    keep = amt > 0
    Lm = sp.csr_matrix((amt[keep], (borrower[keep], lender[keep])), shape=(n, n))  # the borrower owes the lender
    owed = np.asarray(Lm.sum(axis=1)).ravel()
    tot = [bk.get("ibliabtot") for bk in doc]
    for k, t in enumerate(tot):
        if t is not None and (type(t) not in num or abs(t - owed[k]) > 1e-9 * max(t, owed[k], 1.0)):
            return None
    return names, c, s, cols["extliab"], Lm


def _json_num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(where, f"expected a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise InputError(where, "must be a finite number (no NaN or inf)")
    if x < 0:
        raise InputError(where, f"must be >= 0, got {x}")
    if x > MAX_MAGNITUDE:
        raise InputError(where, f"|value| must be <= {MAX_MAGNITUDE:g}, got {x:g}")
    return x


def neva_json_doc(system: System) -> list[dict]:
    """neva's JSON input for a system (plus liquid / illiquid, which neva ignores)."""
    n = system.n
    Lm = system.Lmat if system.Lmat is not None else sp.csr_matrix((n, n))
    lent = Lm.T.tocsr()  # lender x borrower
    owed = np.asarray(Lm.sum(axis=1)).ravel()
    out = []
    for k, nm in enumerate(system.names):
        row = lent.getrow(k)
        bank = {"name": nm, "extasset": float(system.c[k] + system.s[k]), "extliab": float(system.L[k]),
                "ibasset": {system.names[j]: float(a) for j, a in zip(row.indices, row.data)},
                "ibliabtot": float(owed[k]), "liquid": float(system.c[k]), "illiquid": float(system.s[k])}
        out.append(bank)
    return out


def read_neva_json(path: str | Path, **kw: Any) -> System:
    """System from a neva JSON file (see :func:`system_from_neva_json`), through the shared
    reader (regular files, size limit, UTF-8, finite numbers with |v| <= 1e15, no repeated
    key in a mapping); errors name the file: ``n.json:[3].extasset: must be >= 0``."""
    p = Path(path)
    return neva_from_text(read_text(p, "SYSTEM"), p.name, **kw)


def neva_from_text(text: str, name: str, **kw: Any) -> System:
    """System from the text of a neva JSON (or YAML) document; see :func:`read_neva_json`."""
    from liqstress.models.files import parse_text

    as_json = not name.lower().endswith((".yaml", ".yml"))
    try:
        doc = parse_text(text, name, as_json, "SYSTEM", unique_keys=True)
        return system_from_neva_json(doc, **kw)
    except InputError as err:
        if err.field in ("SYSTEM", "liquid_share") or err.field.startswith(name):
            raise
        raise InputError(f"{name}:{err.field}", err.rule) from None


def write_neva_json(system: System, path: str | Path) -> None:
    """Write neva's JSON input format (readable by ``neva.parse_json``)."""
    import json

    Path(path).write_text(json.dumps(neva_json_doc(system), indent=1))


def load_any(spec: str | Path, **kw: Any) -> System:
    """Any system input :func:`liqstress.models.system.load_system` reads (system file, neva
    JSON, CSV or Parquet pair); keyword options go to the neva / table readers."""
    if not kw:
        return load_system(spec)
    text = str(spec)
    from liqstress.networks.columnar import split_pair

    pair = split_pair(text)
    if pair is not None:
        from liqstress.networks.columnar import load_pair

        return load_pair(pair[1], pair[2], pair[0], **kw)
    p = Path(text)
    body = read_text(p, "SYSTEM")
    if is_neva_text(body, p.name):
        return neva_from_text(body, p.name, **kw)
    return load_system(text)


def is_neva_text(text: str, name: str) -> bool:
    """A JSON document whose root is a list is neva's input (a system file is a mapping)."""
    return name.lower().endswith(".json") and text.lstrip(" \t\r\n\ufeff")[:1] == "["


def save_system(system: System, path: str | Path, fast_json: Optional[bool] = None) -> None:
    """Write a system file (docs/model.md §7.1; JSON if the suffix is .json, YAML otherwise).

    Large systems are written with a streaming JSON writer (same document as
    :meth:`System.save`, much faster than building a million dicts)."""
    path = Path(path)
    is_json = path.suffix.lower() == ".json"
    if not is_json or (fast_json is False) or (fast_json is None and system.n < 2000):
        system.save(path)
        return
    import json

    with path.open("w") as fh:
        fh.write('{"inverse_demand": ' + json.dumps(system.f.to_dict()) + f', "alpha": {float(system.alpha)!r},\n "banks": [\n')
        fh.write(",\n".join(
            '  {"name": %s, "liquid": %r, "illiquid": %r, "liabilities": %r}' % (json.dumps(nm), float(c), float(s), float(b))
            for nm, c, s, b in zip(system.names, system.c, system.s, system.L)
        ))
        fh.write("\n ]")
        if system.Lmat is not None:
            coo = system.Lmat.tocoo()
            names = [json.dumps(x) for x in system.names]
            fh.write(',\n "interbank": [\n')
            fh.write(",\n".join(
                '  {"debtor": %s, "creditor": %s, "amount": %r}' % (names[i], names[j], float(a))
                for i, j, a in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist())
            ))
            fh.write("\n ]")
        fh.write("}\n")
