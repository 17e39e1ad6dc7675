"""Why a cache costs what it costs, and what would cut it (issue 21). Pure: numbers in, result out.

From the window totals of the driver metrics (costwise.driver_metrics, read over the same window
as the bill) and the window's own ElastiCacheProcessingUnits:

- per command family (two groupings, by access and by data type, which overlap: an HGET is GET-type
  and hash-based, so families are compared within a grouping and never added across): commands,
  ECPUs, their share of all the cache's ECPUs, ECPUs per command and what they cost a month;
- bytes in and out per command, the hit rate, the share of items with a TTL, bytes per item,
  evictions;
- findings, each with the assumption it rests on and a monthly dollar figure where one can
  honestly be computed (None where not): compression of large values (with the 1-ECPU floor per
  command), the ECPUs spent on misses, storage growing with keys that never expire, evictions at
  the storage limit, one family's commands costing far more than the rest.

Nothing AWS did not publish is shown as a zero: a missing metric is None ("not published").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from costwise.driver_metrics import ACCESS, DATA_TYPE, ECPU_SUFFIX, FAMILY_SETS, SIMPLE_FAMILIES, engine_set, metrics_for
from costwise.fmt import money
from costwise.usage import DriverTotals

if TYPE_CHECKING:  # pragma: no cover
    from costwise.pricing import Rates

NOT_PUBLISHED = "not published"
KB = 1024


@dataclass(frozen=True)
class DriverSettings:
    """`drivers:` in costwise.yaml; unknown keys and values out of range are errors."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "compression_ratio": (1, 100), "compression_min_ecpus": (1, 1000), "low_hit_rate": (0, 1),
        "min_finding_month": (0, 1e9), "ttl_share_low": (0, 1), "evictions_near_limit": (0.1, 1),
        "costly_family_share": (0, 1), "costly_family_ratio": (1, 1000),
    }

    @classmethod
    def text_problem(cls, key: str, value: str) -> str | None:  # no text settings
        return None

    compression_ratio: float = 3.0  # values compress 3:1 (typical of JSON and text with zstd/lz4)
    compression_min_ecpus: float = 1.5  # suggest compression where a simple command averages 1.5 KB (ECPUs) or more
    low_hit_rate: float = 0.8  # below this share of reads hitting, the misses are a finding...
    min_finding_month: float = 1.0  # ...as is anything else, only when it is worth $1 a month or more
    ttl_share_low: float = 0.5  # "most keys never expire": under half the items have a TTL
    evictions_near_limit: float = 0.9  # evictions with the storage peak at 90%+ of its maximum: the limit evicts
    costly_family_share: float = 0.25  # a data-type family with 25%+ of the ECPUs...
    costly_family_ratio: float = 3.0  # ...at 3x+ the cache's mean ECPUs per command is a finding


@dataclass
class Finding:
    kind: str  # compression | hit_rate | storage_growth | evictions_at_limit | evictions | costly_commands
    text: str
    saves_month: float | None  # dollars a month; None where no honest figure exists
    assumption: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "saves_month": self.saves_month, "assumption": self.assumption}


@dataclass
class Family:
    name: str
    grouping: str
    words: str
    commands: float | None
    ecpus: float | None
    ecpu_share: float | None
    ecpus_per_command: float | None
    cost_month: float | None
    status: str  # published | partial | not published

    def to_dict(self) -> dict[str, Any]:
        return {"grouping": self.grouping, "commands": self.commands, "ecpus": self.ecpus, "ecpu_share": self.ecpu_share,
                "ecpus_per_command": self.ecpus_per_command, "cost_month": self.cost_month, "status": self.status}


