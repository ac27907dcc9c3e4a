"""Financial systems: banks, inverse demand, permanent impact alpha, interbank liabilities.

docs/model.md §2.1 and §7.1.  A :class:`System` holds numpy arrays vectorised over banks:
``c`` liquid assets, ``s`` illiquid units, ``L`` liabilities (external liabilities ``b`` when
there is an interbank block), the inverse demand ``f``, ``alpha`` and, optionally, the
interbank liability matrix ``Lmat`` (``Lmat[i, j]`` owed by i to j, scipy.sparse CSR).

Files (YAML or JSON) are validated with pydantic; every problem becomes an
:class:`~liqstress.errors.InputError` whose one-line message names the field and the rule.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

import numpy as np
import scipy.sparse as sp
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liqstress.errors import InputError
from liqstress.models.files import parse_text, read_text, validation_error
from liqstress.models.inverse_demand import InverseDemand, from_dict


# --------------------------------------------------------------------------- file schema
class _Strict(BaseModel):
    # strict: a boolean or a string is not a number (``alpha: true`` is rejected, not read as 1)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True, strict=True)


def _finite_nonneg(v: float, what: str = "amount") -> float:
    if v is None or not math.isfinite(v):
        raise ValueError("must be a finite number (no NaN or inf)")
    if v < 0:
        raise ValueError(f"must be >= 0 (got {v})")
    return v


class InverseDemandSpec(_Strict):
    kind: Literal["linear", "exponential", "power"]
    beta: float
    gamma: Optional[float] = None

    @field_validator("beta")
    @classmethod
    def _beta(cls, v: float) -> float:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"must be a finite number > 0 (got {v})")
        return v

    @field_validator("gamma")
    @classmethod
    def _gamma(cls, v: Optional[float]) -> Optional[float]:
        if v is not None and (not math.isfinite(v) or not 0 < v <= 1):
            raise ValueError(f"must be in (0, 1] (Assumption 4.1(iii)), got {v}")
        return v

    @model_validator(mode="after")
    def _gamma_only_for_power(self) -> "InverseDemandSpec":
        if self.gamma is not None and self.kind != "power":
            raise ValueError(f"gamma: only the power inverse demand has gamma; {self.kind} takes beta only")
        return self


class BankSpec(_Strict):
    name: str = Field(min_length=1)
    liquid: float
    illiquid: float
    liabilities: float

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        if not isinstance(v, (str, int)) or str(v).strip() == "":
            raise ValueError("must be a non-empty string")
        return str(v)

    @field_validator("liquid", "illiquid", "liabilities")
    @classmethod
    def _nonneg(cls, v: float) -> float:
        return _finite_nonneg(v)  # illiquid = 0 is allowed: such a bank sells nothing (ell_i = 0)


class ExposureSpec(_Strict):
    debtor: str
    creditor: str
    amount: float

    @field_validator("debtor", "creditor", mode="before")
    @classmethod
    def _str(cls, v: Any) -> str:
        return str(v)

    @field_validator("amount")
    @classmethod
    def _nonneg(cls, v: float) -> float:
        return _finite_nonneg(v)


class SystemFile(_Strict):
    inverse_demand: InverseDemandSpec
    alpha: float = 0.0
    banks: list[BankSpec] = Field(min_length=1)
    interbank: Optional[list[ExposureSpec]] = None

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, v: float) -> float:
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise ValueError(f"must be in [0, 1], got {v}")
        return v


# --------------------------------------------------------------------------- System
@dataclass(frozen=True)
class System:
    """A financial system (docs/model.md §2.1), vectorised over banks (immutable: ``pbar`` and ``Pi`` are
    computed once per instance and cached).

    ``L`` is the total liabilities of each bank when there is no interbank block, and the
    external liabilities ``b`` otherwise (then ``pbar = b + Lmat.sum(axis=1)``).
    """

    names: tuple[str, ...]
    c: np.ndarray
    s: np.ndarray
    L: np.ndarray
    f: InverseDemand
    alpha: float = 0.0
    Lmat: Optional[sp.csr_matrix] = None
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        c: Sequence[float],
        s: Sequence[float],
        L: Sequence[float],
        f: InverseDemand,
        alpha: float = 0.0,
        names: Sequence[str] | None = None,
        Lmat: Any = None,
        check_f: bool = True,
    ) -> "System":
        """Validated constructor from arrays (the programmatic twin of the file loader)."""
        c = np.asarray(c, dtype=float).ravel()
        s = np.asarray(s, dtype=float).ravel()
        L = np.asarray(L, dtype=float).ravel()
        n = c.size
        if n == 0:
            raise InputError("banks", "at least one bank is required")
        for fname, arr in (("liquid", c), ("illiquid", s), ("liabilities", L)):
            if arr.size != n:
                raise InputError(f"banks.{fname}", f"length {arr.size} differs from the number of banks {n}")
            bad = ~np.isfinite(arr)
            if bad.any():
                raise InputError(f"banks[{int(bad.argmax())}].{fname}", "must be a finite number (no NaN or inf)")
            neg = arr < 0
            if neg.any():
                raise InputError(f"banks[{int(neg.argmax())}].{fname}", f"must be >= 0 (got {arr[neg.argmax()]})")
        if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
            raise InputError("alpha", f"must be in [0, 1], got {alpha}")
        if names is None:
            names = tuple(f"B{i + 1}" for i in range(n))
        names = tuple(str(x) for x in names)
        if len(names) != n:
            raise InputError("banks.name", f"{len(names)} names for {n} banks")
        index: dict[str, int] = {}
        for k, nm in enumerate(names):
            if nm in index:
                raise InputError(f"banks[{k}].name", f"duplicate bank name {nm!r}")
            index[nm] = k
        M = None
        if Lmat is not None:
            M = sp.csr_matrix(Lmat, dtype=float)
            if M.shape != (n, n):
                raise InputError("interbank", f"matrix shape {M.shape} does not match {n} banks")
            M.eliminate_zeros()
            if not np.all(np.isfinite(M.data)):
                raise InputError("interbank.amount", "must be a finite number (no NaN or inf)")
            if (M.data < 0).any():
                raise InputError("interbank.amount", "must be >= 0")
            if M.diagonal().any():
                k = int(np.flatnonzero(M.diagonal())[0])
                raise InputError("interbank", f"self-loop: bank {names[k]!r} cannot owe itself (L_ii = 0)")
            if M.nnz == 0:
                M = None
        sysm = cls(names=names, c=c, s=s, L=L, f=f, alpha=float(alpha), Lmat=M, _index=index)
        if check_f:
            f.check_assumption(sysm.S)
        return sysm

    # ---- derived quantities ---------------------------------------------------------
    @property
    def n(self) -> int:
        return self.c.size

    @property
    def S(self) -> float:
        """Total illiquid holdings sum_i s_i (the domain [0, S] of f)."""
        return float(self.s.sum())

    @property
    def has_interbank(self) -> bool:
        return self.Lmat is not None

    @cached_property
    def pbar(self) -> np.ndarray:
        """Total liabilities: L without interbank block, b + sum_j L_ij with it."""
        if self.Lmat is None:
            return self.L
        return self.L + np.asarray(self.Lmat.sum(axis=1)).ravel()

    @cached_property
    def Pi(self) -> Optional[sp.csr_matrix]:
        """Relative liability matrix Pi_ij = L_ij / pbar_i (rows of banks with pbar = 0 are 0)."""
        if self.Lmat is None:
            return None
        pb = self.pbar
        inv = np.divide(1.0, pb, out=np.zeros_like(pb), where=pb > 0)
        return sp.csr_matrix(sp.diags(inv) @ self.Lmat)

    def index(self, name: str) -> int:
        """Position of bank ``name``; InputError if unknown."""
        idx = self._index or {nm: k for k, nm in enumerate(self.names)}
        if name not in idx:
            raise InputError("bank", f"unknown bank name {name!r} (known: {', '.join(self.names[:10])}{'...' if self.n > 10 else ''})")
        return idx[name]

    def with_alpha(self, alpha: float | None) -> "System":
        """Copy with another alpha (None keeps the file's value)."""
        if alpha is None or alpha == self.alpha:
            return self
        if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
            raise InputError("alpha", f"must be in [0, 1], got {alpha}")
        return replace(self, alpha=float(alpha))

    def check_early(self, x: Any, field_name: str = "early") -> np.ndarray:
        """Validate an early-sale vector: length n, finite, 0 <= x_i <= s_i."""
        x = np.asarray(x, dtype=float).ravel()
        if x.size != self.n:
            raise InputError(field_name, f"needs {self.n} values (one per bank), got {x.size}")
        if not np.all(np.isfinite(x)):
            raise InputError(field_name, "must be finite numbers (no NaN or inf)")
        if (x < 0).any():
            k = int((x < 0).argmax())
            raise InputError(f"{field_name}[{self.names[k]}]", f"must be >= 0, got {x[k]}")
        over = x > self.s * (1 + 1e-12)
        if over.any():
            k = int(over.argmax())
            raise InputError(f"{field_name}[{self.names[k]}]", f"cannot exceed illiquid holdings s_i = {self.s[k]}, got {x[k]}")
        return np.minimum(x, self.s)

    # ---- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "inverse_demand": self.f.to_dict(),
            "alpha": self.alpha,
            "banks": [
                {"name": nm, "liquid": float(ci), "illiquid": float(si), "liabilities": float(li)}
                for nm, ci, si, li in zip(self.names, self.c, self.s, self.L)
            ],
        }
        if self.Lmat is not None:
            coo = self.Lmat.tocoo()
            doc["interbank"] = [
                {"debtor": self.names[i], "creditor": self.names[j], "amount": float(a)}
                for i, j, a in zip(coo.row, coo.col, coo.data)
            ]
        return doc

    def save(self, path: str | Path) -> None:
        """Write a system file (JSON if the suffix is .json, YAML otherwise)."""
        path = Path(path)
        doc = self.to_dict()
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(doc, indent=1))
        else:
            path.write_text(yaml.safe_dump(doc, sort_keys=False))


