"""Charts for the HTML report: inline SVG from matplotlib (imported here only, lazily)."""

from __future__ import annotations

import io
import re

from costwise.analysis.estimate import EnvironmentResult
from costwise.fmt import printable
from costwise.render import interval_label
from costwise.usage import busiest_ecpu_per_second, mean_ecpu_per_second

_SVG_START = re.compile(r"^.*?(<svg\b)", re.S)
_PATH_DATA = re.compile(r'\sd="[^"]*"')
_EXCESS_DECIMALS = re.compile(r"(\.\d)\d+")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "costwise"  # stable ids: the same report, the same file
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, selectable, printable
    import matplotlib.pyplot as plt

    return plt


def environment_chart(env: EnvironmentResult) -> str | None:
    """Hourly storage and busiest-minute ECPU/s over the window, the projection band after it,
    and the current and recommended limits as lines. Returns an <svg> element, or None."""
    frame = env.history.frame
    projection = env.projection
    advice = env.advice
    if frame is None or projection is None or advice is None:
        return None
    plt = _pyplot()

    bytes_per_gb = env.bytes_per_gb  # pricing.yaml's unit, as the bill uses it
    limits = env.history.limits
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, constrained_layout=True)
    index = frame.index.tz_convert(None)
    future = projection.index.tz_convert(None)

    top.plot(index, frame["storage_avg_bytes"] / bytes_per_gb, color="#1f6feb", lw=1, label="stored (hourly average)")
    top.plot(future, projection.storage_gb, color="#1f6feb", lw=1, ls="--", label="projection")
    top.fill_between(future, projection.storage_band[0], projection.storage_band[1], color="#1f6feb", alpha=0.15, lw=0, label=interval_label(env.settings.interval))
    _limit_lines(top, limits.max_storage_gb, advice.storage.recommended)
    top.set_ylabel("GB")
    top.set_title("Storage (history | projection)", loc="left", fontsize=10)

    bottom.plot(index, busiest_ecpu_per_second(frame), color="#8250df", lw=0.8, label="busiest minute")
    bottom.plot(index, mean_ecpu_per_second(frame), color="#bf8700", lw=0.8, label="hourly mean")
    bottom.plot(future, projection.ecpu_per_hour / 3600, color="#bf8700", lw=1, ls="--", label="projected mean")
    bottom.fill_between(future, projection.ecpu_band[0] / 3600, projection.ecpu_band[1] / 3600, color="#bf8700", alpha=0.15, lw=0)
    _limit_lines(bottom, limits.max_ecpu_per_second, advice.ecpu.recommended)
    bottom.set_ylabel("ECPU/s")
    bottom.set_title("ECPU per second (history | projection)", loc="left", fontsize=10)

    for ax in (top, bottom):
        ax.axvline(future[0], color="#59636e", lw=0.8, ls="-")
        ax.grid(True, color="#d0d7de", lw=0.5)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
    fig.autofmt_xdate()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "costwise"})
    plt.close(fig)
    svg = _SVG_START.sub(r"\1", buffer.getvalue(), count=1)
    # path coordinates to a tenth of a point (matplotlib writes six decimals): the hourly lines are
    # most of a chart's bytes, and a tenth of a point is below what any screen or printer shows
    svg = _PATH_DATA.sub(lambda m: _EXCESS_DECIMALS.sub(r"\1", m.group(0)), svg)
    # scale with the page: drop the fixed size, keep the viewBox
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 width="100%" role="img"', svg, count=1)
    title = f"{printable(env.env)}: hourly storage and ECPU/s with limits and projection"
    return svg.replace(">", f"><title>{_xml_escape(title)}</title>", 1)


def _limit_lines(ax, current, recommended) -> None:
    if current is not None:
        ax.axhline(current, color="#cf222e", lw=1, ls="--", label=f"current limit ({current:,.0f})")
    if recommended is not None and recommended != current:
        ax.axhline(recommended, color="#1a7f37", lw=1, ls=":", label=f"recommended ({recommended:,.0f})")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
