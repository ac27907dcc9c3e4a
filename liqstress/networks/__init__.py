"""Interbank liability networks (docs/model.md §3): generators, calibration, conversions, measures.

* :mod:`.generators` — Erdős–Rényi, core-periphery and scale-free systems with realistic
  balance-sheet ratios;
* :mod:`.calibration` — RAS and maximum-entropy liability matrices from row/column totals;
* :mod:`.io` — networkx DiGraph, system files and neva-style CSV;
* :mod:`.measures` — Eisenberg–Noe, Rogers–Veraart, DebtRank;
* :mod:`.stats` — degrees, density, concentration, default cascade summary.

The sparse exact clearing of (15) and (19) lives in :mod:`liqstress.solvers.eisenberg_noe`.
"""

from liqstress.networks.calibration import RASResult, max_entropy, ras
from liqstress.networks.generators import KINDS, BalanceSheetRatios, generate, inverse_demand_for
from liqstress.networks.io import from_networkx, load_any, read_neva_csv, save_system, to_networkx, write_neva_csv
from liqstress.networks.measures import debtrank, eisenberg_noe, rogers_veraart
from liqstress.networks.stats import network_stats

__all__ = [
    "KINDS", "BalanceSheetRatios", "RASResult", "debtrank", "eisenberg_noe", "from_networkx", "generate",
    "inverse_demand_for", "load_any", "max_entropy", "network_stats", "ras", "read_neva_csv", "rogers_veraart",
    "save_system", "to_networkx", "write_neva_csv",
]
