"""whatif as a rich table or Markdown."""

from __future__ import annotations

from costwise.render import md_escape, money
from costwise.whatif import WhatIfResult


def _rows(result: WhatIfResult) -> list[tuple[str, str]]:
    ceiling = result.ceiling
    rows = [
        ("Engine / region", f"{result.engine} / {result.region}"),
        ("Storage", f"{result.storage_gb:g} GB (billed {result.billed_storage_gb:g} GB)"),
        ("Traffic", f"{result.ecpu_per_second:,.1f} ECPU/s = {result.ecpu_per_month / 1e6:,.1f} M ECPUs per {result.hours_per_month:g} h"),
        ("Storage cost / month", money(result.cost.storage)),
        ("ECPU cost / month", money(result.cost.ecpu)),
        ("Total / month", money(result.cost.total)),
    ]
    if ceiling is not None:
        rows.append(("Worst case at limits", f"{money(ceiling.total)} (storage {money(ceiling.storage)}, ECPU {money(ceiling.ecpu)})"))
    nodes = result.nodes
    if nodes is not None:
        setup = nodes.setup
        rows.append(("Node-based instead", f"{setup.nodes} x {setup.node_type}: {money(setup.monthly)}"))
        rows.append(("Cheaper", nodes.cheaper))
        never = "never (at this workload)"
        be_gb, be_ecpu = nodes.break_even_storage_gb, nodes.break_even_ecpu_per_second
        rows.append(("Serverless cheaper below", never if be_gb is None else f"{be_gb:,.2f} GB (at this traffic)"))
        rows.append(("...or below", never if be_ecpu is None else f"{be_ecpu:,.0f} ECPU/s (at this storage)"))
    return rows


def node_assumptions(results: list[WhatIfResult]) -> list[str]:
    for result in results:
        if result.nodes is not None:
            return ["Node comparison assumes: " + "; ".join(result.nodes.assumptions)]
    return []


def whatif_table(results: list[WhatIfResult]):
    from rich.table import Table

    title = "What if" if len(results) == 1 else "What if: engines side by side"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for result in results:
        table.add_column(result.engine, justify="right")
    columns = _aligned([_rows(r) for r in results])
    for i, (label, _) in enumerate(columns[0]):
        style = "bold" if label.startswith("Total") else None
        table.add_row(label, *[col[i][1] for col in columns], style=style)
    notes = node_assumptions(results)
    if notes:
        table.caption = notes[0]
        table.caption_justify = "left"
    return table


def _aligned(columns: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Engines may have different rows (a break-even only one has): align them by label."""
    labels: list[str] = []
    for col in columns:
        for label, _ in col:
            if label not in labels:
                labels.append(label)
    out = []
    for col in columns:
        by_label: dict[str, list[str]] = {}
        for label, value in col:
            by_label.setdefault(label, []).append(value)
        out.append([(label, " / ".join(by_label.get(label, ["–"]))) for label in labels])
    return out


def whatif_markdown(results: list[WhatIfResult]) -> str:
    columns = _aligned([_rows(r) for r in results])
    lines = ["| | " + " | ".join(md_escape(r.engine) for r in results) + " |", "|---|" + "---:|" * len(results)]
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"| {md_escape(label)} | " + " | ".join(md_escape(col[i][1]) for col in columns) + " |")
    warnings = [w for r in results for w in r.warnings]
    notes = node_assumptions(results)
    if notes:
        lines.append("")
        lines.append(md_escape(notes[0]))
    if warnings:
        lines.append("")
        lines.extend(f"- ⚠️ {md_escape(w)}" for w in dict.fromkeys(warnings))
    return "\n".join(lines) + "\n"
