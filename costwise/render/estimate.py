"""The estimate/report result as a rich table for the terminal."""

from __future__ import annotations

from costwise.fmt import money
from costwise.report import Report


def _limit(current, recommended) -> str:
    cur = "none" if current is None else f"{current:,.0f}"
    if recommended is None or recommended == current:
        return cur
    return f"{cur} → {recommended:,.0f}"


def _money(value: float) -> str:
    # whole dollars from $100 up: the table must fit an 80-column terminal
    return f"${value:,.0f}" if abs(value) >= 100 else money(value)


def estimate_renderables(report: Report) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"ElastiCache Serverless cost, {report.window_start:%Y-%m-%d %H:%M} to {report.window_end:%Y-%m-%d %H:%M} UTC",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column, justify in (("env", "left"), ("window", "right"), ("730 h", "right"), ("80% range", "right"),
                            ("max GB", "right"), ("max ECPU/s", "right"), ("action", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    notes = []
    for env in report.environments:
        h = env.history
        if env.error:
            table.add_row(h.env, "-", "-", "-", "-", "-", Text("error", style="bold red"))
            notes.append(Text.assemble((f"{h.env}: ", "bold"), (env.error, "red")))
            continue
        p, a = env.projection, env.advice
        style = {"raise": "bold red", "set": "yellow", "lower": "cyan", "keep": "green"}[a.action]
        table.add_row(
            h.env,
            _money(env.window_cost.total),
            _money(p.cost.total),
            f"{_money(p.low)}–{_money(p.high)}",
            _limit(h.limits.max_storage_gb, a.storage.recommended),
            _limit(h.limits.max_ecpu_per_second, a.ecpu.recommended),
            Text(a.action, style=style),
        )
        lines = [f"  • {r}" for r in a.reasons] + [f"  • {n}" for n in p.notes]
        if a.ecpu_minimum:
            lines.append(f"  • optional: {a.ecpu_minimum['why']}")
        lines += [f"  ⚠ {w}" for w in env.warnings]
        lines += [f"  → {alt['summary']}" for _, alt in sorted(env.alternatives.items(), reverse=True)]
        notes.append(Text(f"{h.env} ({h.cache}, {h.engine}, {h.region}):\n" + "\n".join(lines)))
    totals = report.total_projection()
    table.add_section()
    table.add_row("total", _money(report.total_window().total), _money(totals["total"]),
                  f"{_money(totals['low'])}–{_money(totals['high'])}", "", "", "", style="bold")
    return [table, *notes]
