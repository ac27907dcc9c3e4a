"""Behavioural deposit segments: run-off distributions and their calibration to public events.

The optional ``behavioural`` section of a stress file (``docs/stress.md``, "Behavioural
deposits") groups non-maturing deposit lines into *segments* (insured / uninsured, branch /
digital, operational, concentrated top depositors) and gives, per scenario, a distribution
of the segment's run-off instead of the scenario's single deterministic profile.  The
deterministic projection is unchanged; the Monte Carlo of :mod:`liqstress.stress.montecarlo`
draws from these distributions.

**The distribution (per segment k, scenario s, path).**

* run-off fraction ``R_k ~ Beta(a, b)`` with the segment's ``mean`` m and ``sd`` s:
  ``a = m kappa``, ``b = (1 - m) kappa``, ``kappa = m (1 - m) / s^2 - 1`` (needs
  ``s^2 < m (1 - m)``);
* segments are dependent through a one-factor Gaussian copula: ``R_k = F_k^{-1}(Phi(X_k))``,
  ``X_k = sqrt(rho) Z + sqrt(1 - rho) eps_k`` with ``Z, eps_k ~ N(0, 1)`` independent and
  ``rho = correlation`` (0: independent segments, 1: one common run);
* run timing: the run starts on day ``S_k = 1 + floor(U * start_max_k)`` with one
  ``U ~ Uniform(0, 1)`` per path shared by all segments (a run is one event; a segment with
  ``start_max = 1`` always starts on day 1);
* run length ``D_k`` uniform on the integers ``days[0]..days[1]``, independent;
* profile: the fraction ``front_share`` of ``R_k`` leaves on day ``S_k``, the rest evenly on
  days ``S_k + 1 .. S_k + D_k - 1`` (the shape of the deterministic ``RunOff``).

A combined scenario uses the parameters given under its own name if any, otherwise the more
severe of its two components, parameter by parameter (higher mean, sd and front share;
shorter runs; earlier start), as the deterministic overlay does.

**Calibration.**  Each segment lists public figures of named events (``calibration``), each
with its source.  :func:`calibration_rows` places every figure in the model's own
distribution: the probability that the segment's cumulative run-off by the event's number of
days is at most the event's figure, computed exactly (a finite sum over start days and run
lengths of Beta distribution functions); :func:`calibration_text` writes the report's text
from those numbers only.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHANNELS = ("branch", "digital", "operational", "concentrated", "wholesale")
TYPES = ("idiosyncratic", "market_wide")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)  # as the rest of the stress file


class RunDistribution(_Strict):
    """Run-off distribution of one segment under one scenario (module docstring)."""

    mean: float
    sd: float
    days: list[int] = Field(min_length=2, max_length=2)
    front_share: float = 0.0
    start_max: int = Field(1, ge=1)
    basis: str = ""

    @field_validator("mean")
    @classmethod
    def _mean(cls, v: float) -> float:
        if not 0.0 < v < 1.0:
            raise ValueError(f"must be in (0, 1) (got {v})")
        return v

    @field_validator("front_share")
    @classmethod
    def _front(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"must be in [0, 1] (got {v})")
        return v

    @model_validator(mode="after")
    def _check(self) -> "RunDistribution":
        if not self.sd > 0:
            raise ValueError(f"sd: must be > 0 (got {self.sd})")
        if not self.sd**2 < self.mean * (1 - self.mean):
            lim = math.sqrt(self.mean * (1 - self.mean))
            raise ValueError(f"sd: must be < sqrt(mean (1 - mean)) = {lim:.4f} for a Beta distribution (got {self.sd})")
        lo, hi = self.days
        if lo < 1 or hi < lo:
            raise ValueError(f"days: must be [min, max] with 1 <= min <= max (got {self.days})")
        return self

    def beta_ab(self) -> tuple[float, float]:
        k = self.mean * (1 - self.mean) / self.sd**2 - 1.0
        return self.mean * k, (1 - self.mean) * k


class CalibrationPoint(_Strict):
    """A public figure behind a segment's parameters: ``outflow`` (a fraction of ``base``)
    left over ``days`` days during ``event``; ``scenario`` (a scenario name or type) is the
    scenario whose parameters the figure is compared with."""

    event: str = Field(min_length=1)
    date: Optional[_dt.date] = Field(default=None, strict=False)  # JSON gives dates as strings
    outflow: float
    days: int = Field(ge=1)
    base: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    source: str = Field(min_length=1)
    quote: str = ""
    approximate: bool = True

    @field_validator("outflow")
    @classmethod
    def _out(cls, v: float) -> float:
        if not 0.0 < v <= 1.0:
            raise ValueError(f"must be in (0, 1] (a fraction, got {v})")
        return v


class Segment(_Strict):
    id: str = Field(min_length=1)
    name: str = ""
    liabilities: list[str] = Field(min_length=1)
    insured: Optional[bool] = None
    channel: Literal["branch", "digital", "operational", "concentrated", "wholesale"]
    run_off: dict[str, RunDistribution] = Field(min_length=1)
    calibration: list[CalibrationPoint] = Field(default_factory=list)
    note: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


class Behavioural(_Strict):
    """The ``behavioural`` section of a stress file."""

    correlation: float = 0.5
    segments: list[Segment] = Field(min_length=1)
    description: str = ""

    @field_validator("correlation")
    @classmethod
    def _rho(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"must be in [0, 1] (got {v})")
        return v

    def check(self, stress) -> None:
        """Cross-checks against the rest of the stress file; raises ``ValueError`` with a
        message that starts with the dotted field path."""
        lines = {x.id: x for x in stress.liabilities}
        names = {s.name: s for s in stress.scenarios}
        seen: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            where = f"behavioural.segments[{i}]"
            if seg.id in {s.id for s in self.segments[:i]}:
                raise ValueError(f"{where}.id: duplicate segment id {seg.id!r}")
            for lid in seg.liabilities:
                if lid not in lines:
                    raise ValueError(f"{where}.liabilities: unknown liability id {lid!r}")
                if lines[lid].maturities is not None:
                    raise ValueError(f"{where}.liabilities: {lid!r} has maturities (segments hold non-maturing deposits)")
                if lid in seen:
                    raise ValueError(f"{where}.liabilities: {lid!r} is already in segment {seen[lid]!r}")
                seen[lid] = seg.id
            for key in seg.run_off:
                if key not in names and key not in TYPES:
                    raise ValueError(f"{where}.run_off.{key}: not a scenario name or type ({', '.join(TYPES)})")
            for s in stress.scenarios:
                if s.type != "combined" and s.name not in seg.run_off and s.type not in seg.run_off:
                    raise ValueError(f"{where}.run_off: missing scenario {s.name!r} (give its name or its type {s.type!r})")
            for j, cp in enumerate(seg.calibration):
                if cp.scenario not in names and cp.scenario not in TYPES:
                    raise ValueError(f"{where}.calibration[{j}].scenario: not a scenario name or type ({', '.join(TYPES)})")


# --------------------------------------------------------------------------- parameters
def params_for(seg: Segment, stress, scenario_name: str) -> tuple[RunDistribution, str]:
    """Distribution of ``seg`` under a scenario (name, then type; combined: overlay) and a
    word on where it came from."""
    s = stress.scenario(scenario_name)
    if s.name in seg.run_off:
        return seg.run_off[s.name], f"given for {s.name}"
    if s.type != "combined":
        return seg.run_off[s.type], f"given for {s.type} scenarios"
    a, b = (params_for(seg, stress, n)[0] for n in s.overlay_of)  # type: ignore[union-attr]
    return overlay(a, b), f"more severe of {s.overlay_of[0]} and {s.overlay_of[1]}"  # type: ignore[index]


def overlay(a: RunDistribution, b: RunDistribution) -> RunDistribution:
    """Parameter-wise more severe of two distributions (never an average)."""
    mean, sd = max(a.mean, b.mean), max(a.sd, b.sd)
    sd = min(sd, 0.999 * math.sqrt(mean * (1 - mean)))
    basis = "; ".join(x for x in dict.fromkeys([a.basis, b.basis]) if x)
    return RunDistribution(mean=mean, sd=sd, days=[min(a.days[0], b.days[0]), min(a.days[1], b.days[1])],
                           front_share=max(a.front_share, b.front_share), start_max=min(a.start_max, b.start_max),
                           basis=basis)


# --------------------------------------------------------------------------- sampling
def cumulative_share(t: np.ndarray, start: np.ndarray, days: np.ndarray, front: float) -> np.ndarray:
    """Share of a run done by the end of day t (1-based): 0 before ``start``, ``front`` on
    the start day, then linear to 1 on day ``start + days - 1``.  Broadcasts."""
    t, start, days = np.asarray(t, float), np.asarray(start, float), np.asarray(days, float)
    elapsed = t - start
    steps = np.minimum(np.clip(elapsed, 0.0, None) / np.maximum(days - 1.0, 1.0), 1.0)
    frac = np.where(days > 1, front + (1.0 - front) * steps, 1.0)
    return np.where(elapsed >= 0, frac, 0.0)


@dataclass
class Draws:
    """One segment's draws for n paths."""

    rate: np.ndarray  # (n,) run-off fraction
    start: np.ndarray  # (n,) int start day (1-based)
    days: np.ndarray  # (n,) int run length


