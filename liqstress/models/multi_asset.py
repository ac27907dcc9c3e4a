"""Multi-asset systems: banks holding several illiquid assets, each with its own inverse demand.

File format (YAML or JSON, validated with pydantic; every problem is a one-line
:class:`~liqstress.errors.InputError` naming the field)::

    alpha: 0.0                      # permanent impact of early sales (clearing model), [0, 1]
    assets:
      - name: bonds
        inverse_demand: {kind: linear, beta: 0.002}    # f_k of the paper, per asset
      - name: equities
        depth: 400.0                # or a market depth D_k: f_k(u) = exp(-u / D_k)
    banks:
      - name: A
        liquid: 1.0                 # cash c_i
        liabilities: 10.0           # L_i: due at t = 2 (clearing); debt (deleveraging models)
        holdings: {bonds: 5.0, equities: 3.0}   # units s_ik, price 1 at t = 0
        other_assets: 2.0           # optional: non-marketable assets at book value

A single asset with its ``inverse_demand`` and ``other_assets: 0`` is the paper's system
(the liqstress system file); :meth:`MultiAssetSystem.from_system` converts one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liqstress.errors import InputError
from liqstress.models.files import MAX_MAGNITUDE, read_document, validation_error
from liqstress.models.inverse_demand import Exponential, InverseDemand, from_dict
from liqstress.models.system import InverseDemandSpec, System


class _Strict(BaseModel):
    # strict: a boolean or a string is not a number (as in the system file)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True, strict=True)


def _nonneg(v: float) -> float:
    if v is None or not math.isfinite(v):
        raise ValueError("must be a finite number (no NaN or inf)")
    if v < 0:
        raise ValueError(f"must be >= 0 (got {v})")
    return v


class AssetSpec(_Strict):
    name: str = Field(min_length=1)
    inverse_demand: Optional[InverseDemandSpec] = None
    depth: Optional[float] = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        if not isinstance(v, (str, int)) or isinstance(v, bool) or str(v).strip() == "":
            raise ValueError("must be a non-empty string")
        return str(v)

    @field_validator("depth")
    @classmethod
    def _depth(cls, v: Optional[float]) -> Optional[float]:
        if v is not None and (not math.isfinite(v) or v <= 0):
            raise ValueError(f"must be a finite number > 0 (market depth), got {v}")
        return v

    @model_validator(mode="after")
    def _one(self) -> "AssetSpec":
        if (self.inverse_demand is None) == (self.depth is None):
            raise ValueError("inverse_demand: give exactly one of inverse_demand or depth")
        return self


class MultiBankSpec(_Strict):
    name: str = Field(min_length=1)
    liquid: float
    liabilities: float
    holdings: dict[str, float] = Field(default_factory=dict)
    other_assets: float = 0.0

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        if not isinstance(v, (str, int)) or isinstance(v, bool) or str(v).strip() == "":
            raise ValueError("must be a non-empty string")
        return str(v)

    @field_validator("liquid", "liabilities", "other_assets")
    @classmethod
    def _amount(cls, v: float) -> float:
        return _nonneg(v)

    @field_validator("holdings")
    @classmethod
    def _holdings(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            try:
                _nonneg(x)
            except ValueError as err:
                raise ValueError(f"{k}: {err}") from None
        return v


class MultiAssetFile(_Strict):
    alpha: float = 0.0
    assets: list[AssetSpec] = Field(min_length=1)
    banks: list[MultiBankSpec] = Field(min_length=1)

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, v: float) -> float:
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise ValueError(f"must be in [0, 1], got {v}")
        return v


@dataclass(frozen=True)
class MultiAssetSystem:
    """Banks x assets, vectorised: ``H[i, k]`` units of asset k held by bank i."""

    names: tuple[str, ...]
    assets: tuple[str, ...]
    c: np.ndarray
    L: np.ndarray
    H: np.ndarray
    other: np.ndarray
    f: tuple[InverseDemand, ...]
    alpha: float = 0.0

    @property
    def n(self) -> int:
        return self.c.size

    @property
    def K(self) -> int:
        return len(self.assets)

    @property
    def S(self) -> np.ndarray:
        """Total units of each asset (the domain [0, S_k] of f_k)."""
        return self.H.sum(axis=0)

    def equity(self, p: Optional[np.ndarray] = None) -> np.ndarray:
        p = np.ones(self.K) if p is None else np.asarray(p, float)
        return self.c + self.H @ p + self.other - self.L

    def bank_index(self, name: str) -> int:
        if name not in self.names:
            raise InputError("bank", f"unknown bank name {name!r}")
        return self.names.index(name)

    def asset_index(self, name: str) -> int:
        if name not in self.assets:
            raise InputError("asset", f"unknown asset {name!r} (known: {', '.join(self.assets)})")
        return self.assets.index(name)

    def check_assumption(self) -> None:
        """Assumption 4.1 for every asset's f_k on [0, S_k] (needed by the clearing (4))."""
        S = self.S
        for k, fk in enumerate(self.f):
            try:
                fk.check_assumption(float(S[k]))
            except InputError as err:
                raise InputError(f"assets[{k}].{err.field}", f"({self.assets[k]}) {err.rule}") from None

    def check_positive_prices(self) -> None:
        """f_k > 0 on [0, S_k] (every price stays positive however much is sold)."""
        S = self.S
        for k, fk in enumerate(self.f):
            if not float(fk(S[k])) > 0:
                raise InputError(f"assets[{k}].inverse_demand", f"({self.assets[k]}) f must be positive on [0, S = {S[k]:.6g}]")

    @classmethod
    def from_arrays(cls, c: Sequence[float], L: Sequence[float], H: Any, f: Sequence[InverseDemand], alpha: float = 0.0,
                    other: Optional[Sequence[float]] = None, names: Optional[Sequence[str]] = None,
                    assets: Optional[Sequence[str]] = None) -> "MultiAssetSystem":
        c = np.asarray(c, float).ravel()
        L = np.asarray(L, float).ravel()
        H = np.atleast_2d(np.asarray(H, float))
        n = c.size
        if H.shape[0] != n:
            raise InputError("holdings", f"needs {n} rows (one per bank), got {H.shape[0]}")
        K = H.shape[1]
        other = np.zeros(n) if other is None else np.asarray(other, float).ravel()
        for nm, arr in (("liquid", c), ("liabilities", L), ("other_assets", other), ("holdings", H)):
            if arr.shape[0] != n:
                raise InputError(f"banks.{nm}", f"length {arr.shape[0]} differs from the number of banks {n}")
            if not np.all(np.isfinite(arr)):
                raise InputError(f"banks.{nm}", "must be finite numbers (no NaN or inf)")
            if (arr < 0).any():
                raise InputError(f"banks.{nm}", "must be >= 0")
            if (arr > MAX_MAGNITUDE).any():
                raise InputError(f"banks.{nm}", f"|value| must be <= {MAX_MAGNITUDE:g}")
        if len(f) != K:
            raise InputError("assets", f"{len(f)} inverse demands for {K} assets")
        if not (math.isfinite(alpha) and 0 <= alpha <= 1):
            raise InputError("alpha", f"must be in [0, 1], got {alpha}")
        names = tuple(f"B{i + 1}" for i in range(n)) if names is None else tuple(str(x) for x in names)
        assets = tuple(f"asset{k + 1}" for k in range(K)) if assets is None else tuple(str(x) for x in assets)
        for label, seq in (("banks", names), ("assets", assets)):
            seen = set()
            for k, nm in enumerate(seq):
                if nm in seen:
                    raise InputError(f"{label}[{k}].name", f"duplicate name {nm!r}")
                seen.add(nm)
        return cls(names, assets, c, L, H, other, tuple(f), float(alpha))

    @classmethod
    def from_system(cls, system: System) -> "MultiAssetSystem":
        """The paper's single-asset system (no interbank block) as a one-asset system."""
        if system.has_interbank:
            raise InputError("interbank", "a multi-asset system has no interbank block (use the network models)")
        return cls.from_arrays(system.c, system.L, system.s[:, None], [system.f], alpha=system.alpha,
                               names=system.names, assets=("illiquid",))

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "assets": [{"name": a, "inverse_demand": f.to_dict()} for a, f in zip(self.assets, self.f)],
            "banks": [{"name": nm, "liquid": float(c), "liabilities": float(L), "other_assets": float(o),
                       "holdings": {a: float(h) for a, h in zip(self.assets, row) if h}}
                      for nm, c, L, o, row in zip(self.names, self.c, self.L, self.other, self.H)],
        }


