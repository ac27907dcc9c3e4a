"""``liqstress network generate|stats|convert`` — random interbank systems and their statistics."""

from __future__ import annotations

import time

import typer

from liqstress.cli._common import guarded, print_json, render_table
from liqstress.errors import InputError

network_app = typer.Typer(
    name="network",
    help="Interbank liability networks: generate, statistics, conversion, DebtRank, cascades, ex-ante valuation, reconstruction.",
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
    """Convert between system files, neva JSON, neva-style CSV pairs and Parquet pairs."""
    from liqstress.networks.io import load_any

    sysm = load_any(source)
    _write(sysm, output, fmt)
    typer.echo(f"wrote {output}: {sysm.n} banks")


# ----------------------------------------------------------------------------- contagion measures
def _parse_shock(text: str) -> dict[str, float]:
    """``A=1,B=0.5`` (a bare name means psi = 1) -> {name: psi}."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, val = part.partition("=")
        name = name.strip()
        if not name:
            raise InputError("--shock", f"expected NAME=psi, got {part!r}")
        if not sep:
            out[name] = 1.0
            continue
        try:
            out[name] = float(val)
        except ValueError:
            raise InputError("--shock", f"psi of {name!r} must be a number, got {val!r}") from None
    if not out:
        raise InputError("--shock", "at least one NAME=psi is required")
    return out


def _bank_values(sysm, spec: str | None, option: str):
    """A per-bank vector from a YAML/JSON mapping {bank name: value} (every bank)."""
    if spec is None:
        return None
    from liqstress.models.files import read_document

    doc = read_document(spec, field=option)
    if not isinstance(doc, dict):
        raise InputError(option, "must be a mapping {bank name: value}")
    import numpy as np

    vals = np.full(sysm.n, np.nan)
    for name, v in doc.items():
        k = sysm.index(str(name))
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{option}.{name}", f"expected a number, got {v!r}")
        vals[k] = float(v)
    missing = np.flatnonzero(np.isnan(vals))
    if missing.size:
        raise InputError(option, f"no value for bank {sysm.names[missing[0]]!r} (one value per bank)")
    return vals


def _scenarios(spec: str) -> dict[str, dict[str, float]]:
    from liqstress.models.files import read_document

    doc = read_document(spec, field="--scenarios")
    if not isinstance(doc, dict) or not doc:
        raise InputError("--scenarios", "must be a non-empty mapping {scenario: {bank: psi}}")
    out = {}
    for name, shock in doc.items():
        if not isinstance(shock, dict) or not shock:
            raise InputError(f"--scenarios.{name}", "must be a non-empty mapping {bank: psi}")
        out[str(name)] = shock
    return out


def debtrank_cmd(
    system: str = typer.Argument(..., help="System file, neva JSON, or a CSV / Parquet pair BALANCE:EXPOSURES."),
    shock: str = typer.Option(None, "--shock", help="Initial relative equity losses NAME=psi[,NAME=psi...] (psi in (0, 1]; NAME alone: psi = 1)."),
    scenarios: str = typer.Option(None, "--scenarios", help="YAML/JSON file {scenario: {bank: psi}}: several shock scenarios at once."),
    variant: str = typer.Option("battiston", "--variant", help="battiston (2012) | linear | differential (Bardoscia et al. 2015)."),
    max_rounds: int = typer.Option(None, "--max-rounds", help="Stop after T rounds (h(T)); default: until nothing changes."),
    equity: str = typer.Option(None, "--equity", help="YAML/JSON {bank: buffer}: equity buffers instead of book equity."),
    weights: str = typer.Option(None, "--weights", help="'equal' or YAML/JSON {bank: weight}: relative economic values (default: total assets)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """DebtRank of an initial distress: R = sum_j v_j (h_j(T) - h_j(1))."""
    import numpy as np

    from liqstress.networks.debtrank import debtrank_scenarios
    from liqstress.networks.io import load_any

    if (shock is None) == (scenarios is None):
        raise InputError("--shock", "give --shock NAME=psi[,...] or --scenarios FILE (one of them)")
    sysm = load_any(system)
    E = _bank_values(sysm, equity, "--equity")
    w = np.ones(sysm.n) if weights == "equal" else _bank_values(sysm, weights, "--weights")
    scen = {"shock": _parse_shock(shock)} if shock is not None else _scenarios(scenarios)
    res = debtrank_scenarios(sysm, scen, variant=variant, equity=E, weights=w, max_rounds=max_rounds)
    docs = {name: {**r.to_json(), "variant": r.variant, "status": r.status} for name, r in res.items()}
    if json_out:
        print_json(docs["shock"] if shock is not None else {"scenarios": docs})
        return
    for name, r in res.items():
        top = np.argsort(-(r.h - r.h1))[:10]
        render_table(f"DebtRank ({variant}) {name}: R = {r.debtrank:.6g}, {r.rounds} rounds",
                     ["bank", "h(1)", "h(T)"], [[sysm.names[k], r.h1[k], r.h[k]] for k in top if r.h[k] > 0])


def cascade_cmd(
    system: str = typer.Argument(..., help="System file, neva JSON, or a CSV / Parquet pair BALANCE:EXPOSURES."),
    shock: str = typer.Option(..., "--shock", help="furfine: failing banks NAME[,NAME...]; recovery: equity losses NAME=psi[,...]."),
    model: str = typer.Option("furfine", "--model", help="furfine (sequential defaults, loss given default --lgd) | recovery (fixed recovery --recovery)."),
    lgd: float = typer.Option(1.0, "--lgd", help="furfine: loss given default on interbank claims."),
    recovery: float = typer.Option(0.0, "--recovery", help="recovery: exogenous recovery rate on defaulted debtors' liabilities."),
    equity: str = typer.Option(None, "--equity", help="YAML/JSON {bank: buffer}: equity buffers instead of book equity."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Default cascade: Furfine (2003) or the cascade with a fixed exogenous recovery rate."""
    from liqstress.networks.cascades import furfine, recovery_cascade
    from liqstress.networks.io import load_any

    sysm = load_any(system)
    E = _bank_values(sysm, equity, "--equity")
    shocks = _parse_shock(shock)
    if model == "furfine":
        res = furfine(sysm, list(shocks), lgd=lgd, equity=E)
    elif model == "recovery":
        res = recovery_cascade(sysm, shocks, recovery=recovery, equity=E)
    else:
        raise InputError("--model", f"must be furfine or recovery, got {model!r}")
    doc = res.to_json(sysm.names)
    if json_out:
        print_json(doc)
        return
    typer.echo(f"{model}: {doc['defaults']} defaults in {doc['rounds']} rounds, total loss {doc['total_loss']:.6g}")
    rows = [[nm, int(r), float(l)] for nm, r, l in zip(sysm.names, res.default_round, res.losses) if r >= 0]
    render_table("Defaults", ["bank", "round", "loss"], rows)


def exante_cmd(
    system: str = typer.Argument(..., help="System file, neva JSON, or a CSV / Parquet pair BALANCE:EXPOSURES."),
    shock: str = typer.Option(None, "--shock", help="Relative equity losses NAME=psi[,...] (from the external assets, as neva)."),
    all_shock: float = typer.Option(None, "--all", help="The same relative equity loss for every bank (neva's README uses 0.5)."),
    model: str = typer.Option("black-cox", "--model", help="black-cox | merton | linear."),
    sigma: float = typer.Option(None, "--sigma", help="Volatility of every bank's external assets."),
    sigma_equity: float = typer.Option(None, "--sigma-equity", help="Equity volatility; asset volatility = E / A * sigma_equity (neva)."),
    recovery: float = typer.Option(0.0, "--recovery", help="Exogenous recovery rate rho in [0, 1]."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Ex-ante valuation of interbank claims (NEVA): equities after a shock, default probabilities."""
    import numpy as np

    from liqstress.networks.io import load_any
    from liqstress.networks.valuation import exante_valuation

    sysm = load_any(system)
    if shock is not None and all_shock is not None:
        raise InputError("--shock", "give --shock or --all, not both")
    spec = _parse_shock(shock) if shock is not None else (np.full(sysm.n, float(all_shock)) if all_shock is not None else None)
    if all_shock is not None and not 0 <= all_shock <= 1:
        raise InputError("--all", f"must be in [0, 1], got {all_shock}")
    res = exante_valuation(sysm, spec, model=model, sigma=sigma, sigma_equity=sigma_equity, recovery=recovery)
    doc = res.to_json(sysm.names)
    if json_out:
        print_json(doc)
        return
    typer.echo(f"ex-ante ({model}): relative equity loss {doc['relative_equity_loss']:.6g} after {doc['rounds']} rounds")
    render_table("Banks", ["bank", "equity_book", "equity_direct", "equity", "valuation", "default_probability"],
                 [[b["name"], b["equity_book"], b["equity_direct"], b["equity"], b["valuation"], b["default_probability"]] for b in doc["banks"][:30]])


def register(app: typer.Typer) -> None:
    network_app.command("generate")(guarded(generate_cmd))
    network_app.command("stats")(guarded(stats_cmd))
    network_app.command("convert")(guarded(convert_cmd))
    network_app.command("debtrank")(guarded(debtrank_cmd))
    network_app.command("cascade")(guarded(cascade_cmd))
    network_app.command("exante")(guarded(exante_cmd))
    app.add_typer(network_app, name="network")
