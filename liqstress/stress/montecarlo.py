"""Monte Carlo survival-horizon distribution of a scenario (behavioural deposit segments).

Each path replaces the deterministic run-off of the lines in a behavioural segment
(:mod:`liqstress.stress.behavioural`) by a draw of the segment's distribution; every other
flow of the scenario's projection is kept.  The CBC side (inventory, haircuts, capacities,
closures, facilities) is the scenario's CBC plan without management actions -- the plan
behind the report's survival horizon -- so only the daily net outflows change between paths.

**Exact survival per path.**  When no repo of the plan must be repaid inside the horizon
(no ``repo_term_days`` without ``rollover``), the LP survival horizon of a path is the first
day on which ``opening - sum_{s<=t} out_s + sum_g V_g(t)`` turns negative
(``cbc_asap``, Propositions 1-2: the bound holds for every plan and the ASAP plan attains it).
``V`` depends only on the CBC, so all paths are evaluated at once (vectorised).  Otherwise
each path gets the closed-form upper bound and the closed-form lower bound of the ASAP plan
that never repays a repo; where they differ, the path's LP is solved
(``solve_plan``, exact).  Tests cross-check both routes against the LP on samples of paths.

**Statistics.**  Survival days are integers; ``H`` (the projection length) means "survives
the whole projection" (censored).  ``p5``/``p50``/``p95`` are the inverted-CDF quantiles:
``p5`` is the smallest horizon h with ``P(T <= h) >= 5%``, so at least 95% of the paths
survive ``p5`` days or more.  ``breach_probability = P(T < internal minimum)`` with its
Monte Carlo standard error ``sqrt(p (1 - p) / n)``.

Reproducibility: paths are drawn in batches of :data:`BATCH`; batch b of scenario s uses
``numpy.random.default_rng([seed, crc32(s), b])``, so a result depends only on the seed,
the scenario name and the number of paths.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from liqstress.models.cbc_plan import CBCPlan
from liqstress.solvers import cbc_asap as asap
from liqstress.solvers.cbc_compile import compile_plan
from liqstress.stress import behavioural as bh
from liqstress.stress.projection import Projection, runoff_daily
from liqstress.stress.scenarios import Resolved

BATCH = 1000
DEFAULT_PATHS = 10_000
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


@dataclass
class SurvivalDistribution:
    """Monte Carlo result of one scenario."""

    scenario: str
    paths: int
    seed: int
    horizon_days: int
    internal_minimum: int
    survival: np.ndarray  # (paths,) survival days per path (horizon_days = censored)
    deterministic_days: int  # the same computation on the deterministic projection
    method: str
    lp_paths: int  # paths that needed an LP
    seconds: float
    segments: list = field(default_factory=list)  # (segment label, amount, scenario parameters, where from)

    @property
    def percentiles(self) -> dict[str, int]:
        return {k: int(np.quantile(self.survival, q, method="inverted_cdf")) for k, q in QUANTILES.items()}

    @property
    def percentiles_censored(self) -> dict[str, bool]:
        return {k: v >= self.horizon_days for k, v in self.percentiles.items()}

    @property
    def breach_probability(self) -> float:
        return float(np.mean(self.survival < self.internal_minimum))

    @property
    def breach_se(self) -> float:
        p = self.breach_probability
        return float(np.sqrt(p * (1 - p) / self.paths))

    @property
    def censored_share(self) -> float:
        return float(np.mean(self.survival >= self.horizon_days))

    @property
    def minimum_beyond_projection(self) -> bool:
        """The internal minimum lies beyond the projection: censored paths cannot be judged,
        so ``breach_probability`` counts only the paths that fail inside it (a lower bound)."""
        return self.internal_minimum > self.horizon_days

    def to_json(self) -> dict[str, Any]:
        return {
            "paths": self.paths, "seed": self.seed, "method": self.method, "lp_paths": self.lp_paths,
            "seconds": self.seconds, "censored_share": self.censored_share,
            "percentiles_censored": self.percentiles_censored, "breach_standard_error": self.breach_se,
            "breach_is_lower_bound": self.minimum_beyond_projection,
            "deterministic_survival_days": self.deterministic_days,
            "mean_survival_days": float(self.survival.mean()),
        }


def segment_lines(stress) -> list[tuple[bh.Segment, list]]:
    """(segment, its liability lines) for the file's behavioural segments."""
    beh = stress.behavioural
    by_id = {x.id: x for x in stress.liabilities}
    return [(seg, [by_id[i] for i in seg.liabilities]) for seg in beh.segments]


