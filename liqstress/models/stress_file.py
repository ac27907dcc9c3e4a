"""Stress file: the full liquidity stress input of docs/model.md §6 (format documented in docs/stress.md).

A stress file (YAML or JSON) holds the balance sheet seen by the liquidity stress engine:
liabilities by run-off category, dated contractual flows, the counterbalancing capacity (CBC)
inventory -- whose entries carry exactly the asset fields of the CBC plan file of docs/model.md §7.2 --,
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
from liqstress.models.fx_model import FXSection, check_code, check_scenario_fx
from liqstress.models.nsfr_model import NSFRSection
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
#: Secured funding run-off by collateral (BCBS 238 para 115 and its table): Level 1 0%,
#: Level 2A 15%, Level 2B 50% (25% for RMBS eligible for Level 2B, see ``secured_outflow_rate``),
#: other collateral 100%.
SECURED_RATES = {"L1": 0.0, "L2A": 0.15, "L2B": 0.50, "non_HQLA": 1.0}
SECURED_RMBS_RATE = 0.25
SECURED_SOVEREIGN_RATE = 0.25
#: Counterparty of a secured funding line (para 115): ``central_bank`` the bank's domestic
#: central bank; ``sovereign`` its domestic sovereign, a multilateral development bank or a
#: domestic PSE with a risk weight of 20% or lower; ``market`` anyone else.
SecuredCounterparty = Literal["market", "central_bank", "sovereign"]
#: Funding markets a scenario can close and a management action can need.
FUNDING_MARKETS = ("unsecured_wholesale", "term_funding", "equity")
FundingMarket = Literal["unsecured_wholesale", "term_funding", "equity"]
ActionKind = Literal["curtail_outflow", "funding", "asset_sale"]

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


def secured_outflow_rate(collateral_level: Optional[str], rmbs: bool = False, counterparty: str = "market") -> float:
    """Run-off of maturing secured funding, BCBS 238 para 115 and its table.

    ============================================================  ======
    backed by Level 1 assets, or with the domestic central bank   0%
    backed by Level 2A assets                                      15%
    with the domestic sovereign, an MDB or a domestic PSE with a   25%
    risk weight <= 20%, not backed by Level 1 or 2A assets
    backed by RMBS eligible for Level 2B                           25%
    backed by other Level 2B assets                                50%
    all other secured funding                                      100%
    ============================================================  ======
    """
    level = collateral_level or "non_HQLA"
    if counterparty == "central_bank" or level == "L1":
        return 0.0
    if level == "L2A":
        return SECURED_RATES["L2A"]
    if counterparty == "sovereign":
        return SECURED_SOVEREIGN_RATE
    if level == "L2B":
        return SECURED_RMBS_RATE if rmbs else SECURED_RATES["L2B"]
    return SECURED_RATES["non_HQLA"]


def basel_outflow_rate(category: str, collateral_level: Optional[str], rmbs: bool = False,
                       counterparty: str = "market") -> float:
    """Regulatory 30-day LCR outflow rate of a liability category (BCBS 238)."""
    if category == "secured_funding":
        return secured_outflow_rate(collateral_level, rmbs, counterparty)
    return LIABILITY_CATEGORIES[category]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True, strict=True)


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
    lines with ``maturities`` pay the non-rolled share (scenario ``rollover``) at maturity.

    Secured funding: ``collateral`` names the cbc line it encumbers and ``collateral_units``
    the units of that line pledged (they are neither in the HQLA stock nor available to the
    CBC plan); the collateral level then comes from that line (``collateral_level`` may be
    omitted) and whether it is RMBS from ``lcr.l2b_rmbs``.  ``counterparty`` selects the
    central-bank and sovereign exceptions of BCBS 238 para 115."""

    id: str = Field(min_length=1)
    category: Category
    amount: float
    maturities: Optional[list[Maturity]] = None
    collateral_level: Optional[Level] = None
    lcr_rate: Optional[float] = None
    currency: Optional[str] = None
    description: str = ""
    collateral: Optional[str] = None
    collateral_units: Optional[float] = None
    collateral_rmbs: bool = False
    counterparty: SecuredCounterparty = "market"

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))
    _r = field_validator("lcr_rate")(classmethod(lambda cls, v: v if v is None else _unit(v)))
    _cu = field_validator("collateral_units")(classmethod(lambda cls, v: v if v is None else _nonneg(v)))

    @model_validator(mode="after")
    def _check(self) -> "Liability":
        if self.maturities is not None:
            tot = sum(m.amount for m in self.maturities)
            if tot > self.amount * (1 + 1e-9) + 1e-9:
                raise ValueError(f"maturities sum to {tot:g} > amount {self.amount:g}")
        secured = self.category == "secured_funding"
        if secured and self.collateral is None and self.collateral_level is None and self.lcr_rate is None:
            raise ValueError("secured_funding needs collateral (a cbc id), collateral_level or lcr_rate")
        if not secured:
            for fld in ("collateral", "collateral_units"):
                if getattr(self, fld) is not None:
                    raise ValueError(f"{fld}: only for category secured_funding")
            if self.collateral_rmbs:
                raise ValueError("collateral_rmbs: only for category secured_funding")
            if self.counterparty != "market":
                raise ValueError("counterparty: only for category secured_funding")
        if (self.collateral is None) != (self.collateral_units is None):
            raise ValueError("collateral_units: give collateral (a cbc id) and collateral_units together")
        if self.collateral is not None:
            if self.maturities is None:
                raise ValueError("maturities: secured funding linked to collateral needs its maturities "
                                 "(the collateral is returned when it is repaid)")
            if self.collateral_rmbs:
                raise ValueError("collateral_rmbs: linked collateral is RMBS when its id is in lcr.l2b_rmbs")
        if self.collateral_rmbs and self.collateral_level not in (None, "L2B"):
            raise ValueError("collateral_rmbs: needs collateral_level L2B")
        return self

    def basel_rate(self) -> float:
        if self.lcr_rate is not None:
            return self.lcr_rate
        return basel_outflow_rate(self.category, self.collateral_level, self.collateral_rmbs, self.counterparty)