@dataclass
class Drivers:
    families: dict[str, Family]
    bytes_per_command: dict[str, float | None]
    hit_rate: float | None
    ttl_share: float | None
    bytes_per_item: float | None
    evictions: float | None
    findings: list[Finding]
    partial: list[str] = field(default_factory=list)
    source: str = "cloudwatch"  # cloudwatch | file | demo | INFO commandstats
    total_commands: float | None = None  # TotalCmdsCount over the window
    hours: float = 0.0  # the hours the totals cover (scaled to a month by hours_per_month / hours)

    def to_dict(self) -> dict[str, Any]:
        return {
            "families": {name: f.to_dict() for name, f in self.families.items()},
            "bytes_per_command": dict(self.bytes_per_command),
            "hit_rate": self.hit_rate,
            "ttl_share": self.ttl_share,
            "bytes_per_item": self.bytes_per_item,
            "evictions": self.evictions,
            "findings": [f.to_dict() for f in self.findings],
            "partial": list(self.partial),
            "source": self.source,
        }

    def lines(self) -> list[str]:
        """The families worth a sentence (published, with commands), each grouping on its own, the
        costliest first: for the table, Markdown and HTML alike."""
        out = []
        for grouping in (ACCESS, "data type"):
            shown = [f for f in self.families.values() if f.grouping == grouping and f.commands]
            total = self.total_commands or sum(f.commands for f in shown)
            for f in sorted(shown, key=lambda f: (-(f.ecpus or 0.0), -f.commands))[:5]:
                part = " (partial data)" if f.status == "partial" else ""
                if f.ecpus is None:
                    out.append(f"{f.words} ({f.name}, by {grouping}): {f.commands / total:.0%} of commands, ECPUs not published{part}")
                    continue
                share = f"{f.ecpu_share:.0%} of ECPUs" if f.ecpu_share is not None else "share of ECPUs unknown"
                out.append(f"{f.words} ({f.name}, by {grouping}): {f.commands / total:.0%} of commands, {share}, "
                           f"{f.ecpus_per_command:,.1f} ECPUs each, {money(f.cost_month)} a month{part}")
        missing = [f.name for f in self.families.values() if f.status == NOT_PUBLISHED]
        if missing and len(missing) == len(self.families):
            out.append("command-level metrics: not published for this cache")
        return out


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom <= 0:
        return None
    ratio = top / bottom
    return ratio if math.isfinite(ratio) else None  # a bottom of 1e-300 says nothing per unit


