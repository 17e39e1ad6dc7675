"""A fault-injecting AWS endpoint on 127.0.0.1 for the hostile-input tests.

It answers what moto cannot (DescribeServerlessCaches), forwards the rest to moto, and on request
misbehaves for one operation: hangs (accepts and never answers, for at most HANG_SECONDS), answers
200 with garbage, forwards and cuts the body in half (a truncated response), trickles (one byte
a second, of its headers and then of a body that never ends, for at most HANG_SECONDS * 3), or
answers a 1 GiB body (streamed until the client leaves, never held). Bounded: each connection is
served by a daemon thread that ends on its own.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HANG_SECONDS = 20.0
HUGE_BYTES = 1 << 30


def operation_of(path: str, headers, body: bytes) -> str:
    """The AWS operation a request is for, whatever the protocol (query, JSON, RPC v2 CBOR)."""
    if "/operation/" in path:
        return path.rsplit("/operation/", 1)[1]
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    try:
        return parse_qs(body.decode())["Action"][0]
    except (KeyError, UnicodeDecodeError):
        return "?"


ACCESS_DENIED_XML = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                     b"<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message></Error>"
                     b"<RequestId>fault-3</RequestId></ErrorResponse>")


def serverless_caches_xml(caches: list[dict]) -> bytes:
    """DescribeServerlessCaches as the query protocol answers it."""
    members = []
    for cache in caches:
        limits = ""
        if cache.get("max_storage") or cache.get("max_ecpu"):
            limits = "<CacheUsageLimits>"
            if cache.get("max_storage"):
                limits += f"<DataStorage><Maximum>{cache['max_storage']}</Maximum><Unit>GB</Unit></DataStorage>"
            if cache.get("max_ecpu"):
                limits += f"<ECPUPerSecond><Maximum>{cache['max_ecpu']}</Maximum></ECPUPerSecond>"
            limits += "</CacheUsageLimits>"
        members.append(f"<member><ServerlessCacheName>{cache['name']}</ServerlessCacheName><Engine>{cache.get('engine', 'valkey')}</Engine>"
                       f"<Status>available</Status>{limits}</member>")
    return ('<DescribeServerlessCachesResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">'
            f"<DescribeServerlessCachesResult><ServerlessCaches>{''.join(members)}</ServerlessCaches></DescribeServerlessCachesResult>"
            "<ResponseMetadata><RequestId>fault-1</RequestId></ResponseMetadata></DescribeServerlessCachesResponse>").encode()


def reply(handler: BaseHTTPRequestHandler, status: int, headers: dict, payload: bytes) -> None:
    """Answer with `payload`, its own Content-Length, and `headers` less the hop-by-hop ones."""
    handler.send_response(status)
    for name, value in headers.items():
        if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def trickle(handler: BaseHTTPRequestHandler, data: bytes, seconds: float = HANG_SECONDS * 3) -> None:
    """Send `data` one byte a second (at most `seconds`), then close: every read gets a byte well
    within any read timeout, so only an overall deadline ends the wait."""
    handler.close_connection = True
    end = time.monotonic() + seconds
    try:
        for byte in data:
            if time.monotonic() > end:
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1.0)
    except OSError:  # the client gave up: what the test wants
        return


def huge(handler: BaseHTTPRequestHandler, size: int) -> None:
    """Announce a `size`-byte XML body and stream it, 64 KiB at a time, until the client leaves."""
    handler.close_connection = True
    handler.send_response(200)
    handler.send_header("Content-Type", "text/xml")
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b"<a>" + b"x" * (65536 - 7) + b"</a>"
    try:
        for _ in range(size // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        return


class QuietHandler(BaseHTTPRequestHandler):
    """A handler speaking HTTP/1.1 (keep-alive, as botocore's pool expects) that logs nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class LocalServer:
    """An HTTP server on 127.0.0.1, a daemon thread per connection, started and stopped by `with`."""

    def _listen(self, handler_class) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultServer(LocalServer):
    """faults: operation -> "hang" | "garbage" | "truncate"; caches: what DescribeServerlessCaches lists."""

    def __init__(self, upstream: str | None = None, caches: list[dict] | None = None, faults: dict[str, str] | None = None,
                 canned: dict[str, bytes] | None = None, denied_roles: tuple[str, ...] = ()):
        self.upstream = urlsplit(upstream) if upstream else None
        self.caches = caches or []
        self.faults = faults or {}
        self.canned = canned or {}  # operation -> a query-protocol XML body to answer with
        self.denied_roles = set(denied_roles)  # AssumeRole of these answers AccessDenied, as IAM would
        self.seen: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                operation = operation_of(self.path, self.headers, body)
                server.seen.append(operation)
                fault = server.faults.get(operation)
                if fault == "hang":
                    time.sleep(HANG_SECONDS)  # accepted, never answered (bounded)
                    self.close_connection = True
                    return
                if fault == "trickle":
                    trickle(self, b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<" + b"x" * 99_999)
                    return
                if fault == "huge":
                    huge(self, HUGE_BYTES)
                    return
                if fault == "garbage":
                    self._reply(200, {"Content-Type": self.headers.get("Content-Type", "text/plain"),
                                      "smithy-protocol": "rpc-v2-cbor"}, b"\xff<<not an AWS response>>\x00")
                    return
                if operation == "AssumeRole" and parse_qs(body.decode()).get("RoleArn", [""])[0] in server.denied_roles:
                    self._reply(403, {"Content-Type": "text/xml"}, ACCESS_DENIED_XML)
                    return
                if operation in server.canned:
                    self._reply(200, {"Content-Type": "text/xml"}, server.canned[operation])
                    return
                if operation == "DescribeServerlessCaches":
                    self._reply(200, {"Content-Type": "text/xml"}, serverless_caches_xml(server.caches))
                    return
                status, headers, payload = server.forward(self.command, self.path, self.headers, body)
                if fault == "truncate":
                    payload = payload[: len(payload) // 2]
                self._reply(status, headers, payload)

            def _reply(self, status, headers, payload):
                reply(self, status, headers, payload)

        self._listen(Handler)

    def forward(self, method: str, path: str, headers, body: bytes):
        if self.upstream is None:
            return 500, {"Content-Type": "text/plain"}, b"no upstream"
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={k: v for k, v in headers.items() if k.lower() != "host"})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

def cache_cluster_xml(cluster_id: str, engine: str, version: str, node_type: str) -> bytes:
    """DescribeCacheClusters for one member, as the query protocol answers it."""
    return ('<DescribeCacheClustersResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/"><DescribeCacheClustersResult>'
            f"<CacheClusters><CacheCluster><CacheClusterId>{cluster_id}</CacheClusterId><Engine>{engine}</Engine>"
            f"<EngineVersion>{version}</EngineVersion><CacheNodeType>{node_type}</CacheNodeType></CacheCluster></CacheClusters>"
            "</DescribeCacheClustersResult><ResponseMetadata><RequestId>fault-2</RequestId></ResponseMetadata>"
            "</DescribeCacheClustersResponse>").encode()
