"""The CloudWatch metrics behind the cost drivers (issue 21): the ONE place their names live.

Source: AWS ElastiCache User Guide, "Metrics and events for Valkey and Redis OSS serverless caches"
(serverless-metrics-events-redis) and "Metrics and events for Memcached caches and clusters"
(serverless-metrics-events.memcached), read in a stored copy on 2026-11-26, and ../shared/DOMAIN.md
("Why a cache costs what it costs"). Confirm against the live pages before relying on a change:

- Valkey/Redis OSS: each command type as a count `<Type>Cmds` and its ECPUs `<Type>CmdsECPUs`
  (the suffix as spelled here). The serverless page lists no BitBasedCmds (node-based clusters
  have it), and lists CacheHits and CacheHitRate but not CacheMisses: CacheMisses is read in case
  it is published, CacheHitRate is the fallback. JsonBasedGetCmds / JsonBasedSetCmds (JSON split
  by access) exist and are not read.
- Memcached serverless: CmdGet, CmdSet, CmdTouch, CmdFlush and GetHits / GetMisses (plus
  Incr/Decr/Delete/Touch/Cas hits and misses, not read); the page lists no per-command ECPU metric
  and no CurrVolatileItems. `Cmd<X>ECPUs` is still asked for (4 queries): where AWS does not
  publish it, it is "not published".

Changing a name here changes what is fetched, analysed, saved in history files and documented;
nothing else spells them. All are namespace AWS/ElastiCache, dimension clusterId (the serverless
cache's name), read as one total (or mean) over the whole window: drivers need no hourly detail.
"""

from __future__ import annotations

from dataclasses import dataclass

ECPU_SUFFIX = "ECPUs"  # <family> counts commands, <family> + ECPU_SUFFIX the ECPUs they consumed

ACCESS = "access"  # how a command touches keys (GET-type, SET-type, non-key): one grouping
DATA_TYPE = "data type"  # what a command works on (string, hash, ..., EVAL-based): another grouping

# (family stem, grouping, words for a sentence). Within a grouping the families do not overlap
# (their shares add up to at most the whole); across groupings they do (an HGET is GET-type and
# hash-based): never add families of different groupings.
REDIS_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("GetTypeCmds", ACCESS, "GET-type commands"),
    ("SetTypeCmds", ACCESS, "SET-type commands"),
    ("NonKeyTypeCmds", ACCESS, "non-key commands"),
    ("KeyBasedCmds", DATA_TYPE, "key commands"),
    ("StringBasedCmds", DATA_TYPE, "string commands"),
    ("HashBasedCmds", DATA_TYPE, "hash commands"),
    ("ListBasedCmds", DATA_TYPE, "list commands"),
    ("SetBasedCmds", DATA_TYPE, "set commands"),
    ("SortedSetBasedCmds", DATA_TYPE, "sorted-set commands"),
    ("JsonBasedCmds", DATA_TYPE, "JSON commands"),
    ("EvalBasedCmds", DATA_TYPE, "EVAL-based commands"),
    ("PubSubBasedCmds", DATA_TYPE, "pub/sub commands"),
    ("StreamBasedCmds", DATA_TYPE, "stream commands"),
    ("GeoSpatialBasedCmds", DATA_TYPE, "geospatial commands"),
    ("HyperLogLogBasedCmds", DATA_TYPE, "HyperLogLog commands"),
)
# Memcached commands are each their own family; one grouping (by access), no overlap.
MEMCACHED_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("CmdGet", ACCESS, "get commands"),
    ("CmdSet", ACCESS, "set commands"),
    ("CmdTouch", ACCESS, "touch commands"),
    ("CmdFlush", ACCESS, "flush commands"),
)
# The simple read and write families: priced by bytes moved (1 ECPU per KB, at least 1), so their
# ECPUs per command are their KB per command, and compression can lower them.
SIMPLE_FAMILIES = ("GetTypeCmds", "SetTypeCmds", "CmdGet", "CmdSet")


@dataclass(frozen=True)
class DriverMetric:
    name: str  # CloudWatch MetricName
    stat: str  # the statistic read over the window
    unit: str  # CloudWatch's unit
    role: str  # what the model uses it as (see ROLES)
    family: str | None = None  # the command family it belongs to (commands / ecpus roles)


