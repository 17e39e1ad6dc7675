"""Report -> plain dicts of display strings, shared by the Markdown and HTML templates."""

from __future__ import annotations

import re
from typing import Any

from costwise.fmt import money
from costwise.render import horizon_label, interval_label
from costwise.analysis.estimate import EnvironmentResult, Report
from costwise.model.drivers import Drivers
from costwise.model.sizing import ACTION_ORDER

ACTION_WORDS = {
    "raise": "Raise limits",
    "set": "Set limits",
    "lower": "Lower limits",
    "keep": "Keep limits",
}


def _pct(value: float) -> str:
    return f"{value:+.0%}"


def _num(value, unit: str = "") -> str:
    if value is None:
        return "none"
    text = f"{value:,.2f}" if value < 10 and not float(value).is_integer() else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def savings_label(saving: dict[str, Any] | None) -> str:
    """"$12.30 (Valkey)": the largest monthly saving on offer and what it takes; "–" for none."""
    return f"{money(saving['month'])} ({saving['by']})" if saving else "–"


def environment_view(env: EnvironmentResult, chart: str | None = None, saving: dict[str, Any] | None = None) -> dict[str, Any]:
    h = env.history
    view: dict[str, Any] = {
        "savings": savings_label(saving),
        "name": h.env,
        "cache": h.cache,
        "engine": h.engine or "unknown",
        "region": h.region,
        "error": env.error,
        "warnings": list(env.warnings),
        "chart": chart,
        "budget": money(env.budget) if env.budget is not None else None,
        "over_budget": env.over_budget,
        "limits_source": h.limits.source,
    }
    if env.error:
        return view
    p, a = env.projection, env.advice
    usage = env.usage or {}
    view.update(
        window_cost=money(env.window_cost.total),
        window_storage=money(env.window_cost.storage),
        window_ecpu=money(env.window_cost.ecpu),
        projected=money(p.cost.total),
        projected_storage=money(p.cost.storage),
        projected_ecpu=money(p.cost.ecpu),
        low=money(p.low),
        high=money(p.high),
        confidence=p.confidence,
        history_days=f"{p.history_days:.1f}",
        hours_with_data=env.hours_with_data,
        hours=env.hours,
        action=a.action,
        action_words=ACTION_WORDS[a.action],
        reasons=list(a.reasons),
        notes=list(p.notes),
        ecpu_minimum=f"ECPU minimum, {a.ecpu_minimum['kind']}: {a.ecpu_minimum['why']}" if a.ecpu_minimum else None,
        alternatives=[alt["summary"] for key, alt in sorted(env.alternatives.items(), reverse=True)],
        node_assumptions=env.alternatives.get("nodes", {}).get("assumptions", []),
        drivers=drivers_view(env.drivers),
        ceiling_current=money(a.ceiling_current.total),
        ceiling_recommended=money(a.ceiling_recommended.total),
        limits=[
            {
                "what": "Max storage",
                "current": _num(h.limits.max_storage_gb, "GB"),
                "recommended": _num(a.storage.recommended, "GB"),
                "peak": _num(usage.get("storage_gb", {}).get("max"), "GB"),
                "action": a.storage.action,
            },
            {
                "what": "Max ECPU/s",
                "current": _num(h.limits.max_ecpu_per_second),
                "recommended": _num(a.ecpu.recommended),
                "peak": _num(usage.get("ecpu_per_second", {}).get("max")),
                "action": a.ecpu.action,
            },
        ],
    )
    return view


def drivers_view(d: "Drivers | None") -> dict[str, Any] | None:
    """Where the money goes (issue 21): the families in sentences, the findings with their
    assumptions; None where drivers were not read for this cache."""
    if d is None:
        return None
    facts = []
    if d.hit_rate is not None:
        facts.append(f"hit rate {d.hit_rate:.0%}")
    if d.bytes_per_command["in"] is not None:
        facts.append(f"{d.bytes_per_command['in']:,.0f} B in and {d.bytes_per_command['out']:,.0f} B out per command")
    if d.ttl_share is not None:
        facts.append(f"{d.ttl_share:.0%} of keys have a TTL")
    if d.bytes_per_item is not None:
        facts.append(f"{d.bytes_per_item:,.0f} B per item")
    if d.evictions is not None:
        facts.append(f"{d.evictions:,.0f} evictions")
    if d.partial:
        facts.append(f"partial data: {', '.join(d.partial)}")
    return {
        "lines": d.lines(),
        "facts": "; ".join(facts) if facts else "hit rate, bytes, TTLs: not published",
        "findings": [{"text": f.text, "saves": money(f.saves_month) + " a month" if f.saves_month else None,
                      "assumption": f.assumption} for f in d.findings],
    }


