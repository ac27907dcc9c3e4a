"""The CBC plan file (docs/model.md §7.2) as a pydantic v2 model: :class:`CBCPlan`.

Minimal file (docs/model.md §7.2)::

    horizon_days: 90
    opening_cash: 100.0
    net_outflows: [12.0, 8.5, ...]      # one per day 1..horizon_days; negative = net inflow
    assets:
      - {id: ust, level: L1, amount: 500, sale_discount: 0.0, repo_haircut: 0.02,
         daily_capacity: 200, settlement_days: 1, sale: true, repo: true}

Optional extensions (all optional, documented in ``docs/cbc.md``):

* per asset: ``encumbered`` (units already pledged, not available; default 0),
  ``closed_days`` (action days on which the asset's market is closed),
  ``repo_term_days`` (a repo made on day t of u units repays ``u (1 - repo_haircut)`` on day
  ``t + settlement_days + repo_term_days`` and the collateral comes back; default: no maturity
  inside the horizon, as in docs/model.md §6.3), ``rollover`` (a maturing repo may be rolled for
  another term instead of repaid; default false), ``price_impact``
  (``{kind: linear|exponential|power, beta, gamma?, tranches?}``: sale proceeds are the concave
  ``(1 - sale_discount) F(U)``, ``F(u) = u f(u)``, inverse demand of docs/model.md §2.2, discretised in
  ``tranches`` equal-width tranches, default 20; the tranche proceeds are a lower bound of
  the exact concave proceeds, see ``liqstress.solvers.cbc_compile.tranche_prices``);
* ``facilities``: central-bank lines ``{id, amount, haircut, lead_days, counted_in_horizon,
  daily_capacity?}``; a draw of u on day t pays ``u (1 - haircut)`` on day ``t + lead_days``;
  lines with ``counted_in_horizon: false`` (the default, docs/model.md §6.2) are shown but not used;
* ``management_actions``: ``{id, amount, lead_days, capacity_per_day?}``; u taken on day t
  pays u on day ``t + lead_days``;
* ``minimum_balance`` (default 0): cash the plan must keep at all times (a minimum operational
  buffer plus an intraday requirement); survival to T then means ``B_t >= minimum_balance``
  for every t <= T;
* ``unit``: the currency unit of every amount (``"$M"``, ``"EUR bn"``), shown on charts;
* ``scenario`` + ``haircut_addons: {scenario: {asset_id_or_level: addon}}``: when
  ``scenario`` names a key of ``haircut_addons``, each addon is added to both the
  ``sale_discount`` and the ``repo_haircut`` of the matching asset lines (an asset-id key
  overrides a level key); the effective values must stay in [0, 1).

Every validation failure becomes one :class:`~liqstress.errors.InputError` naming the dotted
field path (``assets[3].repo_haircut: must be in [0, 1)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liqstress.errors import InputError
from liqstress.models.files import read_document, validation_error
from liqstress.models.inverse_demand import from_dict
from liqstress.models.system import InverseDemandSpec

LEVELS: tuple[str, ...] = ("L1", "L2A", "L2B", "non_HQLA")
"""Liquidity levels in waterfall order (Basel III LCR, BCBS 2013)."""

DEFAULT_TRANCHES = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=False, strict=True)


def _unit_interval(v: Optional[float]) -> Optional[float]:
    if v is not None and not (0.0 <= v < 1.0):
        raise ValueError("must be in [0, 1)")
    return v


def _nonneg(v: Optional[float]) -> Optional[float]:
    if v is not None and v < 0:
        raise ValueError("must be >= 0")
    return v


class PriceImpact(InverseDemandSpec):
    """Inverse demand of docs/model.md §2.2 (same fields and checks as the system file's
    ``inverse_demand``) applied to the cumulative volume sold of one asset line."""

    tranches: int = Field(DEFAULT_TRANCHES, ge=1, le=1000)

    def inverse_demand(self):
        return from_dict(self.model_dump(exclude_none=True, exclude={"tranches"}))


class AssetLine(_Strict):
    """One line of counterbalancing capacity (units of nominal value 1)."""

    id: str = Field(min_length=1)
    level: Literal["L1", "L2A", "L2B", "non_HQLA"]
    amount: float
    sale_discount: Optional[float] = None
    repo_haircut: Optional[float] = None
    daily_capacity: Optional[float] = None
    settlement_days: int = Field(1, ge=0)
    sale: bool = True
    repo: bool = True
    encumbered: float = 0.0
    closed_days: list[int] = Field(default_factory=list)
    repo_term_days: Optional[int] = Field(None, ge=1)
    rollover: bool = False
    price_impact: Optional[PriceImpact] = None
    currency: Optional[str] = None  # stress files: the line's currency (default: the reporting currency)

    _nn = field_validator("amount", "daily_capacity", "encumbered")(_nonneg)
    _ui = field_validator("sale_discount", "repo_haircut")(_unit_interval)

    @model_validator(mode="after")
    def _consistent(self) -> "AssetLine":
        if self.sale and self.sale_discount is None:
            raise ValueError("sale_discount: is required when sale is true")
        if self.repo and self.repo_haircut is None:
            raise ValueError("repo_haircut: is required when repo is true")
        if self.encumbered > self.amount:
            raise ValueError(f"encumbered: must be <= amount ({self.amount:g})")
        if self.rollover and self.repo_term_days is None:
            raise ValueError("rollover: needs repo_term_days")
        if self.price_impact is not None and not self.sale:
            raise ValueError("price_impact: needs sale: true")
        return self

    @property
    def available(self) -> float:
        """Units that can be monetised: ``amount - encumbered``."""
        return self.amount - self.encumbered


class Facility(_Strict):
    """Central-bank facility line: a draw of u on day t pays ``u (1 - haircut)`` on day t + lead_days."""

    id: str = Field(min_length=1)
    amount: float
    haircut: float = 0.0
    lead_days: int = Field(0, ge=0)
    counted_in_horizon: bool = False
    daily_capacity: Optional[float] = None

    _nn = field_validator("amount", "daily_capacity")(_nonneg)
    _ui = field_validator("haircut")(_unit_interval)


class ManagementAction(_Strict):
    """A management action as a cash source: u taken on day t pays u on day t + lead_days."""

    id: str = Field(min_length=1)
    amount: float
    lead_days: int = Field(0, ge=0)
    capacity_per_day: Optional[float] = None

    _nn = field_validator("amount", "capacity_per_day")(_nonneg)


class CBCPlan(_Strict):
    """CBC plan file (docs/model.md §7.2).  Build with :meth:`from_file`, :meth:`from_dict` or
    ``CBCPlan.model_validate(dict)`` (the latter raises pydantic's ValidationError; the two
    former raise :class:`InputError`)."""

    horizon_days: int = Field(ge=1, le=3660)
    opening_cash: float
    net_outflows: list[float]
    assets: list[AssetLine] = Field(default_factory=list)
    facilities: list[Facility] = Field(default_factory=list)
    management_actions: list[ManagementAction] = Field(default_factory=list)
    scenario: Optional[str] = None
    haircut_addons: dict[str, dict[str, float]] = Field(default_factory=dict)
    name: Optional[str] = None
    description: Optional[str] = None
    minimum_balance: float = 0.0
    unit: Optional[str] = None  # currency unit of amounts and cash, shown on charts (e.g. "$M")

    _mb = field_validator("minimum_balance")(_nonneg)

    @model_validator(mode="after")
    def _consistent(self) -> "CBCPlan":
        H = self.horizon_days
        if len(self.net_outflows) != H:
            raise ValueError(f"net_outflows: must have horizon_days={H} entries, got {len(self.net_outflows)}")
        seen: dict[str, str] = {}
        for group in ("assets", "facilities", "management_actions"):
            for i, item in enumerate(getattr(self, group)):
                if item.id in seen:
                    raise ValueError(f"{group}[{i}].id: duplicate id {item.id!r} (already used in {seen[item.id]})")
                seen[item.id] = f"{group}[{i}]"
        for i, a in enumerate(self.assets):
            for d in a.closed_days:
                if not 1 <= d <= H:
                    raise ValueError(f"assets[{i}].closed_days: day {d} outside 1..{H}")
            if a.price_impact is not None and a.available > 0:
                try:
                    a.price_impact.inverse_demand().check_assumption(a.available)
                except InputError as err:
                    raise ValueError(f"assets[{i}].price_impact: {err.rule}") from None
        ids = {a.id for a in self.assets}
        for scen, table in self.haircut_addons.items():
            for key, addon in table.items():
                if key not in ids and key not in LEVELS:
                    raise ValueError(f"haircut_addons.{scen}.{key}: unknown asset id or level (levels: {', '.join(LEVELS)})")
                if not 0.0 <= addon < 1.0:
                    raise ValueError(f"haircut_addons.{scen}.{key}: must be in [0, 1)")
        for i, a in enumerate(self.assets):
            add = self.addon_for(a)
            for fld in ("sale_discount", "repo_haircut"):
                v = getattr(a, fld)
                if v is not None and not v + add < 1.0:
                    raise ValueError(f"assets[{i}].{fld}: {fld} + haircut add-on {add:g} must be < 1")
        return self

    # ------------------------------------------------------------------ helpers
    def addon_for(self, asset: AssetLine) -> float:
        """Haircut add-on of ``asset`` under ``self.scenario`` (asset id overrides level)."""
        if self.scenario is None or self.scenario not in self.haircut_addons:
            return 0.0
        table = self.haircut_addons[self.scenario]
        if asset.id in table:
            return float(table[asset.id])
        return float(table.get(asset.level, 0.0))

    def effective_sale_discount(self, asset: AssetLine) -> float:
        return float(asset.sale_discount or 0.0) + self.addon_for(asset)

    def effective_repo_haircut(self, asset: AssetLine) -> float:
        return float(asset.repo_haircut or 0.0) + self.addon_for(asset)

    def with_scenario(self, scenario: Optional[str]) -> "CBCPlan":
        """A copy with ``scenario`` set (selects the haircut add-ons)."""
        return CBCPlan.from_dict({**self.model_dump(), "scenario": scenario})

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Any) -> "CBCPlan":
        """Validate a dict; errors become one-line :class:`InputError` with the dotted path."""
        if not isinstance(data, dict):
            raise InputError("plan", "must be a mapping (YAML/JSON object)")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise validation_error(err, root="plan") from None

    @classmethod
    def from_file(cls, path: str | Path) -> "CBCPlan":
        """Read a YAML or JSON plan file."""
        return cls.from_dict(read_document(path))


__all__ = [
    "AssetLine",
    "CBCPlan",
    "Facility",
    "LEVELS",
    "ManagementAction",
    "PriceImpact",
]
