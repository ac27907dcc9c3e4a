"""Errors with one-line messages that name the field and the rule.

The CLI turns :class:`InputError` into exit status 2 and :class:`SolverFailure` into exit
status 3, printing ``str(err)`` (one line) on stderr, never a traceback.
"""

from __future__ import annotations


class LiqstressError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = 1

    def __str__(self) -> str:  # always one line
        return " ".join(super().__str__().split())


class InputError(LiqstressError, ValueError):
    """Bad user input. ``field`` names the offending field, ``rule`` the violated rule."""

    exit_code = 2

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class SolverFailure(LiqstressError, RuntimeError):
    """A numerical solver did not deliver an optimal/converged answer; carries its status."""

    exit_code = 3

    def __init__(self, solver: str, status: str, detail: str = ""):
        self.solver = solver
        self.status = status
        msg = f"solver {solver} failed: status {status}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)
