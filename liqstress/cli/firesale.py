"""``liqstress firesale`` — multi-asset fire sales: clearing (4) with a vector of prices, and
overlapping-portfolio deleveraging over rounds (Greenwood–Landier–Thesmar, Cont–Schaanning)."""

from __future__ import annotations

import typer

from liqstress.cli._common import guarded, print_json, render_table, spinner
from liqstress.errors import InputError


def _load(path: str):
    """A multi-asset file (it has ``assets``) or anything :func:`load_system` reads (the
    paper's single-asset system); both through the shared, hardened reader."""
    from pathlib import Path

    from liqstress.models.multi_asset import MultiAssetSystem, is_multi_asset, load_multi_asset
    from liqstress.models.system import load_system

    low = str(path).lower()
    if not low.endswith((".csv", ".parquet", ".pq")):
        from liqstress.models.files import parse_text, read_text

        p = Path(path)
        body = read_text(p, "SYSTEM")
        if p.suffix.lower() != ".json" or body.lstrip(" \t\r\n\ufeff")[:1] != "[":
            try:
                doc = parse_text(body, p.name, p.suffix.lower() == ".json", "SYSTEM")
            except InputError as err:  # a value out of range: name the file
                if err.field == "SYSTEM":
                    raise
                raise InputError(f"{p.name}:{err.field}", err.rule) from None
            if is_multi_asset(doc):
                return load_multi_asset(p)
    return MultiAssetSystem.from_system(load_system(path))  # the paper's single-asset system


def _write_json(doc: dict, out: str) -> None:
    """The JSON document to ``-o/--out``, staged and moved into place when complete."""
    import json
    from pathlib import Path

    from liqstress.cli._common import _jsonable, atomic_file

    with atomic_file(Path(out), "--out") as tmp:
        tmp.write_text(json.dumps(_jsonable(doc), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _parse_shock(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, val = part.partition("=")
        if not sep or not name.strip():
            raise InputError("--shock", f"expected ASSET=eps, got {part!r}")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise InputError("--shock", f"eps of {name.strip()!r} must be a number, got {val!r}") from None
    return out


def firesale_cmd(
    system: str = typer.Argument(..., help="Multi-asset file (YAML/JSON: assets, banks with holdings) or a single-asset system file."),
    model: str = typer.Option("clearing", "--model", help="clearing (4) with one price per asset | glt | cont-schaanning."),
    shock: str = typer.Option(None, "--shock", help="glt / cont-schaanning: fraction of each asset's price lost, ASSET=eps[,...]."),
    rounds: int = typer.Option(100, "--rounds", help="glt / cont-schaanning: at most this many rounds of sales."),
    lambda_min: float = typer.Option(0.03, "--lambda-min", help="cont-schaanning: default below this leverage ratio E/A."),
    lambda_buffer: float = typer.Option(0.04, "--lambda-buffer", help="cont-schaanning: deleverage below this leverage ratio."),
    lambda_target: float = typer.Option(0.05, "--lambda-target", help="cont-schaanning: deleverage back to this leverage ratio."),
    alpha: float = typer.Option(None, "--alpha", help="clearing: permanent impact in [0, 1] (default: the file's)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    out: str = typer.Option(None, "-o", "--out", help="Also write the JSON document to this file (.json)."),
) -> None:
    """Multi-asset fire sales: greatest clearing prices of (4) per asset, or deleveraging rounds."""
    from liqstress.solvers.multi_asset import clear_multi, deleverage

    if out is not None:
        from pathlib import Path

        from liqstress.cli._common import check_output_path

        if not out.lower().endswith(".json"):
            raise InputError("--out", f"the output is a JSON document: the suffix must be .json, got {out!r}")
        check_output_path(Path(out), "--out")
    if model not in ("clearing", "glt", "cont-schaanning"):
        raise InputError("--model", f"must be clearing, glt or cont-schaanning, got {model!r}")
    ms = _load(system)
    if model == "clearing":
        if shock is not None:
            raise InputError("--shock", "the clearing model takes no price shock (it clears the t = 2 shortfalls)")
        with spinner(f"firesale: clearing (4) with {ms.K} prices, {ms.n} banks ..."):
            res = clear_multi(ms, alpha=alpha)
        doc = res.to_json(ms)
        if out is not None:
            _write_json(doc, out)
        if json_out:
            print_json(doc)
            return
        render_table("Clearing prices (4) per asset", ["asset", "price_t1", "price_t2"],
                     [[a, p1, p2] for a, p1, p2 in zip(ms.assets, res.price_t1, res.price_t2)])
        render_table("Banks", ["bank", "units sold", "value", "payment"],
                     [[nm, float(y.sum()), v, pay] for nm, y, v, pay in zip(ms.names, res.sales_t2, res.values, res.payments)])
        return
    with spinner(f"firesale: {model} deleveraging, {ms.n} banks, {ms.K} assets ..."):
        res = deleverage(ms, _parse_shock(shock), model=model, rounds=rounds, lambda_min=lambda_min,
                         lambda_buffer=lambda_buffer, lambda_target=lambda_target)
    doc = res.to_json(ms)
    if out is not None:
        _write_json(doc, out)
    if json_out:
        print_json(doc)
        return
    typer.echo(f"{model}: {res.rounds} rounds, {len(doc['defaults'])} defaults, relative equity loss {doc['relative_equity_loss']:.6g}")
    render_table("Prices by round", ["round"] + list(ms.assets), [[t] + list(row) for t, row in enumerate(res.prices.tolist())])


def register(app: typer.Typer) -> None:
    app.command("firesale")(guarded(firesale_cmd))
