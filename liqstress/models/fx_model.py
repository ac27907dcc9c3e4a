"""Currency blocks of the stress file: FX rates, foreign opening cash, FX conversion lines.

Every liability, flow, CBC line, facility, management action and secured transaction of a
stress file may carry ``currency`` (an ISO-style code); without it the item is in the file's
reporting ``currency``.  Amounts are always in the item's own currency.  ``fx`` gives::

    fx:
      rates: {EUR: 1.08}            # reporting-currency units per unit of each other currency
      opening_cash: {EUR: 300}      # cash held in other currencies (in that currency)
      significance: 0.05            # significant currency: liabilities >= 5% of the total
      lines:                        # the only way the CBC LP converts between currencies
        - {id: usd_eur_swap, sell: USD, buy: EUR, daily_capacity: 150, haircut: 0.01,
           settlement_days: 2, kind: swap}

Scenarios add ``fx_shock`` (relative change of a rate), ``fx_haircut_add`` (added to every
FX line's haircut) and ``fx_swap_closed`` (closed FX-swap markets: line ids, currency codes or
``all``).  See docs/interop.md.
"""

from __future__ import annotations

import math
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE = re.compile(r"^[A-Z][A-Z0-9]{2}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)


def check_code(v: Optional[str]) -> Optional[str]:
    if v is not None and not CODE.match(v):
        raise ValueError(f"must be a 3-character currency code such as USD or EUR (got {v!r})")
    return v


class FXLine(_Strict):
    """Conversion line: ``u`` units of ``sell`` acted on day t deliver
    ``u * rate(sell) / rate(buy) * (1 - haircut - scenario fx_haircut_add)`` units of ``buy``
    on day ``t + settlement_days``; both legs settle that day.  A swap's far leg is assumed
    beyond the projection horizon (like a repo without ``repo_term_days``)."""

    id: str = Field(min_length=1)
    sell: str
    buy: str
    daily_capacity: Optional[float] = None  # units of `sell` per day (None: no daily limit)
    amount: Optional[float] = None  # units of `sell` over the horizon (None: no total limit)
    haircut: float = 0.0
    settlement_days: int = Field(default=2, ge=0)
    kind: Literal["swap", "spot"] = "swap"
    description: str = ""

    _c = field_validator("sell", "buy")(classmethod(lambda cls, v: check_code(v)))

    @field_validator("daily_capacity", "amount")
    @classmethod
    def _nn(cls, v: Optional[float]) -> Optional[float]:
        if v is not None and (not math.isfinite(v) or v < 0):
            raise ValueError(f"must be a finite number >= 0 (got {v})")
        return v

    @field_validator("haircut")
    @classmethod
    def _h(cls, v: float) -> float:
        if not math.isfinite(v) or not 0.0 <= v < 1.0:
            raise ValueError(f"must be in [0, 1) (got {v})")
        return v

    @model_validator(mode="after")
    def _pair(self) -> "FXLine":
        if self.sell == self.buy:
            raise ValueError("sell and buy must be different currencies")
        return self


class FXSection(_Strict):
    rates: dict[str, float] = Field(default_factory=dict)
    opening_cash: dict[str, float] = Field(default_factory=dict)
    significance: float = 0.05
    lines: list[FXLine] = Field(default_factory=list)

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            check_code(k)
            if not math.isfinite(x) or x <= 0:
                raise ValueError(f"{k}: must be a finite number > 0 (got {x})")
        return v

    @field_validator("opening_cash")
    @classmethod
    def _cash(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            check_code(k)
            if not math.isfinite(x) or x < 0:
                raise ValueError(f"{k}: must be a finite number >= 0 (got {x})")
        return v

    @field_validator("significance")
    @classmethod
    def _sig(cls, v: float) -> float:
        if not math.isfinite(v) or not 0.0 < v <= 1.0:
            raise ValueError(f"must be in (0, 1] (got {v})")
        return v


def check_scenario_fx(shock: dict[str, float], haircut_add: float) -> None:
    """Field checks of a scenario's FX parameters (raises ValueError 'field: rule')."""
    for k, x in shock.items():
        if not CODE.match(k):
            raise ValueError(f"fx_shock.{k}: not a currency code")
        if not math.isfinite(x) or x <= -1.0:
            raise ValueError(f"fx_shock.{k}: must be a finite number > -1 (got {x})")
    if not math.isfinite(haircut_add) or not 0.0 <= haircut_add < 1.0:
        raise ValueError(f"fx_haircut_add: must be in [0, 1) (got {haircut_add})")