# role -> meaning; a metric's window value is its Sum over the window, except gauges (Average)
ROLES = {
    "commands": "commands of a family in the window (Sum)",
    "ecpus": "ECPUs those commands consumed in the window (Sum)",
    "total_commands": "every command in the window (TotalCmdsCount, Sum)",
    "hits": "reads that found their key (Sum)",
    "misses": "reads that did not (Sum)",
    "hit_rate_percent": "hits / (hits + misses) in percent, the window's mean (Average): where misses are not published",
    "items": "items stored, the window's mean (Average)",
    "volatile_items": "items with a TTL, the window's mean (Average)",
    "bytes_in": "bytes received by the cache (Sum)",
    "bytes_out": "bytes sent by the cache (Sum)",
    "evictions": "keys evicted at the storage maximum (Sum)",
}

_COMMON = (
    DriverMetric("TotalCmdsCount", "Sum", "Count", "total_commands"),
    DriverMetric("CurrItems", "Average", "Count", "items"),
    DriverMetric("NetworkBytesIn", "Sum", "Bytes", "bytes_in"),
    DriverMetric("NetworkBytesOut", "Sum", "Bytes", "bytes_out"),
    DriverMetric("Evictions", "Sum", "Count", "evictions"),
)
_REDIS_ONLY = (
    DriverMetric("CacheHits", "Sum", "Count", "hits"),
    DriverMetric("CacheMisses", "Sum", "Count", "misses"),
    DriverMetric("CacheHitRate", "Average", "Percent", "hit_rate_percent"),
    DriverMetric("CurrVolatileItems", "Average", "Count", "volatile_items"),
)
_MEMCACHED_ONLY = (
    DriverMetric("GetHits", "Sum", "Count", "hits"),
    DriverMetric("GetMisses", "Sum", "Count", "misses"),
)


def _family_metrics(families) -> tuple[DriverMetric, ...]:
    out = []
    for stem, _, _ in families:
        out.append(DriverMetric(stem, "Sum", "Count", "commands", stem))
        out.append(DriverMetric(stem + ECPU_SUFFIX, "Sum", "Count", "ecpus", stem))
    return tuple(out)


# engine set -> the metrics read for it
METRIC_SETS: dict[str, tuple[DriverMetric, ...]] = {
    "redis": _family_metrics(REDIS_FAMILIES) + _COMMON + _REDIS_ONLY,
    "memcached": _family_metrics(MEMCACHED_FAMILIES) + _COMMON + _MEMCACHED_ONLY,
}
FAMILY_SETS = {"redis": REDIS_FAMILIES, "memcached": MEMCACHED_FAMILIES}
_UNITS = {m.name: m.unit for metrics in METRIC_SETS.values() for m in metrics}  # metric -> unit (driver_bound)


def engine_set(engine: str | None) -> str:
    """Which metric set an engine publishes: Memcached its own, Valkey and Redis OSS the other."""
    return "memcached" if engine == "memcached" else "redis"


def metrics_for(engine: str | None) -> tuple[DriverMetric, ...]:
    return METRIC_SETS[engine_set(engine)]


def all_metric_names() -> set[str]:
    return {m.name for metrics in METRIC_SETS.values() for m in metrics}


# ---- Redis/Valkey commands -> families (migrate --from-redis reads INFO commandstats) -------------
# By data type: a command's name (its prefix for most); by access: read-only commands are GET-type,
# those that write keys SET-type, the rest (scripts, pub/sub, server and connection commands)
# non-key, as AWS describes its GetTypeCmds / SetTypeCmds / NonKeyTypeCmds.