def deterministic_segment_outflows(stress, res: Resolved) -> np.ndarray:
    """(H,) the projection's daily run-off of every line that belongs to a segment."""
    H = stress.horizon_days
    tot = np.zeros(H)
    for _, lines in segment_lines(stress):
        for x in lines:
            tot += runoff_daily(x.amount, res.run_off[x.category], H)
    return tot


def path_outflows(stress, res: Resolved, proj: Projection, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, H) daily net outflows: the projection with the segments' run-off redrawn."""
    H = stress.horizon_days
    base = proj.net_outflows - deterministic_segment_outflows(stress, res)
    segs = segment_lines(stress)
    dists = [bh.params_for(seg, stress, res.name)[0] for seg, _ in segs]
    draws = bh.draw(dists, stress.behavioural.correlation, n, rng)
    out = np.repeat(base[None, :], n, axis=0)
    for (seg, lines), dist, dr in zip(segs, dists, draws):
        out += bh.outflows(sum(x.amount for x in lines), dist, dr, H)
    return out


def _rng(seed: int, scenario: str, batch: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(scenario.encode()), int(batch)])


def survival_days(plan: CBCPlan, out_paths: np.ndarray, progress=None) -> tuple[np.ndarray, str, int]:
    """Exact LP survival horizon of ``plan`` under each row of ``out_paths`` (module doc)."""
    from liqstress.solvers.cbc import solve_plan

    c = compile_plan(plan)
    ub = asap.horizons_for_paths(asap.asap_cash(c), c.opening, out_paths)
    if len(asap.needs_lp(c)) == 0:
        return ub, "closed form (ASAP bound attained, no repo repaid inside the horizon)", 0
    restricted = sum((asap.group_cash(c, g, kinds=asap.restriction_kinds(c, g)) for g in range(c.G)), np.zeros(c.H))
    lb = asap.horizons_for_paths(restricted, c.opening, out_paths)
    T = ub.copy()
    gap = np.flatnonzero(lb < ub)
    doc = plan.model_dump()
    for k in gap:
        q = CBCPlan.from_dict({**doc, "net_outflows": [float(v) for v in out_paths[k]]})
        T[k] = solve_plan(q).survival_days
        if progress is not None:
            progress()
    return T, "closed-form bounds; LP where they differ", int(len(gap))


def run(stress, res: Resolved, proj: Projection, plan: CBCPlan, paths: int = DEFAULT_PATHS, seed: int = 0,
        progress: Optional[Callable[[], None]] = None) -> SurvivalDistribution:
    """Survival-horizon distribution of one scenario (the file must have ``behavioural``).
    ``progress``: optional callable ticked once per batch of :data:`BATCH` paths (the report
    passes the ``advance`` of its ``liqstress.cli._common.progress`` bar)."""
    if stress.behavioural is None:
        raise ValueError("the stress file has no behavioural section")
    if paths < 1:
        raise ValueError("paths must be >= 1")
    t0 = time.perf_counter()
    n_batches = -(-paths // BATCH)
    surv = np.empty(paths, dtype=int)
    lp_paths = 0
    method = ""
    tick = progress or (lambda: None)
    for b in range(n_batches):
        m = min(BATCH, paths - b * BATCH)
        outs = path_outflows(stress, res, proj, m, _rng(seed, res.name, b))
        T, method, k = survival_days(plan, outs)
        surv[b * BATCH : b * BATCH + m] = T
        lp_paths += k
        tick()
    det, _, _ = survival_days(plan, proj.net_outflows[None, :])
    segs = []
    for seg, lines in segment_lines(stress):
        dist, src = bh.params_for(seg, stress, res.name)
        segs.append((seg.label, float(sum(x.amount for x in lines)), dist, src))
    return SurvivalDistribution(res.name, int(paths), int(seed), stress.horizon_days, res.internal_minimum, surv,
                                int(det[0]), method, lp_paths, time.perf_counter() - t0, segs)


__all__ = ["BATCH", "DEFAULT_PATHS", "SurvivalDistribution", "deterministic_segment_outflows", "path_outflows", "run",
           "survival_days"]