def draw(dists: list[RunDistribution], correlation: float, n: int, rng: np.random.Generator) -> list[Draws]:
    """Joint draws for the segments (module docstring: copula, common start, lengths)."""
    from scipy.special import betaincinv, ndtr

    z = rng.standard_normal(n)
    u_start = rng.random(n)
    out = []
    r = float(correlation)
    for d in dists:
        x = math.sqrt(r) * z + math.sqrt(1.0 - r) * rng.standard_normal(n)
        a, b = d.beta_ab()
        rate = betaincinv(a, b, ndtr(x))  # Beta(a, b) quantile
        start = 1 + np.floor(u_start * d.start_max).astype(int)
        days = rng.integers(d.days[0], d.days[1] + 1, size=n)
        out.append(Draws(rate, start, days))
    return out


def outflows(amount: float, dist: RunDistribution, dr: Draws, horizon: int) -> np.ndarray:
    """(n, H) daily outflows of a segment of total ``amount`` under the draws."""
    t = np.arange(1, horizon + 1)[None, :]
    cum = dr.rate[:, None] * cumulative_share(t, dr.start[:, None], dr.days[:, None], dist.front_share)
    return amount * np.diff(cum, axis=1, prepend=0.0)


# --------------------------------------------------------------------------- calibration
def prob_at_most(dist: RunDistribution, x: float, by_day: int) -> float:
    """Exact ``P(cumulative run-off by day by_day <= x)`` under ``dist``: the start day and
    run length are discrete uniform, the fraction is Beta, so the probability is a finite
    average of Beta distribution functions."""
    from scipy.special import betainc

    a, b = dist.beta_ab()
    starts = np.arange(1, dist.start_max + 1)
    lengths = np.arange(dist.days[0], dist.days[1] + 1)
    S, D = np.meshgrid(starts, lengths, indexing="ij")
    g = cumulative_share(by_day, S, D, dist.front_share)
    p = np.where(g <= 0, 1.0, betainc(a, b, np.minimum(x / np.where(g > 0, g, 1.0), 1.0)))  # Beta cdf
    return float(p.mean())


