"""``liqstress network generate|stats|convert`` — random interbank systems and their statistics."""

from __future__ import annotations

import time

import typer

from liqstress.cli._common import guarded, print_json, render_table
from liqstress.errors import InputError

network_app = typer.Typer(
    name="network",
    help="Interbank liability networks: generate random systems, statistics, format conversion.",
    no_args_is_help=True,
)


def _write(system, out: str, fmt: str = "auto") -> None:
    from liqstress.networks.columnar import split_pair, write_parquet
    from liqstress.networks.io import save_system, write_neva_csv, write_neva_json

    text = str(out)
    if fmt not in ("auto", "spec", "neva"):
        raise InputError("--format", f"must be auto, spec or neva, got {fmt!r}")
    pair = split_pair(text)
    if pair is not None:
        kind, bs, ex = pair
        (write_neva_csv if kind == "csv" else write_parquet)(system, bs, ex)
        return
    if not text.lower().endswith((".yaml", ".yml", ".json")):
        raise InputError("--output", f"suffix must be .yaml, .yml or .json (or BALANCE.csv:EXPOSURES.csv, BALANCE.parquet:EXPOSURES.parquet), got {text!r}")
    if fmt == "neva" or (fmt == "auto" and text.lower().endswith(".neva.json")):
        if not text.lower().endswith(".json"):
            raise InputError("--output", f"neva's format is JSON: the suffix must be .json, got {text!r}")
        write_neva_json(system, text)
        return
    save_system(system, text)


def generate_cmd(
    kind: str = typer.Argument(..., help="Topology: erdos-renyi | core-periphery | scale-free."),
    banks: int = typer.Option(..., "--banks", "-n", help="Number of banks (>= 2)."),
    mean_degree: float = typer.Option(10.0, "--mean-degree", "-d", help="Mean out-degree = edges / banks."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed (reproducible output)."),
    output: str = typer.Option(..., "--output", "-o", help="System file (.yaml/.yml/.json), neva JSON (*.neva.json), CSV or Parquet pair A:B."),
    impact: float = typer.Option(0.05, "--impact", help="Price drop if the whole illiquid stock were sold: f(S) = 1 - impact."),
    inverse_demand: str = typer.Option("linear", "--inverse-demand", help="linear | exponential (valid for Assumption 4.1 on the generated S)."),
    core_frac: float = typer.Option(0.1, "--core-frac", help="core-periphery: share of banks in the core."),
    gamma: float = typer.Option(2.5, "--gamma", help="scale-free: degree tail exponent (> 2)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout (a summary of what was written)."),
) -> None:
    """Generate a random interbank system (SPEC Part C system file) with realistic balance sheets."""
    from liqstress.networks.generators import KINDS, generate

    if kind not in KINDS:
        raise InputError("KIND", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if inverse_demand not in ("linear", "exponential"):
        raise InputError("--inverse-demand", f"must be linear or exponential, got {inverse_demand!r}")
    if kind == "scale-free" and not gamma > 2:
        raise InputError("--gamma", f"must be > 2 (finite mean degree), got {gamma}")
    t0 = time.perf_counter()
    sysm = generate(kind, banks, mean_degree, seed=seed, impact=impact, inverse_demand=inverse_demand, core_frac=core_frac, gamma=gamma)
    t_gen = time.perf_counter() - t0
    _write(sysm, output)
    doc = {
        "output": str(output),
        "kind": kind,
        "banks": sysm.n,
        "exposures": int(sysm.Lmat.nnz) if sysm.Lmat is not None else 0,
        "mean_degree": (sysm.Lmat.nnz / sysm.n) if sysm.Lmat is not None else 0.0,
        "seed": seed,
        "inverse_demand": sysm.f.to_dict(),
        "S": sysm.S,
        "seconds": t_gen,
    }
    if json_out:
        print_json(doc)
    else:
        typer.echo(f"wrote {output}: {doc['banks']} banks, {doc['exposures']} exposures (mean degree {doc['mean_degree']:.3f}), "
                   f"inverse demand {doc['inverse_demand']}")


def stats_cmd(
    system: str = typer.Argument(..., help="System file (YAML/JSON) or neva pair BALANCE.csv:EXPOSURES.csv."),
    rv_alpha: float = typer.Option(0.9, "--rv-alpha", help="Rogers–Veraart recovery on external assets."),
    rv_beta: float = typer.Option(0.9, "--rv-beta", help="Rogers–Veraart recovery on interbank claims."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Degrees, density, concentration and the default cascade (plain EN, (15) with fire sales, RV, DebtRank)."""
    from liqstress.networks.io import load_any
    from liqstress.networks.stats import network_stats

    sysm = load_any(system)
    doc = network_stats(sysm, rv_alpha=rv_alpha, rv_beta=rv_beta)
    if json_out:
        print_json(doc)
        return
    topo = doc["topology"]
    render_table("Network", ["statistic", "value"], [[k, v] for k, v in topo.items()])
    if "cascade" in doc:
        cas = doc["cascade"]
        rows = [
            ["Eisenberg–Noe (price 1)", cas["eisenberg_noe"]["price"], cas["eisenberg_noe"]["defaults"], "-"],
            ["(15) with fire sales", cas["fire_sale"]["price"], cas["fire_sale"]["defaults"], cas["fire_sale"]["fire_selling_banks"]],
            ["EN at fire-sale price", cas["eisenberg_noe_at_fire_sale_price"]["price"], cas["eisenberg_noe_at_fire_sale_price"]["defaults"], "-"],
            [f"Rogers–Veraart at q (a={rv_alpha:g}, b={rv_beta:g})", cas["rogers_veraart_at_fire_sale_price"]["price"], cas["rogers_veraart_at_fire_sale_price"]["defaults"], "-"],
        ]
        render_table("Default cascade", ["model", "price", "defaults", "fire sellers"], rows)
        render_table("DebtRank of the largest banks (psi = 1)", ["bank", "debtrank"], [[d["bank"], d["debtrank"]] for d in cas["debtrank_largest"]])
    else:
        typer.echo("no interbank block: cascade statistics need exposures")


def convert_cmd(
    source: str = typer.Argument(..., help="System file, neva JSON, BALANCE.csv:EXPOSURES.csv or BALANCE.parquet:EXPOSURES.parquet."),
    output: str = typer.Option(..., "--output", "-o", help="System file (.yaml/.yml/.json), neva JSON (.neva.json or --format neva), CSV or Parquet pair."),
    fmt: str = typer.Option("auto", "--format", help="JSON output: spec (system file) | neva (neva's input) | auto (neva for *.neva.json)."),
) -> None:
    """Convert between system files (SPEC Part C), neva JSON, neva-style CSV pairs and Parquet pairs."""
    from liqstress.networks.io import load_any

    sysm = load_any(source)
    _write(sysm, output, fmt)
    typer.echo(f"wrote {output}: {sysm.n} banks")


def register(app: typer.Typer) -> None:
    network_app.command("generate")(guarded(generate_cmd))
    network_app.command("stats")(guarded(stats_cmd))
    network_app.command("convert")(guarded(convert_cmd))
    app.add_typer(network_app, name="network")
