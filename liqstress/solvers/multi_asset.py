"""Multi-asset fire sales: the clearing (4) with a vector of prices, and overlapping-portfolio
contagion over rounds (Greenwood, Landier and Thesmar 2015; Cont and Schaanning 2017).

Notation: ``H[i, k]`` units of asset k held by bank i (price 1 at t = 0), cash ``c_i``,
liabilities ``L_i``, non-marketable assets ``o_i``, inverse demands ``f_k``.

**Clearing (4) with K prices** — :func:`clear_multi`.  Early sales ``x`` (n x K) at t = 1
fetch ``p1_k = f_k(X_k)``; at t = 2 bank i must cover ``d_i = max(L_i - c_i - x_i . p1, 0)``
and sells its remaining units ``r_i = H_i - x_i`` pro rata (its portfolio mix is kept):

    y_ik(p) = theta_i(p) r_ik,    theta_i(p) = min(1, d_i / (r_i . p)),
    p_k = f_k(alpha X_k + sum_i y_ik(p))            for every asset k.              (4-K)

``y(p)`` falls as any price rises and each f_k falls, so the right-hand side is a monotone
increasing map of p from [0, 1]^K into itself; its greatest fixed point is the limit of the
monotone iteration from p = 1 (Tarski; every iterate is an upper bound), computed here to
the last bit.  With K = 1, ``y_i = min(d_i / p, r_i)`` and (4-K) is (4): the same price as
:func:`liqstress.solvers.clearing.greatest_price` (tested).  Values
``V_i = c_i + x_i . p1 + y_i . p`` generalise (6).

**Deleveraging over rounds** — :func:`deleverage`.  An exogenous shock ``eps_k`` takes a
fraction of each asset's price; prices are ``p_k(t) = (1 - eps_k) f_k(Q_k(t))`` with
``Q_k(t)`` the units of k sold so far.  In round t each bank values its book at p(t),
decides the value ``x_i(t)`` to sell, sells ``theta_i H_ik(t)`` units of every asset
(pro rata, ``theta_i = min(1, x_i / (H_i(t) . p(t)))``) at p(t) and repays debt with the
proceeds (equity is unchanged by the sale itself); the sales then move the prices to
p(t + 1), which marks every remaining holding down.  Equity ``E_i = c_i + H_i . p + o_i - L_i``,
assets ``A_i = c_i + H_i . p + o_i``.

* ``glt`` — vulnerable banks (Greenwood, Landier and Thesmar 2015, JFE 115): banks keep
  their initial leverage ``b_i = D_i / E_i(0)`` (debt over equity) and sell
  ``x_i = max(0, A_i - (1 + b_i) E_i)`` = b_i times the loss since the last target; the
  first round is their aggregate vulnerability ``AV = 1' A M L M' B A M F / E``.
* ``cont-schaanning`` — leverage targeting with a buffer (Cont and Schaanning 2017,
  *Fire sales, indirect contagion and systemic stress testing*): with the leverage ratio
  ``lambda_i = E_i / A_i``, a bank below ``lambda_buffer`` sells
  ``x_i = A_i - E_i / lambda_target`` to get back to ``lambda_target``; a bank below
  ``lambda_min`` (or with E_i <= 0) defaults and liquidates all its marketable holdings.
  Market depth ``D_k``: ``f_k(u) = exp(-u / D_k)``.  Defaulted banks stay defaulted.

Both stop when the value sold in a round falls below 1e-12 of the marketable book (or after
``rounds``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from liqstress.errors import InputError, SolverFailure
from liqstress.models.multi_asset import MultiAssetSystem

MODELS = ("glt", "cont-schaanning")


# ----------------------------------------------------------------------------- clearing (4-K)
@dataclass
class MultiClearing:
    price_t1: np.ndarray  # (K,)
    price_t2: np.ndarray  # (K,) greatest fixed point of (4-K)
    sales_t2: np.ndarray  # (n, K) y
    values: np.ndarray  # (n,) V
    payments: np.ndarray  # (n,) min(L, V)
    iterations: int

    def to_json(self, ms: MultiAssetSystem) -> dict[str, Any]:
        return {
            "model": "clearing",
            "price_t1": dict(zip(ms.assets, self.price_t1.tolist())),
            "price_t2": dict(zip(ms.assets, self.price_t2.tolist())),
            "sales_t2": [dict(zip(ms.assets, row)) for row in self.sales_t2.tolist()],
            "values": self.values,
            "payments": self.payments,
            "iterations": self.iterations,
        }


def _prices(fs: Sequence, u: np.ndarray) -> np.ndarray:
    return np.array([float(fk(uk)) for fk, uk in zip(fs, u)])


def greatest_price_vector(d: np.ndarray, R: np.ndarray, a: np.ndarray, fs: Sequence, max_iter: int = 1_000_000) -> tuple[np.ndarray, int]:
    """Greatest fixed point of ``p_k = f_k(a_k + sum_i theta_i(p) R_ik)``,
    ``theta_i = min(1, d_i / (R_i . p))`` — monotone iteration from p = 1 (see module doc)."""
    d = np.asarray(d, float)
    R = np.asarray(R, float)
    act = (d > 0) & (R.sum(axis=1) > 0)
    d, R = d[act], R[act]
    p = np.ones(len(fs))
    if d.size == 0:
        return _prices(fs, a), 1
    for it in range(1, max_iter + 1):
        val = R @ p
        theta = np.minimum(1.0, d / val)
        pn = np.minimum(_prices(fs, a + theta @ R), p)  # monotone: never above the last upper bound
        if np.array_equal(pn, p):
            return p, it
        p = pn
    raise SolverFailure("greatest_price_vector (4-K)", "max_iter reached", f"{max_iter} monotone steps")


def clear_multi(ms: MultiAssetSystem, x: Optional[Any] = None, alpha: Optional[float] = None) -> MultiClearing:
    """Clearing with K prices, (4-K) (the paper's (4)-(6) for K = 1); ``x`` early sales (n x K)."""
    ms.check_assumption()
    a_imp = ms.alpha if alpha is None else float(alpha)
    if not (np.isfinite(a_imp) and 0 <= a_imp <= 1):
        raise InputError("alpha", f"must be in [0, 1], got {alpha}")
    if x is None:
        x = np.zeros_like(ms.H)
    x = np.asarray(x, float).reshape(ms.H.shape) if np.size(x) == ms.H.size else None
    if x is None:
        raise InputError("early", f"needs {ms.n} x {ms.K} values (banks x assets)")
    if not np.all(np.isfinite(x)) or (x < 0).any() or (x > ms.H * (1 + 1e-12)).any():
        raise InputError("early", "early sales must be finite, >= 0 and at most the holdings")
    x = np.minimum(x, ms.H)
    X = x.sum(axis=0)
    p1 = _prices(ms.f, X)
    cash1 = ms.c + x @ p1
    d = np.maximum(ms.L - cash1, 0.0)
    R = np.maximum(ms.H - x, 0.0)
    p2, it = greatest_price_vector(d, R, a_imp * X, ms.f)
    val = R @ p2
    theta = np.where((d > 0) & (val > 0), np.minimum(1.0, d / np.where(val > 0, val, 1.0)), 0.0)
    y = theta[:, None] * R
    V = cash1 + y @ p2
    return MultiClearing(p1, p2, y, V, np.minimum(ms.L, V), it)


# ----------------------------------------------------------------------------- deleveraging rounds
@dataclass
class DeleveragingResult:
    model: str
    prices: np.ndarray  # (T + 1, K): p(0) after the shock, ..., p(T)
    sold: np.ndarray  # (K,) units sold in total
    equity: np.ndarray  # (n,) at the final prices
    equity_initial: np.ndarray  # (n,) before the shock
    defaulted: np.ndarray  # (n,) bool
    sales_value: np.ndarray  # (T,) value sold in each round
    rounds: int
    first_round_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n,) loss from round-1 sales

    def to_json(self, ms: MultiAssetSystem) -> dict[str, Any]:
        E0 = self.equity_initial
        return {
            "model": self.model,
            "rounds": self.rounds,
            "prices": [dict(zip(ms.assets, row)) for row in self.prices.tolist()],
            "final_prices": dict(zip(ms.assets, self.prices[-1].tolist())),
            "sold": dict(zip(ms.assets, self.sold.tolist())),
            "sales_value": self.sales_value,
            "defaults": [nm for nm, dd in zip(ms.names, self.defaulted) if dd],
            "equity": self.equity,
            "aggregate_equity_loss": float((E0 - self.equity).sum()),
            "relative_equity_loss": float((E0 - self.equity).sum() / max(E0[E0 > 0].sum(), 1e-300)),
        }


