"""Hostile input, round 4: SIGTERM and Ctrl-C during `reconcile`, hostile S3 exports, and the
alarm's `grew` text of `watch` from hostile CloudWatch replies.

S3 is a small stand-in on 127.0.0.1 (`S3Fake`) that answers ListObjectsV2 and GetObject as S3's
REST API does, listing what a test gives it (or without end) and serving bodies slowly when asked;
CloudWatch is tests/cwfake.py's FleetFake. No test reaches AWS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pandas as pd
import pytest

from tests.helpers import PRICING_FIXTURE, assert_one_line, costwise, signal_when
from tests.faultserver import LocalServer, QuietHandler
from tests.cwfake import RUNAWAY_AS_OF, RUNAWAY_CHANGES, RUNAWAY_FROM_HOUR, STEADY_DRIVERS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


# ---- a CUR export and costwise's history of the same month (as tests/test_reconcile.py writes them) ----

OCT = pd.Timestamp("2026-10-01T00:00:00Z")
ARN = "arn:aws:elasticache:us-east-1:123456789012:serverlesscache:shop"


def cur_table(days: int = 31, pad_bytes: int = 0) -> "pa.Table":
    """shop's daily storage lines (2 GB, 48 GB-hours a day at $0.0837); `pad_bytes` of incompressible
    text a row in a column reconcile does not read, to make a file as large as a test needs."""
    rows = []
    for day in range(days):
        start = (OCT + pd.Timedelta(days=day)).to_pydatetime()
        rows.append({"line_item_line_item_type": "Usage", "line_item_product_code": "AmazonElastiCache",
                     "line_item_usage_type": "USE1-CachedData:Valkey", "line_item_resource_id": ARN,
                     "line_item_usage_amount": 48.0, "line_item_unblended_cost": 48.0 * 0.0837,
                     "line_item_usage_start_date": start, "line_item_usage_end_date": start + pd.Timedelta(days=1).to_pytimedelta(),
                     "line_item_currency_code": "USD"})
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("line_item_usage_start_date"), "line_item_usage_start_date",
                             table.column("line_item_usage_start_date").cast(pa.timestamp("ms", tz="UTC")))
    if pad_bytes:
        table = table.append_column("resource_tags", pa.array([os.urandom(pad_bytes // 2).hex() for _ in range(days)]))
    return table


def write_cur(path: Path, table=None, row_group: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(cur_table() if table is None else table, path, compression="none", row_group_size=row_group)
    return path


def write_history(path: Path) -> Path:
    from costwise.sources.history_file import save_history
    from costwise.usage import EnvHistory, History, Window
    from tests.helpers import frame

    index = pd.date_range(OCT, periods=744, freq="h", tz="UTC", name="timestamp")
    window = Window(index[0].to_pydatetime(), index[-1].to_pydatetime() + pd.Timedelta(hours=1).to_pytimedelta())
    save_history(History(window, [EnvHistory("shop", "shop", "valkey", "us-east-1", frame=frame(2.0, 1e8, index))], "cloudwatch"), path)
    return path


# ---- S3 on 127.0.0.1 ---------------------------------------------------------------------------------


class S3Fake(LocalServer):
    """ListObjectsV2 and GetObject of bucket `bills`, path-style as botocore asks a custom endpoint.

    `objects`: key -> (listed size, body: bytes or a Path). `endless`: every listing page is
    truncated, 1,000 new keys a page. `trickle`: a body is sent 64 KB and then nothing, for at most
    60 s (a slow network). Each connection is a daemon thread that ends on its own."""

    def __init__(self, objects: dict[str, tuple[int, bytes | Path]] | None = None, endless: bool = False, trickle: bool = False):
        self.objects = objects or {}
        self.endless = endless
        self.trickle = trickle
        self.gets: list[str] = []
        self.pages = 0
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if "list-type" in query:
                    body = fake.listing(query)
                    self._send(200, "application/xml", len(body))
                    self.wfile.write(body)
                    return
                key = unquote(url.path).split("/", 2)[2]
                fake.gets.append(key)
                if key not in fake.objects:
                    body = b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
                    self._send(404, "application/xml", len(body))
                    self.wfile.write(body)
                    return
                size, source = fake.objects[key]
                data = source.read_bytes() if isinstance(source, Path) else source
                self._send(200, "binary/octet-stream", len(data))
                try:
                    if fake.trickle:
                        self.wfile.write(data[: 64 << 10])
                        self.wfile.flush()
                        time.sleep(60)
                        return
                    self.wfile.write(data)
                except OSError:  # the client left
                    pass

            def _send(self, status: int, kind: str, length: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                self.end_headers()

        self._listen(Handler)
        self.httpd.handle_error = lambda request, address: None

    def listing(self, query: dict) -> bytes:
        prefix = query.get("prefix", [""])[0]
        self.pages += 1
        if self.endless:
            page = self.pages
            keys = [(f"{prefix}p{page:09d}/part-{i:04d}.parquet", 1000) for i in range(1000)]
            more = f"<IsTruncated>true</IsTruncated><NextContinuationToken>t{page}</NextContinuationToken>"
        else:
            keys = [(k, size) for k, (size, _) in self.objects.items() if k.startswith(prefix)]
            more = "<IsTruncated>false</IsTruncated>"
        contents = "".join(f"<Contents><Key>{quote(k, safe='/')}</Key><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
                           for k, size in keys)
        return ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Name>bills</Name><Prefix>{quote(prefix, safe='/')}</Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
                f"<EncodingType>url</EncodingType>{more}{contents}</ListBucketResult>").encode()


AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent/aws-config",
       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials"}


def reconcile_s3(history: Path, url: str, *extra: str, timeout: float = 120, rss_bound_mb: float | None = None):
    return costwise("reconcile", "--month", "2026-10", "--cur", "s3://bills/x/", "--metrics-file", str(history),
                    "--endpoint-url", url, "--max-attempts", "1", *extra, env=AWS, timeout=timeout, rss_bound_mb=rss_bound_mb)


# ---- SIGTERM and Ctrl-C --------------------------------------------------------------------------


def _signal_when(args: list[str], tmp_path: Path, ready, send: int) -> tuple[subprocess.Popen, bytes, list[str]]:
    """tests/helpers.py signal_when, with fake AWS credentials."""
    return signal_when(args, tmp_path, ready, send, env=AWS)


@pytest.mark.parametrize("send, code, said", [(signal.SIGTERM, 143, "costwise: terminated"),
                                              (signal.SIGINT, 130, "costwise: interrupted")])
def test_a_signal_while_an_s3_export_is_copied_leaves_no_temporary_file(tmp_path, send, code, said):
    # GetObject sends 64 KB of the part and then waits: costwise is copying it into its temporary
    # folder (costwise-cur-*/object.parquet, open) when the signal comes
    history = write_history(tmp_path / "history.csv")
    part = write_cur(tmp_path / "part.parquet", cur_table(pad_bytes=100_000))
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    out.write_text("the old report")
    with S3Fake({"x/BILLING_PERIOD=2026-10/part-0.parquet": (part.stat().st_size, part)}, trickle=True) as s3:
        proc, err, left = _signal_when(
            ["reconcile", "--month", "2026-10", "--cur", "s3://bills/x/", "--metrics-file", str(history), "--endpoint-url", s3.url,
             "--max-attempts", "1", "--format", "html", "--output", str(out)], tmp_path,
            lambda temp: any(p.name == "object.parquet" for p in temp.rglob("*")), send)
    assert proc.returncode == code, err
    assert err.decode().strip().splitlines()[-1] == said and b"Traceback" not in err
    assert left == []  # neither the copied object nor its folder
    assert out.read_text() == "the old report"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no .cw-*.tmp beside it


def test_sigterm_while_a_reconcile_report_is_written_into_a_fifo_cleans_up(tmp_path):
    # a FIFO no one reads: the HTML is in its temporary file, opening the FIFO to write waits
    history = write_history(tmp_path / "history.csv")
    write_cur(tmp_path / "export" / "BILLING_PERIOD=2026-10" / "part-0.parquet")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc, err, left = _signal_when(["reconcile", "--month", "2026-10", "--cur", str(tmp_path / "export"), "--metrics-file",
                                    str(history), "--format", "html", "--output", str(fifo)], tmp_path,
                                   lambda temp: any(temp.iterdir()), signal.SIGTERM)
    assert proc.returncode == 143 and err.decode().strip().splitlines()[-1] == "costwise: terminated", err
    assert left == []


# ---- hostile S3 exports ------------------------------------------------------------------------------


def test_an_s3_part_larger_than_an_aws_api_answer_is_read(tmp_path):
    # a CUR part of about 43 MB (31 rows of 1.4 MB of tags): larger than any answer costwise holds
    # in memory (32 MiB), but an object is copied to a file a megabyte at a time. 31 days x 48
    # GB-hours x $0.0837 = $124.5456 billed.
    history = write_history(tmp_path / "history.csv")
    part = write_cur(tmp_path / "part.parquet", cur_table(pad_bytes=1_400_000), row_group=4)
    assert part.stat().st_size > 40 << 20
    with S3Fake({"x/BILLING_PERIOD=2026-10/part-0.parquet": (part.stat().st_size, part)}) as s3:
        result = reconcile_s3(history, s3.url, "--format", "json")
    assert result.code == 0, result.err
    [shop] = json.loads(result.out)["environments"]
    assert shop["billed"]["unblended_cost"] == pytest.approx(124.5456)


def test_an_s3_object_past_the_bound_is_refused_before_it_is_copied(tmp_path):
    # listed at 5 GiB: the disk would fill before a row could be counted. One line, exit 2, and
    # no GetObject sent (not even for the small part listed first)
    history = write_history(tmp_path / "history.csv")
    small = write_cur(tmp_path / "part.parquet")
    objects = {"x/BILLING_PERIOD=2026-10/part-0.parquet": (small.stat().st_size, small),
               "x/BILLING_PERIOD=2026-10/part-1.parquet": (5 << 30, b"")}
    with S3Fake(objects) as s3:
        result = reconcile_s3(history, s3.url)
    assert_one_line(result, 2, "s3://bills/x/BILLING_PERIOD=2026-10/part-1.parquet", "5,368,709,120 bytes")
    assert s3.gets == []


def test_a_prefix_that_lists_without_end_is_refused_in_bounded_time_and_memory(tmp_path):
    # every page truncated, 1,000 new keys each: refused past 100,000 keys (100 pages), long before
    # the 300 s deadline, in one line
    history = write_history(tmp_path / "history.csv")
    with S3Fake(endless=True) as s3:
        result = reconcile_s3(history, s3.url, timeout=200, rss_bound_mb=800)
    assert_one_line(result, 2, "s3://bills/x/", "100,000", seconds=120)
    assert s3.gets == [] and s3.pages <= 101


@pytest.mark.parametrize("key", ["x/../../../etc/passwd.parquet", "x/\x1b]0;owned\x07\x1b[2J.parquet", "x/a\u202eteuqrap.parquet",
                                 "x/" + "d/" * 300 + "part.parquet"])
def test_hostile_keys_name_no_local_file_and_are_shown_escaped(tmp_path, key):
    # not Parquet: skipped and named in the one line that says no CUR file was found; the copy is
    # costwise's own file in its own temporary folder, whatever the key
    history = write_history(tmp_path / "history.csv")
    temp = tmp_path / "tmp"
    temp.mkdir()
    with S3Fake({key: (11, b"not parquet")}) as s3:
        result = costwise("reconcile", "--month", "2026-10", "--cur", "s3://bills/x/", "--metrics-file", str(history),
                          "--endpoint-url", s3.url, "--max-attempts", "1", env={**AWS, "TMPDIR": str(temp)}, cwd=tmp_path)
    assert_one_line(result, 2, "no CUR 2.0 Parquet file", "not Parquet")
    assert "\u202e" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "tmp"] and list(temp.iterdir()) == []


# ---- watch: the alarm's `grew` from hostile driver replies -------------------------------------------

# As tests/test_watch.py's alarm: "shop" steady at 36 M ECPUs an hour; EVAL-based and non-key
# commands at 1.4 M ECPUs an hour each until 3 hours before as-of, then 73.4 M. Over the 6 watched
# hours: (3 x 1.4 M + 3 x 73.4 M) / 6 = 37.4 M an hour against 1.4 M before: 26.7x.
# tests/cwfake.py's runaway (RUNAWAY_CHANGES): EVAL-based and non-key ECPUs 26.7x an hour
AS_OF = pd.Timestamp(RUNAWAY_AS_OF)
CHANGE_HOUR = RUNAWAY_FROM_HOUR
DRIVERS = STEADY_DRIVERS
RUNAWAY = RUNAWAY_CHANGES
NON_KEY = "non-key commands (NonKeyTypeCmds): 26.7x their ECPUs an hour (1,400,000 -> 37,400,000)"


def watch(fake, fmt: str = "json"):
    return costwise("watch", "--cache", "shop", "--as-of", "2026-11-23T00:00:00Z", "--days", "21", "--pricing", str(PRICING_FIXTURE),
                    "--endpoint-url", fake.url, "--format", fmt, env=AWS)


def test_a_driver_answered_only_in_part_is_not_named_as_what_grew():
    # EvalBasedCmdsECPUs answered PartialData, before and during: its totals are incomplete, so its
    # 26.7x is a guess; the family falls back to its commands (EvalBasedCmds, 1e5 an hour on both
    # sides: did not grow). What grew is the non-key family alone.
    from tests.cwfake import FleetFake

    with FleetFake({"us-east-1": ["shop"]}, drivers={"shop": DRIVERS}, changes=RUNAWAY, partial={("shop", "EvalBasedCmdsECPUs")}) as fake:
        result = watch(fake)
    assert result.code == 4, result.err
    [shop] = json.loads(result.out)["caches"]
    assert shop["alarm"] and shop["grew"] == NON_KEY


@pytest.mark.parametrize("served", [float("nan"), 1e300, -5e6])
def test_a_hostile_driver_reply_is_not_named_as_what_grew(served):
    # the EVAL family's ECPUs during the watched hours are NaN, past what one cache can do, or
    # negative: not used; its commands did not grow, so the non-key family alone is named
    from tests.cwfake import FleetFake

    changes = {**RUNAWAY, ("shop", "EvalBasedCmdsECPUs"): (CHANGE_HOUR, served)}
    with FleetFake({"us-east-1": ["shop"]}, drivers={"shop": DRIVERS}, changes=changes) as fake:
        result = watch(fake)
    assert result.code == 4, result.err
    [shop] = json.loads(result.out)["caches"]
    assert shop["grew"] == NON_KEY


def test_an_alarm_is_reported_when_the_drivers_cannot_be_read():
    # GetMetricData fails for the drivers' calls only: the alarm stands, with grew null
    from tests.cwfake import FleetFake

    class DriversDenied(FleetFake):
        def get_metric_data(self, region, body, cbor):
            if b"EvalBasedCmds" in body:
                return self._error(cbor, "AccessDenied", "not authorized \x1b[2J")
            return super().get_metric_data(region, body, cbor)

    with DriversDenied({"us-east-1": ["shop"]}, drivers={"shop": DRIVERS}, changes=RUNAWAY) as fake:
        result = watch(fake)
        table = watch(fake, "table")
    assert result.code == 4 and table.code == 4, result.err
    [shop] = json.loads(result.out)["caches"]
    assert shop["alarm"] and shop["grew"] is None
    assert "RUNAWAY shop" in table.out and "grew" not in table.out and b"\x1b" not in table.err_bytes
    # the line says why no family is named, the server's words escaped
    assert "; command families not read (" in table.out and b"\x1b" not in table.out_bytes, table.out
