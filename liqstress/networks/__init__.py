"""Interbank liability networks (docs/model.md §3): generators, calibration, conversions, measures.

* :mod:`.generators` — Erdős–Rényi, core-periphery and scale-free systems with realistic
  balance-sheet ratios;
* :mod:`.calibration` — RAS and maximum-entropy liability matrices from row/column totals;
* :mod:`.io` — networkx DiGraph, system files and neva-style CSV;
* :mod:`.measures` — Eisenberg–Noe, Rogers–Veraart; :mod:`.debtrank` — DebtRank (Battiston,
  linear, differential); :mod:`.cascades` — Furfine, fixed-recovery cascade;
  :mod:`.valuation` — ex-ante (NEVA) valuation of interbank claims;
* :mod:`.columnar` — CSV / Parquet pairs (pyarrow);
* :mod:`.stats` — degrees, density, concentration, default cascade summary.

The sparse exact clearing of (15) and (19) lives in :mod:`liqstress.solvers.eisenberg_noe`.
"""

from liqstress.networks.calibration import RASResult, max_entropy, min_density, ras
from liqstress.networks.cascades import furfine, recovery_cascade
from liqstress.networks.debtrank import debtrank_scenarios
from liqstress.networks.generators import KINDS, BalanceSheetRatios, generate, inverse_demand_for
from liqstress.networks.io import (from_networkx, load_any, read_neva_csv, read_neva_json, save_system, to_networkx,
                                   write_neva_csv, write_neva_json)
from liqstress.networks.measures import debtrank, eisenberg_noe, rogers_veraart
from liqstress.networks.stats import network_stats
from liqstress.networks.valuation import exante_valuation

# networkx itself is imported only by to_networkx / from_networkx (reading a file need not)
__all__ = [
    "KINDS", "BalanceSheetRatios", "RASResult", "debtrank", "debtrank_scenarios", "eisenberg_noe", "exante_valuation",
    "from_networkx", "furfine", "generate", "inverse_demand_for", "load_any", "max_entropy", "min_density",
    "network_stats", "ras", "read_neva_csv", "read_neva_json", "recovery_cascade", "rogers_veraart", "save_system",
    "to_networkx", "write_neva_csv", "write_neva_json",
]
