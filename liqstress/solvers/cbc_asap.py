"""Closed forms of the CBC monetisation LP: "monetise as soon as possible" (ASAP).

Notation of ``cbc_compile``: group g has ``avail_g`` units, ``cap_g`` units per open day,
closed action days, and sources j with cash per unit ``cash_j``, settlement lag ``L_g``
(every source of a group has the group's lag: sale and repo of an asset line share its
``settlement_days``) and width ``w_j`` (a price-impact tranche; otherwise unlimited).

* ``K_g(d) = min(avail_g, cap_g N_g(d))`` units can be acted on action days ``0..d``,
  ``N_g(d)`` the number of open days among them (``K_g(d) = 0`` for ``d < 0``).
* ``F_g(U)``: the most cash ``U`` units of g can pay, the sources filled in decreasing cash
  per unit (a fractional knapsack: concave and piecewise linear in U).
* ``V_g(t) = F_g(K_g(t - L_g))``: the most cash group g can have delivered by the end of day t.

**Proposition 1 (upper bound).**  In any plan that obeys the LP constraints of ``cbc_lp``
(capacities, holdings, closures, tranche widths, term repos with repayments and rolls), the
net cash that group g has contributed to ``B_t`` (cash received minus repo repayments) is at
most ``V_g(t)``.  *Proof.*  Call an action *outstanding at t* if its cash has arrived by t and,
for a repo, it has not been repaid by t (never matured, or rolled).  The net cash of g at t
is exactly the cash of its outstanding actions: every repayment cancels the cash of the
action it repays.  An outstanding action was taken on a day ``<= t - L_g`` and its units are
still in use at t (a sale forever, a repo until it is repaid), so the outstanding actions use
at most ``avail_g`` units together, at most ``cap_g`` per open action day, none on closed
days, at most ``w_j`` of each tranche: they form a plan without repayments whose units all
act on days ``<= t - L_g``.  Such a plan uses at most ``K_g(t - L_g)`` units and pays at most
``F_g`` of its volume.  []

Hence ``B_t <= opening - sum_{s<=t} out_s + sum_g V_g(t)`` for every plan, and the first
day on which that bound is negative caps the survival horizon: :func:`upper_bound`.

**Proposition 2 (the bound is attained).**  The ASAP plan -- every day, each group acts
``min(cap_g, remaining units)`` on each open day from day 0, the cumulative volume filled
into the sources in decreasing cash per unit, every term repo rolled at each maturity when
``rollover`` is allowed -- delivers exactly ``V_g(t)`` by every day t, simultaneously for
all t and all groups.  It obeys every LP constraint (it never returns collateral, so its
holdings are its cumulative volume ``<= avail_g``).  So when no group has a term repo that
must be repaid (``repo_term_days`` without ``rollover``), the LP survival horizon **equals**
the closed form: :func:`exact_horizon` (this is what the Monte Carlo of
``liqstress.stress.montecarlo`` uses for its 10,000 paths).  With repos that must be repaid,
the closed form is only an upper bound and the LP decides between the waterfall's horizon
and the bound (``cbc_reduced``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liqstress.solvers.cbc_compile import Compiled

INF = float("inf")
TOL = 1e-9  # relative tolerance of the closed-form balance test (times the plan's scale)


def scale_of(c: Compiled) -> float:
    """Money scale of a plan (used for tolerances)."""
    return max(1.0, float(np.abs(c.out).max(initial=0.0)), abs(c.opening))


def group_sources(c: Compiled, g: int, kinds: tuple[str, ...] | None = None) -> np.ndarray:
    """Sources of group g paying cash (of the given kinds), in the fill order: cash per unit
    decreasing (stable)."""
    srcs = np.flatnonzero(c.s_group == g)
    srcs = srcs[c.s_cash[srcs] > 0]
    if kinds is not None:
        srcs = np.asarray([j for j in srcs if c.s_kind[j] in kinds], dtype=int)
    return srcs[np.argsort(-c.s_cash[srcs], kind="stable")]


def group_lag(c: Compiled, g: int) -> int | None:
    """The settlement lag shared by the sources of g (None if they differ, or no source)."""
    lags = {int(c.s_lag[j]) for j in np.flatnonzero(c.s_group == g)}
    return lags.pop() if len(lags) == 1 else None


def cash_curve(c: Compiled, g: int, kinds: tuple[str, ...] | None = None,
               widths: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints of ``F_g``: (units u_0=0 < u_1 < ..., cash F(u_k), the sources in order).
    The segment k (from u_k to u_{k+1}) is filled by source ``order[k]``.  ``kinds``: only
    these source kinds (e.g. ``("sell",)``); ``widths``: {source: a smaller width}."""
    order = group_sources(c, g, kinds)
    av = float(c.g_avail[g])
    u, F, used = [0.0], [0.0], []
    tiny = 1e-12 * max(1.0, av)
    for j in order:
        if u[-1] >= av - tiny:
            break
        w = min(float(c.s_width[j]), av - u[-1], (widths or {}).get(int(j), INF))
        if w <= tiny:
            continue
        u.append(u[-1] + w)
        F.append(F[-1] + w * float(c.s_cash[j]))
        used.append(int(j))
    return np.asarray(u), np.asarray(F), np.asarray(used, dtype=int)


