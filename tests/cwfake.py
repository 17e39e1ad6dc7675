"""A fleet-sized AWS stand-in on 127.0.0.1 that speaks what botocore speaks to CloudWatch.

moto answers GetMetricData in seconds for a few caches; a fleet of thousands needs a server whose own
cost is negligible next to the client's, so that the client's CPU and memory can be measured:

- GetMetricData in the protocol the request came in: AWS JSON 1.0 (what botocore 1.44 picks for
  CloudWatch: JSON comes first in its protocol priority) or Smithy RPC v2 CBOR. CloudWatch's limits enforced: at most 500 queries a call,
  at most 100,800 datapoints a page (the rest through NextToken), and a per-region call rate
  (CloudWatch's default quota is 50 a second; over it: a Throttling error, as AWS answers).
  Every cache is served whole hours over the asked window, values from a few fixed shapes chosen by
  the cache's name, so a test can compute what each cache must come back as (`expected`);
- DescribeServerlessCaches (query protocol, paged by MaxResults/NextToken) lists `caches_per_region`;
- EC2 DescribeRegions lists `regions`.

Encoded arrays are cached by (shape, first point, count): a page costs the server little more than
copying its bytes.
"""

from __future__ import annotations

import json
import math
import struct
import threading
import time
import zlib
from collections import deque
from urllib.parse import parse_qs

from tests.faultserver import LocalServer, QuietHandler, reply

MAX_QUERIES = 500
MAX_POINTS = 100_800
SHAPES = 8  # value shapes, picked per cache by a hash of its name


# ---- CBOR, the small part of RFC 8949 that GetMetricData uses ------------------------------------

def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 1 << 8:
        return bytes([major << 5 | 24, n])
    if n < 1 << 16:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    if n < 1 << 32:
        return bytes([major << 5 | 26]) + n.to_bytes(4, "big")
    return bytes([major << 5 | 27]) + n.to_bytes(8, "big")


def encode(value) -> bytes:
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        return _head(3, len(data)) + data
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(encode(k) + encode(v) for k, v in value.items())
    raise TypeError(type(value))


def decode(data: bytes):
    value, end = _decode(memoryview(data), 0)
    return value