def top_actions_view(report: Report) -> list[str]:
    """The report's top actions, in sentences, the most money a month first."""
    out = []
    for item in report.top_actions():
        who = f"{item['env']}: " if item["env"] else ""
        saves = f" (about {money(item['saves_month'])} a month)" if item["saves_month"] and money(item["saves_month"]) not in item["text"] else ""
        out.append(f"{who}{item['text']}{saves}")
    return out


def summary_view(report: Report, savings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report's headline figures; `savings`: Report.savings_available(), computed once per view."""
    totals = report.total_projection()
    window = report.total_window().total
    hours = report.environments[0].hours if report.environments else 0
    change = None
    if window > 0 and hours:
        # compare hourly rates: the window and the horizon may differ in length
        change = _pct((totals["total"] / report.horizon_hours) / (window / hours) - 1)
    top = report.top_action()
    return {
        "horizon": horizon_label(report.horizon_hours),
        "horizon_short": horizon_label(report.horizon_hours, short=True),
        "interval": interval_label(report.interval),
        "projected": money(totals["total"]),
        "low": money(totals["low"]),
        "high": money(totals["high"]),
        "window": money(window),
        "window_days": f"{hours / 24:g}",
        "change": change,
        "top_action": (
            {"env": top.env, "action": top.advice.action, "words": ACTION_WORDS[top.advice.action], "reason": top.advice.reasons[0] if top.advice.reasons else ""}
            if top
            else None
        ),
        "over_budget": first_names(report.over_budget),
        "total_over_budget": "total" in report.over_budget,
        "budget": money(report.budget) if report.budget is not None else None,
        "savings_plan": savings_plan_lines(report),
        "top_actions": top_actions_view(report),
        "savings_available": money(sum(v["month"] for v in savings.values())),
        "notes": list(report.notes),
        "environments": len(report.environments),
        "failed": first_names([e.env for e in report.failed]),
    }


NAMES_SHOWN = 10


def first_names(names: list[str], limit: int = NAMES_SHOWN) -> list[str]:
    """A list of environment names a sentence can hold: the first `limit`, then how many more
    (a fleet's summary must not grow with the fleet; the table and JSON name them all)."""
    names = list(names)
    return names if len(names) <= limit else [*names[:limit], f"and {len(names) - limit:,} more"]


MERMAID_BARS = 12
MARKDOWN_LIMIT = 60_000  # characters: GitHub refuses a PR comment over 65,536


def priority(report: Report) -> list[EnvironmentResult]:
    """Environments by what needs attention: failures, then raise, set, lower, keep; the costliest first."""
    def key(env: EnvironmentResult):
        if env.error:
            return (0, 0.0)
        rank = 1 + ACTION_ORDER.index(env.advice.action) if env.advice else 9
        return (rank, -(env.projection.cost.total if env.projection else 0.0))

    return sorted(report.environments, key=key)


def detail_environments(report: Report) -> list[EnvironmentResult]:
    """The environments shown in full (with charts in HTML): all of a small report, else the
    report's detail limit of those that need action or cost the most."""
    if len(report.environments) <= report.detail_limit:
        return list(report.environments)
    return priority(report)[: report.detail_limit]


def group_key(env: EnvironmentResult, grouping: str) -> str | None:
    if grouping == "account":
        return f"account {env.history.account}" if env.history.account else "this account"
    if grouping == "region":
        return f"region {env.history.region}"
    if grouping.startswith("tag:"):
        name = grouping[4:]
        value = env.history.tags.get(name)
        return f"{name}: {value}" if value is not None else f"no {name} tag"
    return None


def table_groups(report: Report, rows: list[EnvironmentResult], savings: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows under their group headings (account or region, see Report.grouping), the
    costliest group first; each heading counts and totals the whole group, rows left out included.
    Without grouping: one group without a heading."""
    grouping = report.grouping()
    if grouping == "none":
        return [{"label": None, "environments": [environment_view(e, saving=savings.get(e.env)) for e in rows]}]
    totals: dict[str, dict[str, float]] = {}
    for env in report.environments:
        total = totals.setdefault(group_key(env, grouping), {"caches": 0, "window": 0.0, "projected": 0.0, "savings": 0.0})
        total["caches"] += 1
        if env.error is None and env.projection is not None:
            total["window"] += env.window_cost.total
            total["projected"] += env.projection.cost.total
            total["savings"] += savings.get(env.env, {}).get("month", 0.0)
    members: dict[str, list[EnvironmentResult]] = {}
    for env in rows:
        members.setdefault(group_key(env, grouping), []).append(env)
    order = sorted(members, key=lambda key: (-totals[key]["projected"], key))
    return [{"label": key, "caches": f"{totals[key]['caches']:,}", "window": money(totals[key]["window"]),
             "projected": money(totals[key]["projected"]), "savings": money(totals[key]["savings"]) if totals[key]["savings"] else "–",
             "environments": [environment_view(e, saving=savings.get(e.env)) for e in members[key]]} for key in order]


def report_view(report: Report, charts: dict[str, str] | None = None, table_limit: int | None = None) -> dict[str, Any]:
    """The templates' view. The table lists every environment (or the first `table_limit` by
    priority, the rest summarised); full detail is kept to detail_environments()."""
    charts = charts or {}
    savings = report.savings_available()
    detail = detail_environments(report)
    ordered = report.environments if len(report.environments) <= report.detail_limit else priority(report)
    rows = ordered if table_limit is None else ordered[:table_limit]
    left_out = [e for e in ordered[len(rows):]]
    left_cost = sum(e.projection.cost.total for e in left_out if e.projection)
    omitted = {
        "rows": len(left_out),
        "rows_cost": money(left_cost),
        "detail": len(report.environments) - len(detail),
        "where": "every cache is in the JSON report (costwise report --format json) and the HTML report's table",
    }
    return {
        "title": "ElastiCache Serverless cost report",
        "as_of": f"{report.as_of:%Y-%m-%d %H:%M} UTC",
        "window_start": f"{report.window_start:%Y-%m-%d %H:%M}",
        "window_end": f"{report.window_end:%Y-%m-%d %H:%M}",
        "generated_at": f"{report.generated_at:%Y-%m-%d %H:%M} UTC",
        "pricing_file": report.pricing_file,
        "pricing_region": report.pricing_region,
        "source": report.source,
        "summary": summary_view(report, savings),
        "groups": table_groups(report, rows, savings),
        "detail": [environment_view(e, charts.get(e.env), savings.get(e.env)) for e in detail],
        "omitted": omitted,
        "suggestion": suggestion_view(report),
    }


_MERMAID_SAFE = re.compile(r"[^A-Za-z0-9 _.-]")


def mermaid_costs(report: Report) -> str | None:
    """A mermaid bar chart (window) with a line (projection) per environment, for GitHub."""
    ok = [e for e in report.ok if e.projection and e.window_cost]
    if not ok:
        return None
    costliest = len(ok) > MERMAID_BARS
    if costliest:  # a chart of hundreds of bars says nothing: the costliest, in the report's order
        keep = {id(e) for e in sorted(ok, key=lambda e: -e.projection.cost.total)[:MERMAID_BARS]}
        ok = [e for e in ok if id(e) in keep]
    names = ", ".join(f'"{_MERMAID_SAFE.sub("_", e.env)[:24]}"' for e in ok)
    window = ", ".join(f"{e.window_cost.total:.2f}" for e in ok)
    projected = ", ".join(f"{e.projection.cost.total:.2f}" for e in ok)
    top = max(max(e.window_cost.total, e.projection.high) for e in ok) * 1.1
    return (
        "```mermaid\n"
        "xychart-beta\n"
        f'    title "Cost per environment (USD{", the " + str(MERMAID_BARS) + " costliest" if costliest else ""}): bars = window, line = next {report.horizon_hours:,} h"\n'
        f"    x-axis [{names}]\n"
        f'    y-axis "USD" 0 --> {top:.0f}\n'
        f"    bar [{window}]\n"
        f"    line [{projected}]\n"
        "```"
    )


def savings_plan_lines(report: Report) -> list[str]:
    """The Database Savings Plan advice, in sentences: for the table, Markdown and HTML alike."""
    view = report.savings_plan
    if view is None:
        return []
    a = view.advice
    who = ", ".join(first_names(view.environments))
    interval = f"{report.interval:.0%} range"
    if a.commitment_per_hour <= 0:
        lines = [f"Database Savings Plan (Valkey: {who}): no commitment pays off for this usage "
                 f"({a.discount:.0%} off, but a committed dollar is lost in every hour that does not use it)"]
    else:
        low = (f"still saves {money(a.savings_low)}" if a.savings_low >= 0 else f"would lose {money(-a.savings_low)}")
        lines = [
            f"Database Savings Plan (Valkey: {who}): commit ${a.commitment_per_hour:,.3f}/hour ({a.discount:.0%} off; it pays off "
            f"when at least {a.break_even_utilisation:.0%} of it is used) to save about {money(a.savings_expected)} a month "
            f"({money(a.savings_low)} to {money(a.savings_high)} across the {interval}); at the range's low end it {low}"
        ]
    if view.existing_commitment is not None:
        lines.append(
            f"With the ${view.existing_commitment:,.3f}/hour already committed ({view.existing_source}): {money(view.net_month)} a month "
            f"instead of {money(a.eligible_on_demand)} on demand; recommended additional commitment ${view.additional_commitment:,.3f}/hour. "
            f"Note: {view.NOTE}"
        )
    return lines


FIELD_WORDS = {"max_storage_gb": ("max storage", "GB"), "max_ecpu_per_second": ("max ECPU/s", "ECPU/s")}


def suggestion_view(report: Report) -> dict[str, Any] | None:
    """The `--iac` changes for the templates: plain strings (the templates escape them)."""
    s = report.suggestion
    if s is None:
        return None
    changes = []
    for c in s.changes:
        what, unit = FIELD_WORDS[c.field]
        changes.append({"env": c.env, "where": f"{c.file} line {c.line}", "what": f"{what} {c.current:,.0f} → {c.recommended:,} {unit}",
                        "reason": c.reason, "new_line": c.new_line})
    return {"changes": changes, "diff": s.diff, "drift": list(s.drift), "unmatched": list(s.unmatched_sites),
            "not_read": list(s.not_read)}


# what a suggestion block cannot carry exactly: a CR (GitHub rewrites line endings), other control
# characters, line and paragraph separators, a byte-order mark
_NOT_SUGGESTABLE = {*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, 0xFEFF}


def _unsuggestable(line: str) -> str | None:
    """Why a changed line cannot be a GitHub suggestion block (None: it can)."""
    from costwise.fmt import printable

    # and any character the block would show escaped (a zero-width joiner, a right-to-left mark):
    # accepting the suggestion would write the escape; a tab is kept as it is
    bad = next((ch for ch in line if ord(ch) in _NOT_SUGGESTABLE or (ch != "\t" and printable(ch) != ch)), None)
    if bad is None:
        return None
    names = {"\r": "a carriage return", "\f": "a form feed", "\u2028": "a line separator", "\u2029": "a paragraph separator",
             "\ufeff": "a byte-order mark"}
    return f"{names.get(bad, 'an invisible or control character')} (U+{ord(bad):04X})"


def markdown_suggestions(report: Report) -> str | None:
    """GitHub suggestion blocks, one per change: the description escaped, the code line raw in a
    fence longer than any backtick run inside it (so a line cannot close it)."""
    from costwise.fmt import printable
    from costwise.render import md_escape

    view = suggestion_view(report)
    if not view or not (view["changes"] or view["drift"] or view["unmatched"] or view["not_read"]):
        return None
    out = ["### Suggested changes to the infrastructure code", ""]
    by_line: dict[tuple[str, str], list[dict]] = {}
    for c in view["changes"]:
        by_line.setdefault((c["where"], c["new_line"]), []).append(c)
    for (where, new_line), group in by_line.items():  # one suggestion block a line, all its changes in it
        line = "\t".join(printable(part) for part in new_line.split("\t"))  # the block is the line itself: tabs stay tabs
        longest = max((len(part) for part in _backtick_runs(line)), default=0)
        fence = "`" * max(3, longest + 1)
        out += [f"- **{md_escape(c['env'])}** `{md_escape(where)}`: {md_escape(c['what'])}: {md_escape(c['reason'])}" for c in group]
        why = _unsuggestable(new_line)
        if why is not None:  # the block would not be the line git has: the patch carries this change
            out += [f"  (no suggestion block: the line holds {why}, which a suggestion would not keep; `costwise suggest` gives the patch)", ""]
            continue
        out += ["", f"{fence}suggestion", line, fence, ""]
    out += [f"- drift: {md_escape(d)}" for d in view["drift"]]
    out += [f"- not matched: {md_escape(u)}" for u in view["unmatched"]]
    out += [f"- not read: {md_escape(u)}" for u in view["not_read"]]
    return "\n".join(out).rstrip() + "\n"


def _backtick_runs(text: str) -> list[str]:
    runs, current = [], ""
    for ch in text:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs
