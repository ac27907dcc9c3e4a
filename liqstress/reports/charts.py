"""Figures of the stress report (matplotlib, Agg backend, PNG files beside the report)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LEVEL_COLORS = {"L1": "#1f4e79", "L2A": "#2e86c1", "L2B": "#85c1e9", "non_HQLA": "#d5d8dc", "facility": "#f5b041"}


def cash_chart(path: Path, title: str, unit: str, series: dict[str, np.ndarray], survival: int,
               minimum: int, horizon: int, separate: tuple[str, ...] = ("before CBC",)) -> None:
    """Cumulative net cash position under each plan: first 30 days (left) and the full daily
    series (right).  Series whose label contains one of ``separate`` (the contractual-only
    cash, which falls far below the others) get their own bottom row, so the with-CBC lines
    keep a readable scale; every line is labelled and the y axes carry the unit."""
    apart = {k: v for k, v in series.items() if any(t in k for t in separate)}
    main = {k: v for k, v in series.items() if k not in apart}
    rows = [r for r in (main, apart) if r]
    fig, axes = plt.subplots(len(rows), 2, figsize=(12, 3.9 * len(rows) + 0.8), dpi=110, squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6]}, sharex="col")
    days = np.arange(1, horizon + 1)
    styles = ["-", "--", ":", "-."]
    zoom = min(horizon, 30)
    k0 = 0
    for r, group in enumerate(rows):
        for ax, upto in ((axes[r, 0], zoom), (axes[r, 1], horizon)):
            for k, (label, y) in enumerate(group.items()):
                ax.plot(days[:upto], np.asarray(y)[:upto], styles[(k0 + k) % len(styles)], color=f"C{k0 + k}", lw=1.6,
                        label=label, marker="." if upto <= 30 else None, ms=3)
            ax.axhline(0.0, color="black", lw=0.8, label="zero cash")
            if survival < horizon and survival + 1 <= upto:
                ax.axvline(survival + 1, color="#c0392b", lw=1.0, ls="--", label=f"first negative day, LP plan ({survival + 1})")
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
