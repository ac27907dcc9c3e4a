"""Result records shared by the numerical max-min drivers (docs/model.md §9.3 ``maximin``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass
class InnerResult:
    """min over x_-i of V_i (original, (7)) or Vt_i (relaxed, (9)/(20)) at a fixed x_i.

    ``x`` is the full early-sale vector at the minimiser (x[i] = x_i).  ``certified`` is True
    only when the solver proved global optimality within ``gap`` (absolute).
    """

    value: float
    x: np.ndarray
    certified: bool
    solver: str
    status: str
    seconds: float
    gap: Optional[float] = None
    lower_bound: Optional[float] = None


@dataclass
class MaximinResult:
    """max over x_i of min over x_-i: the bank's strategy, value and the others' worst case."""

    bank: str
    problem: str  # "original" | "relaxed"
    method: str  # "global" | "local" | "grid"
    strategy: float
    value: float
    worst_case_others: np.ndarray  # x_j for j != i, in bank order without i
    certified: bool
    solver: str
    seconds: float
    status: str = "optimal"
    tolerance: Optional[float] = None
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "strategy": self.strategy,
            "value": self.value,
            "worst_case_others": self.worst_case_others,
            "certified": bool(self.certified),
            "solver": self.solver,
            "seconds": self.seconds,
            "status": self.status,
            "tolerance": self.tolerance,
        }