def _decode(buf, i: int):
    initial = buf[i]
    major, info = initial >> 5, initial & 31
    i += 1
    if major == 7:
        if info == 20:
            return False, i
        if info == 21:
            return True, i
        if info in (22, 23):
            return None, i
        if info == 25:
            return struct.unpack(">e", buf[i : i + 2])[0], i + 2
        if info == 26:
            return struct.unpack(">f", buf[i : i + 4])[0], i + 4
        if info == 27:
            return struct.unpack(">d", buf[i : i + 8])[0], i + 8
        raise ValueError(f"simple value {info}")
    if info == 31:  # indefinite length (botocore writes maps and lists this way)
        items = []
        while buf[i] != 0xFF:
            item, i = _decode(buf, i)
            items.append(item)
        i += 1
        if major == 5:
            return dict(zip(items[::2], items[1::2])), i
        if major in (2, 3):
            joined = b"".join(items) if major == 2 else "".join(items)
            return joined, i
        return items, i
    if info < 24:
        n = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        n = int.from_bytes(buf[i : i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        raw = bytes(buf[i : i + n])
        return (raw if major == 2 else raw.decode()), i + n
    if major == 4:
        items = []
        for _ in range(n):
            item, i = _decode(buf, i)
            items.append(item)
        return items, i
    if major == 5:
        out = {}
        for _ in range(n):
            key, i = _decode(buf, i)
            out[key], i = _decode(buf, i)
        return out, i
    if major == 6:  # a tag: 1 is epoch time, the only one used
        return _decode(buf, i)
    raise ValueError(f"major type {major}")


# ---- the served data ------------------------------------------------------------------------------

def shape_of(cache: str) -> int:
    return zlib.crc32(cache.encode()) % SHAPES


def value_at(shape: int, metric: str, stat: str, hour: int) -> float:
    """The value served for a (shape, metric, statistic) at an hour since the epoch: a daily wave
    on a per-shape level. Deterministic, so tests compute what must come back."""
    level = (shape + 1) * 1.0
    wave = 1.0 + 0.5 * math.sin(2 * math.pi * (hour % 24) / 24)
    if metric == "BytesUsedForCache":
        return float(round(level * 2**28 * (wave if stat == "Average" else wave * 1.1)))
    if metric == "ElastiCacheProcessingUnits":
        return float(round(level * 3_600_000 * wave if stat == "Sum" else level * 1_500 * wave))
    return 0.0  # ThrottledCmds


class _Encoded:
    """Cached encodings (CBOR or JSON) of timestamp and value arrays."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cache: dict = {}

    def _cached(self, key, make) -> bytes:
        found = self.cache.get(key)
        if found is None:
            found = make()
            with self.lock:
                self.cache[key] = found
        return found

    def timestamps(self, cbor: bool, first_hour: int, count: int) -> bytes:
        seconds = [(first_hour + k) * 3600 for k in range(count)]
        if cbor:
            return self._cached(("t", cbor, first_hour, count),
                                lambda: _head(4, count) + b"".join(b"\xc1\xfb" + struct.pack(">d", float(t)) for t in seconds))
        return self._cached(("t", cbor, first_hour, count), lambda: json.dumps(seconds).encode())

    def values(self, cbor: bool, shape: int, metric: str, stat: str, first_hour: int, count: int) -> bytes:
        def make() -> bytes:
            values = [value_at(shape, metric, stat, first_hour + k) for k in range(count)]
            if cbor:
                return _head(4, count) + b"".join(b"\xfb" + struct.pack(">d", v) for v in values)
            return json.dumps(values).encode()

        return self._cached(("v", cbor, shape, metric, stat, first_hour, count), make)


def _region_of(headers) -> str:
    # SigV4: Credential=AKID/DATE/REGION/SERVICE/aws4_request
    auth = headers.get("Authorization", "")
    try:
        return auth.split("Credential=", 1)[1].split("/")[2]
    except IndexError:
        return "us-east-1"


class FleetFake(LocalServer):
    """`caches_per_region`: region -> cache names. `calls_per_second`: the GetMetricData quota per region."""

    def __init__(self, caches_per_region: dict[str, list[str]], calls_per_second: float = 50.0, delay: float = 0.0,
                 drivers: dict[str, dict[str, float]] | None = None, partial: set[tuple[str, str]] = frozenset(),
                 engines: dict[str, str] | None = None, changes: dict[tuple[str, str], tuple[int, float]] | None = None):
        self.caches_per_region = caches_per_region
        self.engines = engines or {}  # cache -> engine DescribeServerlessCaches reports (default valkey)
        # cost drivers (issue 21): cache -> metric -> its value an hour (Sum metrics: per hour, summed
        # over each period; Average ones: the value). A cache listed here publishes only the metrics
        # given (others: no points, "not published"); ElastiCacheProcessingUnits there overrides
        # the shape's (Sum an hour; Maximum = Sum / 60). `partial`: (cache, metric) answered PartialData.
        self.drivers = drivers or {}
        # (cache, metric) -> (epoch hour, rate): from that hour on, a `drivers` metric has this rate an hour
        self.changes = changes or {}
        self.partial = set(partial)
        self.queries_seen = 0
        self.calls_per_second = calls_per_second
        self.delay = delay  # seconds each GetMetricData call takes to answer
        self.metric_calls = 0
        self.throttled = 0
        self.metric_connections: dict[str, set[int]] = {}  # region -> client ports that asked for its metrics
        self.seen: list[str] = []
        self._recent: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._encoded = _Encoded()
        fake = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                region = _region_of(self.headers)
                if "GetMetricData" in self.path or "GetMetricData" in self.headers.get("X-Amz-Target", ""):
                    fake.metric_connections.setdefault(region, set()).add(self.client_address[1])
                if "/operation/GetMetricData" in self.path:
                    status, payload = fake.get_metric_data(region, body, cbor=True)
                    self._reply(status, {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}, payload)
                    return
                if self.headers.get("X-Amz-Target", "").endswith(".GetMetricData"):
                    status, payload = fake.get_metric_data(region, body, cbor=False)
                    self._reply(status, {"Content-Type": "application/x-amz-json-1.0"}, payload)
                    return
                form = parse_qs(body.decode())
                action = form.get("Action", ["?"])[0]
                fake.seen.append(action)
                if action == "DescribeRegions":
                    self._reply(200, {"Content-Type": "text/xml"}, fake.regions_xml())
                elif action == "DescribeServerlessCaches":
                    self._reply(200, {"Content-Type": "text/xml"}, fake.caches_xml(region, form))
                else:
                    self._reply(400, {"Content-Type": "text/xml"}, b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>")

            def _reply(self, status, headers, payload):
                reply(self, status, headers, payload)

        self._listen(Handler)
        self.httpd.handle_error = lambda request, address: None  # a client that hung up (Ctrl-C) is not news

    # -- what a region holds --

    def regions_xml(self) -> bytes:
        items = "".join(f"<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint>"
                        "<optInStatus>opt-in-not-required</optInStatus></item>" for r in self.caches_per_region)
        return ('<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fleet-1</requestId>'
                f"<regionInfo>{items}</regionInfo></DescribeRegionsResponse>").encode()

    def caches_xml(self, region: str, form: dict) -> bytes:
        names = self.caches_per_region.get(region, [])
        start = int(form.get("NextToken", ["0"])[0])
        size = int(form.get("MaxResults", ["50"])[0])
        members = "".join(f"<member><ServerlessCacheName>{n}</ServerlessCacheName><Engine>{self.engines.get(n, 'valkey')}</Engine><Status>available</Status></member>"
                          for n in names[start : start + size])
        token = f"<NextToken>{start + size}</NextToken>" if start + size < len(names) else ""
        return ('<DescribeServerlessCachesResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">'
                f"<DescribeServerlessCachesResult><ServerlessCaches>{members}</ServerlessCaches>{token}</DescribeServerlessCachesResult>"
                "<ResponseMetadata><RequestId>fleet-2</RequestId></ResponseMetadata></DescribeServerlessCachesResponse>").encode()

    # -- GetMetricData --

    @staticmethod
    def _error(cbor: bool, code: str, message: str) -> tuple[int, bytes]:
        error = {"__type": f"com.amazonaws.cloudwatch#{code}", "message": message}
        return 400, encode(error) if cbor else json.dumps(error).encode()

    def _over_quota(self, region: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(region, deque())
            while recent and now - recent[0] > 1.0:
                recent.popleft()
            if len(recent) >= self.calls_per_second:
                self.throttled += 1
                return True
            recent.append(now)
            self.metric_calls += 1
            return False

    def get_metric_data(self, region: str, body: bytes, cbor: bool) -> tuple[int, bytes]:
        if self.delay:
            time.sleep(self.delay)
        if self._over_quota(region):
            return self._error(cbor, "Throttling", "Rate exceeded")
        request = decode(body) if cbor else json.loads(body)
        queries = request.get("MetricDataQueries") or []
        if not 1 <= len(queries) <= MAX_QUERIES:
            return self._error(cbor, "InvalidParameterValue", f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
        start_hour = math.ceil(float(request["StartTime"]) / 3600)
        end_hour = math.ceil(float(request["EndTime"]) / 3600)
        # the period: one per call (costwise never mixes them in a call); hourly, or longer for drivers
        period_hours = int(queries[0]["MetricStat"]["Period"]) // 3600 if queries else 1
        if period_hours < 1 or any(int(q["MetricStat"]["Period"]) != period_hours * 3600 for q in queries):
            return self._error(cbor, "InvalidParameterValue", "this fake serves whole-hour periods, one per call")
        with self._lock:
            self.queries_seen += len(queries) if not request.get("NextToken") else 0
        points = max(0, math.ceil((end_hour - start_hour) / period_hours))
        known = set(self.caches_per_region.get(region, []))
        # NextToken: the flat index of the next datapoint over all queries in order
        first = int(request.get("NextToken") or 0)
        last = min(first + MAX_POINTS, points * len(queries))
        results = []
        for q in range(first // points if points else 0, math.ceil(last / points) if points else 0):
            query = queries[q]
            stat = query["MetricStat"]
            metric = stat["Metric"]
            cache = metric["Dimensions"][0]["Value"]
            lo = max(first, q * points) - q * points
            hi = min(last, (q + 1) * points) - q * points
            if cache not in known:
                lo = hi = 0  # CloudWatch answers an unknown dimension with no points
            name = metric["MetricName"]
            status = "PartialData" if (cache, name) in self.partial else "Complete"
            if period_hours != 1 or (cache in self.drivers and name in self.drivers[cache]):
                served = self.drivers.get(cache)
                if served is not None and name not in served:
                    lo = hi = 0  # this cache does not publish that metric
                first_hour = start_hour + lo * period_hours
                seconds = [(first_hour + k * period_hours) * 3600 for k in range(hi - lo)]
                spans = [min(period_hours, end_hour - (first_hour + k * period_hours)) for k in range(hi - lo)]
                rate = (served or {}).get(name)
                if rate is None:  # not given: the shape's hourly value, summed over the period
                    rate = value_at(shape_of(cache), name, stat["Stat"], first_hour)
                per_hour_sum = stat["Stat"] == "Sum"
                change_hour, changed = self.changes.get((cache, name), (None, rate))

                def hourly(hour, rate=rate, change_hour=change_hour, changed=changed):
                    return changed if change_hour is not None and hour >= change_hour else rate

                values_list = []
                for k, span in enumerate(spans):
                    hours = range(first_hour + k * period_hours, first_hour + k * period_hours + span)
                    if per_hour_sum:
                        values_list.append(sum(hourly(h) for h in hours))
                    else:  # the busiest minute: the period's busiest hour's; a gauge (Average): its mean
                        seen = [hourly(h) for h in hours] or [rate]
                        value = max(seen) if stat["Stat"] == "Maximum" else sum(seen) / len(seen)
                        values_list.append(value / 60 if name == "ElastiCacheProcessingUnits" else value)
                stamps = (_head(4, len(seconds)) + b"".join(b"\xc1\xfb" + struct.pack(">d", float(t)) for t in seconds)) if cbor \
                    else json.dumps(seconds).encode()
                values = encode([float(v) for v in values_list]) if cbor else json.dumps(values_list).encode()
            else:
                stamps = self._encoded.timestamps(cbor, start_hour + lo, hi - lo)
                values = self._encoded.values(cbor, shape_of(cache), name, stat["Stat"], start_hour + lo, hi - lo)
            if cbor:
                results.append(b"".join([_head(5, 5), encode("Id"), encode(query["Id"]), encode("Label"), encode(metric["MetricName"]),
                                         encode("Timestamps"), stamps, encode("Values"), values, encode("StatusCode"), encode(status)]))
            else:
                results.append(b"".join([b'{"Id":', json.dumps(query["Id"]).encode(), b',"Label":', json.dumps(metric["MetricName"]).encode(),
                                         b',"Timestamps":', stamps, b',"Values":', values, b',"StatusCode":', json.dumps(status).encode(), b'}']))
        more = last < points * len(queries)
        if cbor:
            head = _head(5, 3 if more else 2) + encode("MetricDataResults") + _head(4, len(results)) + b"".join(results)
            tail = encode("Messages") + _head(4, 0)
            if more:
                tail += encode("NextToken") + encode(str(last))
            return 200, head + tail
        tail = b',"Messages":[]' + (b',"NextToken":"%d"' % last if more else b"")
        return 200, b'{"MetricDataResults":[' + b",".join(results) + b"]" + tail + b"}"


def expected(cache: str, metric: str, stat: str, first_hour: int, count: int) -> list[float]:
    """What FleetFake serves for a cache: the test's own copy of the rule."""
    return [value_at(shape_of(cache), metric, stat, first_hour + k) for k in range(count)]


# ---- a runaway with its driver metrics (tests/test_watch.py, tests/test_hostile_signals.py) -------
# "shop" steady at 36 M ECPUs an hour and 1 GB; EVAL-based (data type) and non-key (access) commands
# at 1.4 M ECPUs an hour each, GET-type at 27.2 M. From 3 hours before RUNAWAY_AS_OF a script's EVALs
# add 72 M an hour: the cache runs at 3x. Over the 6 hours watch watches: 3 at 1.4 M and 3 at 73.4 M,
# (4.2 + 220.2) / 6 = 37.4 M an hour against 1.4 M before: 26.7x; GET-type commands do not move.
RUNAWAY_AS_OF = "2026-11-23T00:00:00Z"
RUNAWAY_FROM_HOUR = 1_795_392_000 // 3600 - 3  # the epoch hour of RUNAWAY_AS_OF, less 3
STEADY_DRIVERS = {"ElastiCacheProcessingUnits": 36e6, "BytesUsedForCache": float(2**30), "ThrottledCmds": 0.0,
                  "EvalBasedCmds": 1e5, "EvalBasedCmdsECPUs": 1.4e6, "NonKeyTypeCmds": 1e5, "NonKeyTypeCmdsECPUs": 1.4e6,
                  "GetTypeCmds": 8e6, "GetTypeCmdsECPUs": 27.2e6}
RUNAWAY_CHANGES = {("shop", "ElastiCacheProcessingUnits"): (RUNAWAY_FROM_HOUR, 108e6),
                   ("shop", "EvalBasedCmdsECPUs"): (RUNAWAY_FROM_HOUR, 73.4e6),
                   ("shop", "NonKeyTypeCmdsECPUs"): (RUNAWAY_FROM_HOUR, 73.4e6)}
