"""The bill as AWS wrote it beside costwise's own cost: pure matching and explaining (no I/O).

A source (CUR 2.0 Parquet, Cost Explorer) feeds bill lines to `BillLedger.add`; each line lands on
the cache its resource ARN names, or (Cost Explorer without resource-level data) on its region and
engine, or on the unattributed pot (account-level credits, taxes, Savings Plan fees).

What each line type does (../shared/DOMAIN.md, "The bill as written"):
- `Usage`: usage and cost at the rate billed.
- `SavingsPlanCoveredUsage`: usage at the on-demand cost (in `unblended_cost`, so it compares with
  costwise's on-demand cost); what was paid is the plan's effective cost beside it (in `net_cost`).
- `SavingsPlanNegation`: cancels that on-demand cost in AWS's own sum; here the covered line already
  carries both figures, so it is counted, not added.
- `SavingsPlanRecurringFee`: the plan's fee, not tied to a cache: reported, not added.
- `Credit`, `Refund` and discounts: lower `net_cost` (a cache's own when the line names it).
- `Tax`: reported apart, never in a cache's cost.

`unblended_cost` is therefore the usage at its billed rates before any plan or credit: the figure
`difference_pct` compares with costwise's cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from costwise.pricing.pricelist import serverless_usage_type
from costwise.usage import Window

USAGE = "Usage"
COVERED = "SavingsPlanCoveredUsage"
NEGATION = "SavingsPlanNegation"
PLAN_FEE = "SavingsPlanRecurringFee"
CREDITS = ("Credit", "Refund")
DISCOUNTS = ("Discount", "EdpDiscount", "BundledDiscount", "PrivateRateDiscount", "DistributorDiscount")
TAX = "Tax"

FLAG_PCT = 1.0  # a difference above 1% that nothing explains is flagged
RATE_TOLERANCE = 0.005  # rates within 0.5% are the same rate (rounding in the bill)

_ARN = re.compile(r"^arn:aws[a-z-]*:elasticache:([a-z0-9-]+):(\d*):serverlesscache:(.+)$")


def parse_cache_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account id, cache name) of a serverless cache ARN; None for any other resource."""
    found = _ARN.match(str(arn or "").strip())
    return found.groups() if found else None


def cache_arn(region: str, account_id: str | None, name: str) -> str:
    return f"arn:aws:elasticache:{region}:{account_id or ''}:serverlesscache:{name}"


# The hours reconciled: whole UTC hours [start, end), the same thing as a usage window
Period = Window


def month_period(year: int, month: int) -> Period:
    first = datetime(year, month, 1, tzinfo=timezone.utc)
    return Period(first, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc))


@dataclass
class RateSeen:
    """One rate the bill used for one dimension, and the first hour it was used."""

    rate: float  # dollars per GB-hour, or per million ECPUs
    first: datetime | None
    amount: float = 0.0


@dataclass
class BilledUsage:
    """What the bill says one cache (or one region's engine) used and cost over the period."""

    region: str
    engine: str | None = None
    storage_gb_hours: float = 0.0
    ecpus: float = 0.0
    unblended_cost: float = 0.0  # usage at its billed rates, before plans and credits
    net_cost: float = 0.0  # what was paid: plan-covered usage at the plan's effective cost, less credits
    savings_plan_covered: float = 0.0  # on-demand cost of the usage a Savings Plan covered
    savings_plan_effective: float = 0.0  # ...and what the plan charged for it
    credits: float = 0.0  # credits, refunds and discounts on this cache (negative)
    lines: int = 0
    first_hour: datetime | None = None
    last_hour: datetime | None = None  # the end of the last usage line
    rates: dict[str, list[RateSeen]] = field(default_factory=lambda: {"storage": [], "ecpu": []})

    def to_dict(self) -> dict[str, Any]:
        return {"storage_gb_hours": self.storage_gb_hours, "ecpus": self.ecpus,
                "unblended_cost": self.unblended_cost, "net_cost": self.net_cost}

    def note_rate(self, kind: str, amount: float, cost: float, start: datetime | None) -> None:
        if amount <= 0:
            return
        rate = cost / amount * (1e6 if kind == "ecpu" else 1.0)
        for seen in self.rates[kind]:
            if abs(seen.rate - rate) <= RATE_TOLERANCE * max(abs(seen.rate), 1e-12):
                seen.amount += amount
                if start is not None and (seen.first is None or start < seen.first):
                    seen.first = start
                return
        self.rates[kind].append(RateSeen(rate, start, amount))