class Flow(_Strict):
    """A dated contractual cash flow (``day`` 1-based, or ``date`` relative to ``as_of``)."""

    id: str = Field(min_length=1)
    direction: Literal["inflow", "outflow"]
    kind: FlowKind = "other"
    amount: float
    day: Optional[int] = Field(default=None, ge=1)
    date: Optional[_dt.date] = Field(default=None, strict=False)
    repeat_days: Optional[int] = Field(default=None, ge=1)
    until_day: Optional[int] = Field(default=None, ge=1)
    lcr_rate: Optional[float] = None
    currency: Optional[str] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nonneg(v)))
    _r = field_validator("lcr_rate")(classmethod(lambda cls, v: v if v is None else _unit(v)))

    @model_validator(mode="after")
    def _check(self) -> "Flow":
        if (self.day is None) == (self.date is None):
            raise ValueError("give exactly one of day or date")
        return self


#: One line of the CBC inventory: the asset model of the CBC plan file (docs/model.md §7.2) itself, so
#: the fields are the same by construction (id, level, amount, sale_discount, repo_haircut,
#: daily_capacity, settlement_days, sale, repo and the plan file's optional extensions).
CBCAsset = AssetLine


class Facility(_Strict):
    """Committed line received or central-bank facility.  Central-bank facilities are shown but
    not counted in the survival horizon unless ``counted: true`` (docs/model.md §6.2)."""

    id: str = Field(min_length=1)
    kind: Literal["committed_line", "central_bank"]
    amount: float
    haircut: float = 0.0
    lead_days: int = Field(default=1, ge=0)
    counted: Optional[bool] = None
    currency: Optional[str] = None
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
    fx_shock: dict[str, float] = Field(default_factory=dict)
    fx_haircut_add: float = 0.0
    fx_swap_closed: list[str] = Field(default_factory=list)
    unsecured_wholesale_open: bool = True
    closed_markets: list[FundingMarket] = Field(default_factory=list)
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
                      "capacity_factor", "closed_sale", "closed_repo", "closed_markets")
            given = [p for p in params if getattr(self, p)]
            if given:
                raise ValueError(f"combined scenario is derived as the overlay; remove {given[0]}")
        elif self.overlay_of is not None:
            raise ValueError("overlay_of is only for type combined")
        check_scenario_fx(self.fx_shock, self.fx_haircut_add)
        if self.type == "combined" and (self.fx_shock or self.fx_haircut_add or self.fx_swap_closed):
            raise ValueError("combined scenario is derived as the overlay; remove its fx parameters")
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
    runway_window_days: int = Field(default=10, ge=1, le=90)  # trailing window of the runway indicator
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
    currency: Optional[str] = None
    description: str = ""
    kind: Optional[ActionKind] = None
    curtails: Optional[str] = None
    requires_markets: list[FundingMarket] = Field(default_factory=list)

    _a = field_validator("impact")(classmethod(lambda cls, v: _nonneg(v)))

    @model_validator(mode="after")
    def _check(self) -> "ManagementAction":
        if self.kind == "curtail_outflow" and self.curtails is None:
            raise ValueError("curtails: kind curtail_outflow needs the id of the outflow (flows) it halts")
        if self.curtails is not None and self.kind != "curtail_outflow":
            raise ValueError("curtails: only for kind curtail_outflow")
        return self

    def counted(self) -> bool:
        """Guideline (docs/model.md §6.6, checklist item 7): include only pre-approved actions executable as stated (scenario-independent
        part; :func:`liqstress.stress.actions.assess` adds the modelled-flow and market checks)."""
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
    asset: Optional[str] = None  # cbc id: that line's fire-sale add-on applies (else the level's)
    cash: bool = False  # a cash leg (Level 1, no fire-sale add-on)

    _v = field_validator("value")(classmethod(lambda cls, v: _nonneg(v)))

    @model_validator(mode="after")
    def _check(self) -> "SecuredLeg":
        if self.cash and (self.level != "L1" or self.asset is not None):
            raise ValueError("cash: a cash leg has level L1 and no asset")
        return self