# --------------------------------------------------------------------------- fast path
class _Fallback(Exception):
    """Anything unusual: let the validating (pydantic) loader produce the exact message."""


_TOP = {"inverse_demand", "alpha", "banks", "interbank"}
_BANK = {"name", "liquid", "illiquid", "liabilities"}
_EDGE = {"debtor", "creditor", "amount"}


def _numbers(items: list, key: str) -> np.ndarray:
    vals = [it[key] for it in items]
    if not all(type(v) in (int, float) for v in vals):
        raise _Fallback
    arr = np.asarray(vals, dtype=float)
    if not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise _Fallback
    return arr


def _fast_from_doc(doc: Any) -> System:
    if not isinstance(doc, dict) or set(doc) - _TOP or "banks" not in doc or "inverse_demand" not in doc:
        raise _Fallback
    banks = doc["banks"]
    if not isinstance(banks, list) or not banks or not all(type(b) is dict and b.keys() == _BANK for b in banks):
        raise _Fallback
    names = []
    for b in banks:
        nm = b["name"]
        if type(nm) is str and nm.strip():
            names.append(nm)
        elif type(nm) is int:
            names.append(str(nm))
        else:
            raise _Fallback
    index = {nm: k for k, nm in enumerate(names)}
    if len(index) != len(names):
        raise _Fallback
    c, s, L = _numbers(banks, "liquid"), _numbers(banks, "illiquid"), _numbers(banks, "liabilities")
    alpha = doc.get("alpha", 0.0)
    if type(alpha) not in (int, float) or not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
        raise _Fallback
    idd = doc["inverse_demand"]
    if not isinstance(idd, dict):
        raise _Fallback
    try:
        spec = InverseDemandSpec.model_validate(idd)
    except Exception:
        raise _Fallback from None
    f = from_dict(spec.model_dump(exclude_none=True))
    Lm = None
    edges = doc.get("interbank")
    if edges:
        if not isinstance(edges, list) or not all(type(e) is dict and e.keys() == _EDGE for e in edges):
            raise _Fallback
        try:
            rows = np.fromiter((index[str(e["debtor"])] for e in edges), dtype=np.int64, count=len(edges))
            cols = np.fromiter((index[str(e["creditor"])] for e in edges), dtype=np.int64, count=len(edges))
        except KeyError:
            raise _Fallback from None
        if (rows == cols).any():
            raise _Fallback
        amt = _numbers(edges, "amount")
        n = len(names)
        Lm = sp.coo_matrix((amt, (rows, cols)), shape=(n, n)).tocsr()  # duplicates summed, as the loader does
    elif edges is not None and not isinstance(edges, list):
        raise _Fallback
    return System.from_arrays(c, s, L, f, alpha=float(alpha), names=names, Lmat=Lm)


