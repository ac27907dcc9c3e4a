"""Random interbank systems: network topology plus balance sheets with realistic ratios.

Topologies (directed; an edge i -> j means *i owes j*; "mean degree" d is the mean
out-degree = mean in-degree = (number of edges) / n):

* ``erdos-renyi`` — G(n, M) with exactly M = round(d n) distinct off-diagonal edges.
* ``core-periphery`` — the tiering model of Craig and von Peter (2014): a core of
  ``core_frac n`` banks (default 10%; they found ~2–5% for Germany, in 't Veld and van
  Lelyveld (2014) ~15% for the Netherlands) lending to and borrowing from each other and
  from the periphery; periphery banks trade only with the core.  Edge budget: 30% core–core,
  35% core -> periphery, 35% periphery -> core, spilling over (finally to
  periphery–periphery) when a block is full.  The largest banks form the core; periphery
  interbank books are scaled to total at most half of the core's (the core intermediates
  them, so larger targets would be unattainable), i.e. periphery shares are below 10–25%.
* ``scale-free`` — directed Chung–Lu graph with power-law expected degrees
  (tail exponent ``gamma = 2.5``; interbank degree tails of 2–3 were measured by Boss et al.
  2004 for Austria, Soramäki et al. 2007 for Fedwire); in- and out-weights share the rank,
  so hubs both borrow and lend; the largest banks are the hubs.

Balance sheets (:class:`BalanceSheetRatios`, every ratio drawn uniformly per bank):

* total assets ``A_i`` lognormal (median 1, ``sigma = 1.0``: a top-1% bank ~ 10x median);
* interbank assets 10–25% of total assets and interbank liabilities 10–25% of total
  liabilities (ECB/BIS: interbank claims are ~15–20% of euro-area bank assets);
* liquid assets (cash, reserves, HQLA at par) 5–15% of total assets;
* equity 3–9% of total assets (leverage 11–33; the Basel III leverage ratio floor is 3%,
  EU banks report ~5–6%);
* illiquid assets are the rest: ``s_i = A_i - c_i - interbank assets``; external liabilities
  ``b_i = (A_i - E_i) - interbank liabilities`` (all liabilities fall due at t = 2, docs/model.md §3).

The liability matrix on the topology is calibrated by RAS (:mod:`.calibration`) to the
target interbank assets (column sums) and liabilities (row sums); the final balance
sheets are then recomputed from the calibrated matrix, so they are exactly consistent.

Inverse demand: ``linear`` ``f(u) = 1 - impact u / S`` (valid for Assumption 4.1 iff
impact < 1/2) or ``exponential`` ``f(u) = exp(-k u / S)`` with ``f(S) = 1 - impact``
(valid iff impact < 1 - 1/e).  Default impact 0.05: dumping the whole illiquid stock
costs 5% (Greenwood, Landier and Thesmar 2015 use ~10 bp per 10bn EUR sold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from liqstress.errors import InputError
from liqstress.models.inverse_demand import Exponential, InverseDemand, Linear
from liqstress.models.system import System
from liqstress.networks.calibration import ras

KINDS = ("erdos-renyi", "core-periphery", "scale-free")


@dataclass(frozen=True)
class BalanceSheetRatios:
    """Ranges (uniform per bank) of the balance-sheet ratios used by the generators."""

    size_sigma: float = 1.0  # lognormal sigma of total assets (median 1)
    interbank_assets: tuple[float, float] = (0.10, 0.25)  # share of total assets
    interbank_liabilities: tuple[float, float] = (0.10, 0.25)  # share of total liabilities
    liquid: tuple[float, float] = (0.05, 0.15)  # share of total assets
    equity: tuple[float, float] = (0.03, 0.09)  # share of total assets (leverage ratio)
    ras_sweeps: int = 5  # RAS sweeps towards the interbank targets (more collapse exposures to 0)


# ----------------------------------------------------------------------------- topologies
def _check(n: int, d: float) -> int:
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise InputError("banks", f"need at least 2 banks, got {n}")
    if not (math.isfinite(d) and d > 0):
        raise InputError("mean_degree", f"must be > 0, got {d}")
    if d > n - 1:
        raise InputError("mean_degree", f"must be <= n - 1 = {n - 1} (no self-loops, no multi-edges), got {d}")
    return int(round(d * n))


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based; faster than np.unique's hashing for big int arrays)."""
    if a.size == 0:
        return a
    s = np.sort(a)
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def _sample_distinct(rng: np.random.Generator, N: int, m: int) -> np.ndarray:
    """m distinct integers out of range(N), uniformly."""
    if m >= N:
        return np.arange(N)
    if N <= 5_000_000 or m > N // 4:
        return np.sort(rng.choice(N, size=m, replace=False))
    out = _unique(rng.integers(0, N, size=int(m * 1.05) + 16))
    while out.size < m:
        out = _unique(np.concatenate((out, rng.integers(0, N, size=m - out.size + 16))))
    return np.sort(rng.choice(out, size=m, replace=False))