def deleverage(ms: MultiAssetSystem, shock: Any = None, model: str = "glt", rounds: int = 100,
               lambda_min: float = 0.03, lambda_buffer: float = 0.04, lambda_target: float = 0.05,
               leverage_target: Optional[Sequence[float]] = None) -> DeleveragingResult:
    """Overlapping-portfolio contagion over rounds (see module doc).

    ``shock``: fraction of each asset's price lost, a K-vector or ``{asset: eps}``.
    ``glt``: ``leverage_target`` (debt / equity per bank) defaults to the initial leverage.
    ``cont-schaanning``: leverage-ratio thresholds ``lambda_min < lambda_buffer < lambda_target``.
    """
    if model not in MODELS:
        raise InputError("model", f"must be one of {', '.join(MODELS)}, got {model!r}")
    if not (isinstance(rounds, (int, np.integer)) and rounds >= 0):
        raise InputError("rounds", f"must be an integer >= 0, got {rounds}")
    ms.check_positive_prices()
    eps = _asset_vector(ms, shock)
    n, K = ms.n, ms.K
    H = ms.H.copy()
    debt = ms.L.copy()
    E0 = ms.equity()
    Q = np.zeros(K)

    def price(Qv: np.ndarray) -> np.ndarray:
        return (1.0 - eps) * _prices(ms.f, Qv)

    p = price(Q)
    if model == "glt":
        if leverage_target is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                b = np.where(E0 > 0, ms.L / np.where(E0 > 0, E0, 1.0), np.inf)
        else:
            b = np.asarray(leverage_target, float).ravel()
            if b.size != n or not np.all(np.isfinite(b)) or (b < 0).any():
                raise InputError("leverage_target", f"needs {n} finite values >= 0 (debt / equity per bank)")
    else:
        if not (0 < lambda_min < lambda_buffer < lambda_target < 1):
            raise InputError("lambda_min", "the leverage ratios must satisfy 0 < lambda_min < lambda_buffer < lambda_target < 1, "
                             f"got {lambda_min}, {lambda_buffer}, {lambda_target}")
    defaulted = np.zeros(n, dtype=bool)
    history = [p.copy()]
    sales_value = []
    first_loss = np.zeros(n)
    t = 0
    while t < rounds:
        mv = H @ p
        A = ms.c + mv + ms.other
        E = A - debt
        if model == "glt":
            defaulted |= E <= 0
            want = np.where(defaulted, mv, np.where(np.isfinite(b), np.maximum(A - (1.0 + b) * E, 0.0), 0.0))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                lev = np.where(A > 0, E / np.where(A > 0, A, 1.0), -np.inf)
            defaulted |= (E <= 0) | (lev < lambda_min)
            want = np.where(defaulted, mv, np.where(lev < lambda_buffer, np.maximum(A - E / lambda_target, 0.0), 0.0))
        theta = np.where(mv > 0, np.minimum(1.0, want / np.where(mv > 0, mv, 1.0)), 0.0)
        y = theta[:, None] * H
        value = y @ p
        if not value.sum() > 1e-12 * max(1.0, float(mv.sum())):
            break
        t += 1
        H = H - y
        debt = np.maximum(debt - value, 0.0)
        Q = Q + y.sum(axis=0)
        p_new = price(Q)
        if t == 1:
            first_loss = H @ (p - p_new)
        p = p_new
        history.append(p.copy())
        sales_value.append(float(value.sum()))
    E_final = ms.c + H @ p + ms.other - debt
    if model == "glt":
        defaulted |= E_final <= 0
    else:
        A_final = ms.c + H @ p + ms.other
        with np.errstate(divide="ignore", invalid="ignore"):
            defaulted |= (E_final <= 0) | (np.where(A_final > 0, E_final / np.where(A_final > 0, A_final, 1.0), -np.inf) < lambda_min)
    return DeleveragingResult(model, np.array(history), Q, E_final, E0, defaulted, np.array(sales_value), t, first_loss)