def system_from_dict(doc: Any) -> System:
    """Validate a parsed system file (docs/model.md §7.1) and build a :class:`System`.

    Well-formed documents take a vectorised path (a 1e5-bank / 1e6-exposure file in seconds);
    anything unusual goes through the pydantic schema, which produces the one-line message.
    """
    try:
        return _fast_from_doc(doc)
    except _Fallback:
        return _validated_from_dict(doc)


def _validated_from_dict(doc: Any) -> System:
    """The pydantic path of :func:`system_from_dict` (exact error messages)."""
    if not isinstance(doc, dict):
        raise InputError("file", "a system file must be a mapping with inverse_demand, banks (and optionally alpha, interbank)")
    try:
        spec = SystemFile.model_validate(doc)
    except ValidationError as err:
        raise validation_error(err) from None
    names = [b.name for b in spec.banks]
    seen: dict[str, int] = {}
    for k, nm in enumerate(names):
        if nm in seen:
            raise InputError(f"banks[{k}].name", f"duplicate bank name {nm!r}")
        seen[nm] = k
    f = from_dict(spec.inverse_demand.model_dump(exclude_none=True))
    Lmat = None
    if spec.interbank:
        rows, cols, vals = [], [], []
        for k, e in enumerate(spec.interbank):
            for role, nm in (("debtor", e.debtor), ("creditor", e.creditor)):
                if nm not in seen:
                    raise InputError(f"interbank[{k}].{role}", f"unknown bank name {nm!r}")
            if e.debtor == e.creditor:
                raise InputError(f"interbank[{k}]", f"self-loop: bank {e.debtor!r} cannot owe itself (L_ii = 0)")
            rows.append(seen[e.debtor])
            cols.append(seen[e.creditor])
            vals.append(e.amount)
        n = len(names)
        Lmat = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()  # duplicates are summed
    return System.from_arrays(
        c=[b.liquid for b in spec.banks],
        s=[b.illiquid for b in spec.banks],
        L=[b.liabilities for b in spec.banks],
        f=f,
        alpha=spec.alpha,
        names=names,
        Lmat=Lmat,
    )


def load_system(path: str | Path) -> System:
    """Read a system; InputError on any problem (never a traceback).

    ``path`` is a YAML or JSON system file, a neva JSON file (a list of banks),
    a neva-style CSV pair ``BALANCE.csv:EXPOSURES.csv`` or a Parquet pair
    ``BALANCE.parquet:EXPOSURES.parquet`` (see :mod:`liqstress.networks.columnar`).
    """
    text = str(path)
    if text.lower().endswith((".csv", ".parquet", ".pq")):
        from liqstress.networks.columnar import load_columnar

        return load_columnar(text)
    p = Path(path)
    body = read_text(p, "SYSTEM")
    if p.suffix.lower() == ".json" and body.lstrip(" \t\r\n\ufeff")[:1] == "[":  # neva's JSON: a list of banks
        from liqstress.networks.io import neva_from_text

        return neva_from_text(body, p.name)
    doc = parse_text(body, p.name, p.suffix.lower() == ".json", "SYSTEM")
    if isinstance(doc, list):  # a neva document written as YAML
        from liqstress.networks.io import neva_from_text

        return neva_from_text(body, p.name)
    return system_from_dict(doc)