class SecuredTransaction(_Strict):
    """Short-term secured funding / lending / collateral swap (Annex 1 unwinding).  ``gave`` is
    what the bank delivered and gets back at unwinding, ``received`` what it returns; values
    after the LCR haircuts."""

    id: str = Field(min_length=1)
    maturity_days: int = Field(ge=0)
    gave: SecuredLeg
    received: SecuredLeg
    currency: Optional[str] = None


class LCRSettings(_Strict):
    l2b_haircuts: dict[str, float] = Field(default_factory=dict)
    secured_transactions: list[SecuredTransaction] = Field(default_factory=list)
    internal_target: float = 1.0
    base_lcr: Optional[float] = None  # reported figure, if the bank wants it shown beside ours
    l2b_rmbs: list[str] = Field(default_factory=list)  # Level 2B cbc ids that are RMBS (para 54(a))

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
    as_of: Optional[_dt.date] = Field(default=None, strict=False)  # JSON gives dates as strings
    horizon_days: int = Field(default=180, ge=1, le=1095)
    opening_cash: float
    minimum_operational_cash: float = 0.0
    intraday_liquidity_requirement: float = 0.0
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
    fx: Optional[FXSection] = None
    nsfr: Optional[NSFRSection] = None
    description: str = ""
    behavioural: Optional[Behavioural] = None  # deposit segments (liqstress.stress.behavioural)

    _c = field_validator("opening_cash", "minimum_operational_cash", "intraday_liquidity_requirement")(
        classmethod(lambda cls, v: _nonneg(v)))

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
        by_id = {a.id: a for a in self.cbc}
        for k in self.lcr.l2b_rmbs:
            if k not in by_id or by_id[k].level != "L2B":
                raise ValueError(f"lcr.l2b_rmbs: {k!r} is not a Level 2B asset of cbc")
        pledged: dict[str, float] = {}
        for i, l in enumerate(self.liabilities):
            if l.collateral is None:
                continue
            a = by_id.get(l.collateral)
            if a is None:
                raise ValueError(f"liabilities[{i}].collateral: {l.collateral!r} is not a cbc asset id")
            if l.collateral_level is not None and l.collateral_level != a.level:
                raise ValueError(f"liabilities[{i}].collateral_level: {l.collateral_level} differs from the level "
                                 f"{a.level} of its collateral {a.id}")
            l.collateral_level = a.level
            pledged[a.id] = pledged.get(a.id, 0.0) + float(l.collateral_units or 0.0)
            if a.encumbered + pledged[a.id] > a.amount * (1 + 1e-12):
                raise ValueError(f"liabilities[{i}].collateral_units: {a.id} has {a.amount:g} units, "
                                 f"{a.encumbered:g} encumbered, and {pledged[a.id]:g} pledged to secured funding")
        for j, t in enumerate(self.lcr.secured_transactions):
            for leg in ("gave", "received"):
                lg = getattr(t, leg)
                if lg.asset is not None and (lg.asset not in by_id or by_id[lg.asset].level != lg.level):
                    raise ValueError(f"lcr.secured_transactions[{j}].{leg}.asset: {lg.asset!r} is not a {lg.level} cbc asset")
        outflow_ids = {f.id for f in self.flows if f.direction == "outflow"}
        for i, m in enumerate(self.management_actions):
            if m.curtails is not None and m.curtails not in outflow_ids:
                raise ValueError(f"management_actions[{i}].curtails: {m.curtails!r} is not an outflow in flows "
                                 f"(an action is counted only against a flow the projection models)")
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

    @model_validator(mode="after")
    def _currencies(self) -> "StressFile":
        """Currency codes: every item's currency is the reporting currency or has an FX rate."""
        try:
            check_code(self.currency)
        except ValueError:
            if self.fx is not None or _any_currency(self):
                raise ValueError(f"currency: must be a 3-character currency code such as USD when the file has several currencies (got {self.currency!r})") from None
            return self  # a free-text reporting currency is fine in a single-currency file
        known = {self.currency} | set((self.fx.rates if self.fx else {}))
        groups = [("liabilities", self.liabilities), ("flows", self.flows), ("cbc", self.cbc),
                  ("facilities", self.facilities), ("management_actions", self.management_actions),
                  ("lcr.secured_transactions", self.lcr.secured_transactions)]
        if self.nsfr is not None:
            groups += [("nsfr.funding", self.nsfr.funding), ("nsfr.assets", self.nsfr.assets),
                       ("nsfr.off_balance_sheet", self.nsfr.off_balance_sheet)]
        for where, items in groups:
            for i, x in enumerate(items):
                c = getattr(x, "currency", None)
                if c is not None and c not in known:
                    raise ValueError(f"{where}[{i}].currency: {c!r} has no rate in fx.rates (known: {', '.join(sorted(known))})")
        if self.fx is not None:
            for k in self.fx.opening_cash:
                if k not in known:
                    raise ValueError(f"fx.opening_cash.{k}: no rate in fx.rates")
            ids = set()
            for i, ln in enumerate(self.fx.lines):
                for leg in (ln.sell, ln.buy):
                    if leg not in known:
                        raise ValueError(f"fx.lines[{i}]: currency {leg!r} has no rate in fx.rates")
                if ln.id in ids:
                    raise ValueError(f"fx.lines[{i}].id: duplicate id {ln.id!r}")
                ids.add(ln.id)
            if self.currency in self.fx.rates and self.fx.rates[self.currency] != 1.0:
                raise ValueError(f"fx.rates.{self.currency}: the reporting currency's rate must be 1")
        line_ids = {ln.id for ln in (self.fx.lines if self.fx else [])}
        for i, s in enumerate(self.scenarios):
            for k in s.fx_shock:
                if k not in known or k == self.currency:
                    raise ValueError(f"scenarios[{i}].fx_shock.{k}: not a foreign currency of fx.rates")
            for k in s.fx_swap_closed:
                if k != "all" and k not in known and k not in line_ids:
                    raise ValueError(f"scenarios[{i}].fx_swap_closed: {k!r} is not an fx line id, a currency code or 'all'")
        return self

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise InputError("scenario", f"unknown scenario {name!r} (one of {', '.join(s.name for s in self.scenarios)})")

    def survival_floor(self) -> float:
        """Cash the bank must keep at all times to "meet all obligations": the minimum operational
        cash buffer plus the intraday liquidity requirement."""
        return float(self.minimum_operational_cash + self.intraday_liquidity_requirement)

    def basel_rate(self, line: Liability) -> float:
        """Regulatory LCR outflow rate of a liability line; for secured funding linked to a cbc
        line, the collateral's level and RMBS status (``lcr.l2b_rmbs``) decide (para 115)."""
        if line.lcr_rate is not None:
            return line.lcr_rate
        rmbs = line.collateral_rmbs or (line.collateral is not None and line.collateral in self.lcr.l2b_rmbs)
        return basel_outflow_rate(line.category, line.collateral_level, rmbs, line.counterparty)

    def pledged_units(self) -> dict[str, float]:
        """cbc id -> units pledged to linked secured funding lines."""
        out: dict[str, float] = {}
        for l in self.liabilities:
            if l.collateral is not None:
                out[l.collateral] = out.get(l.collateral, 0.0) + float(l.collateral_units or 0.0)
        return out

    def free_units(self) -> dict[str, float]:
        """cbc id -> units that can be monetised or counted as HQLA: amount - encumbered - pledged."""
        p = self.pledged_units()
        return {a.id: max(a.amount - a.encumbered - p.get(a.id, 0.0), 0.0) for a in self.cbc}

    def internal_minimum(self, s: Scenario) -> int:
        if s.internal_minimum_days is not None:
            return s.internal_minimum_days
        return getattr(self.internal_minimum_days, s.type)


def _any_currency(stress: "StressFile") -> bool:
    items = [*stress.liabilities, *stress.flows, *stress.cbc, *stress.facilities, *stress.management_actions,
             *stress.lcr.secured_transactions]
    return any(getattr(x, "currency", None) is not None for x in items)


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
    if Path(source).suffix.lower() in (".xlsx", ".xlsm"):
        from liqstress.io.excel import read_stress_workbook

        return read_stress_workbook(source)
    return stress_from_dict(read_document(source))
