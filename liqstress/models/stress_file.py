"""Stress file: the full liquidity stress input of SPEC Part B (format documented in docs/stress.md).

A stress file (YAML or JSON) holds the balance sheet seen by the liquidity stress engine:
liabilities by run-off category, dated contractual flows, the counterbalancing capacity (CBC)
inventory -- whose entries carry exactly the asset fields of the CBC plan file of SPEC Part C --,
committed / central-bank facilities, the scenarios (idiosyncratic, market-wide, and combined
derived as the overlay of the two), the contingency funding plan (CFP) triggers and phases,
management actions, internal minimum survival horizons, historical reference events and the
LCR settings (Level 2B haircuts, short-term secured transactions to unwind, Annex 1).

Validation is pydantic v2 with ``extra="forbid"``; every problem becomes one
:class:`~liqstress.errors.InputError` naming the dotted field (``scenarios[1].run_off.retail_stable.rate``).
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liqstress.errors import InputError
from liqstress.models.files import read_document, validation_error
from liqstress.models.cbc_plan import AssetLine
from liqstress.stress.behavioural import Behavioural

# --------------------------------------------------------------------------- vocabularies
LEVELS = ("L1", "L2A", "L2B", "non_HQLA")
Level = Literal["L1", "L2A", "L2B", "non_HQLA"]
ScenarioType = Literal["idiosyncratic", "market_wide", "combined"]
PHASES = ("monitoring", "heightened_alert", "contingency", "crisis")
Phase = Literal["monitoring", "heightened_alert", "contingency", "crisis"]
PHASE_LABEL = {
    "monitoring": "Monitoring",
    "heightened_alert": "Heightened Alert",
    "contingency": "Contingency",
    "crisis": "Crisis",
}

#: Liability (run-off) categories and their Basel III LCR outflow rates (BCBS 238, paras 73-131).
#: secured_funding depends on the collateral level (para 115); see ``basel_outflow_rate``.
LIABILITY_CATEGORIES: dict[str, float] = {
    "retail_stable": 0.05,  # para 75
    "retail_less_stable": 0.10,  # para 79
    "retail_digital": 0.10,  # less stable retail (para 79); higher behavioural run-off
    "operational": 0.25,  # para 93
    "corporate_nonoperational": 0.40,  # para 107 (20% if fully insured)
    "uninsured_deposits": 0.40,  # non-operational, not covered by deposit insurance
    "financial_institution": 1.00,  # para 109
    "unsecured_wholesale": 1.00,  # para 109/110, maturing within 30 days
    "secured_funding": float("nan"),  # para 115, by collateral level
    "committed_credit_facility": 0.10,  # para 131(b)
    "committed_liquidity_facility": 0.30,  # para 131(c)
    "derivative_collateral": 1.00,  # para 118 (downgrade triggers)
    "other_contractual": 1.00,  # para 141
}
DEPOSIT_CATEGORIES = (
    "retail_stable",
    "retail_less_stable",
    "retail_digital",
    "operational",
    "corporate_nonoperational",
    "uninsured_deposits",
    "financial_institution",
)
SECURED_RATES = {"L1": 0.0, "L2A": 0.15, "L2B": 0.25, "non_HQLA": 1.0}

#: Contractual inflow kinds and their Basel LCR inflow rates (paras 153-170).
INFLOW_KINDS: dict[str, float] = {
    "retail_loan": 0.50,  # para 153
    "corporate_loan": 0.50,  # para 154
    "financial_institution": 1.00,  # para 154
    "securities_sovereign": 1.00,  # para 155 (maturing, not in the HQLA stock)
    "securities_other": 1.00,  # para 155
    "other": 0.0,  # not recognised
}
Category = Literal[tuple(LIABILITY_CATEGORIES)]  # type: ignore[valid-type]
FlowKind = Literal[tuple(INFLOW_KINDS)]  # type: ignore[valid-type]
Indicator = Literal["lcr", "survival_days", "deposit_outflow_sigma", "wholesale_closed", "rating_notches"]


def basel_outflow_rate(category: str, collateral_level: Optional[str]) -> float:
    """Regulatory 30-day LCR outflow rate of a liability category (BCBS 238)."""
    if category == "secured_funding":
        return SECURED_RATES[collateral_level or "non_HQLA"]
    return LIABILITY_CATEGORIES[category]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)


def _finite(v: float) -> float:
    if v is None or not math.isfinite(v):
        raise ValueError("must be a finite number (no NaN or inf)")
    return v


def _nonneg(v: float) -> float:
    _finite(v)
    if v < 0:
        raise ValueError(f"must be >= 0 (got {v})")
    return v


def _unit(v: float) -> float:
    _finite(v)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"must be in [0, 1] (got {v})")
    return v


def _unit_open(v: float) -> float:
    _finite(v)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"must be in [0, 1) (got {v})")
    return v


# --------------------------------------------------------------------------- balance sheet
class Maturity(_Strict):
    day: int = Field(ge=1)
    amount: float

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))


class Liability(_Strict):
    """A funding line.  Non-maturing lines run off by the scenario's ``run_off`` profile;
    lines with ``maturities`` pay the non-rolled share (scenario ``rollover``) at maturity."""

    id: str = Field(min_length=1)
    category: Category
    amount: float
    maturities: Optional[list[Maturity]] = None
    collateral_level: Optional[Level] = None
    lcr_rate: Optional[float] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))
    _r = field_validator("lcr_rate")(classmethod(lambda cls, v: v if v is None else _unit(v)))

    @model_validator(mode="after")
    def _check(self) -> "Liability":
        if self.maturities is not None:
            tot = sum(m.amount for m in self.maturities)
            if tot > self.amount * (1 + 1e-9) + 1e-9:
                raise ValueError(f"maturities sum to {tot:g} > amount {self.amount:g}")
        if self.category == "secured_funding" and self.collateral_level is None and self.lcr_rate is None:
            raise ValueError("secured_funding needs collateral_level (or lcr_rate)")
        return self

    def basel_rate(self) -> float:
        return self.lcr_rate if self.lcr_rate is not None else basel_outflow_rate(self.category, self.collateral_level)


class Flow(_Strict):
    """A dated contractual cash flow (``day`` 1-based, or ``date`` relative to ``as_of``)."""

    id: str = Field(min_length=1)
    direction: Literal["inflow", "outflow"]
    kind: FlowKind = "other"
    amount: float
    day: Optional[int] = Field(default=None, ge=1)
    date: Optional[_dt.date] = None
    repeat_days: Optional[int] = Field(default=None, ge=1)
    until_day: Optional[int] = Field(default=None, ge=1)
    lcr_rate: Optional[float] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))
    _r = field_validator("lcr_rate")(classmethod(lambda cls, v: v if v is None else _unit(v)))

    @model_validator(mode="after")
    def _check(self) -> "Flow":
        if (self.day is None) == (self.date is None):
            raise ValueError("give exactly one of day or date")
        return self


#: One line of the CBC inventory: the asset model of the CBC plan file (SPEC Part C) itself, so
#: the fields are the same by construction (id, level, amount, sale_discount, repo_haircut,
#: daily_capacity, settlement_days, sale, repo and the plan file's optional extensions).
CBCAsset = AssetLine


class Facility(_Strict):
    """Committed line received or central-bank facility.  Central-bank facilities are shown but
    not counted in the survival horizon unless ``counted: true`` (seed guideline, SPEC Part B)."""

    id: str = Field(min_length=1)
    kind: Literal["committed_line", "central_bank"]
    amount: float
    haircut: float = 0.0
    lead_days: int = Field(default=1, ge=0)
    counted: Optional[bool] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))
    _h = field_validator("haircut")(classmethod(lambda cls, v: _unit_open(v)))

    def is_counted(self) -> bool:
        return self.counted if self.counted is not None else self.kind == "committed_line"


# --------------------------------------------------------------------------- scenarios
class RunOff(_Strict):
    """Run-off of a category: ``rate`` of the balance leaves over ``days`` days, ``front_share``
    of it on day 1 and the rest evenly on days 2..days.  Severity rises with rate and
    front_share and falls with days (the cumulative curve is monotone in each)."""

    rate: float
    days: int = Field(ge=1)
    front_share: float = 0.0
    basis: str = ""

    _r = field_validator("rate", "front_share")(classmethod(lambda cls, v: _unit(v)))


class Scenario(_Strict):
    name: str = Field(min_length=1)
    type: ScenarioType
    trigger: str = ""
    duration_days: Optional[int] = Field(default=None, ge=1)
    severity: str = ""
    overlay_of: Optional[list[str]] = None
    internal_minimum_days: Optional[int] = Field(default=None, ge=0)
    run_off: dict[str, RunOff] = Field(default_factory=dict)
    rollover: dict[str, float] = Field(default_factory=dict)
    inflow_haircut: dict[str, float] = Field(default_factory=dict)
    sale_discount_add: dict[str, float] = Field(default_factory=dict)
    repo_haircut_add: dict[str, float] = Field(default_factory=dict)
    capacity_factor: dict[str, float] = Field(default_factory=dict)
    closed_sale: list[str] = Field(default_factory=list)
    closed_repo: list[str] = Field(default_factory=list)
    unsecured_wholesale_open: bool = True
    rating_downgrade_notches: int = Field(default=0, ge=0)
    rating_day: int = Field(default=1, ge=1)
    recovery_conditions: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("rollover", "inflow_haircut", "sale_discount_add", "repo_haircut_add")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            try:
                _unit(x)
            except ValueError as e:
                raise ValueError(f"{k}: {e}") from None
        return v

    @field_validator("capacity_factor")
    @classmethod
    def _cap(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not math.isfinite(x) or not 0.0 < x <= 1.0:
                raise ValueError(f"{k}: must be in (0, 1] (got {x})")
        return v

    @model_validator(mode="after")
    def _check(self) -> "Scenario":
        if self.type == "combined":
            if not self.overlay_of or len(self.overlay_of) != 2:
                raise ValueError("combined scenario needs overlay_of: [idiosyncratic name, market_wide name]")
            params = ("run_off", "rollover", "inflow_haircut", "sale_discount_add", "repo_haircut_add",
                      "capacity_factor", "closed_sale", "closed_repo")
            given = [p for p in params if getattr(self, p)]
            if given:
                raise ValueError(f"combined scenario is derived as the overlay; remove {given[0]}")
        elif self.overlay_of is not None:
            raise ValueError("overlay_of is only for type combined")
        for k in self.inflow_haircut:
            if k not in INFLOW_KINDS:
                raise ValueError(f"inflow_haircut: unknown flow kind {k!r} (one of {', '.join(INFLOW_KINDS)})")
        for k in list(self.run_off) + list(self.rollover):
            if k not in LIABILITY_CATEGORIES:
                raise ValueError(f"unknown liability category {k!r} (one of {', '.join(LIABILITY_CATEGORIES)})")
        return self


# --------------------------------------------------------------------------- CFP, actions, history
class Trigger(_Strict):
    id: str = Field(min_length=1)
    indicator: Indicator
    op: Literal["below", "at_or_above"]
    level: float
    phase: Literal["heightened_alert", "contingency", "crisis"]
    description: str = ""

    _l = field_validator("level")(classmethod(lambda cls, v: _finite(v)))


class PhaseInfo(_Strict):
    authority: str = ""
    actions: str = ""


class CFP(_Strict):
    deposit_outflow_sigma_daily: float = 0.005
    triggers: list[Trigger] = Field(min_length=1)
    phases: dict[Phase, PhaseInfo] = Field(default_factory=dict)

    @field_validator("deposit_outflow_sigma_daily")
    @classmethod
    def _sig(cls, v: float) -> float:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"must be > 0 (got {v})")
        return v


class ManagementAction(_Strict):
    id: str = Field(min_length=1)
    name: str = ""
    impact: float
    lead_days: int = Field(ge=0)
    spread_days: int = Field(default=1, ge=1)
    feasibility: Literal["high", "medium", "low"]
    pre_approved: bool
    phase: Literal["heightened_alert", "contingency", "crisis"] = "contingency"
    description: str = ""

    _a = field_validator("impact")(classmethod(lambda cls, v: _nonneg(v)))

    def counted(self) -> bool:
        """Seed guideline: include only pre-approved actions executable as stated."""
        return self.pre_approved and self.feasibility != "low" and self.impact > 0


class HistoricalEvent(_Strict):
    name: str = Field(min_length=1)
    year: int
    deposit_outflow_pct: Optional[float] = None
    days: Optional[int] = Field(default=None, ge=1)
    wholesale_access: str = ""
    note: str = ""
    source: str = ""


class SecuredLeg(_Strict):
    level: Level
    value: float

    _v = field_validator("value")(classmethod(lambda cls, v: _nonneg(v)))


class SecuredTransaction(_Strict):
    """Short-term secured funding / lending / collateral swap (Annex 1 unwinding).  ``gave`` is
    what the bank delivered and gets back at unwinding, ``received`` what it returns; values
    after the LCR haircuts."""

    id: str = Field(min_length=1)
    maturity_days: int = Field(ge=0)
    gave: SecuredLeg
    received: SecuredLeg


class LCRSettings(_Strict):
    l2b_haircuts: dict[str, float] = Field(default_factory=dict)
    secured_transactions: list[SecuredTransaction] = Field(default_factory=list)
    internal_target: float = 1.0
    base_lcr: Optional[float] = None  # reported figure, if the bank wants it shown beside ours

    @field_validator("l2b_haircuts")
    @classmethod
    def _l2b(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not math.isfinite(x) or not 0.25 <= x <= 0.50:
                raise ValueError(f"{k}: Level 2B haircut must be in [0.25, 0.50] (BCBS 238 para 54), got {x}")
        return v


class InternalMinimum(_Strict):
    idiosyncratic: int = Field(default=180, ge=0)
    market_wide: int = Field(default=90, ge=0)
    combined: int = Field(default=90, ge=0)


# --------------------------------------------------------------------------- the file
class StressFile(_Strict):
    name: str = Field(min_length=1)
    currency: str = "USD"
    unit: str = "$M"
    as_of: Optional[_dt.date] = None
    horizon_days: int = Field(default=180, ge=1, le=1095)
    opening_cash: float
    internal_minimum_days: InternalMinimum = Field(default_factory=InternalMinimum)
    liabilities: list[Liability] = Field(min_length=1)
    flows: list[Flow] = Field(default_factory=list)
    cbc: list[CBCAsset] = Field(default_factory=list)
    facilities: list[Facility] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(min_length=1)
    cfp: CFP
    management_actions: list[ManagementAction] = Field(default_factory=list)
    historical_events: list[HistoricalEvent] = Field(default_factory=list)
    lcr: LCRSettings = Field(default_factory=LCRSettings)
    description: str = ""
    behavioural: Optional[Behavioural] = None  # deposit segments (liqstress.stress.behavioural)

    _c = field_validator("opening_cash")(classmethod(lambda cls, v: _nonneg(v)))

    @model_validator(mode="after")
    def _cross(self) -> "StressFile":
        _unique([x.id for x in self.liabilities], "liabilities")
        _unique([x.id for x in self.flows], "flows")
        _unique([x.id for x in self.cbc] + [f.id for f in self.facilities], "cbc")
        _unique([x.id for x in self.management_actions], "management_actions")
        names = [s.name for s in self.scenarios]
        _unique(names, "scenarios")
        by_name = {s.name: s for s in self.scenarios}
        asset_keys = set(LEVELS) | {a.id for a in self.cbc}
        for k in self.lcr.l2b_haircuts:
            a = next((x for x in self.cbc if x.id == k), None)
            if a is None or a.level != "L2B":
                raise ValueError(f"lcr.l2b_haircuts.{k}: not a Level 2B asset of cbc")
        if self.as_of is None and any(f.date is not None for f in self.flows):
            raise ValueError("as_of: needed when a flow is given by date")
        for f in self.flows:
            if f.date is not None and (f.date - self.as_of).days < 1:  # type: ignore[operator]
                raise ValueError(f"flows.{f.id}.date: must be after as_of")
        maturing = {l.category for l in self.liabilities if l.maturities is not None}
        running = {l.category for l in self.liabilities if l.maturities is None}
        kinds = {f.kind for f in self.flows if f.direction == "inflow"}
        for i, s in enumerate(self.scenarios):
            where = f"scenarios[{i}]"
            for fld in ("sale_discount_add", "repo_haircut_add", "capacity_factor"):
                for k in getattr(s, fld):
                    if k not in asset_keys:
                        raise ValueError(f"{where}.{fld}.{k}: not a level ({', '.join(LEVELS)}) or a cbc asset id")
            for fld in ("closed_sale", "closed_repo"):
                for k in getattr(s, fld):
                    if k not in asset_keys:
                        raise ValueError(f"{where}.{fld}: {k!r} is not a level or a cbc asset id")
            if s.type == "combined":
                a, b = s.overlay_of  # type: ignore[misc]
                types = []
                for nm in (a, b):
                    if nm not in by_name:
                        raise ValueError(f"{where}.overlay_of: unknown scenario {nm!r}")
                    types.append(by_name[nm].type)
                if sorted(types) != ["idiosyncratic", "market_wide"]:
                    raise ValueError(f"{where}.overlay_of: needs one idiosyncratic and one market_wide scenario")
                continue
            for c in sorted(running):
                if c not in s.run_off:
                    raise ValueError(f"{where}.run_off: missing category {c!r} present in liabilities")
            for c in sorted(maturing):
                if c not in s.rollover:
                    raise ValueError(f"{where}.rollover: missing category {c!r} (maturing liabilities)")
            for k in sorted(kinds):
                if k not in s.inflow_haircut:
                    raise ValueError(f"{where}.inflow_haircut: missing flow kind {k!r} present in flows")
        if self.behavioural is not None:
            self.behavioural.check(self)
        return self

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise InputError("scenario", f"unknown scenario {name!r} (one of {', '.join(s.name for s in self.scenarios)})")

    def internal_minimum(self, s: Scenario) -> int:
        if s.internal_minimum_days is not None:
            return s.internal_minimum_days
        return getattr(self.internal_minimum_days, s.type)


def _unique(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for x in ids:
        if x in seen:
            raise ValueError(f"{where}: duplicate id {x!r}")
        seen.add(x)


# --------------------------------------------------------------------------- loading
def stress_from_dict(doc: Any) -> StressFile:
    if not isinstance(doc, dict):
        raise InputError("stress", "the file must be a mapping (YAML/JSON object)")
    try:
        return StressFile.model_validate(doc)
    except ValidationError as err:
        raise validation_error(err, root="stress") from None


def load_stress(source: "str | Path | dict | StressFile") -> StressFile:
    """Load and validate a stress file (path, already-parsed dict, or model)."""
    if isinstance(source, StressFile):
        return source
    if isinstance(source, dict):
        return stress_from_dict(source)
    return stress_from_dict(read_document(source))
