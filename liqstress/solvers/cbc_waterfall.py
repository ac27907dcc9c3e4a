"""Greedy liquidity-order waterfall: the just-in-time baseline of docs/model.md §6.3.

Definition (exact; also in ``docs/cbc.md``).  Days d = 1..H are processed in order with the
balance ``B_d = B_{d-1} + cash_in_d - repay_d - out_d`` of the actions already committed.
If ``B_d < 0`` the shortfall ``-B_d`` is covered by taking, in this order,

1. asset lines by liquidity level L1, L2A, L2B, non_HQLA, then management actions, then
   central-bank facility lines counted in the horizon (others are never used); within a
   level the cheapest line first (highest cash per unit of its preferred action), ties in
   file order;
2. within an asset line: the action paying the most cash per unit first -- repo before sale
   when repo is allowed and its haircut is not larger than the sale discount; a
   price-impacted sale uses its tranches in order (highest price first) and switches to repo
   once the next tranche pays less than the repo;
3. for each action, the action day is chosen *just in time*: ``t = d - settlement_days``
   (the cash lands exactly on day d), and if that day is closed, before day 1 or its daily
   capacity or holdings are used up, the latest earlier day that still has room
   (``t = d - lag - 1, ..., 1``; the cash then lands early, which only helps);
4. each action takes ``u = min(shortfall / cash_per_unit, daily room, holdings room,
   tranche room)`` units, so the waterfall never monetises more than the day's shortfall;
5. a repo with a term (``repo_term_days``) repays its cash ``m`` days after settlement;
   with ``rollover: true`` the waterfall always rolls it (keeps the cash, the collateral
   stays encumbered); without rollover it skips action days whose repayment would fall on
   or before d (useless) and the collateral is free again from the maturity day;
6. if the shortfall cannot be covered, ``waterfall_survival_days = d - 1`` and no further
   actions are taken.

The waterfall's actions obey every LP constraint, so its plan is feasible for the LP at its
horizon: the LP horizon is never shorter (tested on random plans).
"""

from __future__ import annotations

import numpy as np

from liqstress.solvers.cbc_compile import Compiled, level_rank


def _preferences(c: Compiled, g: int) -> list[int]:
    """Sources of group g by cash per unit, highest first (repo before sale on ties); the
    tranches of a price-impacted sale have falling prices, so they stay in order and a repo
    is taken as soon as the next tranche would pay less than it."""
    srcs = [int(j) for j in np.flatnonzero(c.s_group == g)]
    kind_rank = {"repo": 0, "facility": 0, "mgmt": 0, "sell": 1}
    return sorted(srcs, key=lambda j: (-c.s_cash[j], kind_rank[c.s_kind[j]], c.s_tranche[j]))


def group_order(c: Compiled) -> list[int]:
    """Groups in waterfall order: level, then cheapest (highest cash per unit), file order."""
    keys = []
    for g in range(c.G):
        pref = _preferences(c, g)
        best = c.s_cash[pref[0]] if pref else 0.0
        keys.append((level_rank(c.g_level[g]), -best, g))
    return [k[2] for k in sorted(keys)]


def waterfall_plan(c: Compiled) -> tuple[int, np.ndarray, np.ndarray]:
    """Run the waterfall; return (survival_days, x (S, H), roll (G, H))."""
    H, S, G = c.H, c.S, c.G
    x = np.zeros((S, H))
    roll = np.zeros((G, H))
    daily = np.zeros((G, H))
    hold = np.zeros((G, H))
    width_used = np.zeros(S)
    cash_in = np.zeros(H)
    repay = np.zeros(H)
    scale = max(1.0, float(np.abs(c.out).max(initial=0.0)), abs(c.opening))
    tol = 1e-10 * scale
    order = [(g, _preferences(c, g)) for g in group_order(c)]
    used_total = np.zeros(G)  # units ever used by groups whose collateral never comes back
    has_returns = np.array([c.g_term[g] > 0 and not c.g_roll[g] for g in range(G)])
    tiny = 1e-12 * np.maximum(1.0, c.g_avail)
    B = c.opening
    T = H
    for d in range(H):
        B = B + cash_in[d] - repay[d] - c.out[d]
        if B >= -tol:
            continue
        need = -B
        for g, prefs in order:
            if need <= tol:
                break
            if not has_returns[g] and used_total[g] >= c.g_avail[g] - tiny[g]:
                continue  # exhausted
            for j in prefs:
                if need <= tol:
                    break
                L = int(c.s_lag[j])
                last = d - L
                cash = float(c.s_cash[j])
                if last < 0 or cash <= 0:
                    continue
                m = int(c.g_term[g]) if c.s_kind[j] == "repo" else 0
                returns = m > 0 and not c.g_roll[g]
                while need > tol:
                    if np.isfinite(c.s_width[j]) and c.s_width[j] - width_used[j] <= 1e-12 * c.s_width[j]:
                        break
                    room = c.g_cap[g] - daily[g, : last + 1]
                    room[c.g_closed[g, : last + 1]] = 0.0
                    if has_returns[g]:
                        # collateral in use varies over time: room on t is avail - max hold over
                        # the days the new action keeps it (to maturity for a repo, else forever)
                        ts = np.arange(last + 1)
                        if returns:
                            room[ts + L + m <= d] = 0.0  # repaid on or before d: useless
                            ends = np.minimum(ts + L + m, H)
                        else:
                            ends = np.full(last + 1, H)
                        suffix = np.maximum.accumulate(hold[g, ::-1])[::-1]
                        hold_room = np.array([c.g_avail[g] - (hold[g, t:e].max() if e < H else suffix[t])
                                              for t, e in zip(ts, ends)])
                        room = np.minimum(room, hold_room)
                    else:
                        room = np.minimum(room, c.g_avail[g] - used_total[g])
                    cand = np.flatnonzero(room > tiny[g])
                    if len(cand) == 0:
                        break
                    t = int(cand[-1])
                    u = min(need / cash, room[t], c.s_width[j] - width_used[j])
                    if u <= 0:
                        break
                    x[j, t] += u
                    daily[g, t] += u
                    width_used[j] += u
                    a = t + L
                    cash_in[a] += u * cash
                    B += u * cash
                    need -= u * cash
                    if returns:
                        hold[g, t : min(t + L + m, H)] += u
                        if t + L + m < H:
                            repay[t + L + m] += u * cash
                    else:
                        hold[g, t:] += u
                        used_total[g] += u
                        if m > 0:  # rolled at every maturity inside the horizon
                            roll[g, a + m : H : m] += u
        if need > tol:
            T = d
            break
    return T, x, roll
