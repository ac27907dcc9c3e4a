"""Ex-ante valuation of interbank claims (the NEVA framework of Barucca, Bardoscia, Caccioli,
D'Errico, Visentin, Battiston and Caldarelli, *Network valuation in financial systems*,
Mathematical Finance 2020; the neva Python package).

Bank i has external assets ``A_i`` (``c_i + s_i``, illiquid units at price 1), external
liabilities ``b_i`` (senior), interbank claims ``A_ij = L_ji`` and interbank liabilities
``l_i = sum_j L_ij``.  Equities solve

    E_i = A_i - b_i + sum_j A_ij V_j(E_j) - l_i,                                     (NEVA)

where ``V_j`` in [0, 1] values a claim on j given j's equity.  An equity shock ``delta_i``
hits the external assets (``A_i - delta_i``, as neva's ``shock_and_solve``).  The map is
monotone increasing in E, so iterating it from the shocked book equity (all claims at face
value) decreases to the greatest solution; ``equity_direct`` is the first iterate (direct
losses only, neva's ``history[1]``).  Valuations, with recovery rate ``rho_j``:

* ``black-cox`` — default before maturity when the external assets, a geometric Brownian
  motion with volatility sigma_j (drift -sigma^2/2 in logs, horizon 1), hit the barrier
  ``A_j - E_j``:  ``p_j = N(d+) + A_j / (A_j - E_j) N(d-)``,
  ``d+- = (ln(1 - E_j / A_j) +- sigma_j^2 / 2) / sigma_j`` for 0 < E_j < A_j (1 if
  E_j <= 0, 0 if E_j >= A_j);  ``V_j = 1 + (rho_j - 1) p_j`` (neva ``exante_en_blackcox_gbm``);
* ``merton`` — default only at maturity:  ``p(E) = N((sigma^2/2 + ln(1 - E / A)) / sigma)``
  (0 if E >= A),  ``V_j = (1 - p(E_j)) + rho_j [(1 + (E_j - A_j) / l_j) (p(E_j) - p(E_j + l_j))
  + C_j / l_j]`` with the conditional expected recovery
  ``C_j = A_j [N(d(E_j)) - N(d(E_j + l_j))]``, ``d(x) = (ln(1 - x / A_j) - sigma_j^2/2) / sigma_j``
  (each term only where its log is defined), clipped to [0, 1] (neva ``exante_en_merton_gbm``);
* ``linear`` — ``p_j = clip(1 - E_j / E_j(0), 0, 1)`` (relative equity loss):
  ``V_j = 1 + (rho_j - 1) p_j``; with rho = 0 this is linear DebtRank (neva ``lin_dr``).

The asset volatility is given (``sigma``) or estimated from the equity volatility as neva's
``sigma_asset_simple``: ``sigma_j = E_j / A_j * sigma_equity_j`` (pre-shock values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from liqstress.errors import InputError, SolverFailure
from liqstress.models.system import System
from liqstress.networks.debtrank import shock_vector

MODELS = ("black-cox", "merton", "linear")


@dataclass
class ExAnteResult:
    model: str
    equity: np.ndarray  # greatest solution of (NEVA)
    equity_direct: np.ndarray  # after one round: direct losses only
    equity_book: np.ndarray  # before the shock
    valuation: np.ndarray  # V_j: value of a unit claim on bank j at the solution
    default_probability: np.ndarray  # p_j at the solution (black-cox, merton, linear)
    rounds: int
    status: str = "converged"

    def to_json(self, names: Sequence[str]) -> dict[str, Any]:
        loss = self.equity_book - self.equity
        return {
            "model": self.model,
            "rounds": self.rounds,
            "status": self.status,
            "banks": [{"name": nm, "equity_book": float(e0), "equity_direct": float(ed), "equity": float(e),
                       "valuation": float(v), "default_probability": float(p)}
                      for nm, e0, ed, e, v, p in zip(names, self.equity_book, self.equity_direct, self.equity,
                                                     self.valuation, self.default_probability)],
            "total_equity_loss": float(loss.sum()),
            "relative_equity_loss": float(loss.sum() / max(self.equity_book[self.equity_book > 0].sum(), 1e-300)),
        }


# ----------------------------------------------------------------------------- valuation functions
def blackcox_pd(E: np.ndarray, A: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """First-passage default probability (Black and Cox) of each bank, vectorised."""
    E, A, sigma = (np.asarray(x, dtype=float) for x in (E, A, sigma))
    p = np.where(E <= 0, 1.0, 0.0)
    mid = (E > 0) & (E < A) & (sigma > 0)
    if mid.any():
        e, a, s = E[mid], A[mid], sigma[mid]
        x = np.log1p(-e / a)
        p[mid] = ndtr((x + s * s / 2) / s) + a / (a - e) * ndtr((x - s * s / 2) / s)
    return np.clip(p, 0.0, 1.0)


def merton_pd(E: np.ndarray, A: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Probability that the external assets end below the liabilities at maturity."""
    E, A, sigma = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (E, A, sigma)))
    p = np.zeros(E.shape)
    pos = (E < A) & (A > 0)
    if pos.any():
        x = np.log1p(-E[pos] / A[pos])
        s = sigma[pos]
        p[pos] = np.where(s > 0, ndtr((s * s / 2 + x) / np.where(s > 0, s, 1.0)), (x > 0).astype(float))
    p[(E < A) & (A <= 0)] = 1.0  # no external assets and a shortfall: default for sure
    return p


