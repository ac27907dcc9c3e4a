"""Figures of the stress report (matplotlib, Agg backend, PNG files beside the report)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LEVEL_COLORS = {"L1": "#1f4e79", "L2A": "#2e86c1", "L2B": "#85c1e9", "non_HQLA": "#d5d8dc", "facility": "#f5b041"}


def cash_chart(path: Path, title: str, unit: str, series: dict[str, np.ndarray], survival: int,
               minimum: int, horizon: int, floor: float = 0.0, separate: tuple[str, ...] = ("before CBC",)) -> None:
    """Cumulative net cash position under each plan: first 30 days (left) and the full daily
    series (right), with the first day below the cash floor, the floor itself (when the file
    sets one) and the internal minimum.  Series whose label contains one of ``separate`` (the
    contractual-only cash, which falls far below the others) get their own bottom row, so the
    with-CBC lines keep a readable scale; every line is labelled and the y axes carry the unit."""
    apart = {k: v for k, v in series.items() if any(t in k for t in separate)}
    main = {k: v for k, v in series.items() if k not in apart}
    rows = [r for r in (main, apart) if r]
    fig, axes = plt.subplots(len(rows), 2, figsize=(12, 3.9 * len(rows) + 0.8), dpi=110, squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6]}, sharex="col")
    days = np.arange(1, horizon + 1)
    styles = ["-", "--", ":", "-."]
    zoom = min(horizon, 30)
    first = "first day below the floor" if floor > 0 else "first negative day"
    k0 = 0
    for r, group in enumerate(rows):
        for ax, upto in ((axes[r, 0], zoom), (axes[r, 1], horizon)):
            for k, (label, y) in enumerate(group.items()):
                ax.plot(days[:upto], np.asarray(y)[:upto], styles[(k0 + k) % len(styles)], color=f"C{k0 + k}", lw=1.6,
                        label=label, marker="." if upto <= 30 else None, ms=3)
            ax.axhline(0.0, color="black", lw=0.8, label="zero cash")
            if floor > 0 and group is main:
                ax.axhline(floor, color="#8e44ad", lw=1.0, ls="-.", label=f"cash floor ({floor:,.0f})")
            if survival < horizon and survival + 1 <= upto:
                ax.axvline(survival + 1, color="#c0392b", lw=1.0, ls="--", label=f"{first}, LP plan ({survival + 1})")
            if minimum <= upto:
                ax.axvline(minimum, color="#7f8c8d", lw=1.0, ls=":", label=f"internal minimum ({minimum} d)")
            ax.grid(alpha=0.3)
        k0 += len(group)
        axes[r, 0].set_ylabel(f"cumulative net cash ({unit})")
        axes[r, 1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        axes[r, 1].set_title(("with counterbalancing capacity" if group is main else "without CBC (contractual flows only)")
                             + f", days 1-{horizon}", fontsize=9)
        axes[r, 0].set_title(f"days 1-{zoom}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("day of stress")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cbc_chart(path: Path, title: str, unit: str, remaining_by_level: dict[str, np.ndarray],
              deployed_cum: np.ndarray, horizon: int) -> None:
    """Remaining CBC by liquidity level (stacked) and cumulative deployed CBC."""
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    days = np.arange(1, horizon + 1)
    labels = [k for k in remaining_by_level if np.any(remaining_by_level[k] > 0)]
    if labels:
        ax.stackplot(days, *[remaining_by_level[k] for k in labels], labels=[f"remaining {k}" for k in labels],
                     colors=[LEVEL_COLORS.get(k, "#aaaaaa") for k in labels], alpha=0.85)
    ax.plot(days, deployed_cum, color="#c0392b", lw=1.8, label=f"deployed, cumulative ({unit})")
    ax.set_xlabel("day of stress")
    ax.set_ylabel(f"CBC value after haircuts ({unit})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def tornado_chart(path: Path, title: str, sens: list, horizon: int, projection: int, minimum: int,
                  top: int = 15) -> None:
    """Tornado of one-factor sensitivities of the survival horizon: for each factor a bar from
    the horizon at its less severe value to the horizon at its more severe value, around the
    scenario's horizon; censored horizons are drawn at the projection length and marked."""
    rows = [s for s in sens if s.swing > 0][:top]
    n = max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(9, 0.42 * n + 1.8), dpi=110)
    if not rows:
        ax.text(0.5, 0.5, f"no one-factor shock moves the horizon ({'>= ' if horizon >= projection else ''}{horizon} days)",
                ha="center", va="center", transform=ax.transAxes, fontsize=10)
        ax.set_yticks([])
    for i, s in enumerate(reversed(rows)):
        y = i
        for v, col, lab in ((s.horizon_down, "#27ae60", "less severe"), (s.horizon_up, "#c0392b", "more severe")):
            if v is None:
                continue
            ax.barh(y, v - horizon, left=horizon, color=col, alpha=0.85, height=0.6,
                    label=lab if i == 0 else None)
            if v >= projection:
                ax.text(v, y, " ≥", va="center", fontsize=8)
    if rows:
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([s.factor.label for s in reversed(rows)], fontsize=8)
        vals = [horizon, minimum if minimum <= projection else horizon] + [
            v for s in rows for v in (s.horizon_down, s.horizon_up) if v is not None]
        lo, hi = min(vals), max(vals)
        pad = max(2.0, 0.06 * (hi - lo))
        ax.set_xlim(max(0.0, lo - pad), hi + pad)
    ax.axvline(horizon, color="black", lw=1.0, label=f"scenario ({'>= ' if horizon >= projection else ''}{horizon} d)")
    if minimum <= projection:
        ax.axvline(minimum, color="#7f8c8d", lw=1.0, ls=":", label=f"internal minimum ({minimum} d)")
    ax.set_xlabel("survival horizon (days, LP, no management actions)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