def analyse_drivers(
    totals: DriverTotals,
    engine: str | None,
    rates: "Rates",
    hours: float,
    window_ecpus: float | None,
    storage_bytes_mean: float | None = None,
    storage_peak_gb: float | None = None,
    max_storage_gb: float | None = None,
    storage_daily_growth: float = 0.0,
    storage_level_gb: float | None = None,
    settings: DriverSettings | None = None,
    source: str = "cloudwatch",
) -> Drivers:
    """`hours`: the hours the totals cover (the window's hours with data): a month is
    rates.hours_per_month / hours of them. `window_ecpus`: ElastiCacheProcessingUnits summed over
    the window (what ECPU shares are shares of). `storage_daily_growth`: the projection's relative
    storage trend a day (0 without one); `storage_level_gb` the level it grows from."""
    settings = settings or DriverSettings()
    values = totals.values
    partial = set(totals.partial)
    to_month = rates.hours_per_month / hours if hours > 0 else 0.0

    def value(name: str) -> float | None:
        found = values.get(name)
        return None if found is None or not math.isfinite(found) else float(found)

    def month_dollars(ecpus: float) -> float:
        return ecpus * to_month / 1e6 * rates.ecpu_per_million

    by_role: dict[str, float | None] = {}
    families: dict[str, Family] = {}
    metrics = metrics_for(engine)
    stems = {stem: (grouping, words) for stem, grouping, words in FAMILY_SETS[engine_set(engine)]}
    pieces: dict[str, dict[str, tuple[float | None, bool]]] = {}
    for metric in metrics:
        if metric.family is not None:
            pieces.setdefault(metric.family, {})[metric.role] = (value(metric.name), metric.name in partial)
        else:
            by_role[metric.role] = value(metric.name)
    for stem, (grouping, words) in stems.items():
        (commands, commands_partial), (ecpus, ecpus_partial) = pieces[stem]["commands"], pieces[stem]["ecpus"]
        if commands is None and ecpus is None:
            status = NOT_PUBLISHED
        elif commands_partial or ecpus_partial:
            status = "partial"
        else:
            status = "published"
        families[stem] = Family(
            name=stem, grouping=grouping, words=words, commands=commands, ecpus=ecpus,
            ecpu_share=_ratio(ecpus, window_ecpus), ecpus_per_command=_ratio(ecpus, commands),
            cost_month=month_dollars(ecpus) if ecpus is not None else None, status=status,
        )

    total_commands = by_role.get("total_commands")
    hits, misses = by_role.get("hits"), by_role.get("misses")
    misses_from_rate = False
    rate_percent = by_role.get("hit_rate_percent")
    if hits is not None and misses is None and rate_percent is not None and 0 < rate_percent <= 100:
        # Valkey/Redis OSS serverless document CacheHitRate, not CacheMisses: hits / rate - hits
        misses, misses_from_rate = hits * (100 - rate_percent) / rate_percent, True
    items, volatile = by_role.get("items"), by_role.get("volatile_items")
    result = Drivers(
        families=families,
        bytes_per_command={"in": _ratio(by_role.get("bytes_in"), total_commands), "out": _ratio(by_role.get("bytes_out"), total_commands)},
        hit_rate=_ratio(hits, (hits or 0) + (misses or 0)) if hits is not None and misses is not None else None,
        ttl_share=_ratio(volatile, items),
        bytes_per_item=_ratio(storage_bytes_mean, items),
        evictions=by_role.get("evictions"),
        findings=[],
        partial=sorted(partial),
        source=source,
        total_commands=total_commands,
        hours=hours,
    )
    findings = result.findings

    # Compression: a simple command costs max(1, KB moved), so its ECPUs per command are its KB.
    for stem in SIMPLE_FAMILIES:
        family = families.get(stem)
        if family is None or not family.commands or family.ecpus is None or family.ecpus_per_command is None:
            continue
        each = family.ecpus_per_command
        if each < settings.compression_min_ecpus:
            continue
        ratio = settings.compression_ratio
        compressed = max(1.0, each / ratio)
        saved = month_dollars(family.commands * (each - compressed))
        if saved < settings.min_finding_month:
            continue
        findings.append(Finding(
            "compression",
            f"{family.words} move {each:,.1f} KB on average ({each:,.1f} ECPUs each); compressed {ratio:g}:1 they would cost "
            f"{compressed:,.2f} ECPUs each: about {money(saved)} a month less",
            saved,
            f"values compress {ratio:g}:1 (drivers.compression_ratio); a simple command costs 1 ECPU per KB moved, at least 1, "
            f"and its commands are of similar size; the clients' CPU to compress is not counted",
        ))

    # Misses: each costs 1 ECPU and moves almost no bytes.
    if result.hit_rate is not None and misses and result.hit_rate < settings.low_hit_rate:
        spent = month_dollars(misses)
        if spent >= settings.min_finding_month:
            findings.append(Finding(
                "hit_rate",
                f"{1 - result.hit_rate:.0%} of reads miss (hit rate {result.hit_rate:.0%}): {misses * to_month:,.0f} misses a month, "
                f"1 ECPU each, {money(spent)} a month",
                None,
                "a miss costs 1 ECPU (it moves almost no bytes); the write that usually refills it is not counted; what a better "
                "hit rate saves depends on why the reads miss"
                + ("; misses from CacheHits and the window's mean CacheHitRate (CacheMisses not published)" if misses_from_rate else ""),
            ))

    # Storage growth with keys that never expire: each month's growth stays on every later bill.
    if (storage_daily_growth > 0 and storage_level_gb and result.ttl_share is not None
            and result.ttl_share < settings.ttl_share_low):
        gb_a_month = storage_level_gb * storage_daily_growth * rates.hours_per_month / 24
        added = gb_a_month * rates.storage_per_gb_hour * rates.hours_per_month
        if added >= settings.min_finding_month:
            findings.append(Finding(
                "storage_growth",
                f"storage grows {storage_daily_growth:.1%} a day and {1 - result.ttl_share:.0%} of keys have no TTL: each month adds "
                f"about {gb_a_month:,.2f} GB, {money(added)} to every following month's bill",
                added,
                "the keys without a TTL are what grows (the projection's storage trend), and a TTL on them would stop the growth",
            ))

    # Evictions: at the storage maximum, keys with a TTL are evicted.
    if result.evictions:
        near = (max_storage_gb and storage_peak_gb is not None and storage_peak_gb >= settings.evictions_near_limit * max_storage_gb)
        if near:
            findings.append(Finding(
                "evictions_at_limit",
                f"{result.evictions:,.0f} keys evicted while storage peaked at {storage_peak_gb:,.2f} GB of the {max_storage_gb:,g} GB "
                f"maximum: the limit is what evicts them (see the limit advice)",
                None,
                "serverless evicts keys with a TTL only at the storage maximum",
            ))
        else:
            findings.append(Finding(
                "evictions",
                f"{result.evictions:,.0f} keys evicted in the window",
                None,
                "serverless evicts keys with a TTL only at the storage maximum",
            ))

    # One data-type family costing far more per command than the cache's mean.
    mean_each = _ratio(window_ecpus, total_commands)
    if mean_each:
        for family in families.values():
            if (family.grouping != ACCESS and family.ecpu_share is not None and family.ecpu_share >= settings.costly_family_share
                    and family.ecpus_per_command is not None and family.ecpus_per_command >= settings.costly_family_ratio * mean_each):
                findings.append(Finding(
                    "costly_commands",
                    f"{family.words}: {family.commands / total_commands:.0%} of commands, {family.ecpu_share:.0%} of ECPUs, "
                    f"{family.ecpus_per_command:,.1f} ECPUs each ({money(family.cost_month)} a month)",
                    None,
                    "commands that need more vCPU time cost more ECPUs; what a rewrite saves depends on the rewrite",
                ))
    findings.sort(key=lambda f: -(f.saves_month or 0.0))
    return result


