"""Terminal tables (rich), one function per command. rich is imported inside: `--help` stays fast."""

from __future__ import annotations

from costwise.fmt import money, printable
from costwise.render import horizon_label, interval_label


def _t(value, style: str | None = None):
    """A cell or line from outside text: rich markup is not interpreted, control characters are escaped."""
    from rich.text import Text

    return Text(printable(value), style=style or "")


def _limit(current, recommended) -> str:
    cur = "none" if current is None else f"{current:,.0f}"
    if recommended is None or recommended == current:
        return cur
    return f"{cur} → {recommended:,.0f}"


def _money(value: float) -> str:
    # whole dollars from $100 up: the table must fit an 80-column terminal
    return f"${value:,.0f}" if abs(value) >= 100 else money(value)


def estimate(report) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"ElastiCache Serverless cost, {report.window_start:%Y-%m-%d %H:%M} to {report.window_end:%Y-%m-%d %H:%M} UTC",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column, justify in (("env", "left"), ("window", "right"), (horizon_label(report.horizon_hours, short=True), "right"),
                            (interval_label(report.interval), "right"), ("max GB", "right"), ("max ECPU/s", "right"), ("action", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    notes = []
    for env in report.environments:
        h = env.history
        if env.error:
            table.add_row(_t(h.env), "-", "-", "-", "-", "-", Text("error", style="bold red"))
            notes.append(Text.assemble((f"{printable(h.env)}: ", "bold"), (printable(env.error), "red")))
            continue
        p, a = env.projection, env.advice
        style = {"raise": "bold red", "set": "yellow", "lower": "cyan", "keep": "green"}[a.action]
        table.add_row(
            _t(h.env),
            _money(env.window_cost.total),
            _money(p.cost.total),
            f"{_money(p.low)}–{_money(p.high)}",
            _limit(h.limits.max_storage_gb, a.storage.recommended),
            _limit(h.limits.max_ecpu_per_second, a.ecpu.recommended),
            Text(a.action, style=style),
        )
        lines = [f"  • {r}" for r in a.reasons] + [f"  • {n}" for n in p.notes]
        if a.ecpu_minimum:
            lines.append(f"  • ECPU minimum, {a.ecpu_minimum['kind']}: {a.ecpu_minimum['why']}")
        lines += [f"  ⚠ {w}" for w in env.warnings]
        lines += [f"  → {alt['summary']}" for _, alt in sorted(env.alternatives.items(), reverse=True)]
        lines += _driver_lines(env.drivers)
        # each line escaped on its own: the newlines between them are ours, any inside them are not
        notes.append(Text("\n").join(_t(line) for line in [f"{h.env} ({h.cache}, {h.engine}, {h.region}):", *lines]))
    totals = report.total_projection()
    table.add_section()
    table.add_row("total", _money(report.total_window().total), _money(totals["total"]),
                  f"{_money(totals['low'])}–{_money(totals['high'])}", "", "", "", style="bold")
    from costwise.render.view import savings_plan_lines

    from costwise.render.view import top_actions_view

    extra = [_t(f"→ {line}") for line in savings_plan_lines(report)] + [_t(f"⚠ {note}") for note in report.notes]
    actions = top_actions_view(report)
    if actions:
        extra.append(Text("\n").join([Text("Top actions, by money a month:", style="bold"), *(_t(f"  {i}. {a}") for i, a in enumerate(actions, 1))]))
    return [table, *notes, *extra]


def _driver_lines(drivers) -> list[str]:
    """Where the money goes (issue 21), under a cache's (or a migrating server's) notes."""
    from costwise.render.view import drivers_view

    view = drivers_view(drivers)
    if view is None:
        return []
    lines = ["  where the money goes:"] + [f"    {line}" for line in view["lines"]] + [f"    {view['facts']}"]
    for f in view["findings"]:
        lines.append(f"  $ {f['text']} (assumes {f['assumption']})")
    return lines


def whatif(result) -> list:
    from rich.table import Table

    from costwise.render.whatif_rows import aligned_rows, node_assumptions

    results = result.results
    title = "What if" if len(results) == 1 else "What if: engines side by side"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for r in results:
        table.add_column(_t(r.engine), justify="right")
    for label, values in aligned_rows(results):
        table.add_row(label, *[_t(v) for v in values], style="bold" if label.startswith("Total") else None)
    notes = node_assumptions(results)
    if notes:
        table.caption = notes[0]
        table.caption_justify = "left"
    return [table]


def migrate(result) -> list:
    from rich.table import Table

    table = Table(title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    notes: list[str] = list(result.notes)
    if result.kind == "redis":
        r = result
        table.title = _t(f"{r.server} on ElastiCache Serverless ({r.engine}, {r.region})")
        table.add_row("Stored (dataset)", f"{r.storage_gb:,.3f} GB ({r.keys:,} keys; used memory {r.used_memory_gb:,.3f} GB)")
        table.add_row("Traffic", f"{r.commands_per_second:,.1f} commands/s, {r.kb_per_command:,.2f} KB each")
        table.add_row("ECPU/s", f"{r.ecpu_per_second:,.1f}")
        table.add_row("Month at the sampled rate", money(r.cost.total), style="bold")
        for row in r.scaling:
            if row.traffic_factor != 1.0:
                table.add_row(f"  at {row.traffic_factor:g}x the traffic", money(row.monthly))
        table.add_row("Starting limits", f"{r.recommended_max_storage_gb:,} GB, {r.recommended_max_ecpu_per_second:,} ECPU/s (peak factor {r.peak_factor:g})")
        table.add_row("Worst case at those limits", money(r.ceiling.total))
        return [table, *[_t(f"  • {n}") for n in notes], *[_t(line) for line in _driver_lines(r.drivers)]]
    cluster, sl = result.cluster, result.serverless
    table.title = _t(f"{result.replication_group} ({cluster.engine}, {result.region}) on ElastiCache Serverless "
                     f"({sl.history.engine})")
    table.add_row("Today", _t(f"{cluster.nodes} x {cluster.node_type} ({cluster.primaries} primary, {cluster.replicas} replica): "
                  + (f"{money(cluster.monthly)} a month" if cluster.monthly is not None else "price unknown")))
    if sl.error:
        table.add_row("Serverless", _t(sl.error, style="red"))
        return [table, *[_t(f"  • {n}") for n in notes]]
    p = sl.projection
    table.add_row("Window on serverless", f"{money(sl.window_cost.total)} for {sl.hours_with_data} hours")
    table.add_row(f"{horizon_label(sl.settings.horizon_hours).capitalize()} on serverless",
                  f"{money(p.cost.total)} ({money(p.low)}–{money(p.high)}, {interval_label(sl.settings.interval)})", style="bold")
    if cluster.extended_support:
        table.add_row("Extended Support", _t(f"{money(cluster.extended_support_monthly)} a month of today's cost ({cluster.extended_support}, "
                                             f"engine {cluster.engine_version})"))
    diff = result.serverless_minus_cluster
    if diff is not None:
        table.add_row("Difference", f"{money(abs(diff))} a month {'more' if diff > 0 else 'less'} on serverless")
    if result.saving_from_extended_support:
        table.add_row("...of which", f"{money(result.saving_from_extended_support)} is the Extended Support surcharge left behind")
    table.add_row("Starting limits", f"{sl.advice.storage.recommended:,} GB, {sl.advice.ecpu.recommended:,} ECPU/s")
    usage = sl.usage
    table.add_row("Stored (primaries)", f"mean {usage['storage_gb']['mean']:,.2f} GB, max {usage['storage_gb']['max']:,.2f} GB")
    table.add_row("ECPU/s", f"mean {usage['ecpu_per_second']['mean']:,.0f}, busiest minute {usage['ecpu_per_second']['max']:,.0f}")
    notes += p.notes + sl.warnings
    notes += [alt["summary"] for alt in sl.alternatives.values()]
    return [table, *[_t(f"  • {n}") for n in notes]]


def pricing(listing) -> list:
    from rich.table import Table

    table = Table(title=_t(f"Prices from {listing.file}"), title_justify="left")
    for column in ("region", "engine", "$/GB-hour", "$/M ECPU", "min GB", "as of", "confidence"):
        table.add_column(column, justify="right" if column.startswith(("$", "min")) else "left", no_wrap=True)
    for row in listing.rows:
        table.add_row(_t(row.region), _t(row.engine), f"{row.storage_per_gb_hour:g}", f"{row.ecpu_per_million:g}",
                      f"{row.min_storage_gb:g}", row.as_of, row.confidence)
    out = [table]
    if listing.with_nodes:
        node_table = Table(title="Node-based, on-demand", title_justify="left")
        for column in ("region", "engine", "node type", "$/hour", "GiB", "vCPU", "confidence"):
            node_table.add_column(column, justify="right" if column in ("$/hour", "GiB", "vCPU") else "left", no_wrap=True)
        for row in listing.rows:
            for node in row.nodes:
                node_table.add_row(_t(row.region), _t(row.engine), _t(node.name), f"{node.hourly:g}", f"{node.memory_gib:g}",
                                   str(node.vcpu), node.confidence)
        out.append(node_table)
    return out


def pricing_changes(update) -> list:
    """`pricing update`'s diff: field, old and new rate."""
    from rich.table import Table

    table = Table(title=_t(f"{len(update.changes)} change(s) to {update.target}"), title_justify="left")
    for column in ("field", "old", "new"):
        table.add_column(column)
    for change in update.changes:
        table.add_row(_t(change.path), "—" if change.old is None else f"{change.old:g}", f"{change.new:g}")
    return [table]


def apply_plan(plan) -> list:
    """`costwise apply`: the request, and the worst-case bill before and after."""
    import json

    from rich.table import Table

    table = Table(title=_t(f"{plan.env}: ModifyServerlessCache on {plan.cache} ({plan.region})"), title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("")
    table.add_row("Max storage", _t(f"{_limit(plan.current['max_storage_gb'], plan.storage_gb)} GB"))
    table.add_row("Max ECPU/s", _t(_limit(plan.current["max_ecpu_per_second"], plan.ecpu_per_second)))
    table.add_row("Worst-case bill", f"{money(plan.ceiling_before)} a month now, {money(plan.ceiling_after)} after")
    # the request itself, whole and unwrapped, to read or to copy
    from rich.text import Text

    # json.dumps escapes every control character itself: the text is safe as it is
    return [table, _t("ModifyServerlessCache request:"), Text(json.dumps(plan.request, indent=2))]


def update_notes(update) -> list[str]:
    """`pricing update`'s lines for stderr: what could not be read, and what was left out."""
    lines = [f"not interpreted: {line}" for line in update.unreadable] + [f"note: {line}" for line in update.notes]
    if update.skipped:
        lines.append(f"skipped {update.skipped} SKUs (add-ons and offers costwise does not price)")
    return lines


def suggest_notes(result, with_alarms: bool) -> list[str]:
    """`suggest`'s lines for stderr: what matched, what did not, drift, the alarms, failures."""
    lines = [f"{env}: limits found in {', '.join(paths)}" for env, paths in result.matched.items()]
    lines += [f"{env}: no limits for it in the code given" for env in result.unmatched_envs]
    lines += [f"not matched: {line}" for line in result.unmatched_sites]
    lines += [f"drift: {line}" for line in result.drift]
    if with_alarms:
        for shape, snippet in result.alarms.items():
            lines.append(f"alarms ({shape}), to add beside the limits:")
            lines += [f"  {line}" for line in snippet.splitlines()]
    lines += [f"skipped: {line}" for line in result.skipped]
    lines += [f"not read: {line}" for line in result.not_read]
    read = f"{result.files_read:,} file{'s' if result.files_read != 1 else ''} read"
    if result.not_read:  # "no changes" is said only about code that was read, all of it
        lines.append(f"not every file was read ({len(result.not_read):,} not read, listed above): "
                     f"{'the patch covers' if result.changes else 'no changes in'} the {read} only")
    elif result.unpatchable and not result.changes:
        lines.append(f"no changes to the limits costwise can patch ({read}); {result.unpatchable:,} it cannot (listed above) are not checked")
    elif not result.changes:
        lines.append(f"no changes: every limit in the code is what costwise recommends ({read})")
    lines += [f"costwise: {env}: {error}" for env, error in result.failed]
    return lines
