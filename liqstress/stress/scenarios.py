"""Scenario resolution: per-category / per-asset parameters, the combined overlay, severity scaling.

docs/model.md §6.1: the combined scenario is the *overlay* of the idiosyncratic and
the market-wide scenario -- each run-off rate, rollover, haircut, discount, capacity and closure
takes the more severe of the two values, never an average.  Severity directions:

=========================  ===========================  =========
parameter                  more severe when             overlay
=========================  ===========================  =========
run_off.rate               higher                       max
run_off.days               shorter (faster run)         min
run_off.front_share        higher                       max
rollover                   lower                        min
inflow_haircut             higher                       max
sale_discount_add          higher                       max
repo_haircut_add           higher                       max
capacity_factor            lower                        min
closed_sale / closed_repo  closed                       union
unsecured_wholesale_open   closed                       and
rating_downgrade_notches   more notches                 max
=========================  ===========================  =========

``scaled(res, m)`` multiplies the severity by ``m`` (reverse stress test): run-off rates,
non-rolled shares, inflow haircuts and the discount / haircut add-ons are multiplied by m
(capped at 1), everything else is kept.  Each daily net outflow is non-decreasing and each
unit cash value non-increasing in m, so the survival horizon is non-increasing in m.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from liqstress.models.stress_file import LEVELS, Scenario, StressFile


@dataclass(frozen=True)
class RunOffParams:
    rate: float
    days: int
    front_share: float
    basis: str = ""

    def cumulative(self, t: int) -> float:
        """Fraction of the balance gone by the end of day t (t >= 0)."""
        if t <= 0:
            return 0.0
        if self.days == 1:
            return self.rate
        return self.rate * (self.front_share + (1 - self.front_share) * min(t - 1, self.days - 1) / (self.days - 1))


@dataclass(frozen=True)
class Resolved:
    """A scenario with every parameter resolved per liability category, flow kind and asset id."""

    name: str
    type: str
    trigger: str
    severity: str
    duration_days: Optional[int]
    internal_minimum: int
    run_off: dict
    rollover: dict
    inflow_haircut: dict
    sale_discount_add: dict
    repo_haircut_add: dict
    capacity_factor: dict
    closed_sale: frozenset
    closed_repo: frozenset
    unsecured_wholesale_open: bool
    rating_notches: int
    rating_day: int
    recovery_conditions: tuple = ()
    description: str = ""
    overlay_of: tuple = ()
    multiplier: float = 1.0
    sources: dict = field(default_factory=dict)  # parameter -> which scenario supplied it (overlay)
    closed_markets: frozenset = frozenset()  # funding markets closed (FUNDING_MARKETS)
    level_sale_discount_add: dict = field(default_factory=dict)  # level -> fire-sale add-on of a level key


def _asset_value(s: Scenario, fld: str, asset_id: str, level: str, default: float, pick) -> float:
    d = getattr(s, fld)
    vals = [d[k] for k in (level, asset_id) if k in d]
    return pick(vals) if vals else default


def resolve_plain(stress: StressFile, s: Scenario) -> Resolved:
    """Resolve an idiosyncratic or market-wide scenario (level and asset-id keys: the more severe wins)."""
    assets = [(a.id, a.level) for a in stress.cbc]
    return Resolved(
        name=s.name,
        type=s.type,
        trigger=s.trigger,
        severity=s.severity,
        duration_days=s.duration_days,
        internal_minimum=stress.internal_minimum(s),
        run_off={k: RunOffParams(v.rate, v.days, v.front_share, v.basis) for k, v in s.run_off.items()},
        rollover=dict(s.rollover),
        inflow_haircut=dict(s.inflow_haircut),
        sale_discount_add={i: _asset_value(s, "sale_discount_add", i, lv, 0.0, max) for i, lv in assets},
        repo_haircut_add={i: _asset_value(s, "repo_haircut_add", i, lv, 0.0, max) for i, lv in assets},
        capacity_factor={i: _asset_value(s, "capacity_factor", i, lv, 1.0, min) for i, lv in assets},
        closed_sale=frozenset(i for i, lv in assets if i in s.closed_sale or lv in s.closed_sale),
        closed_repo=frozenset(i for i, lv in assets if i in s.closed_repo or lv in s.closed_repo),
        unsecured_wholesale_open=s.unsecured_wholesale_open,
        rating_notches=s.rating_downgrade_notches,
        rating_day=s.rating_day,
        recovery_conditions=tuple(s.recovery_conditions),
        description=s.description,
        closed_markets=frozenset(s.closed_markets) | (frozenset() if s.unsecured_wholesale_open else {"unsecured_wholesale"}),
        level_sale_discount_add={lv: float(s.sale_discount_add.get(lv, 0.0)) for lv in LEVELS},
    )


def _more(a: float, b: float, na: str, nb: str, higher: bool) -> tuple[float, str]:
    """The more severe of two values and which scenario supplied it (ties: both)."""
    if a == b:
        return a, "both"
    if (a > b) == higher:
        return a, na
    return b, nb


def overlay(a: Resolved, b: Resolved, *, name: str, trigger: str = "", severity: str = "",
            duration_days: Optional[int] = None, internal_minimum: int = 90,
            recovery_conditions: tuple = (), description: str = "") -> Resolved:
    """Combined scenario = parameter-wise most severe of ``a`` and ``b`` (never an average)."""
    src: dict[str, str] = {}
    run_off = {}
    for k in sorted(set(a.run_off) | set(b.run_off)):
        ra, rb = a.run_off.get(k), b.run_off.get(k)
        if ra is None or rb is None:
            run_off[k] = ra or rb
            src[f"run_off.{k}"] = a.name if ra else b.name
            continue
        rate, s1 = _more(ra.rate, rb.rate, a.name, b.name, True)
        days, s2 = _more(ra.days, rb.days, a.name, b.name, False)
        front, s3 = _more(ra.front_share, rb.front_share, a.name, b.name, True)
        basis = "; ".join(x for x in dict.fromkeys([ra.basis, rb.basis]) if x)
        run_off[k] = RunOffParams(rate, int(days), front, basis)
        src[f"run_off.{k}.rate"], src[f"run_off.{k}.days"], src[f"run_off.{k}.front_share"] = s1, s2, s3

    def merge(fld: str, higher: bool, default: float) -> dict:
        da, db = getattr(a, fld), getattr(b, fld)
        out = {}
        for k in sorted(set(da) | set(db)):
            v, s = _more(da.get(k, default), db.get(k, default), a.name, b.name, higher)
            out[k] = v
            src[f"{fld}.{k}"] = s
        return out

    for mk in sorted(a.closed_markets | b.closed_markets):
        src[f"closed_markets.{mk}"] = ("both" if mk in a.closed_markets and mk in b.closed_markets
                                       else a.name if mk in a.closed_markets else b.name)
    for k in sorted(a.closed_sale | b.closed_sale):
        src[f"closed_sale.{k}"] = "both" if k in a.closed_sale and k in b.closed_sale else a.name if k in a.closed_sale else b.name
    for k in sorted(a.closed_repo | b.closed_repo):
        src[f"closed_repo.{k}"] = "both" if k in a.closed_repo and k in b.closed_repo else a.name if k in a.closed_repo else b.name
    src["rating_notches"] = _more(a.rating_notches, b.rating_notches, a.name, b.name, True)[1]
    src["unsecured_wholesale_open"] = ("both" if not (a.unsecured_wholesale_open or b.unsecured_wholesale_open) else
                                       a.name if not a.unsecured_wholesale_open else b.name if not b.unsecured_wholesale_open
                                       else "both")
    lvl_add = merge("level_sale_discount_add", True, 0.0)
    notches, _ = _more(a.rating_notches, b.rating_notches, a.name, b.name, True)
    days_with = [r.rating_day for r in (a, b) if r.rating_notches > 0]
    return Resolved(
        name=name,
        type="combined",
        trigger=trigger or f"{a.trigger} during {b.trigger}".strip(),
        severity=severity,
        duration_days=duration_days or max(d for d in (a.duration_days, b.duration_days, 1) if d),
        internal_minimum=internal_minimum,
        run_off=run_off,
        rollover=merge("rollover", False, 1.0),
        inflow_haircut=merge("inflow_haircut", True, 0.0),
        sale_discount_add=merge("sale_discount_add", True, 0.0),
        repo_haircut_add=merge("repo_haircut_add", True, 0.0),
        capacity_factor=merge("capacity_factor", False, 1.0),
        closed_sale=a.closed_sale | b.closed_sale,
        closed_repo=a.closed_repo | b.closed_repo,
        unsecured_wholesale_open=a.unsecured_wholesale_open and b.unsecured_wholesale_open,
        rating_notches=int(notches),
        rating_day=min(days_with) if days_with else 1,
        recovery_conditions=tuple(dict.fromkeys(recovery_conditions or (a.recovery_conditions + b.recovery_conditions))),
        description=description,
        overlay_of=(a.name, b.name),
        sources=src,
        closed_markets=a.closed_markets | b.closed_markets,
        level_sale_discount_add=lvl_add,
    )


def resolve(stress: StressFile, name: str) -> Resolved:
    """Resolve the scenario called ``name`` (combined ones through :func:`overlay`)."""
    s = stress.scenario(name)
    if s.type != "combined":
        return resolve_plain(stress, s)
    a, b = (resolve_plain(stress, stress.scenario(n)) for n in s.overlay_of)  # type: ignore[union-attr]
    return overlay(a, b, name=s.name, trigger=s.trigger, severity=s.severity, duration_days=s.duration_days,
                   internal_minimum=stress.internal_minimum(s), recovery_conditions=tuple(s.recovery_conditions),
                   description=s.description)


def scaled(res: Resolved, m: float) -> Resolved:
    """Severity multiplied by ``m >= 0`` (reverse stress test); monotone in every parameter."""
    if m < 0:
        raise ValueError("multiplier must be >= 0")
    c = lambda x: min(1.0, x * m)  # noqa: E731
    return replace(
        res,
        run_off={k: RunOffParams(c(v.rate), v.days, v.front_share, v.basis) for k, v in res.run_off.items()},
        rollover={k: 1.0 - c(1.0 - v) for k, v in res.rollover.items()},
        inflow_haircut={k: c(v) for k, v in res.inflow_haircut.items()},
        sale_discount_add={k: c(v) for k, v in res.sale_discount_add.items()},
        repo_haircut_add={k: c(v) for k, v in res.repo_haircut_add.items()},
        level_sale_discount_add={k: c(v) for k, v in res.level_sale_discount_add.items()},
        multiplier=res.multiplier * m,
    )