def capacity_units(c: Compiled, g: int) -> np.ndarray:
    """``K_g(d)`` for action days d = 0..H-1: units actable on days 0..d (capped at avail)."""
    n_open = np.cumsum(~c.g_closed[g])
    av = float(c.g_avail[g])
    cap = float(c.g_cap[g])
    if np.isfinite(cap):
        return np.minimum(av, cap * n_open)
    return np.where(n_open > 0, av, 0.0)


def shift(arr: np.ndarray, lag: int) -> np.ndarray:
    """``out[t] = arr[t - lag]`` (0 before day ``lag``)."""
    H = len(arr)
    out = np.zeros(H)
    if lag < H:
        out[lag:] = arr[: H - lag]
    return out


def group_cash(c: Compiled, g: int, units: float | None = None, kinds: tuple[str, ...] | None = None) -> np.ndarray:
    """Cumulative cash of group g delivered by each day (0-based) under ASAP with a total of
    ``units`` (default: all available): ``F_g(min(units, K_g(t - L_g)))``."""
    u, F, _ = cash_curve(c, g, kinds)
    if len(u) == 1:  # no source paying cash (e.g. both markets of the line closed)
        return np.zeros(c.H)
    lag = group_lag(c, g)
    if lag is None:
        raise ValueError(f"group {c.g_id[g]} has sources with different lags")
    K = capacity_units(c, g)
    if units is not None:
        K = np.minimum(K, units)
    return shift(np.interp(K, u, F), lag)


def asap_cash(c: Compiled, groups=None) -> np.ndarray:
    """``sum_g V_g(t)`` over ``groups`` (default all), t = 0..H-1."""
    gs = range(c.G) if groups is None else groups
    tot = np.zeros(c.H)
    for g in gs:
        tot += group_cash(c, int(g))
    return tot


def first_failure(balance: np.ndarray, tol: float) -> int:
    """Number of leading days with ``balance >= -tol`` (= survival days)."""
    bad = np.flatnonzero(balance < -tol)
    return int(bad[0]) if len(bad) else len(balance)


@dataclass
class Bound:
    """Closed-form upper bound on the survival horizon (Proposition 1)."""

    T: int
    balance: np.ndarray  # (H,) upper bound on B_t for any plan
    exact: bool  # True: no repo must be repaid, so T is the LP horizon (Proposition 2)


def needs_lp(c: Compiled) -> np.ndarray:
    """Groups whose repos must be repaid inside the horizon (term without rollover)."""
    return np.flatnonzero((c.g_term > 0) & ~c.g_roll)


def upper_bound(c: Compiled) -> Bound:
    """Proposition 1 bound; exact (Proposition 2) when no group must repay its repos."""
    bal = c.opening - np.cumsum(c.out) + asap_cash(c)
    T = first_failure(bal, TOL * scale_of(c))
    return Bound(T, bal, len(needs_lp(c)) == 0)