def _offdiag(n: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position k in [0, n(n-1)) -> (i, j), i != j."""
    i = k // (n - 1)
    j = k % (n - 1)
    j = j + (j >= i)
    return i, j


def erdos_renyi_edges(n: int, mean_degree: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """G(n, M) directed, M = round(d n) distinct edges i -> j, i != j."""
    m = _check(n, mean_degree)
    return _offdiag(n, _sample_distinct(rng, n * (n - 1), m))


def core_periphery_edges(n: int, mean_degree: float, rng: np.random.Generator, core_frac: float = 0.1):
    """Tiered network; banks 0..k-1 form the core (k = max(2, round(core_frac n)))."""
    m = _check(n, mean_degree)
    if not 0 < core_frac < 1:
        raise InputError("core_frac", f"must be in (0, 1), got {core_frac}")
    k = min(max(2, int(round(core_frac * n))), n - 1)
    p = n - k
    caps = {"cc": k * (k - 1), "cp": k * p, "pc": p * k, "pp": p * (p - 1)}
    want = {"cc": 0.30 * m, "cp": 0.35 * m, "pc": 0.35 * m, "pp": 0.0}
    alloc = {b: min(int(round(want[b])), caps[b]) for b in caps}
    rest = m - sum(alloc.values())
    for b in ("cc", "cp", "pc", "pp"):  # spill over to blocks with room
        add = min(rest, caps[b] - alloc[b])
        alloc[b] += add
        rest -= add
    rows, cols = [], []
    if alloc["cc"]:
        i, j = _offdiag(k, _sample_distinct(rng, caps["cc"], alloc["cc"]))
        rows.append(i), cols.append(j)
    if alloc["cp"]:
        t = _sample_distinct(rng, caps["cp"], alloc["cp"])
        rows.append(t // p), cols.append(k + t % p)
    if alloc["pc"]:
        t = _sample_distinct(rng, caps["pc"], alloc["pc"])
        rows.append(k + t // k), cols.append(t % k)
    if alloc["pp"]:
        i, j = _offdiag(p, _sample_distinct(rng, caps["pp"], alloc["pp"]))
        rows.append(k + i), cols.append(k + j)
    return np.concatenate(rows), np.concatenate(cols)


def scale_free_edges(n: int, mean_degree: float, rng: np.random.Generator, gamma: float = 2.5):
    """Directed Chung–Lu graph; bank i has expected degree ~ (i + 1)^(-1/(gamma - 1))."""
    m = _check(n, mean_degree)
    w = (np.arange(n) + 1.0) ** (-1.0 / (gamma - 1.0))
    w *= m / w.sum()
    w = np.minimum(w, 0.5 * (n - 1))  # a hub cannot have more than n - 1 partners
    prob = w / w.sum()
    keys = np.zeros(0, dtype=np.int64)
    for _ in range(60):
        need = m - keys.size
        if need <= 0:
            break
        draw = int(need * 1.2) + 16
        i = rng.choice(n, size=draw, p=prob)
        j = rng.choice(n, size=draw, p=prob)
        ok = i != j
        keys = _unique(np.concatenate((keys, i[ok].astype(np.int64) * n + j[ok])))
    if keys.size > m:
        keys = np.sort(rng.choice(keys, size=m, replace=False))
    return keys // n, keys % n


# ----------------------------------------------------------------------------- systems
def inverse_demand_for(S: float, impact: float = 0.05, kind: Literal["linear", "exponential"] = "linear") -> InverseDemand:
    """Inverse demand with ``f(S) = 1 - impact``, valid for Assumption 4.1 on [0, S].

    ``S = 0`` (no illiquid holdings: nothing is ever fire-sold) gets the f with
    ``f(1) = 1 - impact``; any f is valid then."""
    if not (math.isfinite(impact) and impact > 0):
        raise InputError("impact", f"must be > 0, got {impact}")
    S = float(S) if S > 0 else 1.0
    if kind == "linear":
        if impact >= 0.5:
            raise InputError("impact", f"linear f satisfies Assumption 4.1(iii) only for impact < 0.5, got {impact}")
        return Linear(impact / S)
    if kind == "exponential":
        if impact >= 1 - math.exp(-1):
            raise InputError("impact", f"exponential f satisfies Assumption 4.1(iii) only for impact < 1 - 1/e = 0.632, got {impact}")
        return Exponential(-math.log1p(-impact) / S)
    raise InputError("inverse_demand", f"must be linear or exponential, got {kind!r}")


def system_from_edges(
    rows: np.ndarray,
    cols: np.ndarray,
    n: int,
    rng: np.random.Generator,
    ratios: BalanceSheetRatios = BalanceSheetRatios(),
    sizes: np.ndarray | None = None,
    impact: float = 0.05,
    inverse_demand: Literal["linear", "exponential"] = "linear",
    names: list[str] | None = None,
    interbank_scale: np.ndarray | None = None,
) -> System:
    """Balance sheets on a given topology (see module doc), matrix calibrated by RAS."""
    if ratios.interbank_assets[1] + ratios.liquid[1] >= 1.0:
        raise InputError("ratios", "interbank_assets + liquid upper bounds must be < 1 (illiquid assets s_i > 0)")
    if not 0 < ratios.interbank_liabilities[1] <= 1.0:
        raise InputError("ratios.interbank_liabilities", "upper bound must be in (0, 1]")
    A = rng.lognormal(0.0, ratios.size_sigma, n) if sizes is None else np.asarray(sizes, float)

    def U(rg):
        return rng.uniform(rg[0], rg[1], n)

    th_a, th_l, lam, kap = U(ratios.interbank_assets), U(ratios.interbank_liabilities), U(ratios.liquid), U(ratios.equity)
    if interbank_scale is not None:  # per-bank multiplier of the interbank targets
        th_a = th_a * interbank_scale
        th_l = th_l * interbank_scale
    outdeg = np.bincount(rows, minlength=n)
    indeg = np.bincount(cols, minlength=n)
    IA = np.where(indeg > 0, th_a * A, 0.0)
    IL = np.where(outdeg > 0, th_l * (1.0 - kap) * A, 0.0)
    tot = math.sqrt(IA.sum() * IL.sum())
    IA *= tot / IA.sum()
    IL *= tot / IL.sum()
    # prior: exposures scale with both counterparties' sizes (a gravity model) times noise;
    # a few RAS sweeps move the margins towards the targets without forcing exposures to 0
    # where the topology cannot carry them (RAS to convergence would, on random graphs)
    prior_w = A[rows] * A[cols] * rng.lognormal(0.0, 0.5, rows.size)
    K = sp.csr_matrix((prior_w, (rows, cols)), shape=(n, n))
    Lm = ras(K, IL, IA, tol=1e-9, max_iter=ratios.ras_sweeps, keep_zeros=True).L
    floor = 1e-6 * float(Lm.data.mean()) if Lm.nnz else 1e-6
    Lm.data = np.maximum(Lm.data, floor)  # keep every edge of the topology
    # balance sheets from the final matrix (exactly consistent with it)
    IA = np.asarray(Lm.sum(axis=0)).ravel()
    IL = np.asarray(Lm.sum(axis=1)).ravel()
    ia_hi, il_hi = ratios.interbank_assets[1], ratios.interbank_liabilities[1]
    Atot = np.maximum(A, IA / ia_hi)  # interbank assets at most ia_hi of total assets
    liab = (1.0 - kap) * Atot
    # interbank debt at most il_hi of liabilities: grow the bank, keeping its leverage kappa
    liab = np.maximum(liab, IL / il_hi)
    Atot = liab / (1.0 - kap)
    c = lam * Atot
    s = Atot - c - IA  # >= (1 - ia_hi - liquid_hi) Atot > 0
    b = liab - IL
    f = inverse_demand_for(float(s.sum()), impact, inverse_demand)
    width = len(str(n))
    nm = names or [f"B{k:0{width}d}" for k in range(n)]
    return System.from_arrays(c, s, b, f, alpha=0.0, names=nm, Lmat=Lm)


def generate(
    kind: str,
    n: int,
    mean_degree: float,
    seed: int = 0,
    ratios: BalanceSheetRatios = BalanceSheetRatios(),
    impact: float = 0.05,
    inverse_demand: Literal["linear", "exponential"] = "linear",
    core_frac: float = 0.1,
    gamma: float = 2.5,
) -> System:
    """A random interbank :class:`System` (docs/model.md §3) of the given topology, reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    if kind == "erdos-renyi":
        rows, cols = erdos_renyi_edges(n, mean_degree, rng)
        sizes = rng.lognormal(0.0, ratios.size_sigma, n)
    elif kind == "core-periphery":
        rows, cols = core_periphery_edges(n, mean_degree, rng, core_frac)
        sizes = -np.sort(-rng.lognormal(0.0, ratios.size_sigma, n))  # core = largest banks
        # the core intermediates the periphery: periphery interbank books are scaled so
        # that they total at most half of the core's (else the margins are unattainable)
        k = min(max(2, int(round(core_frac * n))), n - 1)
        per = min(1.0, 0.5 * sizes[:k].sum() / sizes[k:].sum())
        scale = np.ones(n)
        scale[k:] = per
        return system_from_edges(rows, cols, n, rng, ratios, sizes, impact, inverse_demand, interbank_scale=scale)
    elif kind == "scale-free":
        rows, cols = scale_free_edges(n, mean_degree, rng, gamma)
        sizes = -np.sort(-rng.lognormal(0.0, ratios.size_sigma, n))  # hubs = largest banks
    else:
        raise InputError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    return system_from_edges(rows, cols, n, rng, ratios, sizes, impact, inverse_demand)