def mean_by_day(dist: RunDistribution, by_day: int) -> float:
    """Expected cumulative run-off by day ``by_day`` (exact, same finite sum)."""
    starts = np.arange(1, dist.start_max + 1)
    lengths = np.arange(dist.days[0], dist.days[1] + 1)
    S, D = np.meshgrid(starts, lengths, indexing="ij")
    return float(dist.mean * cumulative_share(by_day, S, D, dist.front_share).mean())


def quantile(dist: RunDistribution, q: float) -> float:
    """Quantile of the total run-off fraction (Beta)."""
    from scipy.special import betaincinv

    a, b = dist.beta_ab()
    return float(betaincinv(a, b, q))


@dataclass
class CalibrationRow:
    segment: str
    event: str
    date: Optional[_dt.date]
    outflow: float
    days: int
    base: str
    scenario: str  # the scenario name or type whose parameters are used
    approximate: bool
    source: str
    quote: str
    mean_by_day: float  # model mean of the cumulative run-off by the event's day count
    percentile: float  # 100 P(model cumulative run-off by then <= event figure)
    dist: RunDistribution

    @property
    def position(self) -> str:
        """Where the event lies in the model's distribution (words used by the report)."""
        if self.percentile > 95.0:
            return "above"
        if self.percentile < 5.0:
            return "below"
        return "within"