GREW_MIN_RATIO = 1.5  # a family "grew" when its rate an hour is at least this multiple of before


def what_grew(before: DriverTotals | None, before_hours: float, recent: DriverTotals | None, recent_hours: float,
              engine: str | None = None) -> str | None:
    """The command family whose ECPUs an hour grew the most between `before` (the history's totals)
    and `recent` (the watched hours'), by grouping: "EVAL-based commands (EvalBasedCmds): 52.4x
    their ECPUs an hour (1,400,000 -> 73,400,000); by access: non-key commands ...". Commands an hour
    where a family's ECPUs are not published (Memcached). None when nothing grew GREW_MIN_RATIO-fold
    or more, or either side was not read: never a guess (a metric CloudWatch answered only in part,
    on either side, is not read: its total is short of the hours it stands for)."""
    if before is None or recent is None or before_hours <= 0 or recent_hours <= 0:
        return None
    partial = set(before.partial) | set(recent.partial)
    best: dict[str, tuple[float, str]] = {}  # grouping -> (increase an hour, text)
    for stem, grouping, words in FAMILY_SETS[engine_set(engine)]:
        for metric, unit in ((stem + ECPU_SUFFIX, "ECPUs"), (stem, "commands")):
            old, new = before.values.get(metric), recent.values.get(metric)
            if old is None or new is None or metric in partial or not (math.isfinite(old) and math.isfinite(new)):
                continue  # not published on one side: the next measure, or none
            old_rate, new_rate = old / before_hours, new / recent_hours
            increase = new_rate - old_rate
            if increase > 0 and new_rate >= GREW_MIN_RATIO * old_rate:
                ratio = f"{new_rate / old_rate:,.1f}x" if old_rate > 0 else "new:"
                text = f"{words} ({stem}): {ratio} their {unit} an hour ({old_rate:,.0f} -> {new_rate:,.0f})"
                if grouping not in best or increase > best[grouping][0]:
                    best[grouping] = (increase, text)
            break  # one measure a family: ECPUs where published
    if not best:
        return None
    # the groupings overlap (an HGET is GET-type and hash-based): each one's largest, never added
    # (a tie leads with the data type: EVAL-based says more than non-key)
    ordered = sorted(best.items(), key=lambda item: (-item[1][0], item[0] != DATA_TYPE))
    return "; ".join(text if i == 0 else f"by {grouping}: {text}" for i, (grouping, (_, text)) in enumerate(ordered))
