"""Management actions: what each one is counted against, and whether it is feasible (issue 12 §4).

An action is counted in the survival horizon *with actions* only if all of the following hold:

* it is pre-approved, not of low execution feasibility, and has a positive ``impact`` (the
  guideline behind checklist item 7 of docs/model.md §6.6: include only pre-approved actions
  executable within stated timelines);
* its mechanism is stated (``kind``):

  - ``curtail_outflow``: it halts an outflow the projection models (``curtails``, the id of an
    outflow in ``flows``): halting loan originations needs an origination outflow, suspending a
    dividend needs a dividend.  Its cash effect is the modelled outflow it removes from the day
    it takes effect, capped at ``impact`` in total -- never more than the projection would
    have paid;
  - ``funding`` / ``asset_sale``: it raises cash (``impact``, at most ``impact / spread_days``
    a day) and is feasible only if every market in ``requires_markets`` is open in the
    scenario (no ABS issuance while term funding markets are closed);

* its CFP phase is reached (the phase comes from the indicators of the action-free run).

It takes effect on day ``a + lead_days``, ``a`` the first day of its CFP phase.  Every action
that is not counted is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from liqstress.models.stress_file import PHASE_LABEL, ManagementAction, StressFile
from liqstress.stress.projection import flow_days
from liqstress.stress.scenarios import Resolved

KIND_LABEL = {"curtail_outflow": "halts a modelled outflow", "funding": "raises funding",
              "asset_sale": "sells assets outside the CBC"}


def feasibility(stress: StressFile, res: Resolved, action: ManagementAction) -> tuple[bool, str]:
    """Scenario-level test (phase activation aside): ``(counted, reason)``."""
    if not action.pre_approved:
        return False, "not pre-approved"
    if action.feasibility == "low":
        return False, "low execution feasibility"
    if action.impact <= 0:
        return False, "no liquidity impact stated"
    if action.kind is None:
        return False, ("mechanism not stated (kind: curtail_outflow with the outflow it halts, funding or "
                       "asset_sale with the markets it needs), so it cannot be checked against the projection")
    if action.kind == "curtail_outflow":
        f = next(x for x in stress.flows if x.id == action.curtails)
        days = flow_days(stress, f)
        if not days or f.amount <= 0:
            return False, f"the projection has no {f.id} outflow within the {stress.horizon_days}-day horizon to halt"
        return True, f"halts the modelled outflow {f.id} ({f.amount:g} per occurrence, {len(days)} occurrences)"
    closed = [m for m in action.requires_markets if m in res.closed_markets]
    if closed:
        names = " and ".join(m.replace("_", " ") for m in closed)
        srcs = sorted({res.sources.get(f"closed_markets.{m}") for m in closed} - {None, "both"})
        return False, (f"infeasible in {res.name}: needs the {names} market{'s' if len(closed) > 1 else ''}, closed"
                       + (f" by its {' and '.join(srcs)} component" if srcs else " in this scenario"))
    need = (" (needs " + ", ".join(m.replace("_", " ") for m in action.requires_markets) + ": open)"
            if action.requires_markets else "")
    return True, KIND_LABEL[action.kind] + need


def curtailment(stress: StressFile, action: ManagementAction, effective_day: int) -> np.ndarray:
    """(H,) outflow removed each day by a ``curtail_outflow`` action taking effect on
    ``effective_day``: the modelled flow on days >= effective_day, cumulatively capped at
    ``impact``."""
    H = stress.horizon_days
    out = np.zeros(H)
    f = next(x for x in stress.flows if x.id == action.curtails)
    for d in flow_days(stress, f):
        if d >= effective_day:
            out[d - 1] += f.amount
    cum = np.minimum(np.cumsum(out), action.impact)
    return np.diff(np.concatenate([[0.0], cum]))


@dataclass(frozen=True)
class ActionStatus:
    """One management action in one scenario (the report's Management Actions table)."""

    id: str
    name: str
    kind: Optional[str]
    phase: str
    counted: bool  # feasible and its phase is reached: it is in the plan with actions
    feasible: bool  # passes :func:`feasibility` (its phase may still not be reached)
    reason: str
    activation_day: Optional[int]
    effective_day: Optional[int]
    modelled: float  # curtail: modelled outflow it could halt from its effective day; else impact
    counted_amount: float  # cash it can contribute in the plan with actions (0 if not counted)


def statuses(stress: StressFile, res: Resolved, activation: dict[str, Optional[int]]) -> list[ActionStatus]:
    """Status of every management action given the CFP phase activation days (phase -> day)."""
    H = stress.horizon_days
    out = []
    for m in stress.management_actions:
        ok, why = feasibility(stress, res, m)
        act = activation.get(m.phase)
        eff = None if act is None else act + m.lead_days
        modelled, amt = m.impact, 0.0
        if m.kind == "curtail_outflow" and ok and eff is not None:
            modelled = float(curtailment(stress, m.model_copy(update={"impact": float("inf")}), eff).sum())
        counted = ok and act is not None
        if ok and act is None:
            why = f"{why}; not used: its phase ({PHASE_LABEL[m.phase]}) is not reached"
        elif counted and eff is not None and eff > H:
            counted, why = False, f"{why}; not used: it would take effect on day {eff}, after the horizon"
        elif counted and m.kind == "curtail_outflow":
            amt = float(min(m.impact, modelled))
            if amt <= 0:
                counted, why = False, f"nothing of {m.curtails} is left to halt from day {eff}"
            else:
                why = f"{why}; from day {eff} it removes {amt:,.4g} of it (impact cap {m.impact:,.4g})"
        elif counted:
            amt = float(m.impact)
        out.append(ActionStatus(m.id, m.name or m.id, m.kind, m.phase, counted, ok, why, act, eff, float(modelled), amt))
    return out
