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
import io
import math
from pathlib import Path
from typing import Any, Optional

import networkx as nx
import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError
from liqstress.models.files import MAX_MAGNITUDE, read_text
from liqstress.models.inverse_demand import InverseDemand, from_dict
from liqstress.models.system import System, load_system


# ----------------------------------------------------------------------------- networkx
def to_networkx(system: System) -> nx.DiGraph:
    """DiGraph with an edge debtor -> creditor (attribute ``amount``) per interbank liability."""
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
def _num(text: str, where: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(where, f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise InputError(where, "must be a finite number (no NaN or inf)")
    if v < 0:
        raise InputError(where, f"must be >= 0, got {v}")
    if v > MAX_MAGNITUDE:
        raise InputError(where, f"|value| must be <= {MAX_MAGNITUDE:g}, got {v:g}")
    return v


def read_neva_csv(
    balance_sheets: str | Path,
    exposures: str | Path,
    inverse_demand: InverseDemand | dict | None = None,
    liquid_share: float = 0.1,
    impact: float = 0.05,
) -> System:
    """System from a neva-style CSV pair (see module doc).

    ``inverse_demand`` defaults to a linear f with ``f(S) = 1 - impact`` (valid for
    Assumption 4.1 when impact < 0.5).
    """
    bs_path, ex_path = Path(balance_sheets), Path(exposures)
    for p in (bs_path, ex_path):
        if not p.exists():
            raise InputError("file", f"not found: {p}")
    rows = [r for r in csv.reader(io.StringIO(read_text(bs_path, bs_path.name), newline="")) if r and any(x.strip() for x in r)]
    if not rows:
        raise InputError(bs_path.name, "empty balance-sheet file")
    header = [h.strip() for h in rows[0]]
    for need in ("bank_name", "external_asset", "external_liabilities"):
        if need not in header:
            raise InputError(f"{bs_path.name}.header", f"missing column {need!r} (neva format: bank_name, external_asset, external_liabilities)")
    col = {h: k for k, h in enumerate(header)}
    has_split = "liquid" in col and "illiquid" in col
    if not 0 <= liquid_share < 1:
        raise InputError("liquid_share", f"must be in [0, 1), got {liquid_share}")
    names, c, s, b = [], [], [], []
    for ln, r in enumerate(rows[1:], start=2):
        if len(r) < len(header):
            raise InputError(f"{bs_path.name}:{ln}", f"expected {len(header)} fields, got {len(r)}")
        nm = r[col["bank_name"]].strip()
        names.append(nm)
        ext = _num(r[col["external_asset"]], f"{bs_path.name}:{ln}.external_asset")
        b.append(_num(r[col["external_liabilities"]], f"{bs_path.name}:{ln}.external_liabilities"))
        if has_split:
            ci = _num(r[col["liquid"]], f"{bs_path.name}:{ln}.liquid")
            si = _num(r[col["illiquid"]], f"{bs_path.name}:{ln}.illiquid")
            if abs(ci + si - ext) > 1e-9 * max(ext, 1.0):
                raise InputError(f"{bs_path.name}:{ln}", f"liquid + illiquid = {ci + si:.10g} must equal external_asset = {ext:.10g}")
        else:
            ci, si = liquid_share * ext, (1 - liquid_share) * ext
        c.append(ci)
        s.append(si)
    n = len(names)
    index: dict[str, int] = {}
    for k, nm in enumerate(names):
        if nm in index:
            raise InputError(f"{bs_path.name}:{k + 2}.bank_name", f"duplicate bank name {nm!r}")
        index[nm] = k
    erows = [r for r in csv.reader(io.StringIO(read_text(ex_path, ex_path.name), newline="")) if r and any(x.strip() for x in r)]
    debt: dict[tuple[int, int], float] = {}
    if erows and erows[0] and erows[0][0].strip() == "lender":
        head = [h.strip() for h in erows[0]]
        if head[:3] != ["lender", "borrower", "amount"]:
            raise InputError(f"{ex_path.name}.header", "edge list header must be lender,borrower,amount")
        for ln, r in enumerate(erows[1:], start=2):
            if len(r) < 3:
                raise InputError(f"{ex_path.name}:{ln}", "expected lender,borrower,amount")
            lender, borrower = r[0].strip(), r[1].strip()
            for role, nm in (("lender", lender), ("borrower", borrower)):
                if nm not in index:
                    raise InputError(f"{ex_path.name}:{ln}.{role}", f"unknown bank name {nm!r}")
            if lender == borrower:
                raise InputError(f"{ex_path.name}:{ln}", f"self-loop: bank {lender!r} cannot owe itself (L_ii = 0)")
            debt[(index[borrower], index[lender])] = _num(r[2], f"{ex_path.name}:{ln}.amount")  # last wins
    else:
        if len(erows) != n:
            raise InputError(ex_path.name, f"exposure matrix has {len(erows)} rows, expected {n} (one per bank)")
        for l_idx, r in enumerate(erows):
            if len(r) != n:
                raise InputError(f"{ex_path.name}:{l_idx + 1}", f"expected {n} columns, got {len(r)}")
            for b_idx, x in enumerate(r):
                v = _num(x, f"{ex_path.name}:{l_idx + 1}.col{b_idx + 1}")
                if v > 0:
                    if l_idx == b_idx:
                        raise InputError(f"{ex_path.name}:{l_idx + 1}", f"diagonal entry for {names[l_idx]!r} must be 0 (L_ii = 0)")
                    debt[(b_idx, l_idx)] = v
    Lm = None
    if debt:
        keys = np.array(list(debt.keys()))
        Lm = sp.coo_matrix((list(debt.values()), (keys[:, 0], keys[:, 1])), shape=(n, n)).tocsr()
    if inverse_demand is None:
        from liqstress.networks.generators import inverse_demand_for

        S = float(np.sum(s))
        if S <= 0:
            raise InputError("illiquid", "total illiquid holdings must be > 0")
        f = inverse_demand_for(S, impact, "linear")
    else:
        f = from_dict(inverse_demand) if isinstance(inverse_demand, dict) else inverse_demand
    return System.from_arrays(c, s, b, f, alpha=0.0, names=names, Lmat=Lm)


def write_neva_csv(system: System, balance_sheets: str | Path, exposures: str | Path, matrix: bool = False) -> None:
    """Write a neva-style CSV pair (edge list by default, the n x n lender x borrower matrix
    with ``matrix=True``); the extra columns liquid, illiquid keep the split exact."""
    with Path(balance_sheets).open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")  # LF line endings
        w.writerow(["bank_name", "external_asset", "external_liabilities", "liquid", "illiquid"])
        for nm, c, s, b in zip(system.names, system.c, system.s, system.L):
            w.writerow([nm, repr(float(c + s)), repr(float(b)), repr(float(c)), repr(float(s))])
    n = system.n
    Lm = system.Lmat if system.Lmat is not None else sp.csr_matrix((n, n))
    with Path(exposures).open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if matrix:
            D = Lm.T.toarray()  # lender x borrower
            for row in D:
                w.writerow([repr(float(v)) if v else "0" for v in row])
        else:
            w.writerow(["lender", "borrower", "amount"])
            coo = Lm.tocoo()
            for i, j, a in zip(coo.row, coo.col, coo.data):
                w.writerow([system.names[j], system.names[i], repr(float(a))])


def load_any(spec: str | Path, **kw: Any) -> System:
    """A system file (YAML/JSON) or ``BALANCE.csv:EXPOSURES.csv`` (neva-style pair)."""
    text = str(spec)
    if ":" in text and text.lower().endswith(".csv"):
        bs, ex = text.rsplit(":", 1)
        return read_neva_csv(bs, ex, **kw)
    if text.lower().endswith(".csv"):
        raise InputError("SYSTEM", "a neva CSV input is a pair BALANCE_SHEETS.csv:EXPOSURES.csv")
    return load_system(text)


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
