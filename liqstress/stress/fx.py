"""Currencies: the all-currency view, per-currency sub-files, scenario FX parameters.

* **All currencies together.** Every amount is converted to the reporting currency at the
  scenario's stressed rates (``rate * (1 + fx_shock)``) and the single-currency engine runs
  unchanged (:func:`aggregate`): cash is fungible across currencies, as in the LCR in all
  currencies.  A file without foreign currencies is returned unchanged, so its results are
  exactly those of the single-currency engine.
* **Per currency.** :func:`sub_file` keeps the items of one currency, in that currency's units
  (opening cash: ``opening_cash`` for the reporting currency, ``fx.opening_cash[code]``
  otherwise).  The stress LCR of a currency is the Basel LCR of its sub-file
  (:mod:`liqstress.stress.lcr`); its survival horizon comes from the multi-currency CBC LP
  (:mod:`liqstress.solvers.cbc_fx`), where cash moves between currencies only through the FX
  lines.
* **Significant currency**: liabilities in it are at least ``fx.significance`` (default 5%) of
  total liabilities, at base rates (the LCR framework's significant-currency threshold,
  BCBS 238 para 42; CRR Article 415(2)).
* **Scenario FX.**  ``fx_shock`` (relative rate change), ``fx_haircut_add`` (added to every FX
  line's haircut), ``fx_swap_closed`` (closed FX-swap markets: line ids, currency codes -- every
  swap line buying or selling it -- or ``all``).  A combined scenario takes, per currency, the
  shock of larger magnitude (the first component's on a tie), the larger haircut add-on and the
  union of closures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from liqstress.models.stress_file import StressFile


# --------------------------------------------------------------------------- basics
def code_of(stress: StressFile, item) -> str:
    return getattr(item, "currency", None) or stress.currency


def _items(stress: StressFile) -> list:
    return [*stress.liabilities, *stress.flows, *stress.cbc, *stress.facilities, *stress.management_actions,
            *stress.lcr.secured_transactions]


def is_multi(stress: StressFile) -> bool:
    """True when some item or some opening cash is in a currency other than the reporting one."""
    if any(code_of(stress, x) != stress.currency for x in _items(stress)):
        return True
    return bool(stress.fx and any(v > 0 for k, v in stress.fx.opening_cash.items() if k != stress.currency))


def currencies(stress: StressFile) -> list[str]:
    """Reporting currency first, then every other currency used, sorted."""
    used = {code_of(stress, x) for x in _items(stress)}
    if stress.fx:
        used |= {k for k, v in stress.fx.opening_cash.items() if v > 0}
        for ln in stress.fx.lines:
            used |= {ln.sell, ln.buy}
    used.discard(stress.currency)
    return [stress.currency, *sorted(used)]


def opening_cash(stress: StressFile, code: str) -> float:
    if code == stress.currency:
        return stress.opening_cash
    return float(stress.fx.opening_cash.get(code, 0.0)) if stress.fx else 0.0


def base_rates(stress: StressFile) -> dict[str, float]:
    r = dict(stress.fx.rates) if stress.fx else {}
    r[stress.currency] = 1.0
    return r


@dataclass(frozen=True)
class FXScenario:
    rates: dict  # code -> stressed reporting-currency units per unit
    haircut_add: float
    closed: frozenset  # closed FX line ids
    shock: dict


def fx_scenario(stress: StressFile, name: Optional[str]) -> FXScenario:
    """Resolved FX parameters of scenario ``name`` (None: base rates, nothing closed)."""
    rates = base_rates(stress)
    if name is None:
        return FXScenario(rates, 0.0, frozenset(), {})
    s = stress.scenario(name)
    parts = [s] if s.type != "combined" else [stress.scenario(n) for n in s.overlay_of]  # type: ignore[union-attr]
    shock: dict[str, float] = {}
    for p in parts:
        for k, v in p.fx_shock.items():
            if k not in shock or abs(v) > abs(shock[k]):
                shock[k] = v
    add = max(p.fx_haircut_add for p in parts)
    keys = set().union(*(p.fx_swap_closed for p in parts))
    closed = set()
    for ln in (stress.fx.lines if stress.fx else []):
        if ln.id in keys:
            closed.add(ln.id)
        elif ln.kind == "swap" and ("all" in keys or ln.sell in keys or ln.buy in keys):
            closed.add(ln.id)
    stressed = {k: v * (1.0 + shock.get(k, 0.0)) for k, v in rates.items()}
    return FXScenario(stressed, add, frozenset(closed), shock)


# --------------------------------------------------------------------------- conversion
def _scaled_asset(a, r: float):
    upd = {"amount": a.amount * r, "encumbered": a.encumbered * r, "currency": None}
    if a.daily_capacity is not None:
        upd["daily_capacity"] = a.daily_capacity * r
    if a.price_impact is not None:  # every family is a function of beta * u: u -> r u
        upd["price_impact"] = a.price_impact.model_copy(update={"beta": a.price_impact.beta / r})
    return a.model_copy(update=upd)


def convert(stress: StressFile, rates: dict[str, float]) -> StressFile:
    """Every amount in the reporting currency at ``rates`` (no re-validation: the source was valid)."""
    r = lambda x: rates[code_of(stress, x)]  # noqa: E731
    by_id = {a.id: a for a in stress.cbc}
    liabs = []
    for x in stress.liabilities:
        k = r(x)
        mats = None if x.maturities is None else [m.model_copy(update={"amount": m.amount * k}) for m in x.maturities]
        upd = {"amount": x.amount * k, "maturities": mats, "currency": None}
        if x.collateral is not None:  # pledged units scale with their cbc line (the line's currency)
            upd["collateral_units"] = float(x.collateral_units or 0.0) * r(by_id[x.collateral])
        liabs.append(x.model_copy(update=upd))
    flows = [x.model_copy(update={"amount": x.amount * r(x), "currency": None}) for x in stress.flows]
    cbc = [_scaled_asset(a, r(a)) for a in stress.cbc]
    fac = [x.model_copy(update={"amount": x.amount * r(x), "currency": None}) for x in stress.facilities]
    acts = [x.model_copy(update={"impact": x.impact * r(x), "currency": None}) for x in stress.management_actions]
    sec = []
    for t in stress.lcr.secured_transactions:
        k = r(t)
        sec.append(t.model_copy(update={"gave": t.gave.model_copy(update={"value": t.gave.value * k}),
                                        "received": t.received.model_copy(update={"value": t.received.value * k}),
                                        "currency": None}))
    cash = sum(opening_cash(stress, c) * rates[c] for c in currencies(stress))
    return stress.model_copy(update={
        "liabilities": liabs, "flows": flows, "cbc": cbc, "facilities": fac, "management_actions": acts,
        "lcr": stress.lcr.model_copy(update={"secured_transactions": sec}), "opening_cash": cash,
    })


def aggregate(stress: StressFile, scenario: Optional[str]) -> StressFile:
    """All currencies together, at the stressed rates of ``scenario`` (None: base rates).
    Identity for a single-currency file."""
    if not is_multi(stress):
        return stress
    return convert(stress, fx_scenario(stress, scenario).rates)


def sub_file(stress: StressFile, code: str) -> StressFile:
    """The items of currency ``code``, in that currency (Basel LCR and CBC plan per currency).

    The survival floor (``minimum_operational_cash + intraday_liquidity_requirement``) is an
    amount of the reporting currency: only the reporting currency's sub-file keeps it.  Secured
    funding whose collateral is a cbc line of another currency: the collateral's sub-file counts
    the pledged units as encumbered, and the funding's sub-file keeps the para 115 rate of the
    collateral (its level and RMBS status) without the link."""
    keep = lambda xs: [x for x in xs if code_of(stress, x) == code]  # noqa: E731
    ids = {a.id for a in keep(stress.cbc)}
    abroad: dict[str, float] = {}  # cbc id of this currency -> units pledged by other currencies' lines
    liabs = []
    for x in stress.liabilities:
        mine = code_of(stress, x) == code
        if x.collateral is not None and mine != (x.collateral in ids):
            if not mine:
                abroad[x.collateral] = abroad.get(x.collateral, 0.0) + float(x.collateral_units or 0.0)
                continue
            x = x.model_copy(update={"collateral": None, "collateral_units": None,
                                     "collateral_rmbs": x.collateral in stress.lcr.l2b_rmbs})
        if mine:
            liabs.append(x)
    cbc = [a if a.id not in abroad else a.model_copy(update={"encumbered": min(a.amount, a.encumbered + abroad[a.id])})
           for a in keep(stress.cbc)]
    flow_ids = {f.id for f in keep(stress.flows)}
    acts = [m for m in keep(stress.management_actions) if m.curtails is None or m.curtails in flow_ids]
    lcr = stress.lcr.model_copy(update={
        "secured_transactions": keep(stress.lcr.secured_transactions),
        "l2b_haircuts": {k: v for k, v in stress.lcr.l2b_haircuts.items() if k in ids},
        "l2b_rmbs": [k for k in stress.lcr.l2b_rmbs if k in ids],
    })
    upd = {"liabilities": liabs, "flows": keep(stress.flows), "cbc": cbc,
           "facilities": keep(stress.facilities), "management_actions": acts,
           "lcr": lcr, "opening_cash": opening_cash(stress, code), "currency": code}
    if code != stress.currency:
        upd.update(minimum_operational_cash=0.0, intraday_liquidity_requirement=0.0)
    return stress.model_copy(update=upd)


def liability_shares(stress: StressFile) -> dict[str, float]:
    """Share of total liabilities (base rates) per currency."""
    rates = base_rates(stress)
    tot: dict[str, float] = {c: 0.0 for c in currencies(stress)}
    for x in stress.liabilities:
        c = code_of(stress, x)
        tot[c] = tot.get(c, 0.0) + x.amount * rates[c]
    s = sum(tot.values())
    return {c: (v / s if s > 0 else 0.0) for c, v in tot.items()}


def significant(stress: StressFile) -> list[str]:
    """Currencies whose liabilities are at least ``fx.significance`` of the total."""
    thr = stress.fx.significance if stress.fx else 0.05
    return [c for c, s in liability_shares(stress).items() if s >= thr - 1e-12]


# --------------------------------------------------------------------------- per-currency results
@dataclass
class CurrencyResult:
    code: str
    share: float  # share of total liabilities (base rates)
    survival_days: int  # multi-currency LP, FX lines allowed
    standalone_days: int  # own resources only
    horizon_days: int
    stress_lcr: float
    lcr: object  # LCRResult of the currency's sub-file
    fx_used: list

    @property
    def censored(self) -> bool:
        return self.survival_days >= self.horizon_days

    def to_json(self) -> dict:
        from liqstress.solvers.cbc import survival_text

        return {"survival_days": self.survival_days, "censored": self.censored,
                "survival_text": survival_text(self.survival_days, self.horizon_days), "stress_lcr": self.stress_lcr,
                "standalone_survival_days": self.standalone_days, "liability_share": self.share,
                "hqla": self.lcr.hqla, "net_outflows_30d": self.lcr.net_outflows, "fx_used": self.fx_used}


def line_specs(stress: StressFile, fxs: FXScenario) -> list:
    from liqstress.solvers.cbc_fx import FXLineSpec

    out = []
    for ln in (stress.fx.lines if stress.fx else []):
        h = min(ln.haircut + fxs.haircut_add, 1.0)
        out.append(FXLineSpec(ln.id, ln.sell, ln.buy, fxs.rates[ln.sell] / fxs.rates[ln.buy] * (1.0 - h),
                              ln.settlement_days, ln.daily_capacity, ln.amount, ln.id in fxs.closed or h >= 1.0))
    return out


def currency_plans(stress: StressFile, name: str) -> dict:
    """code -> (sub-file, resolved scenario, CBC plan without management actions)."""
    from liqstress.stress.engine import build_plan
    from liqstress.stress.projection import project
    from liqstress.stress.scenarios import resolve

    out = {}
    for c in currencies(stress):
        sub = sub_file(stress, c)
        res = resolve(sub, name)
        out[c] = (sub, res, build_plan(sub, res, project(sub, res)))
    return out


def currency_analysis(stress: StressFile, name: str, method: str = "bisection") -> dict:
    """Per significant currency: survival horizon (multi-currency LP), stand-alone horizon and
    Basel stress LCR of the currency's own items.  Empty for a single-currency file."""
    if not is_multi(stress):
        return {}
    from liqstress.solvers.cbc import solve_plan
    from liqstress.solvers.cbc_fx import build_multi, currency_horizon
    from liqstress.stress.lcr import compute_lcr

    plans = currency_plans(stress, name)
    alone = {c: solve_plan(p, method=method).survival_days for c, (_, _, p) in plans.items()}
    m = build_multi({c: p for c, (_, _, p) in plans.items()}, line_specs(stress, fx_scenario(stress, name)))
    shares = liability_shares(stress)
    out = {}
    for c in significant(stress):
        sub, res, plan = plans[c]
        ch = currency_horizon(m, c, alone)
        lcr = compute_lcr(sub, res)
        out[c] = CurrencyResult(c, shares[c], ch.survival_days, ch.standalone_days, ch.horizon_days, lcr.lcr, lcr,
                                ch.fx_used)
    return out
