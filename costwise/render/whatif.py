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
    return rows


def whatif_table(results: list[WhatIfResult]):
    from rich.table import Table

    title = "What if" if len(results) == 1 else "What if: engines side by side"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for result in results:
        table.add_column(result.engine, justify="right")
    columns = [_rows(r) for r in results]
    for i, (label, _) in enumerate(columns[0]):
        style = "bold" if label.startswith("Total") else None
        table.add_row(label, *[col[i][1] for col in columns], style=style)
    return table


def whatif_markdown(results: list[WhatIfResult]) -> str:
    columns = [_rows(r) for r in results]
    lines = ["| | " + " | ".join(md_escape(r.engine) for r in results) + " |", "|---|" + "---:|" * len(results)]
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"| {md_escape(label)} | " + " | ".join(md_escape(col[i][1]) for col in columns) + " |")
    warnings = [w for r in results for w in r.warnings]
    if warnings:
        lines.append("")
        lines.extend(f"- ⚠️ {md_escape(w)}" for w in dict.fromkeys(warnings))
    return "\n".join(lines) + "\n"
