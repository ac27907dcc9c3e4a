"""``liqstress cbc PLAN``: CBC monetisation plan, exact survival horizon vs the waterfall.

    liqstress cbc PLAN [--json] [--method bisection|milp] [--scenario NAME]
                       [--csv PLAN.csv] [--deployment-csv FILE] [--chart FILE.png] [--xlsx FILE.xlsx]

``--json`` prints ``{"survival_days", "waterfall_survival_days", "plan": [{"day", "asset",
"action", "amount", "cash"}], ...}`` (docs/model.md §9.3; extra keys: censored (the horizon
reaches the end of the projection), survival_text (``">= 365 (whole projection)"`` when
censored), minimum_balance, status, horizon_days,
remaining_cbc, management_actions, rolls, facilities_not_counted, method, solver, seconds,
waterfall_remaining_cbc, scenario).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from liqstress.cli._common import guarded, print_json, render_table
from liqstress.errors import InputError


def load_plan(path: Path, scenario: Optional[str]):
    """A CBC plan file, or a full stress file (top-level ``scenarios``) with ``--scenario``."""
    from liqstress.models.cbc_plan import CBCPlan
    from liqstress.models.files import read_document

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from liqstress.io.excel import read_any_workbook

        model = read_any_workbook(path)
        if isinstance(model, CBCPlan):
            data = model.model_dump(mode="python")
        else:
            if scenario is None:
                raise InputError("--scenario", f"{path.name} is a stress workbook; pass --scenario NAME "
                                 f"(scenarios: {', '.join(s.name for s in model.scenarios)})")
            from liqstress.stress.engine import plan_for_scenario

            return plan_for_scenario(model, scenario)
    else:
        data = read_document(path)
    if isinstance(data, dict) and "scenarios" in data:
        names = data.get("scenarios")
        listed = ", ".join(str(s.get("name", "?")) if isinstance(s, dict) else str(s) for s in names) if isinstance(names, list) else (
            ", ".join(map(str, names)) if isinstance(names, dict) else "")
        if scenario is None:
            raise InputError("--scenario", f"{path.name} is a stress file; pass --scenario NAME (scenarios: {listed})")
        try:
            from liqstress.stress.engine import plan_for_scenario
        except ImportError:
            raise InputError("--scenario", "stress files need liqstress.stress.engine, which is not available in this build") from None
        plan = plan_for_scenario(str(path), scenario)
        plan = plan if isinstance(plan, CBCPlan) else CBCPlan.from_dict(plan)
        if plan.unit is None and isinstance(data.get("unit", "$M"), str):
            plan = plan.model_copy(update={"unit": data.get("unit", "$M")})  # the stress file's unit (default $M)
        return plan
    plan = CBCPlan.from_dict(data)
    if scenario is not None:
        if scenario not in plan.haircut_addons:
            known = ", ".join(plan.haircut_addons) or "none"
            raise InputError("--scenario", f"unknown scenario {scenario!r} in haircut_addons (known: {known})")
        plan = plan.with_scenario(scenario)
    return plan


def write_chart(path: Path, res, base, unit: Optional[str] = None) -> None:
    """Cumulative cash position and remaining CBC by day, LP plan vs waterfall (Agg); every
    line is labelled and the y axes carry the currency ``unit``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    unit = unit or "currency units"
    days = res.deployment.index.to_numpy()
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.8), sharex=True)
    ax = axes[0]
    def surv(r) -> str:
        return (f"survives the whole {r.horizon_days}-day horizon" if r.survival_days >= r.horizon_days
                else f"survives {r.survival_days} d")

    ax.plot(days, res.balances, label=f"LP plan ({surv(res)})", color="C0")
    ax.plot(days, base.balances, label=f"waterfall ({surv(base)})", color="C1", ls="--")
    ax.axhline(0.0, color="k", lw=0.8, label="zero cash")
    for r, col, nm in ((res, "C0", "LP plan"), (base, "C1", "waterfall")):
        if r.survival_days < len(days):
            ax.axvline(r.survival_days + 0.5, color=col, lw=0.8, ls=":", label=f"end of survival, {nm} (day {r.survival_days})")
    ax.set_ylabel(f"cumulative cash B_t ({unit})")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax = axes[1]
    ax.plot(days, res.deployment["remaining"], label="LP plan", color="C0")
    ax.plot(days, base.deployment["remaining"], label="waterfall", color="C1", ls="--")
    ax.set_ylabel(f"remaining CBC after haircuts ({unit})")
    ax.set_xlabel("day")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.suptitle("CBC monetisation: cash position and remaining counterbalancing capacity")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _doc(res, base, scenario: Optional[str]) -> dict[str, Any]:
    doc = res.to_json(waterfall_survival_days=base.survival_days)
    doc["waterfall_remaining_cbc"] = float(base.remaining_cbc)
    doc["scenario"] = scenario
    return doc


