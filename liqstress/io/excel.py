"""Stress files and CBC plan files as Excel workbooks; results workbooks (docs/interop.md).

A workbook has one sheet per block of the file; row 1 holds the column names, each further row
one record.  Reading builds the same mapping as the YAML file and validates it with the same
pydantic models, so a workbook and the YAML it was written from give identical results.  Every
problem is one :class:`~liqstress.errors.InputError` naming the sheet and the cell
(``flows!C14: amount must be >= 0 (got -5.0)``).  Written and read through pandas with the
openpyxl engine.

List cells: id lists (``overlay_of``, ``closed_sale``, ``closed_repo``, ``fx_swap_closed``,
``closed_markets``, ``requires_markets``, ``closed_days``, the setting ``lcr.l2b_rmbs``, a
behavioural segment's ``liabilities``) are comma-separated; ``recovery_conditions`` holds one
condition per line.  The ``behavioural`` section is three sheets: ``behavioural_segments``,
``behavioural_run_off`` (one row per segment and scenario; the run length ``days: [min, max]``
as ``days_min``, ``days_max``) and ``behavioural_calibration`` (one row per public figure).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from liqstress.errors import InputError

# --------------------------------------------------------------------------- column types
S, F, I, B, D, IDS, LINES = "text", "number", "integer", "true/false", "date", "comma-separated list", "one item per line"


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    target: str = ""  # dotted path in the record (default: the column name)
    required: bool = False
    doc: str = ""

    @property
    def path(self) -> str:
        return self.target or self.name


@dataclass(frozen=True)
class Sheet:
    name: str
    mode: str  # settings | list | child | map | run_off | params
    path: str  # where the records go in the document
    cols: tuple
    required: bool = False
    doc: str = ""


def _c(name, kind, target="", required=False, doc=""):
    return Col(name, kind, target, required, doc)


ASSET_COLS = (
    _c("id", S, required=True), _c("level", S, required=True, doc="L1 | L2A | L2B | non_HQLA"),
    _c("amount", F, required=True), _c("sale_discount", F), _c("repo_haircut", F), _c("daily_capacity", F),
    _c("settlement_days", I), _c("sale", B), _c("repo", B), _c("encumbered", F), _c("closed_days", IDS),
    _c("repo_term_days", I), _c("rollover", B), _c("price_impact_kind", S, "price_impact.kind"),
    _c("price_impact_beta", F, "price_impact.beta"), _c("price_impact_gamma", F, "price_impact.gamma"),
    _c("price_impact_tranches", I, "price_impact.tranches"),
)
STRESS_SHEETS: tuple[Sheet, ...] = (
    Sheet("settings", "settings", "", (
        _c("name", S), _c("currency", S), _c("unit", S), _c("as_of", D), _c("horizon_days", I), _c("opening_cash", F),
        _c("minimum_operational_cash", F), _c("intraday_liquidity_requirement", F),
        _c("description", S), _c("internal_minimum_days.idiosyncratic", I), _c("internal_minimum_days.market_wide", I),
        _c("internal_minimum_days.combined", I), _c("cfp.deposit_outflow_sigma_daily", F),
        _c("cfp.runway_window_days", I),
        _c("lcr.internal_target", F), _c("lcr.base_lcr", F), _c("lcr.l2b_rmbs", IDS), _c("fx.significance", F),
        _c("nsfr.derivatives.assets", F), _c("nsfr.derivatives.liabilities", F),
        _c("nsfr.derivatives.gross_liabilities", F), _c("nsfr.description", S),
        _c("behavioural.correlation", F), _c("behavioural.description", S)),
        required=True, doc="one row per top-level setting: columns field, value"),
    Sheet("liabilities", "list", "liabilities", (
        _c("id", S, required=True), _c("category", S, required=True), _c("amount", F, required=True),
        _c("collateral_level", S), _c("lcr_rate", F), _c("currency", S), _c("description", S),
        _c("collateral", S, doc="cbc id of the collateral pledged (secured_funding)"),
        _c("collateral_units", F, doc="units of that cbc line pledged"), _c("collateral_rmbs", B),
        _c("counterparty", S, doc="market | central_bank | sovereign")), required=True),
    Sheet("maturities", "child", "liabilities.maturities", (
        _c("liability", S, required=True, doc="id of the liability"), _c("day", I, required=True),
        _c("amount", F, required=True))),
    Sheet("flows", "list", "flows", (
        _c("id", S, required=True), _c("direction", S, required=True), _c("kind", S), _c("amount", F, required=True),
        _c("day", I), _c("date", D), _c("repeat_days", I), _c("until_day", I), _c("lcr_rate", F), _c("currency", S),
        _c("description", S))),
    Sheet("cbc", "list", "cbc", ASSET_COLS + (_c("currency", S),)),
    Sheet("facilities", "list", "facilities", (
        _c("id", S, required=True), _c("kind", S, required=True), _c("amount", F, required=True), _c("haircut", F),
        _c("lead_days", I), _c("counted", B), _c("currency", S), _c("description", S))),
    Sheet("scenarios", "list", "scenarios", (
        _c("name", S, required=True), _c("type", S, required=True), _c("trigger", S), _c("duration_days", I),
        _c("severity", S), _c("overlay_of", IDS), _c("internal_minimum_days", I), _c("closed_sale", IDS),
        _c("closed_repo", IDS), _c("unsecured_wholesale_open", B), _c("rating_downgrade_notches", I),
        _c("rating_day", I), _c("recovery_conditions", LINES), _c("fx_haircut_add", F), _c("fx_swap_closed", IDS),
        _c("description", S), _c("closed_markets", IDS, doc="unsecured_wholesale, term_funding, equity")), required=True),
    Sheet("run_off", "run_off", "scenarios.run_off", (
        _c("scenario", S, required=True), _c("category", S, required=True), _c("rate", F, required=True),
        _c("days", I, required=True), _c("front_share", F), _c("basis", S))),
    Sheet("scenario_params", "params", "scenarios", (
        _c("scenario", S, required=True),
        _c("parameter", S, required=True,
           doc="rollover | inflow_haircut | sale_discount_add | repo_haircut_add | capacity_factor | fx_shock"),
        _c("key", S, required=True, doc="category, flow kind, level, asset id or currency"),
        _c("value", F, required=True))),
    Sheet("cfp_triggers", "list", "cfp.triggers", (
        _c("id", S, required=True), _c("indicator", S, required=True), _c("op", S, required=True),
        _c("level", F, required=True), _c("phase", S, required=True), _c("description", S)), required=True),
    Sheet("cfp_phases", "map", "cfp.phases", (_c("phase", S, required=True), _c("authority", S), _c("actions", S))),
    Sheet("management_actions", "list", "management_actions", (
        _c("id", S, required=True), _c("name", S), _c("impact", F, required=True), _c("lead_days", I, required=True),
        _c("spread_days", I), _c("feasibility", S, required=True), _c("pre_approved", B, required=True),
        _c("phase", S), _c("currency", S), _c("description", S),
        _c("kind", S, doc="curtail_outflow | funding | asset_sale"), _c("curtails", S, doc="id of the outflow halted"),
        _c("requires_markets", IDS, doc="unsecured_wholesale, term_funding, equity"))),
    Sheet("historical_events", "list", "historical_events", (
        _c("name", S, required=True), _c("year", I, required=True), _c("deposit_outflow_pct", F), _c("days", I),
        _c("wholesale_access", S), _c("note", S), _c("source", S))),
    Sheet("l2b_haircuts", "map", "lcr.l2b_haircuts", (_c("asset", S, required=True), _c("haircut", F, required=True))),
    Sheet("secured_transactions", "list", "lcr.secured_transactions", (
        _c("id", S, required=True), _c("maturity_days", I, required=True),
        _c("gave_level", S, "gave.level", True), _c("gave_value", F, "gave.value", True),
        _c("received_level", S, "received.level", True), _c("received_value", F, "received.value", True),
        _c("currency", S), _c("gave_asset", S, "gave.asset"), _c("gave_cash", B, "gave.cash"),
        _c("received_asset", S, "received.asset"), _c("received_cash", B, "received.cash"))),
    Sheet("fx_rates", "map", "fx", (_c("currency", S, required=True), _c("rate", F, "rates"),
                                     _c("opening_cash", F, "opening_cash"))),
    Sheet("fx_lines", "list", "fx.lines", (
        _c("id", S, required=True), _c("sell", S, required=True), _c("buy", S, required=True),
        _c("daily_capacity", F), _c("amount", F), _c("haircut", F), _c("settlement_days", I), _c("kind", S),
        _c("description", S))),
    Sheet("nsfr_funding", "list", "nsfr.funding", (
        _c("id", S, required=True), _c("category", S, required=True), _c("amount", F, required=True),
        _c("maturity", S), _c("factor", F), _c("currency", S), _c("description", S))),
    Sheet("nsfr_assets", "list", "nsfr.assets", (
        _c("id", S, required=True), _c("category", S, required=True), _c("amount", F, required=True),
        _c("maturity", S), _c("encumbrance", S), _c("factor", F), _c("currency", S), _c("description", S))),
    Sheet("nsfr_off_balance", "list", "nsfr.off_balance_sheet", (
        _c("id", S, required=True), _c("category", S, required=True), _c("amount", F, required=True),
        _c("factor", F), _c("currency", S), _c("description", S))),
    Sheet("behavioural_segments", "list", "behavioural.segments", (
        _c("id", S, required=True), _c("liabilities", IDS, required=True, doc="ids of non-maturing liabilities"),
        _c("channel", S, required=True, doc="branch | digital | operational | concentrated | wholesale"),
        _c("name", S), _c("insured", B), _c("note", S)),
        doc="behavioural deposit segments (the settings behavioural.correlation, behavioural.description)"),
    Sheet("behavioural_run_off", "segment_map", "behavioural.segments.run_off", (
        _c("segment", S, required=True, doc="id of the segment"),
        _c("scenario", S, required=True, doc="scenario name or type (idiosyncratic, market_wide)"),
        _c("mean", F, required=True), _c("sd", F, required=True),
        _c("days_min", I, "days.min", True, doc="shortest run length (days)"),
        _c("days_max", I, "days.max", True, doc="longest run length (days)"),
        _c("front_share", F), _c("start_max", I), _c("basis", S)),
        doc="run-off distribution of a segment under a scenario"),
    Sheet("behavioural_calibration", "segment_list", "behavioural.segments.calibration", (
        _c("segment", S, required=True, doc="id of the segment"), _c("event", S, required=True),
        _c("outflow", F, required=True, doc="fraction of base"), _c("days", I, required=True),
        _c("base", S, required=True), _c("scenario", S, required=True, doc="scenario name or type compared with"),
        _c("source", S, required=True), _c("date", D), _c("quote", S), _c("approximate", B)),
        doc="public figures a segment's parameters are compared with"),
)
PLAN_SHEETS: tuple[Sheet, ...] = (
    Sheet("settings", "settings", "", (_c("name", S), _c("horizon_days", I), _c("opening_cash", F), _c("scenario", S),
                                       _c("description", S), _c("minimum_balance", F), _c("unit", S)), required=True,
          doc="one row per top-level setting: columns field, value"),
    Sheet("net_outflows", "series", "net_outflows", (_c("day", I, required=True), _c("net_outflow", F, required=True)),
          required=True, doc="one row per day 1..horizon_days, in order"),
    Sheet("assets", "list", "assets", ASSET_COLS + (_c("currency", S),)),
    Sheet("facilities", "list", "facilities", (
        _c("id", S, required=True), _c("amount", F, required=True), _c("haircut", F), _c("lead_days", I),
        _c("counted_in_horizon", B), _c("daily_capacity", F))),
    Sheet("management_actions", "list", "management_actions", (
        _c("id", S, required=True), _c("amount", F, required=True), _c("lead_days", I), _c("capacity_per_day", F))),
    Sheet("haircut_addons", "addons", "haircut_addons", (
        _c("scenario", S, required=True), _c("key", S, required=True, doc="asset id or level"),
        _c("addon", F, required=True))),
)
SCENARIO_PARAMS = ("rollover", "inflow_haircut", "sale_discount_add", "repo_haircut_add", "capacity_factor", "fx_shock")


# --------------------------------------------------------------------------- cell helpers
def col_letter(j: int) -> str:
    """0-based column index -> Excel letters."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def _convert(v: Any, kind: str, cell: str, name: str) -> Any:
    """Cell value -> Python value of ``kind``; InputError(cell, ...) when it does not fit."""
    def bad(what: str):
        return InputError(cell, f"{name} must be {what} (got {v!r})")

    if kind == F:
        if isinstance(v, bool):
            raise bad("a number")
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, str):
            try:
                return float(v.strip())
            except ValueError:
                raise bad("a number") from None
        raise bad("a number")
    if kind == I:
        if isinstance(v, bool):
            raise bad("an integer")
        if isinstance(v, str):
            try:
                v2 = float(v.strip())
            except ValueError:
                raise bad("an integer") from None
        elif isinstance(v, (int, float)):
            v2 = float(v)
        else:
            raise bad("an integer")
        if not math.isfinite(v2) or v2 != int(v2):
            raise bad("an integer")
        return int(v2)
    if kind == B:
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)) and v in (0, 1):
            return bool(v)
        if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
            return v.strip().lower() in ("true", "yes", "1")
        raise bad("true or false")
    if kind == D:
        if isinstance(v, _dt.datetime):
            return v.date()
        if isinstance(v, _dt.date):
            return v
        if isinstance(v, str):
            try:
                return _dt.date.fromisoformat(v.strip())
            except ValueError:
                raise bad("a date (YYYY-MM-DD)") from None
        if hasattr(v, "to_pydatetime"):
            return v.to_pydatetime().date()
        raise bad("a date (YYYY-MM-DD)")
    if kind == IDS:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            items = [_num_text(v)]
        else:
            items = [t.strip() for t in str(v).split(",") if t.strip()]
        if name == "closed_days":
            out = []
            for t in items:
                try:
                    out.append(int(float(t)))
                except ValueError:
                    raise bad("a comma-separated list of day numbers") from None
            return out
        return items
    if kind == LINES:
        return [t.strip() for t in str(v).splitlines() if t.strip()]
    # text
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _num_text(v)
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()[:10]
    return str(v)


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _set(rec: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        rec = rec.setdefault(p, {})
    rec[parts[-1]] = value


# --------------------------------------------------------------------------- reading
@dataclass
class _Reader:
    sheets: dict  # name -> list of rows (list of raw values), row 0 = header
    prov: dict = field(default_factory=dict)  # document path -> cell
    doc: dict = field(default_factory=dict)

    def table(self, sp: Sheet) -> list[tuple[int, dict, dict]]:
        """[(excel row, {col: value}, {col: cell})] of a sheet, header checked."""
        if sp.name not in self.sheets:
            if sp.required:
                raise InputError("workbook", f"missing sheet {sp.name!r} (sheets: {', '.join(self.sheets) or 'none'})")
            return []
        rows = self.sheets[sp.name]
        if sp.mode == "settings":
            cols = (Col("field", S, required=True), Col("value", S, required=True))
        else:
            cols = sp.cols
        header = [("" if _blank(h) else str(h).strip()) for h in (rows[0] if rows else [])]
        known = {c.name: c for c in cols}
        pos: dict[str, int] = {}
        for j, h in enumerate(header):
            if h == "":
                continue
            if h not in known:
                raise InputError(f"{sp.name}!{col_letter(j)}1",
                                 f"unknown column {h!r} (expected: {', '.join(known)})")
            if h in pos:
                raise InputError(f"{sp.name}!{col_letter(j)}1", f"duplicate column {h!r}")
            pos[h] = j
        for c in cols:
            if c.required and c.name not in pos:
                raise InputError(f"{sp.name}!1", f"missing column {c.name!r} in the header row")
        out = []
        for i, raw in enumerate(rows[1:], start=2):
            vals, cells = {}, {}
            for name, j in pos.items():
                v = raw[j] if j < len(raw) else None
                cells[name] = f"{sp.name}!{col_letter(j)}{i}"
                if not _blank(v):
                    vals[name] = v
            if not vals:
                continue
            out.append((i, vals, cells))
        return out


def _read_rows(path: Path) -> dict:
    """Sheet name -> rows of raw cell values (pandas, openpyxl engine; no type guessing)."""
    import pandas as pd

    if not path.exists():
        raise InputError("file", f"file not found: {path}")
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except Exception as err:  # zip / XML errors of a file that is not a workbook
        raise InputError("file", f"cannot read {path.name} as an Excel workbook: {type(err).__name__}: "
                                 f"{' '.join(str(err).split())[:160]}") from None
    out = {}
    for name, df in book.items():
        rows = [[None if _blank(v) else v for v in r] for r in df.itertuples(index=False, name=None)]
        out[str(name).strip()] = rows
    return out


def _fill_settings(r: _Reader, sp: Sheet) -> None:
    fields = {c.name: c for c in sp.cols}
    for i, vals, cells in r.table(sp):
        if "field" not in vals:
            raise InputError(cells["field"], "field is required")
        key = str(vals["field"]).strip()
        if key not in fields:
            raise InputError(cells["field"], f"unknown setting {key!r} (one of {', '.join(fields)})")
        if "value" not in vals:
            continue
        c = fields[key]
        _set(r.doc, key, _convert(vals["value"], c.kind, cells["value"], key))
        r.prov[key] = cells["value"]


def _record(vals: dict, cells: dict, sp: Sheet, base: str, prov: dict) -> dict:
    rec: dict = {}
    for c in sp.cols:
        if c.name in vals:
            _set(rec, c.path, _convert(vals[c.name], c.kind, cells[c.name], c.name))
            prov[f"{base}.{c.path}"] = cells[c.name]
    return rec


def _get_list(doc: dict, dotted: str) -> list:
    parts = dotted.split(".")
    d = doc
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    return d.setdefault(parts[-1], [])


def read_workbook(path: str | Path, kind: str) -> tuple[dict, dict]:
    """(document, provenance) of a ``kind`` ('stress' | 'plan') workbook."""
    path = Path(path)
    r = _Reader(_read_rows(path))
    specs = STRESS_SHEETS if kind == "stress" else PLAN_SHEETS
    by_id: dict[str, tuple[int, dict]] = {}
    scen_index: dict[str, int] = {}
    seg_index: dict[str, tuple[int, dict]] = {}
    for sp in specs:
        if sp.mode == "settings":
            _fill_settings(r, sp)
            continue
        rows = r.table(sp)
        r.prov.setdefault(sp.path.split(".")[0] if sp.mode in ("run_off", "params") else sp.path, f"{sp.name}!A1")
        if not rows:
            continue
        if sp.mode == "list":
            lst = _get_list(r.doc, sp.path)
            for i, vals, cells in rows:
                base = f"{sp.path}[{len(lst)}]"
                r.prov[base] = f"{sp.name}!A{i}"
                rec = _record(vals, cells, sp, base, r.prov)
                lst.append(rec)
                if sp.name == "liabilities" and "id" in rec:
                    by_id[rec["id"]] = (len(lst) - 1, rec)
                if sp.name == "scenarios" and "name" in rec:
                    scen_index[rec["name"]] = len(lst) - 1
                if sp.name == "behavioural_segments" and "id" in rec:
                    seg_index[rec["id"]] = (len(lst) - 1, rec)
        elif sp.mode == "child":
            for i, vals, cells in rows:
                lid = _convert(vals.get("liability", ""), S, cells["liability"], "liability")
                if lid not in by_id:
                    raise InputError(cells["liability"], f"liability {lid!r} is not an id of sheet liabilities")
                k, parent = by_id[lid]
                mats = parent.setdefault("maturities", [])
                base = f"liabilities[{k}].maturities[{len(mats)}]"
                r.prov[base] = f"{sp.name}!A{i}"
                mats.append({c.name: _convert(vals[c.name], c.kind, cells[c.name], c.name)
                             for c in sp.cols[1:] if c.name in vals})
                for c in sp.cols[1:]:
                    r.prov[f"{base}.{c.name}"] = cells[c.name]
        elif sp.mode == "map":
            key_col = sp.cols[0]
            parts = sp.path.split(".")
            d = r.doc
            for p in parts:
                d = d.setdefault(p, {})
            for i, vals, cells in rows:
                if key_col.name not in vals:
                    raise InputError(cells[key_col.name], f"{key_col.name} is required")
                key = _convert(vals[key_col.name], S, cells[key_col.name], key_col.name)
                rest = sp.cols[1:]
                if sp.name == "fx_rates":
                    for c in rest:
                        if c.name in vals:
                            d.setdefault(c.path, {})[key] = _convert(vals[c.name], c.kind, cells[c.name], c.name)
                            r.prov[f"fx.{c.path}.{key}"] = cells[c.name]
                elif len(rest) == 1:
                    c = rest[0]
                    if c.name in vals:
                        d[key] = _convert(vals[c.name], c.kind, cells[c.name], c.name)
                    r.prov[f"{sp.path}.{key}"] = cells.get(c.name, cells[key_col.name])
                else:
                    d[key] = _record(vals, cells, sp, f"{sp.path}.{key}", r.prov)
                    d[key].pop(key_col.name, None)
                    r.prov[f"{sp.path}.{key}"] = f"{sp.name}!A{i}"
        elif sp.mode in ("run_off", "params"):
            for i, vals, cells in rows:
                name = _convert(vals.get("scenario", ""), S, cells["scenario"], "scenario")
                if name not in scen_index:
                    raise InputError(cells["scenario"], f"scenario {name!r} is not a name of sheet scenarios")
                k = scen_index[name]
                scen = r.doc["scenarios"][k]
                if sp.mode == "run_off":
                    cat = _convert(vals.get("category", ""), S, cells["category"], "category")
                    base = f"scenarios[{k}].run_off.{cat}"
                    rec = _record({kk: vv for kk, vv in vals.items() if kk not in ("scenario", "category")},
                                  cells, sp, base, r.prov)
                    scen.setdefault("run_off", {})[cat] = rec
                    r.prov[base] = f"{sp.name}!A{i}"
                else:
                    par = _convert(vals.get("parameter", ""), S, cells["parameter"], "parameter")
                    if par not in SCENARIO_PARAMS:
                        raise InputError(cells["parameter"], f"parameter must be one of {', '.join(SCENARIO_PARAMS)} (got {par!r})")
                    key = _convert(vals.get("key", ""), S, cells["key"], "key")
                    scen.setdefault(par, {})[key] = _convert(vals.get("value"), F, cells["value"], "value")
                    r.prov[f"scenarios[{k}].{par}.{key}"] = cells["value"]
                    r.prov.setdefault(f"scenarios[{k}].{par}", cells["parameter"])
        elif sp.mode == "series":
            vals_out = []
            for n, (i, vals, cells) in enumerate(rows, start=1):
                day = _convert(vals.get("day"), I, cells["day"], "day") if "day" in vals else None
                if day != n:
                    raise InputError(cells["day"], f"day must be {n} (days 1..horizon_days in order, got {day})")
                if "net_outflow" not in vals:
                    raise InputError(cells["net_outflow"], "net_outflow is required")
                vals_out.append(_convert(vals["net_outflow"], F, cells["net_outflow"], "net_outflow"))
                r.prov[f"net_outflows[{n - 1}]"] = cells["net_outflow"]
            r.doc["net_outflows"] = vals_out
            r.prov["net_outflows"] = f"{sp.name}!A1"
        elif sp.mode in ("segment_map", "segment_list"):
            _fill_segment_rows(r, sp, rows, seg_index)
        elif sp.mode == "addons":
            for i, vals, cells in rows:
                scen = _convert(vals.get("scenario", ""), S, cells["scenario"], "scenario")
                key = _convert(vals.get("key", ""), S, cells["key"], "key")
                r.doc.setdefault("haircut_addons", {}).setdefault(scen, {})[key] = _convert(
                    vals.get("addon"), F, cells["addon"], "addon")
                r.prov[f"haircut_addons.{scen}.{key}"] = cells["addon"]
    return r.doc, r.prov


def _fill_segment_rows(r: _Reader, sp: Sheet, rows: list, seg_index: dict) -> None:
    """Rows of ``behavioural_run_off`` (segment_map: ``run_off[scenario]``, ``days_min`` and
    ``days_max`` as the list ``days``) or ``behavioural_calibration`` (segment_list), attached
    to the segment named in their ``segment`` column."""
    leaf = sp.path.rsplit(".", 1)[-1]
    for i, vals, cells in rows:
        if "segment" not in vals:
            raise InputError(cells["segment"], "segment is required")
        sid = _convert(vals["segment"], S, cells["segment"], "segment")
        if sid not in seg_index:
            raise InputError(cells["segment"], f"segment {sid!r} is not an id of sheet behavioural_segments")
        k, seg = seg_index[sid]
        rest = {kk: vv for kk, vv in vals.items() if kk != "segment"}
        if sp.mode == "segment_map":
            if "scenario" not in vals:
                raise InputError(cells["scenario"], "scenario is required")
            key = _convert(vals["scenario"], S, cells["scenario"], "scenario")
            for c in ("days_min", "days_max"):
                if c not in vals:
                    raise InputError(cells[c], f"{c} is required (the run length days: [days_min, days_max])")
            base = f"behavioural.segments[{k}].{leaf}.{key}"
            rec = _record({kk: vv for kk, vv in rest.items() if kk != "scenario"}, cells, sp, base, r.prov)
            days = rec.pop("days", {})
            rec["days"] = [days[x] for x in ("min", "max") if x in days]
            r.prov[f"{base}.days"] = cells.get("days_min", f"{sp.name}!A{i}")
            seg.setdefault(leaf, {})[key] = rec
        else:
            lst = seg.setdefault(leaf, [])
            base = f"behavioural.segments[{k}].{leaf}[{len(lst)}]"
            lst.append(_record(rest, cells, sp, base, r.prov))
        r.prov[base] = f"{sp.name}!A{i}"


def _locate(err: InputError, prov: dict) -> InputError:
    """Re-address a validation error at its workbook cell (longest matching document path)."""
    path = err.field
    key = path
    while key and key not in prov:
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    if not key:
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        if head in ("name", "opening_cash", "horizon_days", "currency", "unit", "as_of", "cfp", "internal_minimum_days"):
            return InputError("settings", f"{path} {err.rule}")
        return InputError("workbook", f"{path}: {err.rule}")
    leaf = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    err = InputError(err.field, re.sub(r"^Input should be ", "must be ", err.rule))
    if key == path:
        return InputError(prov[key], err.rule if path.endswith("]") else f"{leaf} {err.rule}")
    rest = path[len(key):].lstrip(".")
    return InputError(prov[key], f"{rest}: {err.rule}" if rest else err.rule)


def _validated(doc: dict, prov: dict, build: Callable):
    try:
        return build(doc)
    except InputError as err:
        raise _locate(err, prov) from None


def read_stress_workbook(path: str | Path):
    """A stress-file workbook as a validated :class:`~liqstress.models.stress_file.StressFile`."""
    from liqstress.models.stress_file import stress_from_dict

    doc, prov = read_workbook(path, "stress")
    if "cfp" in doc and "triggers" not in doc["cfp"]:
        doc["cfp"]["triggers"] = []
    return _validated(doc, prov, stress_from_dict)


def read_plan_workbook(path: str | Path):
    """A CBC plan workbook as a validated :class:`~liqstress.models.cbc_plan.CBCPlan`."""
    from liqstress.models.cbc_plan import CBCPlan

    doc, prov = read_workbook(path, "plan")
    return _validated(doc, prov, CBCPlan.from_dict)


def workbook_kind(path: str | Path) -> str:
    """'stress' if the workbook has a scenarios sheet, else 'plan'."""
    return "stress" if "scenarios" in _read_rows(Path(path)) else "plan"


# --------------------------------------------------------------------------- writing
def _get(rec: dict, dotted: str) -> Any:
    for p in dotted.split("."):
        if not isinstance(rec, dict) or p not in rec:
            return None
        rec = rec[p]
    return rec


def _cell_out(v: Any, kind: str) -> Any:
    if v is None:
        return None
    if kind == IDS:
        return ", ".join(str(x) for x in v) if v else None
    if kind == LINES:
        return "\n".join(v) if v else None
    if kind == D and isinstance(v, _dt.date):
        return v.isoformat()
    return v


def _frames(doc: dict, specs: tuple) -> dict:
    import pandas as pd

    out = {}
    for sp in specs:
        cols = [c.name for c in sp.cols]
        rows: list[list] = []
        if sp.mode == "settings":
            rows = [[c.name, _cell_out(_get(doc, c.name), c.kind)] for c in sp.cols
                    if _get(doc, c.name) is not None and not isinstance(_get(doc, c.name), dict)
                    and (c.kind == IDS or not isinstance(_get(doc, c.name), list))]
            rows = [r for r in rows if r[1] is not None]
            out[sp.name] = pd.DataFrame(rows, columns=["field", "value"], dtype=object)
            continue
        if sp.mode == "list":
            for rec in (_get(doc, sp.path) or []):
                rows.append([_cell_out(_get(rec, c.path), c.kind) for c in sp.cols])
        elif sp.mode == "child":
            for lb in doc.get("liabilities", []):
                for m in (lb.get("maturities") or []):
                    rows.append([lb["id"], m["day"], m["amount"]])
        elif sp.mode == "map":
            d = _get(doc, sp.path) or {}
            if sp.name == "fx_rates":
                keys = list(dict.fromkeys([*d.get("rates", {}), *d.get("opening_cash", {})]))
                rows = [[k, d.get("rates", {}).get(k), d.get("opening_cash", {}).get(k)] for k in keys]
            elif len(sp.cols) == 2:
                rows = [[k, v] for k, v in d.items()]
            else:
                rows = [[k] + [_cell_out(_get(v, c.path), c.kind) for c in sp.cols[1:]] for k, v in d.items()]
        elif sp.mode == "run_off":
            for s in doc.get("scenarios", []):
                for cat, ro in (s.get("run_off") or {}).items():
                    rows.append([s["name"], cat] + [ro.get(c.name) for c in sp.cols[2:]])
        elif sp.mode == "params":
            for s in doc.get("scenarios", []):
                for par in SCENARIO_PARAMS:
                    for k, v in (s.get(par) or {}).items():
                        rows.append([s["name"], par, k, v])
        elif sp.mode in ("segment_map", "segment_list"):
            leaf = sp.path.rsplit(".", 1)[-1]
            for seg in (_get(doc, "behavioural.segments") or []):
                if sp.mode == "segment_map":
                    for key, ro in (seg.get(leaf) or {}).items():
                        ro = {**ro, "days": {"min": ro["days"][0], "max": ro["days"][-1]}}
                        rows.append([seg["id"], key] + [_cell_out(_get(ro, c.path), c.kind) for c in sp.cols[2:]])
                else:
                    for rec in (seg.get(leaf) or []):
                        rows.append([seg["id"]] + [_cell_out(_get(rec, c.path), c.kind) for c in sp.cols[1:]])
        elif sp.mode == "series":
            rows = [[i + 1, v] for i, v in enumerate(doc.get("net_outflows", []))]
        elif sp.mode == "addons":
            for scen, table in (doc.get("haircut_addons") or {}).items():
                for k, v in table.items():
                    rows.append([scen, k, v])
        out[sp.name] = pd.DataFrame(rows, columns=cols, dtype=object)
    return out


def _readme(specs: tuple, kind: str) -> "Any":
    import pandas as pd

    rows = []
    for sp in specs:
        cols = (Col("field", S, required=True, doc="setting name (see the rows below)"), Col("value", S, required=True)) \
            if sp.mode == "settings" else sp.cols
        for c in cols:
            rows.append([sp.name, "yes" if sp.required else "no", c.name, c.kind, "yes" if c.required else "no", c.doc])
        if sp.mode == "settings":
            for c in sp.cols:
                rows.append([sp.name, "", f"(field) {c.name}", c.kind, "no", ""])
    return pd.DataFrame(rows, columns=["sheet", "sheet required", "column", "type", "column required", "notes"])


def write_workbook(doc: Optional[dict], kind: str, out: str | Path) -> Path:
    """Write ``doc`` (a stress or plan mapping; None: an empty template) as a workbook, with a
    ``README`` sheet listing every sheet and column."""
    import pandas as pd

    specs = STRESS_SHEETS if kind == "stress" else PLAN_SHEETS
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = _frames(doc or {}, specs)
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in frames.items():
            df.to_excel(xw, sheet_name=name, index=False)
        _readme(specs, kind).to_excel(xw, sheet_name="README", index=False)
    return out


def model_doc(model) -> dict:
    """A validated model as the plain mapping the workbook writer takes."""
    return model.model_dump(mode="python", exclude_none=True)


def read_any_workbook(path: str | Path):
    """The model of a workbook, stress or plan, by its sheets."""
    return read_stress_workbook(path) if workbook_kind(path) == "stress" else read_plan_workbook(path)


# --------------------------------------------------------------------------- results workbooks
def _sheet_name(prefix: str, name: str, used: set) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", f"{prefix} {name}")[:31]
    out, k = base, 2
    while out in used:
        out = f"{base[:28]}~{k}"
        k += 1
    used.add(out)
    return out


def daily_frame(sd) -> "Any":
    """The daily series of one scenario (the columns of ``OUT_<scenario>_daily.csv``)."""
    a = sd.a
    df = a.proj.daily[["day", "outflows", "inflows", "net_outflows", "cumulative_net", "cash_before_cbc"]].copy()
    df["cash_lp"] = a.lp.balances
    df["cash_waterfall"] = a.wf.balances
    df["cash_lp_with_actions"] = a.lp_actions.balances
    df["cbc_remaining_shown"] = sum(sd.shown.remaining_by_level.values())
    df["lcr_projection"] = a.lcr_path
    df["cfp_phase"] = a.cfp.daily["phase"].to_numpy()
    return df


def lcr_frame(d) -> "Any":
    import pandas as pd

    rows = []
    for name, r in [("base", d.base_lcr)] + [(sd.name, sd.a.lcr) for sd in d.scenarios]:
        s_ = r.stock
        rows.append({"scenario": name, "level1": s_.l1, "level2a": s_.l2a, "level2b": s_.l2b,
                     "adjustment_15pct_cap": s_.adj15, "adjustment_40pct_cap": s_.adj40, "hqla": r.hqla,
                     "outflows_30d": r.total_outflows, "inflows_30d": r.total_inflows,
                     "inflows_after_75pct_cap": r.capped_inflows, "net_outflows_30d": r.net_outflows, "lcr": r.lcr})
        for sd in d.scenarios:
            if sd.name == name:
                for c, cr in sd.currencies.items():
                    rows.append({"scenario": f"{name} [{c}]", "level1": cr.lcr.stock.l1, "level2a": cr.lcr.stock.l2a,
                                 "level2b": cr.lcr.stock.l2b, "adjustment_15pct_cap": cr.lcr.stock.adj15,
                                 "adjustment_40pct_cap": cr.lcr.stock.adj40, "hqla": cr.lcr.hqla,
                                 "outflows_30d": cr.lcr.total_outflows, "inflows_30d": cr.lcr.total_inflows,
                                 "inflows_after_75pct_cap": cr.lcr.capped_inflows,
                                 "net_outflows_30d": cr.lcr.net_outflows, "lcr": cr.lcr.lcr})
    return pd.DataFrame(rows)


def _finite(df):
    """Infinite ratios (no net outflows) are written as empty cells."""
    import numpy as np

    return df.replace([np.inf, -np.inf], np.nan)


def write_report_workbook(rep, out: str | Path) -> Path:
    """Results of ``liqstress report`` as one workbook: summary, per scenario the daily series,
    the CBC deployment and LP plan and the C 66.01 ladder; LCR components; NSFR; currencies."""
    import pandas as pd

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = rep.summary()
    rows = []
    for s in doc["scenarios"]:
        row = {k: v for k, v in s.items() if not isinstance(v, (dict, list)) and k not in ("survival_percentiles", "monte_carlo")}
        for p, day in s["cfp_activation"].items():
            row[f"cfp_{p}_day"] = day
        for c, cr in s["currencies"].items():
            for k in ("survival_days", "censored", "stress_lcr"):
                row[f"{c}_{k}"] = cr[k]
        for k, v in (s.get("survival_percentiles") or {}).items():  # Monte Carlo (behavioural files)
            row[f"survival_{k}"] = v
        rows.append(row)
    used: set = set()
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        _finite(pd.DataFrame(rows)).to_excel(xw, sheet_name=_sheet_name("summary", "", used).strip(), index=False)
        _finite(lcr_frame(rep.data)).to_excel(xw, sheet_name=_sheet_name("lcr", "components", used), index=False)
        for sd in rep.data.scenarios:
            _finite(daily_frame(sd)).to_excel(xw, sheet_name=_sheet_name("daily", sd.name, used), index=False)
            dep = sd.a.lp.deployment.reset_index()
            dep.to_excel(xw, sheet_name=_sheet_name("cbc", sd.name, used), index=False)
            pd.DataFrame(sd.a.lp.actions, columns=["day", "asset", "action", "amount", "cash"]).to_excel(
                xw, sheet_name=_sheet_name("plan", sd.name, used), index=False)
            if rep.ladders and sd.name in rep.ladders:
                rep.ladders[sd.name].to_excel(xw, sheet_name=_sheet_name("c6601", sd.name, used), index=False)
        if rep.data.nsfr is not None:
            j = rep.data.nsfr.to_json()
            head = pd.DataFrame([{"ratio": j["ratio"], "asf": j["asf"], "rsf": j["rsf"], "shortfall": j["shortfall"],
                                  "surplus": j["surplus"]}])
            items = pd.DataFrame(j["asf_items"] + j["rsf_items"])
            items.insert(0, "side", ["ASF"] * len(j["asf_items"]) + ["RSF"] * len(j["rsf_items"]))
            _finite(head).to_excel(xw, sheet_name=_sheet_name("nsfr", "", used).strip(), index=False)
            items.to_excel(xw, sheet_name=_sheet_name("nsfr", "items", used), index=False)
    return out


def write_cbc_workbook(res, base, out: str | Path) -> Path:
    """Results of ``liqstress cbc``: summary (LP vs waterfall), LP plan, deployment."""
    import pandas as pd

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summ = pd.DataFrame([
        {"measure": "survival_days", "lp": res.survival_days, "waterfall": base.survival_days},
        {"measure": "horizon_days", "lp": res.horizon_days, "waterfall": base.horizon_days},
        {"measure": "remaining_cbc", "lp": res.remaining_cbc, "waterfall": base.remaining_cbc},
        {"measure": "actions", "lp": len(res.actions), "waterfall": len(base.actions)},
    ])
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        summ.to_excel(xw, sheet_name="summary", index=False)
        pd.DataFrame(res.actions, columns=["day", "asset", "action", "amount", "cash"]).to_excel(
            xw, sheet_name="plan", index=False)
        res.deployment.reset_index().to_excel(xw, sheet_name="deployment", index=False)
        pd.DataFrame(base.actions, columns=["day", "asset", "action", "amount", "cash"]).to_excel(
            xw, sheet_name="waterfall plan", index=False)
        if res.management:
            pd.DataFrame(res.management).to_excel(xw, sheet_name="management actions", index=False)
    return out
