"""migrate results as rich tables."""

from __future__ import annotations

from costwise.fmt import money


def migrate_renderables(data: dict) -> list:
    from rich.table import Table
    from rich.text import Text

    table = Table(title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    notes: list[str] = list(data.get("notes", []))
    if data["from"] == "redis":
        table.title = f"{data['server']} on ElastiCache Serverless ({data['engine']}, {data['region']})"
        table.add_row("Stored (dataset)", f"{data['storage_gb']:,.3f} GB ({data['keys']:,} keys; used memory {data['used_memory_gb']:,.3f} GB)")
        table.add_row("Traffic", f"{data['commands_per_second']:,.1f} commands/s, {data['kb_per_command']:,.2f} KB each")
        table.add_row("ECPU/s", f"{data['ecpu_per_second']:,.1f}")
        table.add_row("Month at the sampled rate", money(data["cost"]["total"]), style="bold")
        for row in data["scaling"]:
            if row["traffic_factor"] != 1.0:
                table.add_row(f"  at {row['traffic_factor']:g}x the traffic", money(row["monthly"]))
        rec = data["recommended"]
        table.add_row("Starting limits", f"{rec['max_storage_gb']:,} GB, {rec['max_ecpu_per_second']:,} ECPU/s (peak factor {data['peak_factor']:g})")
        table.add_row("Worst case at those limits", money(data["ceiling"]["total"]))
        return [table, *[Text(f"  • {n}") for n in notes]]
    cluster, sl = data["cluster"], data["serverless"]
    table.title = f"{data['replication_group']} ({cluster['engine']}, {data['region']}) on ElastiCache Serverless ({sl['engine']})"
    table.add_row("Today", f"{cluster['nodes']} x {cluster['node_type']} ({cluster['primaries']} primary, {cluster['replicas']} replica): "
                  + (f"{money(cluster['monthly'])} a month" if cluster["monthly"] is not None else "price unknown"))
    if sl["error"]:
        table.add_row("Serverless", Text(sl["error"], style="red"))
        return [table, *[Text(f"  • {n}") for n in notes]]
    window, projected = sl["cost"]["window"], sl["cost"]["projected_month"]
    table.add_row("Window on serverless", f"{money(window['total'])} for {sl['window']['hours_with_data']} hours")
    table.add_row("Next 730 h on serverless", f"{money(projected['total'])} ({money(projected['low'])}–{money(projected['high'])})", style="bold")
    if cluster.get("serverless_minus_cluster") is not None:
        diff = cluster["serverless_minus_cluster"]
        table.add_row("Difference", f"{money(abs(diff))} a month {'more' if diff > 0 else 'less'} on serverless")
    rec = sl["limits"]["recommended"]
    table.add_row("Starting limits", f"{rec['max_storage_gb']:,} GB, {rec['max_ecpu_per_second']:,} ECPU/s")
    usage = sl["usage"]
    table.add_row("Stored (primaries)", f"mean {usage['storage_gb']['mean']:,.2f} GB, max {usage['storage_gb']['max']:,.2f} GB")
    table.add_row("ECPU/s", f"mean {usage['ecpu_per_second']['mean']:,.0f}, busiest minute {usage['ecpu_per_second']['max']:,.0f}")
    notes += sl["forecast"]["notes"] + sl["warnings"]
    notes += [alt["summary"] for alt in sl["alternatives"].values()]
    return [table, *[Text(f"  • {n}") for n in notes]]
