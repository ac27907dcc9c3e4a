"""Command line: ``liqstress COMMAND``.

Every module in this package that defines ``register(app: typer.Typer)`` adds its commands;
``_common`` holds the shared error handling and output helpers.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from liqstress.cli._common import OneLineErrorsGroup

app = typer.Typer(
    cls=OneLineErrorsGroup,
    name="liqstress",
    help="Bank liquidity under stress: fire sales, robust early liquidation, CBC planning, stress reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: boolean options show as flags (--json), not "<bool>"
)


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    app()
