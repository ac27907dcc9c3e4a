"""liqstress: bank liquidity under stress.

* Robust early liquidation (Ahn and Jiang, 2026): fire-sale clearing with permanent price
  impact (4) and with interbank exposures (15), the three-level max-min early-liquidation
  problem (7), its relaxations (9)/(20) and the closed-form robust strategies of Theorems 4.4
  and 5.3.
* Liquidity stress testing: stressed cash flows, survival horizon, CBC monetisation LP,
  stress LCR, CFP phases and narrative ILAAP/ALCO reports.

Where to start (the model reference is ``docs/model.md`` in the repository; worked examples
in ``docs/python.md``):

* `liqstress.models.system` -- `load_system`, `System` (the system file);
* `liqstress.solvers.clearing` -- `clear`, `ell` (equilibria (4)-(6), (15)-(17));
* `liqstress.solvers.robust` -- `robust_strategies` (Theorems 4.4, 5.3);
* `liqstress.solvers.original` -- `maximin_original`, `inner_original`, `gap_report` (problem (7));
* `liqstress.solvers.relaxed` -- `maximin_relaxed` (problems (9), (20));
* `liqstress.models.cbc_plan` and `liqstress.solvers.cbc` -- `CBCPlan`, `solve_plan`, `waterfall`;
* `liqstress.models.stress_file`, `liqstress.stress.engine` and `liqstress.reports.narrative`
  -- `load_stress`, `analyse`, `write_report`;
* `liqstress.models.files` -- the hardened input reader shared by every file format;
* `liqstress.errors` -- `InputError` (exit status 2), `SolverFailure` (exit status 3).
"""

from liqstress.errors import InputError, LiqstressError, SolverFailure

__version__ = "0.1.0"
__all__ = ["InputError", "LiqstressError", "SolverFailure", "__version__"]
