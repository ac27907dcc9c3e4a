"""Net Stable Funding Ratio (Basel III: the net stable funding ratio, BCBS 295, October 2014).

``NSFR = ASF / RSF`` (para 9) with

* ASF = sum over funding items of ``amount * ASF factor`` (paras 21-25);
* RSF = sum over assets of ``amount * RSF factor`` (paras 36-43), with the encumbrance rule of
  para 45 (encumbered for one year or more: 100%; six months to one year: the higher of the
  unencumbered factor and 50%; less than six months: as unencumbered), plus the derivative
  terms of para 43 (100% of NSFR derivative assets net of NSFR derivative liabilities when
  positive, 20% of gross derivative liabilities) and the off-balance-sheet exposures of
  para 47 (5% of undrawn committed credit and liquidity facilities; other contingent funding
  obligations at the factor the file gives).

Factors by residual maturity bucket (``lt_6m``, ``6m_1y``, ``ge_1y``) are the tables below;
an item's ``factor`` overrides them.  Amounts are converted to the reporting currency at the
base FX rates when the file has several currencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

#: ASF factors (lt_6m, 6m_1y, ge_1y) and the paragraph of BCBS 295 that sets them.
ASF_FACTORS: dict[str, tuple[tuple[float, float, float], str]] = {
    "capital": ((1.0, 1.0, 1.0), "para 21(a)"),
    "retail_stable": ((0.95, 0.95, 1.0), "paras 22, 21(b)"),
    "retail_less_stable": ((0.90, 0.90, 1.0), "paras 23, 21(b)"),
    "operational": ((0.50, 0.50, 1.0), "paras 24(b), 21(b)"),
    "wholesale_nonfinancial": ((0.50, 0.50, 1.0), "paras 24(a)(c), 21(b)"),
    "wholesale_financial": ((0.0, 0.50, 1.0), "paras 25(a), 24(d), 21(b)"),
    "other_liabilities": ((0.0, 0.50, 1.0), "paras 25(a), 24(d), 21(b)"),
    "trade_date_payables": ((0.0, 0.0, 0.0), "para 25(d)"),
}
#: RSF factors of unencumbered assets (lt_6m, 6m_1y, ge_1y).
RSF_FACTORS: dict[str, tuple[tuple[float, float, float], str]] = {
    "cash": ((0.0, 0.0, 0.0), "para 36(a)"),
    "central_bank_reserves": ((0.0, 0.0, 0.0), "para 36(b)"),
    "central_bank_claims": ((0.0, 0.50, 1.0), "paras 36(c), 39(c), 43(c)"),
    "trade_date_receivables": ((0.0, 0.0, 0.0), "para 36(d)"),
    "hqla_l1": ((0.05, 0.05, 0.05), "para 37"),
    "loans_fi_l1_secured": ((0.10, 0.50, 1.0), "paras 38(a), 39(c), 43(c)"),
    "loans_fi": ((0.15, 0.50, 1.0), "paras 38(b), 39(c), 43(c)"),
    "hqla_l2a": ((0.15, 0.15, 0.15), "para 38(c)"),
    "hqla_l2b": ((0.50, 0.50, 0.50), "para 39(a)"),
    "operational_deposits_held": ((0.50, 0.50, 0.50), "para 39(d)"),
    "residential_mortgages_rw35": ((0.50, 0.50, 0.65), "paras 39(e), 40(a)"),
    "loans_rw35": ((0.50, 0.50, 0.65), "paras 39(e), 40(b)"),
    "loans_other": ((0.50, 0.50, 0.85), "paras 39(e), 41(b)"),
    "non_hqla_securities": ((0.50, 0.50, 0.85), "paras 39(e), 41(c)"),
    "commodities": ((0.85, 0.85, 0.85), "para 41(d)"),
    "initial_margin_posted": ((0.85, 0.85, 0.85), "para 41(a)"),
    "non_performing_loans": ((1.0, 1.0, 1.0), "para 43(b)"),
    "other_assets": ((1.0, 1.0, 1.0), "para 43(c)"),
}
OBS_FACTORS = {"undrawn_committed_facilities": (0.05, "para 47")}
DERIVATIVE_LIABILITY_RSF = 0.20  # para 43(d)
BUCKET = {"lt_6m": 0, "6m_1y": 1, "ge_1y": 2}


def asf_factor(category: str, maturity: str) -> float:
    return ASF_FACTORS[category][0][BUCKET[maturity]]


def rsf_factor(category: str, maturity: str, encumbrance: str = "none") -> float:
    """RSF factor with the encumbrance rule of para 45."""
    f = RSF_FACTORS[category][0][BUCKET[maturity]]
    if encumbrance == "ge_1y":
        return 1.0
    if encumbrance == "6m_1y":
        return max(f, 0.5)
    return f


@dataclass(frozen=True)
class NSFRItem:
    id: str
    side: str  # "asf" | "rsf"
    category: str
    amount: float
    factor: float
    basis: str

    @property
    def weighted(self) -> float:
        return self.amount * self.factor


@dataclass
class NSFRResult:
    items: list = field(default_factory=list)

    @property
    def asf(self) -> float:
        return float(sum(i.weighted for i in self.items if i.side == "asf"))

    @property
    def rsf(self) -> float:
        return float(sum(i.weighted for i in self.items if i.side == "rsf"))

    @property
    def ratio(self) -> float:
        return float("inf") if self.rsf <= 0 else self.asf / self.rsf

    def by_category(self, side: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for i in self.items:
            if i.side == side:
                out[i.category] = out.get(i.category, 0.0) + i.weighted
        return out

    def binding_items(self, n: int = 5) -> list[NSFRItem]:
        """The largest required-stable-funding items: those whose reduction (or whose
        lengthening of funding) moves the ratio most; with a shortfall, the items that together
        cover it are listed first."""
        rsf = sorted((i for i in self.items if i.side == "rsf" and i.weighted > 0), key=lambda i: -i.weighted)
        return rsf[:n]

    def to_json(self) -> dict:
        def row(i: NSFRItem) -> dict:
            return {"id": i.id, "category": i.category, "amount": i.amount, "factor": i.factor,
                    "weighted": i.weighted, "basis": i.basis}

        return {
            "ratio": self.ratio, "asf": self.asf, "rsf": self.rsf,
            "shortfall": max(self.rsf - self.asf, 0.0), "surplus": max(self.asf - self.rsf, 0.0),
            "asf_by_category": self.by_category("asf"), "rsf_by_category": self.by_category("rsf"),
            "asf_items": [row(i) for i in self.items if i.side == "asf"],
            "rsf_items": [row(i) for i in self.items if i.side == "rsf"],
            "binding_items": [row(i) for i in self.binding_items()],
        }


def compute_nsfr(section, rate: Optional[dict] = None) -> NSFRResult:
    """NSFR of a stress file's ``nsfr`` block; ``rate[code]`` converts item currencies to the
    reporting currency (items without a currency, or with no rate given, count at 1)."""
    rate = rate or {}
    conv = lambda it: it.amount * rate.get(it.currency, 1.0) if it.currency else it.amount  # noqa: E731
    items: list[NSFRItem] = []
    for it in section.funding:
        f = asf_factor(it.category, it.maturity) if it.factor is None else it.factor
        basis = ASF_FACTORS[it.category][1] if it.factor is None else "factor given in the file"
        items.append(NSFRItem(it.id, "asf", it.category, conv(it), f, basis))
    for it in section.assets:
        f = rsf_factor(it.category, it.maturity, it.encumbrance) if it.factor is None else it.factor
        basis = RSF_FACTORS[it.category][1] if it.factor is None else "factor given in the file"
        if it.factor is None and it.encumbrance in ("6m_1y", "ge_1y"):
            basis += "; para 45 (encumbered)"
        items.append(NSFRItem(it.id, "rsf", it.category, conv(it), f, basis))
    d = section.derivatives
    net = max(d.assets - d.liabilities, 0.0)
    if net > 0:
        items.append(NSFRItem("derivatives_net", "rsf", "derivative_assets_net", net, 1.0, "para 43(a)"))
    if d.gross_liabilities > 0:
        items.append(NSFRItem("derivative_liabilities_gross", "rsf", "derivative_liabilities_gross",
                              d.gross_liabilities, DERIVATIVE_LIABILITY_RSF, "para 43(d)"))
    for it in section.off_balance_sheet:
        if it.factor is not None:
            f, basis = it.factor, "factor given in the file"
        else:
            f, basis = OBS_FACTORS[it.category]
        items.append(NSFRItem(it.id, "rsf", it.category, conv(it), f, basis))
    return NSFRResult(items)
