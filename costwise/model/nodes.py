"""Serverless vs node-based: the cheapest node setup that holds a workload, and the break-even. Pure.

Assumptions, stated wherever the comparison is shown:
- the setup is chosen, and the break-even found, at on-demand prices on both sides; the same
  setup's best reserved-node price (upfront / term hours + hourly) and Database Savings Plan price
  (Valkey nodes of generation 7+) are shown beside it;
- the dataset must fit the nodes' memory less ElastiCache's default 25% reserved memory;
- one replica per shard for availability (`replicas`), except memcached, which has none;
- throughput: a rule, not a model: each shard's primary serves up to `ecpu_per_vcpu` ECPU/s per vCPU
  (replica reads are not counted); burstable t4g nodes are treated like the others;
- shards (cluster mode) are added for memory or throughput, all of one node type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costwise.model.cost import SECONDS_PER_HOUR, steady_month_cost
from costwise.pricing import NodeType, Rates


@dataclass(frozen=True)
class NodeAssumptions:
    replicas: int = 1
    reserved_memory_share: float = 0.25
    ecpu_per_vcpu: float = 20_000.0

    def describe(self, engine: str) -> list[str]:
        replicas = "no replicas (memcached has none)" if engine == "memcached" else f"{self.replicas} replica(s) per shard"
        return [
            "setup and break-even at on-demand prices on both sides; reserved and Savings Plan prices shown beside",
            f"dataset fits memory less {self.reserved_memory_share:.0%} reserved",
            replicas,
            f"throughput rule: {self.ecpu_per_vcpu:,.0f} ECPU/s per vCPU of each primary; not modelled beyond that",
        ]


@dataclass(frozen=True)
class NodeSetup:
    node_type: str
    shards: int
    nodes: int
    hourly: float
    monthly: float
    usable_gb: float  # memory for data across shards
    capacity_ecpu: float  # ECPU/s the rule allows across shards

    def to_dict(self) -> dict:
        return {
            "node_type": self.node_type,
            "shards": self.shards,
            "nodes": self.nodes,
            "hourly": self.hourly,
            "monthly": self.monthly,
            "usable_gb": self.usable_gb,
            "capacity_ecpu_per_second": self.capacity_ecpu,
        }


def node_setup(node: NodeType, storage_gb: float, ecpu_per_second: float, engine: str, hours: float, a: NodeAssumptions) -> NodeSetup:
    usable = node.memory_gib * (1 - a.reserved_memory_share)
    per_shard_ecpu = a.ecpu_per_vcpu * node.vcpu
    shards = max(1, math.ceil(storage_gb / usable), math.ceil(ecpu_per_second / per_shard_ecpu))
    per_shard = 1 if engine == "memcached" else 1 + a.replicas
    nodes = shards * per_shard
    return NodeSetup(node.name, shards, nodes, nodes * node.hourly, nodes * node.hourly * hours, shards * usable, shards * per_shard_ecpu)


def cheapest_node_setup(storage_gb: float, ecpu_per_second: float, node_types: list[NodeType], engine: str, hours: float,
                        assumptions: NodeAssumptions | None = None) -> NodeSetup | None:
    a = assumptions or NodeAssumptions()
    setups = [node_setup(n, storage_gb, ecpu_per_second, engine, hours, a) for n in node_types]
    # ties go to fewer nodes (simpler to run)
    return min(setups, key=lambda s: (round(s.monthly, 6), s.nodes)) if setups else None


@dataclass(frozen=True)
class NodeComparison:
    setup: NodeSetup
    serverless_monthly: float
    break_even_storage_gb: float | None  # at this traffic, serverless is cheaper below this
    break_even_ecpu_per_second: float | None  # at this storage, serverless is cheaper below this
    storage_gb: float
    ecpu_per_second: float
    assumptions: list[str]
    reserved_monthly: float | None = None  # the same setup on its best reserved offering
    reserved_label: str | None = None
    savings_plan_monthly: float | None = None  # ...under a Database Savings Plan (eligible Valkey nodes)

    @property
    def cheaper(self) -> str:
        return "serverless" if self.serverless_monthly <= self.setup.monthly else "node-based"

    def summary(self) -> str:
        s = self.setup
        lines = [
            f"{s.nodes} x {s.node_type} ({s.shards} shard{'s' if s.shards > 1 else ''}) costs ${s.monthly:,.2f} a month "
            f"vs ${self.serverless_monthly:,.2f} on serverless: {self.cheaper} is cheaper"
        ]
        parts = []
        if self.break_even_storage_gb is not None:
            parts.append(f"below {self.break_even_storage_gb:,.2f} GB at {self.ecpu_per_second:,.0f} ECPU/s")
        if self.break_even_ecpu_per_second is not None:
            parts.append(f"below {self.break_even_ecpu_per_second:,.0f} ECPU/s at {self.storage_gb:,.2f} GB")
        if parts:
            lines.append("serverless is cheaper than this setup " + " and ".join(parts) + " (on-demand on both sides)")
        else:
            lines.append("at this workload serverless is not cheaper than this setup at any storage or traffic level")
        committed = []
        if self.reserved_monthly is not None:
            committed.append(f"${self.reserved_monthly:,.2f} {self.reserved_label}")
        if self.savings_plan_monthly is not None:
            committed.append(f"${self.savings_plan_monthly:,.2f} with a Database Savings Plan")
        if committed:
            lines.append("committed, the nodes cost " + " or ".join(committed))
        return "; ".join(lines)

    def to_dict(self) -> dict:
        return {
            **self.setup.to_dict(),
            "serverless_monthly": self.serverless_monthly,
            "cheaper": self.cheaper,
            "break_even": {"storage_gb": self.break_even_storage_gb, "ecpu_per_second": self.break_even_ecpu_per_second,
                           "prices": "on-demand"},
            "committed": {"reserved_monthly": self.reserved_monthly, "reserved": self.reserved_label,
                          "savings_plan_monthly": self.savings_plan_monthly},
            "assumptions": list(self.assumptions),
            "summary": self.summary(),
        }


def compare_with_nodes(storage_gb: float, ecpu_per_second: float, rates: Rates, node_types: list[NodeType],
                       assumptions: NodeAssumptions | None = None, serverless_monthly: float | None = None) -> NodeComparison | None:
    """The cheapest node setup for the workload, and where serverless stops being cheaper than it.

    Break-even points move one dimension with the other held, and stay within what the chosen setup
    can hold (beyond its capacity it would need more nodes and the comparison changes).
    """
    a = assumptions or NodeAssumptions()
    hours = rates.hours_per_month
    setup = cheapest_node_setup(storage_gb, ecpu_per_second, node_types, rates.engine, hours, a)
    if setup is None:
        return None
    steady = steady_month_cost(storage_gb, ecpu_per_second, rates)
    serverless = steady.total if serverless_monthly is None else serverless_monthly
    storage_rate = rates.storage_per_gb_hour * hours  # $ per GB-month
    ecpu_rate = SECONDS_PER_HOUR * hours / 1e6 * rates.ecpu_per_million  # $ per (ECPU/s)-month

    # storage: max(s, min) x storage_rate + ECPU cost = node cost
    be_storage = None
    if setup.monthly > steady.ecpu:
        s = (setup.monthly - steady.ecpu) / storage_rate
        if s >= rates.min_storage_gb:
            be_storage = min(s, setup.usable_gb)
    # ECPU: storage cost + e x ecpu_rate = node cost
    be_ecpu = None
    if setup.monthly > steady.storage and ecpu_rate > 0:
        be_ecpu = min((setup.monthly - steady.storage) / ecpu_rate, setup.capacity_ecpu)
    node = next(n for n in node_types if n.name == setup.node_type)
    best = node.best_reserved
    return NodeComparison(setup, serverless, be_storage, be_ecpu, storage_gb, ecpu_per_second, a.describe(rates.engine),
                          reserved_monthly=setup.nodes * best.effective_hourly * hours if best else None,
                          reserved_label=best.label if best else None,
                          savings_plan_monthly=setup.nodes * node.savings_plan_hourly * hours if node.savings_plan_hourly else None)
