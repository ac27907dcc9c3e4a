"""Descriptive statistics of an interbank system and its default cascade (``liqstress network stats``)."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from liqstress.models.system import System


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, -> 1 = concentrated)."""
    x = np.sort(np.asarray(x, dtype=float).ravel())
    n = x.size
    if n == 0 or x.sum() <= 0:
        return 0.0
    k = np.arange(1, n + 1)
    return float((2.0 * (k * x).sum()) / (n * x.sum()) - (n + 1.0) / n)


def hhi(x: np.ndarray) -> float:
    """Herfindahl–Hirschman index sum (x_i / sum x)^2 in (0, 1]."""
    x = np.asarray(x, dtype=float).ravel()
    t = x.sum()
    return float(((x / t) ** 2).sum()) if t > 0 else 0.0


def topology_stats(system: System) -> dict:
    n = system.n
    Lm = system.Lmat if system.Lmat is not None else sp.csr_matrix((n, n))
    B = Lm.copy()
    B.data[:] = 1.0
    outdeg = np.asarray(B.sum(axis=1)).ravel()
    indeg = np.asarray(B.sum(axis=0)).ravel()
    m = int(Lm.nnz)
    amounts = Lm.data
    IA = np.asarray(Lm.sum(axis=0)).ravel()
    # per-creditor concentration of interbank assets: HHI of each column, weighted by IA
    C = sp.csc_matrix(Lm)
    col_sq = np.asarray(C.multiply(C).sum(axis=0)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        col_hhi = np.where(IA > 0, col_sq / np.where(IA > 0, IA, 1.0) ** 2, 0.0)
    assets = system.c + system.s + IA
    return {
        "banks": n,
        "exposures": m,
        "density": m / (n * (n - 1)) if n > 1 else 0.0,
        "mean_degree": m / n,
        "max_out_degree": int(outdeg.max(initial=0)),
        "max_in_degree": int(indeg.max(initial=0)),
        "isolated_banks": int(((outdeg + indeg) == 0).sum()),
        "total_interbank": float(amounts.sum()),
        "interbank_share_of_assets": float(IA.sum() / assets.sum()),
        "exposure_hhi": hhi(amounts),
        "exposure_gini": gini(amounts),
        "creditor_hhi_mean": float((col_hhi * IA).sum() / IA.sum()) if IA.sum() > 0 else 0.0,
        "size_gini": gini(assets),
        "largest_bank_share": float(assets.max() / assets.sum()),
    }


def cascade_stats(system: System, rv_alpha: float = 0.9, rv_beta: float = 0.9, debtrank_top: int = 5) -> dict:
    """Defaults under plain EN (price 1), under (15) with fire sales, EN and Rogers–Veraart
    with the illiquid assets marked at the fire-sale price q of (15), and DebtRank (psi = 1)
    of the largest banks."""
    from liqstress.networks.measures import debtrank, eisenberg_noe, rogers_veraart
    from liqstress.solvers.clearing import clear

    pbar = system.pbar
    en = eisenberg_noe(system, price=1.0)
    t0 = time.perf_counter()
    cl = clear(system)
    t_fs = time.perf_counter() - t0
    fs_default = cl.payments < pbar * (1 - 1e-12)
    en_q = eisenberg_noe(system, price=cl.price_t2)
    rv = rogers_veraart(system, alpha=rv_alpha, beta=rv_beta, price=cl.price_t2)
    IA = np.asarray(system.Lmat.sum(axis=0)).ravel()
    assets = system.c + system.s + IA
    top = np.argsort(-assets)[: max(0, min(debtrank_top, system.n))]
    dr = [{"bank": system.names[k], "debtrank": debtrank(system, [int(k)], psi=1.0).debtrank} for k in top]
    return {
        "eisenberg_noe": {"price": 1.0, "defaults": en.n_default},
        "fire_sale": {
            "price": cl.price_t2,
            "defaults": int(fs_default.sum()),
            "fire_selling_banks": int((cl.sales_t2 > 0).sum()),
            "Lambda": float(cl.sales_t2.sum()),
            "shortfall": float((pbar - cl.payments).sum()),
            "en_solves": cl.iterations,
            "seconds": t_fs,
        },
        "eisenberg_noe_at_fire_sale_price": {"price": cl.price_t2, "defaults": en_q.n_default},
        "rogers_veraart_at_fire_sale_price": {"alpha": rv_alpha, "beta": rv_beta, "price": cl.price_t2, "defaults": rv.n_default},
        "debtrank_largest": dr,
    }


def network_stats(system: System, **kw) -> dict:
    doc = {"topology": topology_stats(system)}
    if system.has_interbank:
        doc["cascade"] = cascade_stats(system, **kw)
    return doc
