"""`reconcile` and `watch` for people: the terminal table, Markdown and HTML (the format modules
register these; JSON is each result's own to_dict()). Every outside text is escaped."""

from __future__ import annotations

import html

from costwise.fmt import money, printable
from costwise.render import md_escape


def _pct(value: float | None) -> str:
    if value is None:
        return "-"
    return "0.0%" if abs(value) < 0.05 else f"{value:+.1f}%"


def _millions(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}M"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def reconcile_rows(result) -> list[dict[str, str]]:
    """One dict of display strings per row, then the total."""
    rows = []
    for row in result.rows:
        ours, billed = row.costwise, row.billed
        rows.append({
            "env": row.env or "-",
            "cache": row.cache,
            "costwise": money(ours.cost) if ours else "-",
            "billed": money(billed.unblended_cost) if billed else "none",
            "net": money(billed.net_cost) if billed else "-",
            "difference": _pct(row.difference_pct),
            "gb_hours": f"{_hours(ours.storage_gb_hours if ours else None)} / {_hours(billed.storage_gb_hours if billed else None)}",
            "ecpus": f"{_millions(ours.ecpus if ours else None)} / {_millions(billed.ecpus if billed else None)}",
            "status": "error" if row.error else "FLAGGED" if row.flagged else "ok",
            "explained_by": list(row.explained_by),
        })
    totals = result.totals
    rows.append({"env": "total", "cache": "", "costwise": money(totals["costwise"]), "billed": money(totals["billed_unblended"]),
                 "net": money(totals["billed_net"]), "difference": _pct(result.difference_pct), "gb_hours": "", "ecpus": "",
                 "status": f"{len(result.flagged)} flagged" if result.flagged else "", "explained_by": []})
    return rows


COLUMNS = (("env", "env"), ("cache", "cache"), ("costwise", "costwise"), ("billed", "billed (unblended)"), ("net", "billed (net)"),
           ("difference", "difference"), ("gb_hours", "GB-hours costwise / billed"), ("ecpus", "ECPUs costwise / billed"),
           ("status", ""))


def _title(result) -> str:
    source = "the CUR export" if result.source == "cur" else "Cost Explorer"
    return f"costwise against {source}, {result.period.start:%Y-%m-%d %H:%M} to {result.period.end:%Y-%m-%d %H:%M} UTC"


def reconcile_table(result) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=_title(result), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for key, label in COLUMNS:
        table.add_column(label, justify="left" if key in ("env", "cache", "status") else "right")
    notes = []
    for row in reconcile_rows(result):
        style = "bold red" if row["status"] in ("FLAGGED", "error") else None
        table.add_row(*(Text(printable(row[key]), style=style if key == "status" else "") for key, _ in COLUMNS))
        notes.extend(Text(printable(f"{row['env']} {row['cache']}: {why}")) for why in row["explained_by"])
    return [table, *notes, *(Text(printable(n)) for n in result.notes)]


def reconcile_markdown(result) -> str:
    lines = [f"### {md_escape(_title(result))}", "", "| " + " | ".join(md_escape(label) for _, label in COLUMNS) + " |",
             "|" + "|".join("---" if key in ("env", "cache", "status") else "---:" for key, _ in COLUMNS) + "|"]
    explanations = []
    for row in reconcile_rows(result):
        status = "⚠️ flagged" if row["status"] == "FLAGGED" else row["status"]
        lines.append("| " + " | ".join(md_escape(status if key == "status" else row[key]) for key, _ in COLUMNS) + " |")
        explanations.extend(f"- **{md_escape(row['cache'] or row['env'])}**: {md_escape(why)}" for why in row["explained_by"])
    if explanations:
        lines += ["", *explanations]
    if result.notes:
        lines += ["", *(f"- {md_escape(n)}" for n in result.notes)]
    return "\n".join(lines) + "\n"


def reconcile_html(result) -> str:
    def cell(text: str, tag: str = "td") -> str:
        return f"<{tag}>{html.escape(printable(text))}</{tag}>"

    body = ["<tr>" + "".join(cell(label, "th") for _, label in COLUMNS) + "</tr>"]
    for row in reconcile_rows(result):
        flagged = ' class="flagged"' if row["status"] == "FLAGGED" else ""
        why = "".join(f"<li>{html.escape(printable(w))}</li>" for w in row["explained_by"])
        body.append(f"<tr{flagged}>" + "".join(cell(row[key]) for key, _ in COLUMNS) + "</tr>")
        if why:
            body.append(f'<tr><td></td><td colspan="{len(COLUMNS) - 1}"><ul>{why}</ul></td></tr>')
    notes = "".join(f"<li>{html.escape(printable(n))}</li>" for n in result.notes)
    title = html.escape(_title(result))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title + "</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}"
            "tr.flagged{background:#fde8e8}ul{margin:0;text-align:left}</style></head><body>"
            f"<h1>{title}</h1><table>{''.join(body)}</table>" + (f"<ul>{notes}</ul>" if notes else "") + "</body></html>\n")


# ---- watch: quiet when all is well --------------------------------------------------------------


def watch_table(result) -> str:
    """One line per cache out of band, never wrapped (a log line, a cron mail); nothing at all when
    every cache is within its band."""
    return "".join(f"RUNAWAY {printable(c.line())}\n" for c in result.alarms)


def watch_markdown(result) -> str:
    """One chat message: a headline and one bullet per cache out of band; empty when all is well."""
    alarms = result.alarms
    if not alarms:
        return ""
    head = (f"**costwise watch**: {len(alarms)} {'cache' if len(alarms) == 1 else 'caches'} above the forecast's band "
            f"at {result.as_of:%Y-%m-%d %H:%M} UTC, +${result.excess_per_day:,.2f}/day if it continues")
    return "\n".join([head, *(f"- {md_escape(c.line())}" for c in alarms)]) + "\n"