_DATA_TYPE_NAMES = {
    "StringBasedCmds": {"get", "set", "mget", "mset", "msetnx", "setex", "psetex", "setnx", "getset", "getex", "getdel", "append",
                        "strlen", "incr", "incrby", "incrbyfloat", "decr", "decrby", "getrange", "setrange", "substr", "lcs",
                        "setbit", "getbit", "bitcount", "bitop", "bitpos", "bitfield", "bitfield_ro"},
    "KeyBasedCmds": {"del", "unlink", "exists", "expire", "pexpire", "expireat", "pexpireat", "expiretime", "pexpiretime", "ttl",
                     "pttl", "persist", "type", "rename", "renamenx", "touch", "scan", "keys", "randomkey", "copy", "dump",
                     "restore", "object", "move", "sort", "sort_ro"},
    "EvalBasedCmds": {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script", "function"},
    "PubSubBasedCmds": {"publish", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
                        "spublish", "pubsub"},
    "ListBasedCmds": {"blpop", "brpop", "blmove", "brpoplpush", "blmpop", "rpush", "rpushx", "rpop", "rpoplpush"},
    "SetBasedCmds": {"sadd", "srem", "smembers", "sismember", "smismember", "scard", "spop", "srandmember", "sinter", "sinterstore",
                     "sintercard", "sunion", "sunionstore", "sdiff", "sdiffstore", "smove", "sscan"},
    "SortedSetBasedCmds": {"bzpopmin", "bzpopmax", "bzmpop"},
}
_DATA_TYPE_PREFIXES = (("json.", "JsonBasedCmds"), ("geo", "GeoSpatialBasedCmds"), ("pf", "HyperLogLogBasedCmds"),
                       ("h", "HashBasedCmds"), ("l", "ListBasedCmds"), ("z", "SortedSetBasedCmds"), ("x", "StreamBasedCmds"))
_READ_ONLY = {
    "get", "mget", "strlen", "getrange", "substr", "lcs", "exists", "ttl", "pttl", "expiretime", "pexpiretime", "type", "scan",
    "keys", "randomkey", "dump", "object", "sort_ro", "getbit", "bitcount", "bitpos", "bitfield_ro",  # bitmaps: string commands
    "hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hscan", "hstrlen", "hrandfield",
    "lrange", "lindex", "llen", "lpos", "smembers", "sismember", "smismember", "scard", "srandmember", "sinter", "sintercard",
    "sunion", "sdiff", "sscan", "zrange", "zrangebyscore", "zrevrange", "zrevrangebyscore", "zscore", "zmscore", "zrank",
    "zrevrank", "zcard", "zcount", "zlexcount", "zrangebylex", "zrevrangebylex", "zscan", "zrandmember", "zinter", "zunion",
    "zdiff", "zintercard", "xrange", "xrevrange", "xlen", "xread", "xinfo", "xpending", "geopos", "geodist", "georadius_ro",
    "georadiusbymember_ro", "geosearch", "geohash", "pfcount", "json.get", "json.mget", "json.type", "json.strlen",
    "json.arrlen", "json.arrindex", "json.objkeys", "json.objlen", "json.resp", "touch",
}
_NON_KEY_DATA_TYPES = {"EvalBasedCmds", "PubSubBasedCmds"}
_SERVER = {"hello", "latency", "lastsave", "lolwut"}  # server commands a data-type prefix would mistake


def command_families(command: str) -> tuple[str, str | None]:
    """(access family, data-type family or None) of a Redis/Valkey command as INFO commandstats
    names it ("hget", "client|list", "json.get")."""
    name = command.lower().split("|")[0]
    data_type = next((stem for stem, names in _DATA_TYPE_NAMES.items() if name in names), None)
    if data_type is None and name not in _SERVER:
        data_type = next((stem for prefix, stem in _DATA_TYPE_PREFIXES if name.startswith(prefix)), None)
    if data_type is None or data_type in _NON_KEY_DATA_TYPES:
        return "NonKeyTypeCmds", data_type
    return ("GetTypeCmds" if name in _READ_ONLY else "SetTypeCmds"), data_type


def driver_bound(name: str, hours: int) -> float:
    """The most a driver metric can total over `hours` of one serverless cache (costwise/limits.py):
    a command costs at least 1 ECPU and an ECPU moves at most 1 KB, so commands and items are at most
    the ECPUs, bytes 1,024 times that; a percentage at most 100. An unknown metric gets the largest.
    A history file's value past it is bad input; CloudWatch's, an answer not used."""
    from costwise.limits import MAX_ECPU_PER_HOUR

    unit = _UNITS.get(name, "Bytes")
    if unit == "Percent":
        return 100.0
    return MAX_ECPU_PER_HOUR * max(hours, 1) * (1024 if unit == "Bytes" else 1)
