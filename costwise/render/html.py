"""A self-contained HTML report with inline SVG charts (templates/report.html.j2, autoescaped)."""

from __future__ import annotations


def report(result) -> str:
    from markupsafe import Markup

    from costwise.render.charts import environment_chart
    from costwise.render.templating import environment
    from costwise.render.view import detail_environments, report_view

    charts = {}
    for env in detail_environments(result):
        if env.error:
            continue
        svg = environment_chart(env)
        if svg:
            charts[env.env] = Markup(svg)
    return environment("html").get_template("report.html.j2").render(**report_view(result, charts))


def reconcile(result):
    from costwise.render.ledger import reconcile_html

    return reconcile_html(result)
