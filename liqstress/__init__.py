"""liqstress: bank liquidity under stress.

Part A (Ahn and Jiang, 2026): fire-sale clearing with permanent price impact and
interbank exposures, the three-level max-min early-liquidation problem, its relaxation and
closed-form robust strategies.  Part B: liquidity stress testing, CBC monetisation,
survival horizon, stress LCR, CFP phases and narrative reports.
"""

from liqstress.errors import InputError, LiqstressError, SolverFailure

__version__ = "0.1.0"
__all__ = ["InputError", "LiqstressError", "SolverFailure", "__version__"]
