"""``liqstress network generate|stats|convert|debtrank|cascade|exante`` — random interbank systems,
their statistics, format conversion and contagion measures (docs/networks.md, docs/model.md §15)."""

from __future__ import annotations

import time

import typer

from liqstress.cli._common import guarded, print_json, render_table
from liqstress.errors import InputError

network_app = typer.Typer(
    name="network",
    help="Interbank liability networks: generate, statistics, conversion, DebtRank, cascades, ex-ante valuation.",
    no_args_is_help=True, rich_markup_mode=None,
)

FORMATS = ("auto", "spec", "neva")


def _targets(out: str, fmt: str = "auto") -> tuple[str, list[str]]:
    """``(kind, files)`` that ``--out`` names, validated before any work (suffix, format, writable
    parent): kind is ``spec`` (system file), ``neva`` (neva JSON), ``csv`` or ``parquet`` (pairs)."""
    from pathlib import Path

    from liqstress.cli._common import check_output_path
    from liqstress.networks.columnar import split_pair

    if fmt not in FORMATS:
        raise InputError("--format", f"must be auto, spec or neva, got {fmt!r}")
    text = str(out)
    pair = split_pair(text)
    if pair is not None:
        kind, files = pair[0], [pair[1], pair[2]]
        if fmt != "auto":
            raise InputError("--format", f"applies to a JSON output only, not to a {kind.upper()} pair")
        if Path(files[0]).absolute() == Path(files[1]).absolute():
            raise InputError("--out", f"the balance-sheet and exposure files must differ, got {text!r} twice")
    elif text.lower().endswith((".yaml", ".yml", ".json")):
        files = [text]
        low = text.lower()
        if fmt == "neva" or (fmt == "auto" and low.endswith(".neva.json")):
            if not low.endswith(".json"):
                raise InputError("--out", f"neva's format is JSON: the suffix must be .json, got {text!r}")
            kind = "neva"
        else:
            kind = "spec"
    else:
        raise InputError("--out", "suffix must be .yaml, .yml or .json (neva JSON: .neva.json), or a pair "
                                  f"BALANCE.csv:EXPOSURES.csv / BALANCE.parquet:EXPOSURES.parquet, got {text!r}")
    for f in files:
        check_output_path(Path(f), "--out")
    return kind, files


def _write(system, out: str, fmt: str = "auto") -> None:
    """Write ``system`` to ``--out``; every file is staged and moved into place only when all of
    them were written (nothing is left behind on an error)."""
    from contextlib import ExitStack
    from pathlib import Path

    from liqstress.cli._common import atomic_file
    from liqstress.networks.columnar import write_parquet
    from liqstress.networks.io import save_system, write_neva_csv, write_neva_json

    kind, files = _targets(out, fmt)
    with ExitStack() as stack:
        tmp = [stack.enter_context(atomic_file(Path(f), "--out")) for f in files]
        if kind == "csv":
            write_neva_csv(system, tmp[0], tmp[1])
        elif kind == "parquet":
            write_parquet(system, tmp[0], tmp[1])
        elif kind == "neva":
            write_neva_json(system, tmp[0])
        else:
            save_system(system, tmp[0])


