"""``liqstress template stress|plan -o FILE.xlsx [--from FILE]``: Excel templates (docs/interop.md).

Without ``--from`` the workbook has every sheet with its header row and a README sheet that
lists the sheets and columns.  With ``--from`` it holds that file, so that the workbook and the
file give identical results.  The output format follows the suffix of ``-o``: ``.xlsx`` writes
a workbook, ``.yaml`` / ``.yml`` / ``.json`` writes the file (e.g. a workbook back to YAML).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from liqstress.cli._common import atomic_file, check_output_path, guarded
from liqstress.errors import InputError

KINDS = ("stress", "plan")


def _load(kind: str, src: Path):
    if kind == "stress":
        from liqstress.models.stress_file import load_stress

        return load_stress(src)
    from liqstress.models.cbc_plan import CBCPlan

    if src.suffix.lower() in (".xlsx", ".xlsm"):
        from liqstress.io.excel import read_plan_workbook

        return read_plan_workbook(src)
    return CBCPlan.from_file(src)


def template(
    kind: str = typer.Argument(..., help="stress | plan"),
    out: Path = typer.Option(..., "-o", "--out", help="Workbook to write (.xlsx), or .yaml/.json to convert a workbook."),
    source: Optional[Path] = typer.Option(None, "--from", help="Existing stress / plan file (YAML, JSON or .xlsx) to write."),
) -> None:
    """Excel template of a stress or CBC plan file, or an existing file as a workbook (and back)."""
    from liqstress.io.excel import model_doc, write_workbook

    if kind not in KINDS:
        raise InputError("kind", f"must be stress or plan, got {kind!r}")
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".yaml", ".yml", ".json"):
        raise InputError("--out", f"must end in .xlsx, .yaml or .json, got {out.name!r}")
    check_output_path(out, "--out")
    if suffix != ".xlsx" and source is None:
        raise InputError("--from", "is required when -o is a YAML or JSON file")
    model = _load(kind, source) if source is not None else None  # validated before anything is written
    with atomic_file(out, "--out") as tmp:
        if suffix == ".xlsx":
            write_workbook(None if model is None else model_doc(model), kind, tmp)
        else:
            doc = model.model_dump(mode="json", exclude_none=True)
            if suffix == ".json":
                tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            else:
                import yaml

                tmp.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("template")(guarded(template))
