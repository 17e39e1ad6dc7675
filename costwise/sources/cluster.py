"""Read a node-based ElastiCache replication group and its per-node CloudWatch metrics.

Produces `usage.ClusterUsage` (the group's shape and one hourly frame per node); the estimate from
it is the model's (costwise.model.migrate). AWS access goes through costwise.sources.aws.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from costwise.errors import AwsError
from costwise.sources import aws
from costwise.sources.frames import HourlyGrid
from costwise.sources.plan import build_queries, plan_batches
from costwise.usage import NODE_COLUMNS, ClusterNode, ClusterShape, ClusterUsage, Window

# (column, metric, statistic) per node, dimension CacheClusterId
NODE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("bytes_avg", "BytesUsedForCache", "Average"),
    ("bytes_max", "BytesUsedForCache", "Maximum"),
    ("get_cmds", "GetTypeCmds", "Sum"),
    ("set_cmds", "SetTypeCmds", "Sum"),
    ("get_max", "GetTypeCmds", "Maximum"),
    ("set_max", "SetTypeCmds", "Maximum"),
    ("eval_cmds", "EvalBasedCmds", "Sum"),
    ("eval_latency", "EvalBasedCmdsLatency", "Average"),
    ("get_latency", "GetTypeCmdsLatency", "Average"),
    ("net_in", "NetworkBytesIn", "Sum"),
    ("net_out", "NetworkBytesOut", "Sum"),
    ("replication", "ReplicationBytes", "Sum"),
)


def cluster_shape(group: dict, engine_hint: str | None = None) -> ClusterShape:
    """Nodes and roles from a DescribeReplicationGroups entry.

    Cluster-mode-enabled groups do not report CurrentRole: the first member of each node group is
    taken as its primary, as ElastiCache creates them (a failover may have swapped them; storage
    is read from primaries only, traffic from every node, so this touches storage alone).
    """
    nodes: list[ClusterNode] = []
    notes = []
    seen = set()
    for group_entry in group.get("NodeGroups", []):
        for i, member in enumerate(group_entry.get("NodeGroupMembers", [])):
            cluster_id = member.get("CacheClusterId")
            key = (group_entry.get("NodeGroupId"), cluster_id, member.get("CacheNodeId"))
            if not cluster_id or key in seen:
                continue
            seen.add(key)
            role = member.get("CurrentRole")
            if role not in ("primary", "replica"):
                role = "primary" if i == 0 else "replica"
                if i == 0:
                    notes.append(f"{cluster_id}: no CurrentRole reported; taken as its shard's primary")
            nodes.append(ClusterNode(cluster_id, role))
    if not nodes:
        nodes = [ClusterNode(c, "primary" if i == 0 else "replica") for i, c in enumerate(dict.fromkeys(group.get("MemberClusters", [])))]
    engine = (group.get("Engine") or engine_hint or "redis").lower()
    return ClusterShape(group.get("ReplicationGroupId", "?"), engine, group.get("CacheNodeType", "?"), nodes, tuple(notes))



assert tuple(column for column, _, _ in NODE_METRICS) == NODE_COLUMNS  # the usage contract


@dataclass
class ClusterSource:
    """One replication group in one region, over a window."""

    session: aws.AwsSession
    region: str
    group_id: str
    window: Window

    def read(self) -> ClusterUsage:
        """Raises AwsError with one clear line when the group or its metrics cannot be read."""
        group_id, region, window = self.group_id, self.region, self.window
        client = self.session.client("elasticache", region)
        try:
            groups = aws.field_of(client.describe_replication_groups(ReplicationGroupId=group_id), "ReplicationGroups",
                                  "DescribeReplicationGroups")
        except Exception as exc:
            from botocore.exceptions import ClientError

            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ReplicationGroupNotFoundFault":
                raise AwsError(f"replication group {group_id!r} not found in {region}") from None
            raise aws.describe_error(exc, "DescribeReplicationGroups") from None
        if not groups:
            raise AwsError(f"replication group {group_id!r} not found in {region}")
        shape = cluster_shape(groups[0])
        node_ids = list(dict.fromkeys(n.cluster_id for n in shape.nodes))
        shape = replace(shape, engine_version=self._engine_version(client, node_ids[0]) if node_ids else None)
        queries = build_queries(node_ids, NODE_METRICS, dimension="CacheClusterId")
        batches = plan_batches(queries, window.hours)
        grid = HourlyGrid(queries, window)
        try:
            cw = self.session.metrics_client(region)
            got = aws.get_metric_data(cw, [[q.payload() for q in b] for b in batches], window.start, window.end, on_results=grid.add)
        except Exception as exc:
            raise aws.describe_error(exc, "GetMetricData") from None
        frames = grid.frames()
        with_data = {k: f for k, f in frames.items() if f[["bytes_avg", "get_cmds", "set_cmds"]].notna().any().any()}
        if not with_data:
            raise AwsError(f"replication group {group_id!r}: no CloudWatch metrics for its nodes in the window")
        return ClusterUsage(shape, with_data, window, got.calls)

    @staticmethod
    def _engine_version(client, cluster_id: str) -> str | None:
        """The engine version (for Extended Support), from one member: None when it cannot be read."""
        try:
            clusters = aws.field_of(client.describe_cache_clusters(CacheClusterId=cluster_id), "CacheClusters", "DescribeCacheClusters")
            return str(clusters[0].get("EngineVersion")) if clusters and clusters[0].get("EngineVersion") else None
        except Exception:  # denied or unknown: the estimate goes on, and says it could not tell
            return None