def _merton_recovery(E: np.ndarray, A: np.ndarray, l: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    out = np.zeros_like(E)
    s = np.where(sigma > 0, sigma, 1.0)
    m1 = (A > E) & (A > 0) & (sigma > 0)
    if m1.any():
        out[m1] += ndtr((np.log1p(-E[m1] / A[m1]) - s[m1] ** 2 / 2) / s[m1])
    m2 = (A > E + l) & (A > 0) & (sigma > 0)
    if m2.any():
        out[m2] -= ndtr((np.log1p(-(E[m2] + l[m2]) / A[m2]) - s[m2] ** 2 / 2) / s[m2])
    return A * out


def _valuation(model: str, E: np.ndarray, A: np.ndarray, l: np.ndarray, sigma: np.ndarray, rho: np.ndarray,
               E0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if model == "black-cox":
        p = blackcox_pd(E, A, sigma)
        return 1.0 + (rho - 1.0) * p, p
    if model == "linear":
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(E0 > 0, np.clip(1.0 - E / np.where(E0 > 0, E0, 1.0), 0.0, 1.0), 1.0)
        return 1.0 + (rho - 1.0) * p, p
    p = merton_pd(E, A, sigma)
    p_shift = merton_pd(E + l, A, sigma)
    lsafe = np.where(l > 0, l, 1.0)
    V = (1.0 - p) + rho * ((1.0 + (E - A) / lsafe) * (p - p_shift) + _merton_recovery(E, A, l, sigma) / lsafe)
    V = np.where(l > 0, np.clip(V, 0.0, 1.0), 1.0)  # a bank without interbank debt is never valued
    return V, p


# ----------------------------------------------------------------------------- solver
def _per_bank(x: Any, n: int, name: str, lo: float, hi: float) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(x, dtype=float), (n,)) if np.ndim(x) == 0 else np.asarray(x, dtype=float).ravel()
    if arr.size != n:
        raise InputError(name, f"needs one value or {n} values (one per bank), got {arr.size}")
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if bad.any():
        k = int(bad.argmax())
        raise InputError(name if np.ndim(x) == 0 else f"{name}[{k}]", f"must be in [{lo:g}, {hi:g}], got {arr[k]}")
    return np.array(arr, dtype=float)


def exante_arrays(L: sp.spmatrix, A: np.ndarray, b: np.ndarray, delta: np.ndarray, model: str = "black-cox",
                  sigma: Optional[np.ndarray] = None, rho: Optional[np.ndarray] = None, tol: float = 1e-13,
                  max_iter: int = 100_000) -> ExAnteResult:
    """(NEVA) on raw arrays: ``L`` debtor x creditor, external assets ``A``, external
    liabilities ``b``, equity shocks ``delta`` (currency, taken from the external assets)."""
    if model not in MODELS:
        raise InputError("model", f"must be one of {', '.join(MODELS)}, got {model!r}")
    L = sp.csr_matrix(L, dtype=float)
    n = L.shape[0]
    LT = L.T.tocsr()  # LT[i, j] = L_ji = A_ij: what j owes i
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    delta = np.asarray(delta, dtype=float)
    sigma = np.zeros(n) if sigma is None else np.asarray(sigma, dtype=float)
    rho = np.zeros(n) if rho is None else np.asarray(rho, dtype=float)
    l = np.asarray(L.sum(axis=1)).ravel()
    IA = np.asarray(LT.sum(axis=1)).ravel()
    E_book = A - b + IA - l
    As = A - delta
    if model in ("black-cox", "merton") and (As < 0).any():
        k = int((As < 0).argmax())
        raise InputError(f"shock[{k}]", f"an equity loss of {delta[k]:.6g} exceeds the external assets {A[k]:.6g} it is taken from")
    E = E_book - delta
    direct = None
    for rounds in range(1, max_iter + 1):
        V, p = _valuation(model, E, As, l, sigma, rho, E_book)
        En = As - b + LT @ V - l
        En = np.minimum(En, E)  # monotone decreasing sequence (guards rounding only)
        if direct is None:
            direct = En.copy()
        diff = float(np.abs(En - E).max())
        E = En
        if diff <= tol * max(1.0, float(np.abs(E).max())):
            V, p = _valuation(model, E, As, l, sigma, rho, E_book)
            return ExAnteResult(model, E, direct, E_book, V, p, rounds)
    raise SolverFailure(f"ex-ante valuation ({model})", "max_iter reached", f"{max_iter} rounds")


def sigma_from_equity(E: np.ndarray, A: np.ndarray, sigma_equity: np.ndarray) -> np.ndarray:
    """Asset volatility ``E / A * sigma_equity`` (neva ``sigma_asset_simple``); banks with no
    external assets get 0 (their default probability does not depend on it)."""
    E, A = np.asarray(E, float), np.asarray(A, float)
    return np.where(A > 0, np.maximum(E, 0.0) / np.where(A > 0, A, 1.0), 0.0) * np.asarray(sigma_equity, float)


def exante_valuation(system: System, shock: Any = None, model: str = "black-cox", sigma: Any = None,
                     sigma_equity: Any = None, recovery: Any = 0.0, psi: float = 1.0, equity_loss: Any = None,
                     tol: float = 1e-13) -> ExAnteResult:
    """Ex-ante (NEVA) equities after an equity shock.

    ``shock``: relative equity losses (DebtRank's shock forms: banks, ``{name: psi}``,
    a per-bank vector) — or ``equity_loss``, currency amounts per bank.  ``sigma``: asset
    volatilities, or ``sigma_equity``: equity volatilities (``sigma = E / A sigma_equity``).
    ``recovery``: rho, one value or one per bank.
    """
    n = system.n
    L = sp.csr_matrix(system.Lmat) if system.has_interbank else sp.csr_matrix((n, n))
    A = system.c + system.s
    b = system.L
    l = np.asarray(L.sum(axis=1)).ravel()
    E_book = A - b + np.asarray(L.sum(axis=0)).ravel() - l
    if shock is not None and equity_loss is not None:
        raise InputError("shock", "give either shock (relative) or equity_loss (amounts), not both")
    if equity_loss is not None:
        delta = _per_bank(equity_loss, n, "equity_loss", 0.0, np.inf)
    elif shock is not None:
        delta = shock_vector(system, shock, psi) * np.maximum(E_book, 0.0)
    else:
        delta = np.zeros(n)
    rho = _per_bank(recovery, n, "recovery", 0.0, 1.0)
    if model in ("black-cox", "merton"):
        if sigma is not None and sigma_equity is not None:
            raise InputError("sigma", "give either sigma (assets) or sigma_equity, not both")
        if sigma is None and sigma_equity is None:
            raise InputError("sigma", f"the {model} model needs the asset volatilities (sigma) or the equity volatilities (sigma_equity)")
        sig = (_per_bank(sigma, n, "sigma", 0.0, np.inf) if sigma is not None
               else sigma_from_equity(E_book, A, _per_bank(sigma_equity, n, "sigma_equity", 0.0, np.inf)))
    else:
        sig = np.zeros(n)
    return exante_arrays(L, A, b, delta, model=model, sigma=sig, rho=rho, tol=tol)