def _doc_with_plan(res, base, plan) -> dict[str, Any]:
    doc = _doc(res, base, plan.scenario)
    doc["minimum_balance"] = float(plan.minimum_balance)
    return doc


def register(app: typer.Typer) -> None:
    @app.command("cbc")
    @guarded
    def cbc(
        plan: Path = typer.Argument(..., help="CBC plan file (YAML/JSON/.xlsx), or a stress file with --scenario."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
        method: str = typer.Option("bisection", "--method", help="Horizon search: bisection (LP feasibility) or milp."),
        scenario: Optional[str] = typer.Option(None, "--scenario", help="Scenario of a stress file / haircut add-ons."),
        csv: Optional[Path] = typer.Option(None, "--csv", help="Write the plan actions as CSV."),
        deployment_csv: Optional[Path] = typer.Option(None, "--deployment-csv", help="Write the deployment table as CSV."),
        chart: Optional[Path] = typer.Option(None, "--chart", help="PNG chart of cash position and remaining CBC."),
        xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Write summary, plan and deployment as an Excel workbook."),
    ) -> None:
        """CBC monetisation: exact maximal survival horizon (LP/MILP with HiGHS) vs the waterfall."""
        import pandas as pd

        from liqstress.solvers.cbc import METHODS, solve_plan, survival_text, waterfall

        if method not in METHODS:
            raise InputError("--method", f"must be one of {', '.join(METHODS)}, got {method!r}")
        from liqstress.cli._common import atomic_file, check_output_path

        if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
            raise InputError("--xlsx", f"must end in .xlsx, got {xlsx.name!r}")
        for opt, target in (("--csv", csv), ("--deployment-csv", deployment_csv), ("--chart", chart), ("--xlsx", xlsx)):
            if target is not None:
                check_output_path(target, opt)
        p = load_plan(plan, scenario)
        res = solve_plan(p, method=method)
        base = waterfall(p)
        if csv is not None:
            with atomic_file(csv, "--csv") as tmp:
                pd.DataFrame(res.actions, columns=["day", "asset", "action", "amount", "cash"]).to_csv(tmp, index=False)
        if deployment_csv is not None:
            with atomic_file(deployment_csv, "--deployment-csv") as tmp:
                res.deployment.to_csv(tmp)
        if chart is not None:
            with atomic_file(chart, "--chart") as tmp:
                write_chart(tmp, res, base, p.unit)
        if xlsx is not None:
            from liqstress.io.excel import write_cbc_workbook

            with atomic_file(xlsx, "--xlsx") as tmp:
                write_cbc_workbook(res, base, tmp)
        if json_out:
            print_json(_doc_with_plan(res, base, p))
            return
        render_table(
            f"CBC plan {plan.name}" + (f" (scenario {p.scenario})" if p.scenario else ""),
            ["measure", "LP plan", "waterfall"],
            [
                ["survival_days", survival_text(res.survival_days, res.horizon_days),
                 survival_text(base.survival_days, base.horizon_days)],
                ["horizon_days", res.horizon_days, base.horizon_days],
                ["remaining_cbc", res.remaining_cbc, base.remaining_cbc],
                ["actions", len(res.actions), len(base.actions)],
                ["solver", res.solver, base.solver],
                ["seconds", res.seconds, base.seconds],
            ],
        )
        shown = res.actions[:40]
        render_table(
            "LP plan actions (day = action day; cash lands after settlement)",
            ["day", "asset", "action", "amount", "cash"],
            [[a["day"], a["asset"], a["action"], a["amount"], a["cash"]] for a in shown],
        )
        if len(res.actions) > len(shown):
            typer.echo(f"... {len(res.actions) - len(shown)} more actions (use --csv or --json)")
        if res.management:
            render_table("management actions", ["day", "asset", "amount", "cash"],
                         [[a["day"], a["id"], a["amount"], a["cash"]] for a in res.management])
        if res.memo_facilities:
            render_table("central-bank facilities shown, not counted in the horizon", ["asset", "amount", "haircut", "lead_days", "cash_capacity"],
                         [[f["id"], f["amount"], f["haircut"], f["lead_days"], f["cash_capacity"]] for f in res.memo_facilities])
