"""`costwise reconcile`: costwise's own cost of a period beside what AWS billed, per cache and in total."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from costwise.errors import CostwiseError, InputError
from costwise.fmt import iso_utc
from costwise.model.reconcile import BilledUsage, BillLedger, CostwiseUsage, Period, compare, month_period, parse_cache_arn

if TYPE_CHECKING:  # pragma: no cover
    from costwise.pricing import PriceBook
    from costwise.usage import EnvHistory, History

NO_LINES = ("no line items with this cache's ARN: the export may lack resource ids, belong to another payer or "
            "account, or the cache had no usage in the period")
NOT_CONFIGURED = "a cache not in the config (deleted, or not selected): costwise has no usage for it"


@dataclass
class ReconcileRow:
    env: str | None
    cache: str
    arn: str | None
    region: str
    engine: str | None
    costwise: CostwiseUsage | None
    billed: BilledUsage | None
    difference_pct: float | None = None
    explained_by: list[str] = field(default_factory=list)
    flagged: bool = False
    unexplained_pct: float | None = None
    error: str | None = None
    group: bool = False  # a region's total (Cost Explorer without resource-level data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "cache": self.cache,
            "arn": self.arn,
            "costwise": self.costwise.to_dict() if self.costwise else None,
            "billed": self.billed.to_dict() if self.billed else None,
            "difference_pct": None if self.difference_pct is None else round(self.difference_pct, 4),
            "explained_by": list(self.explained_by),
            "flagged": self.flagged,
        }


@dataclass
class Reconciliation:
    period: "Period"
    source: str  # cur | cost-explorer
    rows: list[ReconcileRow]
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ReconcileRow]:
        return [r for r in self.rows if r.error]

    @property
    def totals(self) -> dict[str, float]:
        return {
            "costwise": sum(r.costwise.cost for r in self.rows if r.costwise and not r.group),
            "billed_unblended": sum(r.billed.unblended_cost for r in self.rows if r.billed),
            "billed_net": sum(r.billed.net_cost for r in self.rows if r.billed) + self.unattributed_credits,
        }

    unattributed_credits: float = 0.0

    @property
    def difference_pct(self) -> float | None:
        totals = self.totals
        return (totals["billed_unblended"] - totals["costwise"]) / totals["costwise"] * 100 if totals["costwise"] > 0 else None

    @property
    def flagged(self) -> list[ReconcileRow]:
        return [r for r in self.rows if r.flagged]

    def unexplained_over(self, pct: float) -> list[ReconcileRow]:
        """Flagged rows whose unexplained difference exceeds `pct` percent (--fail-over)."""
        return [r for r in self.flagged if r.unexplained_pct is None or abs(r.unexplained_pct) > pct]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": iso_utc(self.period.start), "end": iso_utc(self.period.end)},
            "source": self.source,
            "environments": [r.to_dict() for r in self.rows],
            "totals": self.totals,
            "notes": list(self.notes),
        }


def parse_period(month: str | None, start: str | None, end: str | None, now: datetime) -> Period:
    """--month YYYY-MM, or --from/--to (dates or ISO times, whole hours, --to exclusive; --to
    defaults to now); neither: the last whole month."""
    import re

    from costwise.fmt import parse_iso_utc, shorten
    from costwise.usage import floor_hour

    if month is not None and (start is not None or end is not None):
        raise InputError("--month cannot be used with --from/--to")
    if month is not None:
        found = re.fullmatch(r"(\d{4})-(\d{2})", month.strip(), re.ASCII)  # not Unicode digits such as ２
        if not found or not 1 <= int(found.group(2)) <= 12 or not 2010 <= int(found.group(1)) <= 2999:
            raise InputError(f"--month: {shorten(month)} is not a month such as 2026-10")
        return month_period(int(found.group(1)), int(found.group(2)))
    if start is None:
        if end is not None:
            raise InputError("--to needs --from")
        this_month = floor_hour(now).replace(day=1, hour=0)
        last = this_month - timedelta(days=1)
        return month_period(last.year, last.month)

    def moment(option: str, text: str) -> datetime:
        try:
            value = parse_iso_utc(text)
        except (ValueError, OverflowError):
            raise InputError(f"{option}: {shorten(text)} is not a date or ISO 8601 time such as 2026-10-01") from None
        if not 2010 <= value.year <= 2999:
            raise InputError(f"{option}: {shorten(text)} is not a time a bill can cover")
        if value != floor_hour(value):
            raise InputError(f"{option}: {shorten(text)} is not a whole hour (the bill is hourly)")
        return value

    first = moment("--from", start)
    last = moment("--to", end) if end is not None else floor_hour(now)
    if last <= first:
        raise InputError("--to: must be after --from")
    if last - first > timedelta(days=455):
        raise InputError("--from/--to: at most 455 days (CloudWatch's retention)")
    return Period(first, last)


def costwise_usage(env: "EnvHistory", prices: "PriceBook", period: "Period") -> CostwiseUsage:
    """costwise's cost of the period's hours, from the hourly frame (gaps stay unbilled)."""
    import numpy as np

    from costwise.model.cost import cost_of_hours

    rates = prices.rates(env.region, env.engine or "valkey")
    frame = env.frame
    inside = frame[(frame.index >= period.start) & (frame.index < period.end)]
    storage_gb = inside["storage_avg_bytes"].to_numpy(float) / rates.bytes_per_gb
    ecpus = inside["ecpu_sum"].to_numpy(float)
    hours = int(inside[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1).sum())
    cost = cost_of_hours(inside["storage_avg_bytes"], ecpus, rates)
    billed_gb = np.where(np.isfinite(storage_gb), np.maximum(storage_gb, rates.min_storage_gb), np.nan)
    return CostwiseUsage(float(np.nansum(billed_gb)), float(np.nansum(ecpus)), cost.total, hours, period.hours,
                         rates.storage_per_gb_hour, rates.ecpu_per_million)


def _compared(row: ReconcileRow, flag_pct: float) -> ReconcileRow:
    if row.costwise is not None and row.billed is not None:
        comparison = compare(row.costwise, row.billed, flag_pct)
        row.difference_pct = comparison.difference_pct
        row.explained_by = row.explained_by + comparison.explained_by
        row.flagged = comparison.flagged
        row.unexplained_pct = comparison.unexplained_pct
    return row


def build_reconciliation(history: "History", ledger: BillLedger, prices: "PriceBook", period: "Period", source: str,
                         flag_pct: float = 1.0) -> Reconciliation:
    rows: list[ReconcileRow] = []
    claimed: set[str] = set()
    arns_by_cache: dict[tuple[str, str], list[str]] = {}
    for arn in ledger.by_resource:
        region, _, name = parse_cache_arn(arn)
        arns_by_cache.setdefault((region, name), []).append(arn)
    for env in history.environments:
        row = ReconcileRow(env.env, env.cache, None, env.region, env.engine, None, None)
        rows.append(row)
        if env.error is not None or env.frame is None:
            row.error = env.error or "no history"
            row.explained_by.append(f"costwise could not read its usage: {row.error}")
            continue
        try:
            row.costwise = costwise_usage(env, prices, period)
        except CostwiseError as exc:
            row.error = str(exc)
            continue
        if row.costwise.hours == 0:
            row.explained_by.append("costwise has no data for the period (the history covers other hours)")
        arns = arns_by_cache.get((env.region, env.cache), [])
        if arns:
            row.arn = arns[0]
            row.billed = ledger.by_resource[arns[0]]
            claimed.add(arns[0])
        elif ledger.per_resource:
            row.explained_by.append(NO_LINES)
    for arn, billed in ledger.by_resource.items():
        if arn not in claimed:
            _, _, name = parse_cache_arn(arn)
            rows.append(ReconcileRow(None, name, arn, billed.region, billed.engine, None, billed, explained_by=[NOT_CONFIGURED]))
    if not ledger.per_resource:
        rows.extend(_per_region(rows, ledger))
    for row in rows:
        _compared(row, flag_pct)
    result = Reconciliation(period, source, rows, notes=list(ledger.notes))
    unattributed = ledger.unattributed
    result.unattributed_credits = unattributed.credits
    if unattributed.credits:
        result.notes.append(f"credits and refunds not tied to a cache: ${unattributed.credits:,.2f} (in the net total)")
    if unattributed.plan_fees:
        result.notes.append(f"Savings Plan recurring fees: ${unattributed.plan_fees:,.2f} (the plan's, not a cache's: not in the totals)")
    if unattributed.tax:
        result.notes.append(f"tax: ${unattributed.tax:,.2f} (not in the totals)")
    if unattributed.other_lines:
        result.notes.append(f"{unattributed.other_lines:,} ElastiCache line items that are not serverless usage (nodes, backups) left out")
    return result


def _per_region(rows: list[ReconcileRow], ledger: BillLedger) -> list[ReconcileRow]:
    """Cost Explorer without resource ids: a region's engine total goes to its only cache, or is
    compared with the sum of its caches in a row of its own."""
    groups: list[ReconcileRow] = []
    for (region, engine), billed in sorted(ledger.by_region.items()):
        members = [r for r in rows if r.costwise is not None and r.region == region and (r.engine or "valkey") == engine]
        if len(members) == 1:
            members[0].billed = billed
            members[0].explained_by.append(f"Cost Explorer per region: the only {engine} cache selected in {region}")
            continue
        for member in members:
            member.explained_by.append(f"Cost Explorer per region: compared in the total of {engine} caches in {region}")
        ours = None
        if members:
            parts = [m.costwise for m in members]
            ours = CostwiseUsage(sum(p.storage_gb_hours for p in parts), sum(p.ecpus for p in parts), sum(p.cost for p in parts),
                                 min(p.hours for p in parts), parts[0].period_hours, parts[0].storage_rate, parts[0].ecpu_rate)
        label = f"all {engine} caches in {region}"
        groups.append(ReconcileRow(None, label, None, region, engine, ours, billed, group=True,
                                   explained_by=[] if members else [NOT_CONFIGURED]))
    return groups
