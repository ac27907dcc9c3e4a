"""Balance-sheet block of the stress file for the NSFR (Basel III NSFR standard, BCBS 295).

::

    nsfr:
      funding:                      # available stable funding (ASF) items, paras 21-25
        - {id: cet1, category: capital, amount: 4000}
        - {id: retail_insured, category: retail_stable, amount: 18000}
        - {id: senior_bonds, category: other_liabilities, amount: 3000, maturity: ge_1y}
      assets:                       # required stable funding (RSF) items, paras 36-43
        - {id: ust, category: hqla_l1, amount: 5500}
        - {id: mortgages, category: residential_mortgages_rw35, amount: 20000, maturity: ge_1y}
        - {id: pledged_gse, category: hqla_l2a, amount: 500, encumbrance: ge_1y}
      derivatives: {assets: 120, liabilities: 90, gross_liabilities: 400}
      off_balance_sheet:            # para 47
        - {id: undrawn_lines, category: undrawn_committed_facilities, amount: 3000}

``maturity`` is the residual maturity bucket (``lt_6m`` default, ``6m_1y``, ``ge_1y``);
``factor`` overrides the standard's factor (national discretion).  The factor tables are in
:mod:`liqstress.stress.nsfr`.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Maturity = Literal["lt_6m", "6m_1y", "ge_1y"]
Encumbrance = Literal["none", "lt_6m", "6m_1y", "ge_1y"]

ASF_CATEGORIES = ("capital", "retail_stable", "retail_less_stable", "operational", "wholesale_nonfinancial",
                  "wholesale_financial", "other_liabilities", "trade_date_payables")
RSF_CATEGORIES = ("cash", "central_bank_reserves", "central_bank_claims", "trade_date_receivables", "hqla_l1",
                  "hqla_l2a", "hqla_l2b", "loans_fi_l1_secured", "loans_fi", "operational_deposits_held",
                  "residential_mortgages_rw35", "loans_rw35", "loans_other", "non_hqla_securities", "commodities",
                  "initial_margin_posted", "non_performing_loans", "other_assets")
OBS_CATEGORIES = ("undrawn_committed_facilities", "other_contingent")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)


def _nn(v: float) -> float:
    if v is None or not math.isfinite(v) or v < 0:
        raise ValueError(f"must be a finite number >= 0 (got {v})")
    return v


def _factor(v: Optional[float]) -> Optional[float]:
    if v is not None and (not math.isfinite(v) or not 0.0 <= v <= 1.0):
        raise ValueError(f"must be in [0, 1] (got {v})")
    return v


class FundingItem(_Strict):
    id: str = Field(min_length=1)
    category: Literal[ASF_CATEGORIES]  # type: ignore[valid-type]
    amount: float
    maturity: Maturity = "lt_6m"
    factor: Optional[float] = None
    currency: Optional[str] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nn(v)))
    _f = field_validator("factor")(classmethod(lambda cls, v: _factor(v)))


class AssetItem(_Strict):
    id: str = Field(min_length=1)
    category: Literal[RSF_CATEGORIES]  # type: ignore[valid-type]
    amount: float
    maturity: Maturity = "lt_6m"
    encumbrance: Encumbrance = "none"
    factor: Optional[float] = None
    currency: Optional[str] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nn(v)))
    _f = field_validator("factor")(classmethod(lambda cls, v: _factor(v)))


class OffBalanceItem(_Strict):
    id: str = Field(min_length=1)
    category: Literal[OBS_CATEGORIES]  # type: ignore[valid-type]
    amount: float
    factor: Optional[float] = None
    currency: Optional[str] = None
    description: str = ""

    _a = field_validator("amount")(classmethod(lambda cls, v: _nn(v)))
    _f = field_validator("factor")(classmethod(lambda cls, v: _factor(v)))

    @model_validator(mode="after")
    def _needs(self) -> "OffBalanceItem":
        return _needs_factor(self)


def _needs_factor(item: "OffBalanceItem") -> "OffBalanceItem":
    if item.category == "other_contingent" and item.factor is None:
        raise ValueError("factor: is required for other_contingent (national discretion, BCBS 295 para 47)")
    return item


class Derivatives(_Strict):
    """NSFR derivative assets and liabilities (paras 19-20, 34-35) and gross derivative
    liabilities before deducting variation margin posted (para 43(d))."""

    assets: float = 0.0
    liabilities: float = 0.0
    gross_liabilities: float = 0.0

    _a = field_validator("assets", "liabilities", "gross_liabilities")(classmethod(lambda cls, v: _nn(v)))


class NSFRSection(_Strict):
    funding: list[FundingItem] = Field(default_factory=list)
    assets: list[AssetItem] = Field(default_factory=list)
    derivatives: Derivatives = Field(default_factory=Derivatives)
    off_balance_sheet: list[OffBalanceItem] = Field(default_factory=list)
    description: str = ""