def _asset_vector(ms: MultiAssetSystem, shock: Any) -> np.ndarray:
    K = ms.K
    if shock is None:
        return np.zeros(K)
    if isinstance(shock, dict):
        v = np.zeros(K)
        for name, val in shock.items():
            v[ms.asset_index(str(name))] = float(val)
    else:
        v = np.asarray(shock, float).ravel()
        if v.size != K:
            raise InputError("shock", f"needs {K} values (one per asset), got {v.size}")
    bad = ~np.isfinite(v) | (v < 0) | (v >= 1)
    if bad.any():
        k = int(bad.argmax())
        raise InputError(f"shock[{ms.assets[k]}]", f"must be in [0, 1) (fraction of the price lost), got {v[k]}")
    return v


def glt_aggregate_vulnerability(ms: MultiAssetSystem, shock: Any, impact: Sequence[float]) -> float:
    """Greenwood, Landier and Thesmar's first-round aggregate vulnerability
    ``AV = 1' A M L M' B A M F / E`` for linear price impacts ``impact`` (return per unit of
    value sold), marketable assets only: A = diag(marketable assets), M = portfolio weights,
    B = diag(debt / equity), F = -shock, E = total equity."""
    eps = _asset_vector(ms, shock)
    mv = ms.H.sum(axis=1)
    M = np.divide(ms.H, mv[:, None], out=np.zeros_like(ms.H), where=mv[:, None] > 0)
    E0 = ms.equity()
    B = np.where(E0 > 0, ms.L / np.where(E0 > 0, E0, 1.0), 0.0)
    R1 = M @ eps  # first-round loss rate of each bank's marketable book
    sales = M.T @ (B * mv * R1)  # value sold of each asset
    R2 = np.asarray(impact, float) * sales  # second-round return (loss) of each asset
    return float(mv @ (M @ R2) / E0[E0 > 0].sum())