def dist_for_key(seg: Segment, stress, key: str) -> RunDistribution:
    """Parameters a calibration figure is compared with: ``seg.run_off[key]`` when given
    (a scenario name or type), else those of the scenario called ``key``."""
    if key in seg.run_off:
        return seg.run_off[key]
    if key in {s.name for s in stress.scenarios}:
        return params_for(seg, stress, key)[0]
    name = next(s.name for s in stress.scenarios if s.type == key)
    return params_for(seg, stress, name)[0]


def calibration_rows(stress) -> list[CalibrationRow]:
    """Every calibration figure of the file placed in its segment's distribution."""
    beh = getattr(stress, "behavioural", None)
    if beh is None:
        return []
    rows = []
    for seg in beh.segments:
        for cp in seg.calibration:
            dist = dist_for_key(seg, stress, cp.scenario)
            rows.append(CalibrationRow(seg.label, cp.event, cp.date, cp.outflow, cp.days, cp.base, cp.scenario, cp.approximate,
                                       cp.source, cp.quote, mean_by_day(dist, cp.days),
                                       100.0 * prob_at_most(dist, cp.outflow, cp.days), dist))
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def describe(dist: RunDistribution) -> str:
    """One phrase describing a distribution, generated from its parameters."""
    lo, hi = quantile(dist, 0.05), quantile(dist, 0.95)
    d0, d1 = dist.days
    when = "day 1" if dist.start_max == 1 else f"a day drawn uniformly from 1 to {dist.start_max}"
    length = f"{d0} day{'s' if d0 > 1 else ''}" if d0 == d1 else f"{d0} to {d1} days"
    return (f"Beta run-off with mean {_pct(dist.mean)} and sd {_pct(dist.sd)} (5th-95th percentile "
            f"{_pct(lo)}-{_pct(hi)}), starting on {when}, over {length}, {_pct(dist.front_share)} of it on the first day")


def calibration_sentence(row: CalibrationRow) -> str:
    """The report's sentence for one calibration figure (numbers from ``row`` only)."""
    approx = "about " if row.approximate else ""
    when = f" ({row.date.isoformat()})" if row.date else ""
    span = "1 day" if row.days == 1 else f"{row.days} days"
    where = {"above": "above the model's 95th percentile: the event is more severe than this scenario assumes",
             "below": "below the model's 5th percentile: the scenario is more severe than the event",
             "within": "within the model's central 90% band"}[row.position]
    return (f"{row.event}{when}: {approx}{_pct(row.outflow)} of {row.base} in {span} (source: {row.source}). "
            f"Under the {row.scenario} parameters of this segment the mean run-off by day {row.days} is "
            f"{_pct(row.mean_by_day)} and a run-off of at most {_pct(row.outflow)} by then has probability "
            f"{row.percentile:.1f}%, so the event lies at the {row.percentile:.1f}th percentile, {where}.")


def calibration_text(stress) -> list[str]:
    """One paragraph per segment: its distribution(s) and its calibration figures."""
    beh = getattr(stress, "behavioural", None)
    if beh is None:
        return []
    rows = calibration_rows(stress)
    out = []
    for seg in beh.segments:
        amount = sum(x.amount for x in stress.liabilities if x.id in seg.liabilities)
        head = (f"**{seg.label}** ({', '.join(seg.liabilities)}; {amount:,.1f} {stress.unit}; "
                f"{'insured' if seg.insured else 'uninsured' if seg.insured is not None else 'insurance not stated'}, "
                f"{seg.channel} channel).")
        parts = [head]
        for s in stress.scenarios:
            dist, src = params_for(seg, stress, s.name)
            parts.append(f"{s.name}: {describe(dist)} ({src}" + (f"; basis: {dist.basis}" if dist.basis else "") + ").")
        mine = [r for r in rows if r.segment == seg.label]
        if mine:
            parts += [calibration_sentence(r) for r in mine]
        else:
            parts.append("No public event figure is attached to this segment: its parameters are assumptions of the file.")
        out.append(" ".join(parts))
    return out


__all__ = [
    "Behavioural",
    "CalibrationPoint",
    "CalibrationRow",
    "RunDistribution",
    "Segment",
    "calibration_rows",
    "calibration_sentence",
    "calibration_text",
    "cumulative_share",
    "describe",
    "dist_for_key",
    "draw",
    "mean_by_day",
    "outflows",
    "overlay",
    "params_for",
    "prob_at_most",
    "quantile",
]
