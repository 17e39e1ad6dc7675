"""Markdown and HTML reports from the jinja2 templates in templates/."""

from __future__ import annotations

from functools import lru_cache

from costwise.render import md_escape
from costwise.report import Report


@lru_cache(maxsize=2)
def _environment(kind: str):
    import jinja2
    from markupsafe import Markup

    from costwise.resources import templates_dir

    loader = jinja2.FileSystemLoader(str(templates_dir()))
    if kind == "html":
        return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

    def finalize(value):
        # Every value printed into Markdown is escaped (pipes, HTML, emphasis) unless it is
        # Markup built by costwise itself (the mermaid block).
        if value is None:
            return ""
        if isinstance(value, Markup):
            return str(value)
        if isinstance(value, (int, float)):
            return value
        return md_escape(value)

    return jinja2.Environment(loader=loader, autoescape=False, finalize=finalize, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_markdown(report: Report) -> str:
    from markupsafe import Markup

    from costwise.render.view import mermaid_costs, report_view

    view = report_view(report)
    chart = mermaid_costs(report)
    return _environment("markdown").get_template("report.md.j2").render(**view, mermaid=Markup(chart) if chart else None)


def render_html(report: Report) -> str:
    from markupsafe import Markup

    from costwise.render.charts import environment_chart
    from costwise.render.view import report_view

    charts = {}
    for env in report.ok:
        svg = environment_chart(env)
        if svg:
            charts[env.env] = Markup(svg)
    return _environment("html").get_template("report.html.j2").render(**report_view(report, charts))