def restriction_kinds(c: Compiled, g: int) -> tuple[str, ...] | None:
    """Sources a group may use when no repo is ever repaid: all of them, except the repo of
    a term line without rollover."""
    return ("sell",) if (c.g_term[g] > 0 and not c.g_roll[g]) else None


def restricted_horizon(c: Compiled) -> int:
    """A feasible horizon (lower bound) in closed form: the ASAP plan that never repays a
    repo (rolls every rollable one, does not use the others) obeys every LP constraint."""
    cum = np.zeros(c.H)
    for g in range(c.G):
        cum += group_cash(c, g, kinds=restriction_kinds(c, g))
    return first_failure(c.opening - np.cumsum(c.out) + cum, TOL * scale_of(c))


def exact_horizon(c: Compiled) -> int:
    """The LP survival horizon in closed form; only when :func:`needs_lp` is empty."""
    b = upper_bound(c)
    if not b.exact:
        raise ValueError("plan has term repos without rollover: the closed form is only an upper bound")
    return b.T


def horizons_for_paths(cum_cash: np.ndarray, opening: float, out_paths: np.ndarray) -> np.ndarray:
    """Vectorised Proposition 2 over outflow paths: ``out_paths`` (n, H) daily net outflows
    sharing the CBC of one plan whose cumulative ASAP cash is ``cum_cash`` (H,).  Returns the
    exact LP survival horizon of each path (same tolerance as :func:`upper_bound`)."""
    out_paths = np.asarray(out_paths, dtype=float)
    n, H = out_paths.shape
    bal = opening - np.cumsum(out_paths, axis=1) + cum_cash[None, :]
    scale = np.maximum(np.maximum(1.0, np.abs(out_paths).max(axis=1)), abs(opening))
    bad = bal < -(TOL * scale)[:, None]
    any_bad = bad.any(axis=1)
    return np.where(any_bad, bad.argmax(axis=1), H).astype(int)


def asap_schedule(c: Compiled, g: int, units: float, last_day: int | None = None,
                  kinds: tuple[str, ...] | None = None) -> dict[int, np.ndarray]:
    """The ASAP plan of group g for a total of ``units``: {source j: (H,) units acted by day},
    the cumulative volume filled into the sources in cash order (Proposition 2).
    ``last_day``: no action after this action day (the caller guarantees ``units`` fit)."""
    H = c.H
    K = capacity_units(c, g)
    if last_day is not None and last_day < H - 1:
        K = K.copy()
        K[max(last_day, -1) + 1 :] = K[last_day] if last_day >= 0 else 0.0
    cum = np.minimum(K, units)  # cumulative volume by action day
    u, _, order = cash_curve(c, g, kinds)
    out: dict[int, np.ndarray] = {}
    prev = np.concatenate([[0.0], cum[:-1]])
    for k, j in enumerate(order):
        lo, hi = u[k], u[k + 1]
        seg = np.clip(cum, lo, hi) - np.clip(prev, lo, hi)
        seg[seg < 0] = 0.0
        if seg.any():
            out[int(j)] = out.get(int(j), np.zeros(H)) + seg
    return out


def rolled_forever(c: Compiled, g: int, x_repo: np.ndarray, lag: int) -> np.ndarray:
    """Rolls of group g when every maturing repo is rolled (``roll[t] = M[t]``, the units
    maturing on day t: ``x_repo[t - lag - m] + roll[t - m]``)."""
    H, m = c.H, int(c.g_term[g])
    roll = np.zeros(H)
    for t in range(H):
        mt = 0.0
        if t - lag - m >= 0:
            mt += x_repo[t - lag - m]
        if t - m >= 0:
            mt += roll[t - m]
        roll[t] = mt
    return roll


__all__ = [
    "Bound",
    "asap_cash",
    "asap_schedule",
    "capacity_units",
    "cash_curve",
    "exact_horizon",
    "first_failure",
    "group_cash",
    "group_lag",
    "horizons_for_paths",
    "needs_lp",
    "restricted_horizon",
    "restriction_kinds",
    "rolled_forever",
    "scale_of",
    "upper_bound",
]
