"""Read a node-based ElastiCache replication group and its per-node CloudWatch metrics.

AWS access goes through costwise.sources.aws; the estimate itself is in costwise.model.migrate.
"""

from __future__ import annotations

from costwise.errors import AwsError
from costwise.model.migrate import NODE_METRICS, ClusterShape, cluster_shape
from costwise.sources import aws
from costwise.sources.frames import results_to_frames
from costwise.sources.plan import Window, build_queries, plan_batches


def read_cluster(session: aws.AwsSession, region: str, group_id: str, window: Window) -> tuple[ClusterShape, dict, int]:
    """(shape, per-node hourly frames, GetMetricData calls). Raises AwsError with one clear line."""
    client = session.client("elasticache", region)
    try:
        groups = client.describe_replication_groups(ReplicationGroupId=group_id).get("ReplicationGroups", [])
    except Exception as exc:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ReplicationGroupNotFoundFault":
            raise AwsError(f"replication group {group_id!r} not found in {region}") from None
        raise aws.describe_error(exc, "DescribeReplicationGroups") from None
    if not groups:
        raise AwsError(f"replication group {group_id!r} not found in {region}")
    shape = cluster_shape(groups[0])
    node_ids = list(dict.fromkeys(n.cluster_id for n in shape.nodes))
    queries = build_queries(node_ids, NODE_METRICS, dimension="CacheClusterId")
    batches = plan_batches(queries, window.hours)
    cw = session.client("cloudwatch", region)
    try:
        got = aws.get_metric_data(cw, [[q.payload() for q in b] for b in batches], window.start, window.end)
    except Exception as exc:
        raise aws.describe_error(exc, "GetMetricData") from None
    frames = results_to_frames(got.series, queries, window)
    with_data = {k: f for k, f in frames.items() if f[["bytes_avg", "get_cmds", "set_cmds"]].notna().any().any()}
    if not with_data:
        raise AwsError(f"replication group {group_id!r}: no CloudWatch metrics for its nodes in the window")
    return shape, with_data, got.calls