def generate_cmd(
    kind: str = typer.Argument(..., help="Topology: erdos-renyi | core-periphery | scale-free."),
    banks: int = typer.Option(..., "--banks", "-n", help="Number of banks in the generated system (>= 2)."),
    mean_degree: float = typer.Option(10.0, "--mean-degree", "-d", help="Mean out-degree = edges / banks."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed (reproducible output)."),
    output: str = typer.Option(..., "-o", "--out", help="System file (.yaml/.yml/.json), neva JSON (*.neva.json), CSV or Parquet pair A:B."),
    impact: float = typer.Option(0.05, "--impact", help="Price drop if the whole illiquid stock were sold: f(S) = 1 - impact."),
    inverse_demand: str = typer.Option("linear", "--inverse-demand", help="linear | exponential (valid for Assumption 4.1 on the generated S)."),
    core_frac: float = typer.Option(0.1, "--core-frac", help="core-periphery: share of banks in the core."),
    gamma: float = typer.Option(2.5, "--gamma", help="scale-free: degree tail exponent (> 2)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout (a summary of what was written)."),
) -> None:
    """Generate a random interbank system (system file, docs/model.md §7.1) with realistic balance sheets."""
    from liqstress.networks.generators import KINDS, generate

    if kind not in KINDS:
        raise InputError("KIND", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if inverse_demand not in ("linear", "exponential"):
        raise InputError("--inverse-demand", f"must be linear or exponential, got {inverse_demand!r}")
    if kind == "scale-free" and not gamma > 2:
        raise InputError("--gamma", f"must be > 2 (finite mean degree), got {gamma}")
    _targets(output)
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
    system: str = typer.Argument(..., help="System file (YAML/JSON), neva JSON, or a CSV / Parquet pair BALANCE:EXPOSURES."),
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
    output: str = typer.Option(..., "-o", "--out", help="System file (.yaml/.yml/.json), neva JSON (.neva.json or --format neva), CSV or Parquet pair."),
    fmt: str = typer.Option("auto", "--format", help="JSON output: spec (system file) | neva (neva's input) | auto (neva for *.neva.json)."),
) -> None:
    """Convert between system files (docs/model.md §7.1), neva JSON, neva-style CSV pairs and Parquet pairs."""
    from liqstress.networks.io import load_any

    _targets(output, fmt)
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


def _mapping_file(spec: str, option: str):
    """``(doc, name)``: a YAML/JSON mapping file through the shared reader (regular files,
    size limit, UTF-8, finite numbers with |v| <= 1e15, no repeated key)."""
    from pathlib import Path

    from liqstress.models.files import read_document

    p = Path(spec)
    try:
        doc = read_document(p, field=option, unique_keys=True)
    except InputError as err:  # a value's error names the file (file-level errors already do)
        if err.field == option:
            raise
        raise InputError(f"{p.name}:{err.field}", err.rule) from None
    return doc, p.name


def _number(v, where: str, lo: float | None = None, lo_open: bool = False, hi: float | None = None) -> float:
    """A number from a file (booleans and strings are not numbers) within [lo, hi] / (lo, hi]."""
    import math

    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(where, f"expected a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise InputError(where, "must be a finite number (no NaN or inf)")
    if lo is not None and (x <= lo if lo_open else x < lo):
        lo_s = "(" if lo_open else "["
        raise InputError(where, f"must be in {lo_s}{lo:g}, {hi:g}]" if hi is not None else f"must be {'>' if lo_open else '>='} {lo:g}, got {x:g}")
    if hi is not None and x > hi:
        raise InputError(where, f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {x:g}")
    return x


def _bank_key(sysm, name, where: str) -> int:
    key = str(name)
    try:
        return sysm.index(key)
    except InputError:
        raise InputError(where, f"unknown bank name {key!r}") from None


def _bank_values(sysm, spec: str | None, option: str, nonneg: bool = True):
    """A per-bank vector from a YAML/JSON mapping {bank name: value} (every bank, each once)."""
    if spec is None:
        return None
    import numpy as np

    doc, name = _mapping_file(spec, option)
    if not isinstance(doc, dict) or not doc:
        raise InputError(f"{option} {name}", "must be a non-empty mapping {bank name: value}")
    vals = np.full(sysm.n, np.nan)
    for bank, v in doc.items():
        where = f"{name}:{bank}"
        k = _bank_key(sysm, bank, where)
        vals[k] = _number(v, where, lo=0.0 if nonneg else None)
    missing = np.flatnonzero(np.isnan(vals))
    if missing.size:
        raise InputError(f"{option} {name}", f"no value for bank {sysm.names[missing[0]]!r} (one value per bank)")
    return vals


def _scenarios(sysm, spec: str) -> dict[str, dict[str, float]]:
    """{scenario: {bank: psi}} from a YAML/JSON file; psi in (0, 1], known banks."""
    doc, name = _mapping_file(spec, "--scenarios")
    if not isinstance(doc, dict) or not doc:
        raise InputError(f"--scenarios {name}", "must be a non-empty mapping {scenario: {bank: psi}}")
    out = {}
    for scen, shock in doc.items():
        if not isinstance(shock, dict) or not shock:
            raise InputError(f"{name}:{scen}", "must be a non-empty mapping {bank: psi}")
        row = {}
        for bank, psi in shock.items():
            where = f"{name}:{scen}.{bank}"
            row[sysm.names[_bank_key(sysm, bank, where)]] = _number(psi, where, lo=0.0, lo_open=True, hi=1.0)
        out[str(scen)] = row
    return out


def debtrank_cmd(
    system: str = typer.Argument(..., help="System file, neva JSON, or a CSV / Parquet pair BALANCE:EXPOSURES."),
    shock: str = typer.Option(None, "--shock", help="Initial relative equity losses NAME=psi[,NAME=psi...] (psi in (0, 1]; NAME alone: psi = 1)."),
    scenarios: str = typer.Option(None, "--scenarios", help="YAML/JSON file {scenario: {bank: psi}}: several shock scenarios at once."),
    variant: str = typer.Option("battiston", "--variant", help="battiston (2012) | linear | differential (Bardoscia et al. 2015)."),
    max_rounds: int = typer.Option(None, "--max-rounds", help="Stop after T rounds (h(T)); default: until nothing changes."),
    equity: str = typer.Option(None, "--equity", help="YAML/JSON {bank: buffer}: equity buffers instead of book equity."),
    weights: str = typer.Option(None, "--weights", help="'equal' or YAML/JSON {bank: weight >= 0}: relative economic values (default: total assets)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """DebtRank of an initial distress: R = sum_j v_j (h_j(T) - h_j(1)) (docs/model.md §15.1)."""
    import numpy as np

    from liqstress.cli._common import progress
    from liqstress.networks.debtrank import VARIANTS, debtrank_scenarios
    from liqstress.networks.io import load_any

    if (shock is None) == (scenarios is None):
        raise InputError("--shock", "give --shock NAME=psi[,...] or --scenarios FILE (one of them)")
    if variant not in VARIANTS:
        raise InputError("--variant", f"must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if max_rounds is not None and max_rounds < 0:
        raise InputError("--max-rounds", f"must be >= 0, got {max_rounds}")
    sysm = load_any(system)
    E = _bank_values(sysm, equity, "--equity", nonneg=False)
    w = np.ones(sysm.n) if weights == "equal" else _bank_values(sysm, weights, "--weights")
    if shock is not None:
        scen = {"shock": _parse_shock(shock)}
        for name in scen["shock"]:
            _bank_key(sysm, name, "--shock")
    else:
        scen = _scenarios(sysm, scenarios)
    with progress(len(scen), "DebtRank scenarios", unit="scenario") as bar:
        res = debtrank_scenarios(sysm, scen, variant=variant, equity=E, weights=w, max_rounds=max_rounds,
                                 on_scenario=bar.advance)
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

    from liqstress.cli._common import spinner

    if model not in ("furfine", "recovery"):
        raise InputError("--model", f"must be furfine or recovery, got {model!r}")
    shocks = _parse_shock(shock)
    sysm = load_any(system)
    for name in shocks:
        _bank_key(sysm, name, "--shock")
    E = _bank_values(sysm, equity, "--equity", nonneg=False)
    with spinner(f"cascade ({model}): {sysm.n} banks ..."):
        if model == "furfine":
            res = furfine(sysm, list(shocks), lgd=lgd, equity=E)
        else:
            res = recovery_cascade(sysm, shocks, recovery=recovery, equity=E)
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

    from liqstress.cli._common import spinner

    if shock is not None and all_shock is not None:
        raise InputError("--shock", "give --shock or --all, not both")
    if all_shock is not None and not 0 <= all_shock <= 1:
        raise InputError("--all", f"must be in [0, 1], got {all_shock}")
    sysm = load_any(system)
    if shock is not None:
        spec = _parse_shock(shock)
        for name in spec:
            _bank_key(sysm, name, "--shock")
    else:
        spec = np.full(sysm.n, float(all_shock)) if all_shock is not None else None
    with spinner(f"ex-ante valuation ({model}): {sysm.n} banks ..."):
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
