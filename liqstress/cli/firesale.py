"""``liqstress firesale`` — multi-asset fire sales: clearing (4) with a vector of prices, and
overlapping-portfolio deleveraging over rounds (Greenwood–Landier–Thesmar, Cont–Schaanning)."""

from __future__ import annotations

import typer

from liqstress.cli._common import guarded, print_json, render_table
from liqstress.errors import InputError


def _load(path: str):
    from liqstress.models.files import read_document
    from liqstress.models.multi_asset import MultiAssetSystem, multi_asset_from_dict

    doc = read_document(path, field="SYSTEM") if not str(path).lower().endswith((".csv", ".parquet", ".pq")) else None
    if isinstance(doc, dict) and "assets" in doc:
        return multi_asset_from_dict(doc)
    from liqstress.models.system import load_system

    return MultiAssetSystem.from_system(load_system(path))  # the paper's single-asset system


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
) -> None:
    """Multi-asset fire sales: greatest clearing prices of (4) per asset, or deleveraging rounds."""
    from liqstress.solvers.multi_asset import clear_multi, deleverage

    ms = _load(system)
    if model == "clearing":
        if shock is not None:
            raise InputError("--shock", "the clearing model takes no price shock (it clears the t = 2 shortfalls)")
        res = clear_multi(ms, alpha=alpha)
        doc = res.to_json(ms)
        if json_out:
            print_json(doc)
            return
        render_table("Clearing prices (4) per asset", ["asset", "price_t1", "price_t2"],
                     [[a, p1, p2] for a, p1, p2 in zip(ms.assets, res.price_t1, res.price_t2)])
        render_table("Banks", ["bank", "units sold", "value", "payment"],
                     [[nm, float(y.sum()), v, pay] for nm, y, v, pay in zip(ms.names, res.sales_t2, res.values, res.payments)])
        return
    if model not in ("glt", "cont-schaanning"):
        raise InputError("--model", f"must be clearing, glt or cont-schaanning, got {model!r}")
    res = deleverage(ms, _parse_shock(shock), model=model, rounds=rounds, lambda_min=lambda_min,
                     lambda_buffer=lambda_buffer, lambda_target=lambda_target)
    doc = res.to_json(ms)
    if json_out:
        print_json(doc)
        return
    typer.echo(f"{model}: {res.rounds} rounds, {len(doc['defaults'])} defaults, relative equity loss {doc['relative_equity_loss']:.6g}")
    render_table("Prices by round", ["round"] + list(ms.assets), [[t] + list(row) for t, row in enumerate(res.prices.tolist())])


def register(app: typer.Typer) -> None:
    app.command("firesale")(guarded(firesale_cmd))