def multi_asset_from_dict(doc: Any) -> MultiAssetSystem:
    """Validate a parsed multi-asset file (see module doc)."""
    if not isinstance(doc, dict):
        raise InputError("file", "a multi-asset file must be a mapping with assets and banks (and optionally alpha)")
    try:
        spec = MultiAssetFile.model_validate(doc)
    except ValidationError as err:
        raise validation_error(err) from None
    assets = [a.name for a in spec.assets]
    index: dict[str, int] = {}
    for k, a in enumerate(assets):
        if a in index:
            raise InputError(f"assets[{k}].name", f"duplicate asset name {a!r}")
        index[a] = k
    f = [Exponential(1.0 / a.depth) if a.depth is not None else from_dict(a.inverse_demand.model_dump(exclude_none=True))
         for a in spec.assets]
    n = len(spec.banks)
    H = np.zeros((n, len(assets)))
    for i, b in enumerate(spec.banks):
        for a, units in b.holdings.items():
            if a not in index:
                raise InputError(f"banks[{i}].holdings.{a}", f"unknown asset {a!r} (known: {', '.join(assets)})")
            H[i, index[a]] = units
    return MultiAssetSystem.from_arrays([b.liquid for b in spec.banks], [b.liabilities for b in spec.banks], H, f,
                                        alpha=spec.alpha, other=[b.other_assets for b in spec.banks],
                                        names=[b.name for b in spec.banks], assets=assets)


def load_multi_asset(path: str | Path) -> MultiAssetSystem:
    """Read a multi-asset file (YAML or JSON; see module doc) through the shared reader
    (regular files, size limit, UTF-8, finite numbers with |v| <= 1e15, no repeated key in a
    mapping such as ``holdings``); errors name the file: ``f.yaml:banks[0].liquid: ...``."""
    p = Path(path)
    try:
        return multi_asset_from_dict(read_document(p, field="SYSTEM", unique_keys=True))
    except InputError as err:  # file-level errors (field SYSTEM) name the file already
        if err.field == "SYSTEM":
            raise
        raise InputError(f"{p.name}:{err.field}", err.rule) from None


def is_multi_asset(doc: Any) -> bool:
    """A parsed document is a multi-asset file (it has ``assets``), not a system file."""
    return isinstance(doc, dict) and "assets" in doc