@dataclass
class Unattributed:
    """Bill lines not tied to any cache: reported beside the caches."""

    credits: float = 0.0  # account-level credits, refunds, discounts (negative): in the net total
    tax: float = 0.0  # never in the totals
    plan_fees: float = 0.0  # Savings Plan recurring fees: the plan's, not a cache's
    other_lines: int = 0  # ElastiCache lines that are not serverless (node-based clusters, backups)


@dataclass
class BillLedger:
    """Bill lines summed per cache ARN (or per region and engine), plus what no cache carries."""

    by_resource: dict[str, BilledUsage] = field(default_factory=dict)
    by_region: dict[tuple[str, str], BilledUsage] = field(default_factory=dict)  # (region, engine)
    unattributed: Unattributed = field(default_factory=Unattributed)
    currencies: set[str] = field(default_factory=set)
    lines: int = 0
    per_resource: bool = True  # False: Cost Explorer without resource-level data (per region)
    notes: list[str] = field(default_factory=list)

    def add(self, *, line_type: str, usage_type: str, resource_id: str | None, amount: float, unblended: float,
            net: float | None = None, plan_effective: float | None = None, start: datetime | None = None,
            end: datetime | None = None, region: str | None = None, currency: str | None = None) -> None:
        """One bill line. `net`: its net unblended cost where the bill has one (else the unblended);
        `region`: the line's region when there is no ARN to read it from (Cost Explorer)."""
        self.lines += 1
        if currency:
            self.currencies.add(currency)
        parsed = serverless_usage_type(usage_type)
        arn = parse_cache_arn(resource_id) if resource_id else None
        net = unblended if net is None else net
        if arn is not None:
            target = self.by_resource.get(resource_id)
            if target is None:
                target = self.by_resource[resource_id] = BilledUsage(arn[0])
        elif parsed is not None and region and not resource_id:
            key = (region, parsed[1])
            target = self.by_region.get(key)
            if target is None:
                target = self.by_region[key] = BilledUsage(region, parsed[1])
        else:
            target = None
        if line_type in (USAGE, COVERED, NEGATION):
            if target is None or parsed is None:
                self.unattributed.other_lines += 1
                return
            kind, engine = parsed
            target.engine = target.engine or engine
            target.lines += 1
            if line_type == NEGATION:
                return  # the covered line carries both the on-demand and the plan's cost
            if kind == "storage":
                target.storage_gb_hours += amount
            else:
                target.ecpus += amount
            target.unblended_cost += unblended
            target.note_rate(kind, amount, unblended, start)
            if line_type == COVERED:
                effective = unblended if plan_effective is None else plan_effective
                target.savings_plan_covered += unblended
                target.savings_plan_effective += effective
                target.net_cost += effective
            else:
                target.net_cost += net
            if start is not None and (target.first_hour is None or start < target.first_hour):
                target.first_hour = start
            if end is not None and (target.last_hour is None or end > target.last_hour):
                target.last_hour = end
        elif line_type in CREDITS or line_type in DISCOUNTS:
            if target is not None:
                target.credits += net
                target.net_cost += net
            else:
                self.unattributed.credits += net
        elif line_type == TAX:
            self.unattributed.tax += unblended
        elif line_type == PLAN_FEE:
            self.unattributed.plan_fees += unblended
        else:
            self.unattributed.other_lines += 1


