"""whatif rows shared by the table and Markdown renderers: label -> value per engine, aligned."""

from __future__ import annotations

from costwise.analysis.whatif import WhatIfResult
from costwise.fmt import money


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
    if result.savings_plan is not None:
        off = 1 - result.savings_plan.total / result.cost.total
        rows.append(("With a Savings Plan / month", f"{money(result.savings_plan.total)} ({off:.0%} off, a commitment used fully)"))
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


def aligned_rows(results: list[WhatIfResult]) -> list[tuple[str, list[str]]]:
    """(label, one value per engine). Engines may have different rows (a break-even only one has):
    they are aligned by label, '–' where an engine has none."""
    columns = [_rows(r) for r in results]
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
        out.append([" / ".join(by_label.get(label, ["–"])) for label in labels])
    return [(label, [col[i] for col in out]) for i, label in enumerate(labels)]
