"""GitHub-flavoured Markdown: the report (job summary, PR comment) and whatif's table.

Every value is escaped (pipes, HTML, emphasis); the report comes from templates/report.md.j2.
"""

from __future__ import annotations

from costwise.render import md_escape


def report(result) -> str:
    from markupsafe import Markup

    from costwise.render.templating import environment
    from costwise.render.view import MARKDOWN_LIMIT, markdown_suggestions, mermaid_costs, report_view

    chart = mermaid_costs(result)
    suggestions = markdown_suggestions(result)
    template = environment("markdown").get_template("report.md.j2")

    def page(rows: int | None, report=result) -> str:
        return template.render(**report_view(report, table_limit=rows), mermaid=Markup(chart) if chart else None,
                               suggestions=Markup(suggestions) if suggestions else None)

    def most(fits, high: int) -> int:
        """The largest n in 0..high with fits(n) (fits is monotone), by bisection."""
        low = 0
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return low

    text = page(None)
    if len(text) < MARKDOWN_LIMIT:
        return text
    # too long for a PR comment: as many table rows as fit (by priority), the rest in one summary row
    rows = most(lambda n: len(page(n)) < MARKDOWN_LIMIT, len(result.environments))
    text = page(rows)
    if len(text) >= MARKDOWN_LIMIT and result.detail_limit:
        # not even the detail sections fit with no rows: fewer of them
        from dataclasses import replace

        detail = most(lambda n: len(page(0, replace(result, detail_limit=n))) < MARKDOWN_LIMIT, result.detail_limit)
        text = page(0, replace(result, detail_limit=detail))
    if len(text) >= MARKDOWN_LIMIT:  # the fixed parts alone (e.g. long suggestions): cut at a line
        note = "\n\n_(cut to fit a PR comment: every cache is in the JSON report, `--format json`)_\n"
        cut = text.rfind("\n", 0, MARKDOWN_LIMIT - len(note))
        text = text[: cut if cut > 0 else MARKDOWN_LIMIT - len(note) - 1] + note
    return text


estimate = report


def whatif(result) -> str:
    from costwise.render.whatif_rows import aligned_rows, node_assumptions

    results = result.results
    lines = ["| | " + " | ".join(md_escape(r.engine) for r in results) + " |", "|---|" + "---:|" * len(results)]
    for label, values in aligned_rows(results):
        lines.append(f"| {md_escape(label)} | " + " | ".join(md_escape(v) for v in values) + " |")
    notes = node_assumptions(results)
    if notes:
        lines += ["", md_escape(notes[0])]
    warnings = list(dict.fromkeys(w for r in results for w in r.warnings))
    if warnings:
        lines.append("")
        lines.extend(f"- ⚠️ {md_escape(w)}" for w in warnings)
    return "\n".join(lines) + "\n"


def reconcile(result):
    from costwise.render.ledger import reconcile_markdown

    return reconcile_markdown(result)


def watch(result):
    from costwise.render.ledger import watch_markdown

    return watch_markdown(result)