@dataclass(frozen=True)
class CostwiseUsage:
    """costwise's own figures for one cache over the period (from CloudWatch or a saved file)."""

    storage_gb_hours: float  # with the metered minimum per hour
    ecpus: float
    cost: float
    hours: int  # hours of the period with data
    period_hours: int
    storage_rate: float  # pricing.yaml's $/GB-hour...
    ecpu_rate: float  # ...and $/million ECPUs

    def to_dict(self) -> dict[str, float]:
        return {"storage_gb_hours": self.storage_gb_hours, "ecpus": self.ecpus, "cost": self.cost}


@dataclass
class Comparison:
    difference_pct: float | None
    explained_by: list[str]
    flagged: bool
    unexplained_pct: float | None


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _rate(kind: str, rate: float) -> str:
    return f"${rate:.6g} per GB-hour" if kind == "storage" else f"${rate:.6g} per million ECPUs"


def compare(ours: CostwiseUsage, billed: BilledUsage, flag_pct: float = FLAG_PCT) -> Comparison:
    """The difference (billed unblended vs costwise, in %) and what the data says about it.

    The difference splits in two: billed usage priced at costwise's rates against costwise's cost (a
    usage difference), and the billed cost against that repricing (a rate difference). A rate the
    bill shows is an explanation by itself; a usage difference is explained by hours costwise has no
    data for, up to what those hours would have cost at costwise's mean; what remains is unexplained.
    """
    explained: list[str] = []
    difference = billed.unblended_cost - ours.cost
    pct = difference / ours.cost * 100 if ours.cost > 0 else None
    repriced = billed.storage_gb_hours * ours.storage_rate + billed.ecpus / 1e6 * ours.ecpu_rate
    rate_effect = billed.unblended_cost - repriced
    usage_effect = repriced - ours.cost
    for kind, costwise_rate in (("storage", ours.storage_rate), ("ecpu", ours.ecpu_rate)):
        seen = sorted(billed.rates[kind], key=lambda r: (r.first is None, r.first))
        if len(seen) > 1:
            steps = ", then ".join(_rate(kind, r.rate) + (f" from {r.first:%Y-%m-%d %H:%M}" if r.first else "") for r in seen)
            explained.append(f"rate changed mid-period: {steps}")
        elif seen and abs(seen[0].rate - costwise_rate) > RATE_TOLERANCE * costwise_rate:
            explained.append(f"billed at {_rate(kind, seen[0].rate)}; pricing.yaml has {_rate(kind, costwise_rate)} "
                             "(costwise pricing update)")
    if not explained:
        usage_effect += rate_effect  # rates agree: any rounding is part of the usage difference
        rate_effect = 0.0
    gap = ours.period_hours - ours.hours
    if gap > 0 and usage_effect > 0:
        per_hour = ours.cost / ours.hours if ours.hours else 0.0
        covered = min(usage_effect, per_hour * gap * 1.5) if ours.hours else usage_effect
        explained.append(f"hours outside the window: costwise has no data for {gap:,} of the period's {ours.period_hours:,} "
                         f"hours (about {_money(per_hour * gap)} at its mean)")
        usage_effect -= covered
    if billed.savings_plan_covered > 0:
        share = billed.savings_plan_covered / billed.unblended_cost if billed.unblended_cost else 0.0
        explained.append(f"Savings Plan covered {share:.0%} of the usage: {_money(billed.savings_plan_covered)} on demand "
                         f"billed as {_money(billed.savings_plan_effective)}")
    if billed.credits:
        explained.append(f"credits and refunds: {_money(billed.credits)}")
    unexplained = usage_effect / ours.cost * 100 if ours.cost > 0 else None
    large = pct is not None and abs(pct) > flag_pct
    flagged = bool(large and (unexplained is None or abs(unexplained) > flag_pct))
    if ours.cost <= 0 and billed.unblended_cost > 0.005:
        flagged = True  # billed for a cache costwise saw no cost for
    return Comparison(pct, explained, flagged, unexplained)
