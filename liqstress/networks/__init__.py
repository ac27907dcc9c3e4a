"""Interbank liability networks (SPEC A.5): generators, calibration, conversions, measures.

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

import importlib

_EXPORTS = {
    "RASResult": "calibration", "max_entropy": "calibration", "ras": "calibration", "min_density": "calibration",
    "KINDS": "generators", "BalanceSheetRatios": "generators", "generate": "generators", "inverse_demand_for": "generators",
    "from_networkx": "io", "load_any": "io", "read_neva_csv": "io", "save_system": "io", "to_networkx": "io",
    "write_neva_csv": "io", "read_neva_json": "io", "write_neva_json": "io",
    "furfine": "cascades", "recovery_cascade": "cascades",
    "debtrank_scenarios": "debtrank",
    "debtrank": "measures", "eisenberg_noe": "measures", "rogers_veraart": "measures",
    "exante_valuation": "valuation",
    "network_stats": "stats",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Submodules are imported on first use (reading a CSV pair need not import networkx)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
